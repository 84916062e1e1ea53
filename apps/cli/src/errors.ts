import { ConfigError, MllmError } from '@mllm/core';

/**
 * Errors of packages that do not depend on @mllm/core (so they stay free of tfjs), known by
 * name: each says what is wrong with which file, as an MllmError does.
 */
const EXPLAINED_BY_NAME = new Set(['OnnxModelError', 'TokenizerFileError']);

/**
 * An error the user can fix (bad flag, missing file, bad config, unusable image, an ONNX folder
 * or tokenizer that does not fit): its message says what and where, printed as
 * `error: <message>`, exit code 2.
 */
export function isUserError(e: unknown): boolean {
  return e instanceof MllmError || e instanceof ConfigError || (e instanceof Error && EXPLAINED_BY_NAME.has(e.name));
}
