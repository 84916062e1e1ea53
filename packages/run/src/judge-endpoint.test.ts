import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MllmError } from '@mllm/core';
import { ChatEndpointJudge, type ChatEndpointOptions } from './judge-endpoint';

// every request goes to a server this test starts on 127.0.0.1: nothing reaches the network
let server: Server | undefined;
const seen: { url?: string; auth?: string; body: Record<string, unknown> }[] = [];

async function mock(handler: (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) => void): Promise<string> {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      seen.push({ url: req.url, auth: req.headers.authorization, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

afterEach(async () => {
  seen.length = 0;
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

const options = (baseUrl: string, extra: Partial<ChatEndpointOptions> = {}): ChatEndpointOptions => ({ baseUrl, model: 'judge-7b', timeoutMs: 5000, maxTokens: 8, concurrency: 2, ...extra });
const completion = (content: string) => JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] });

describe('ChatEndpointJudge', () => {
  it('posts chat completions and returns each reply in order', async () => {
    const url = await mock((_req, res, body) => {
      const user = (body.messages as { role: string; content: string }[]).find((m) => m.role === 'user')!.content;
      res.writeHead(200, { 'content-type': 'application/json' }).end(completion(`Score: ${user.length % 10 + 1}`));
    });
    const judge = new ChatEndpointJudge(options(`${url}/`, { apiKeyEnv: 'JUDGE_KEY' }), { JUDGE_KEY: 'sk-test' });
    const replies = await judge.reply(['a', 'bb', 'ccc']);
    expect(replies).toEqual(['Score: 2', 'Score: 3', 'Score: 4']);
    expect(seen).toHaveLength(3);
    expect(seen[0]).toMatchObject({ url: '/v1/chat/completions', auth: 'Bearer sk-test', body: { model: 'judge-7b', temperature: 0, max_tokens: 8 } });
    expect((seen[0]!.body.messages as { role: string }[]).map((m) => m.role)).toEqual(['system', 'user']);
  });

  it('names the HTTP status and the config field on an error status', async () => {
    const url = await mock((_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('model crashed'));
    const error = await new ChatEndpointJudge(options(url)).complete('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MllmError);
    expect((error as Error).message).toMatch(/HTTP 500 Internal Server Error: "model crashed"; check eval\.judges\.rubric\.endpoint/);
  });

  it('says so when the body is not JSON, or not a chat completion', async () => {
    let body = '<html>not an API</html>';
    const url = await mock((_req, res) => res.writeHead(200).end(body));
    await expect(new ChatEndpointJudge(options(url)).complete('x')).rejects.toThrow(/did not answer JSON \(got "<html>not an API<\/html>"\).*OpenAI-compatible/);
    body = JSON.stringify({ error: 'no choices' });
    await expect(new ChatEndpointJudge(options(url)).complete('x')).rejects.toThrow(/without choices\[0\]\.message\.content/);
  });

  it('gives up after timeoutMs with a clear error', async () => {
    const url = await mock(() => undefined); // never answers
    await expect(new ChatEndpointJudge(options(url, { timeoutMs: 200 })).complete('x')).rejects.toThrow(/did not answer within 200 ms; raise eval\.judges\.rubric\.endpoint\.timeoutMs/);
  });

  it('reports a refused connection as such', async () => {
    const url = await mock(() => undefined);
    await new Promise<void>((resolve) => server!.close(() => resolve())); // the port is free again: nobody listens
    server = undefined;
    await expect(new ChatEndpointJudge(options(url)).complete('x')).rejects.toThrow(/connection refused; is the server running\?/);
  });

  it('refuses an API key variable that is not set', () => {
    expect(() => new ChatEndpointJudge(options('http://127.0.0.1:1/v1', { apiKeyEnv: 'NOPE_KEY' }), {})).toThrow(/NOPE_KEY, which is not set/);
  });
});
