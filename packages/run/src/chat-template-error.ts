import { ConfigError } from '@mllm/core';
import { ChatTemplateError } from '@mllm/tokenizer';

/**
 * A chat template refused while its tokenizer loaded (HfTokenizer renders it once on a probe
 * conversation, with a step and output budget) as the ConfigError a user sees: `path` is the
 * config field that named the tokenizer (`llm.from`) or the file's own field (`chat_template`),
 * the message names the tokenizer_config.json and carries jinja's message. Anything else is
 * returned unchanged, for the caller to rethrow.
 */
export function chatTemplateConfigError(e: unknown, path: string): unknown {
  if (!(e instanceof ChatTemplateError)) return e;
  return new ConfigError([{ path, message: `the chat_template of ${e.source} is refused: ${e.reason}; fix or remove chat_template in that file` }], 'Invalid chat template');
}
