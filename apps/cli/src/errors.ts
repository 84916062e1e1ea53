import { ConfigError, MllmError } from '@mllm/core';

/**
 * An error the user can fix (bad flag, missing file, bad config, unusable image, an ONNX folder
 * that does not fit): printed as `error: <message>` without a stack, exit code 2. Anything
 * else is a bug and keeps its stack.
 */
export function isUserError(e: unknown): e is Error {
  return e instanceof MllmError || e instanceof ConfigError || (e instanceof Error && e.name === 'OnnxModelError');
}
