import { MllmError } from '@mllm/core';
import { RUBRIC_SYSTEM_PROMPT } from '@mllm/eval';

/**
 * A judge behind an OpenAI-compatible chat endpoint (`POST {baseUrl}/chat/completions`: OpenAI,
 * vLLM, llama.cpp's server, Ollama, LM Studio...), for rubric scoring with a model this project
 * does not train. Every failure is an MllmError that names the endpoint and the config field to
 * change: a refused connection, a timeout, an HTTP error status, a body that is not the chat
 * completion JSON.
 */
export interface ChatEndpointOptions {
  /** e.g. "http://127.0.0.1:8000/v1"; "/chat/completions" is appended. */
  baseUrl: string;
  model: string;
  /** Name of the environment variable holding the API key, sent as "Authorization: Bearer <key>". */
  apiKeyEnv?: string;
  /** Per request. */
  timeoutMs: number;
  /** Most tokens a reply may have; a score needs few. */
  maxTokens: number;
  /** Requests in flight at once. */
  concurrency: number;
}

const FIELD = 'eval.judges.rubric.endpoint';

export class ChatEndpointJudge {
  private readonly url: string;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly options: ChatEndpointOptions,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    this.headers = { 'content-type': 'application/json' };
    if (options.apiKeyEnv !== undefined) {
      const key = env[options.apiKeyEnv];
      if (!key) throw new MllmError(`${FIELD}.apiKeyEnv names the environment variable ${options.apiKeyEnv}, which is not set; export it with the API key, or remove apiKeyEnv for an endpoint without one`);
      this.headers.authorization = `Bearer ${key}`;
    }
  }

  /** A name for reports: the model and where it answers. */
  get label(): string {
    return `${this.options.model} at ${this.options.baseUrl}`;
  }

  /** The reply text to each user prompt (after the rubric system prompt), in order. */
  async reply(prompts: readonly string[]): Promise<string[]> {
    const out = new Array<string>(prompts.length);
    let next = 0;
    const worker = async () => {
      while (next < prompts.length) {
        const i = next++;
        out[i] = await this.complete(prompts[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, prompts.length) }, worker));
    return out;
  }

  /** One chat completion: the first choice's message content. */
  async complete(prompt: string): Promise<string> {
    const body = JSON.stringify({
      model: this.options.model,
      messages: [
        { role: 'system', content: RUBRIC_SYSTEM_PROMPT },
        { role: 'user', content: prompt },
      ],
      temperature: 0,
      max_tokens: this.options.maxTokens,
    });
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.url, { method: 'POST', headers: this.headers, body, signal: AbortSignal.timeout(this.options.timeoutMs) });
      text = await response.text();
    } catch (error) {
      throw this.requestError(error);
    }
    if (!response.ok) throw new MllmError(`rubric judge ${this.url} answered HTTP ${response.status} ${response.statusText}: ${snippet(text)}; check ${FIELD} (baseUrl, model, apiKeyEnv)`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new MllmError(`rubric judge ${this.url} did not answer JSON (got ${snippet(text)}); ${FIELD}.baseUrl must point at an OpenAI-compatible API (often ending in /v1)`);
    }
    const content = (json as { choices?: { message?: { content?: unknown } }[] } | null)?.choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new MllmError(`rubric judge ${this.url} answered JSON without choices[0].message.content (got ${snippet(text)}); is it an OpenAI-compatible chat completions endpoint?`);
    return content;
  }

  private requestError(error: unknown): MllmError {
    const name = (error as { name?: string })?.name;
    if (name === 'TimeoutError' || name === 'AbortError')
      return new MllmError(`rubric judge ${this.url} did not answer within ${this.options.timeoutMs} ms; raise ${FIELD}.timeoutMs or check the server`);
    const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
    if (cause?.code === 'ECONNREFUSED') return new MllmError(`rubric judge ${this.url}: connection refused; is the server running? check ${FIELD}.baseUrl`);
    const reason = cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
    return new MllmError(`rubric judge ${this.url}: request failed (${reason}); check ${FIELD}.baseUrl and the network`);
  }
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > 200 ? `${flat.slice(0, 200)}...` : flat);
}
