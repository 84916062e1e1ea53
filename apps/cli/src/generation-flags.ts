import { ConfigError, MllmError } from '@mllm/core';
import { resolveGenerateOptions, type GenerateOptions } from '@mllm/llm';

/** The `mllm chat` decoding flags, as parseArgs hands them over. */
export interface GenerationFlags {
  'max-new-tokens'?: string;
  temperature?: string;
  'top-k'?: string;
  'top-p'?: string;
  'repetition-penalty'?: string;
  seed?: string;
  stop?: string[];
}

const FLAG_OF: Record<string, string> = {
  maxNewTokens: '--max-new-tokens',
  temperature: '--temperature',
  topK: '--top-k',
  topP: '--top-p',
  repetitionPenalty: '--repetition-penalty',
  seed: '--seed',
  stopStrings: '--stop',
  rng: '--seed',
};

function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new MllmError(`${flag} must be a number, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * Decoding options from the chat flags, checked before any model is loaded; errors name the flag.
 * Sampling (--temperature > 0) uses seed 0 unless --seed says otherwise, so a chat is repeatable.
 */
export function generationOptionsFromFlags(flags: GenerationFlags, defaults: { maxNewTokens: number }): Omit<GenerateOptions, 'decode' | 'stopTokens'> {
  const temperature = number('--temperature', flags.temperature);
  const options = {
    maxNewTokens: number('--max-new-tokens', flags['max-new-tokens']) ?? defaults.maxNewTokens,
    temperature,
    topK: number('--top-k', flags['top-k']),
    topP: number('--top-p', flags['top-p']),
    repetitionPenalty: number('--repetition-penalty', flags['repetition-penalty']),
    seed: number('--seed', flags.seed) ?? (temperature !== undefined && temperature > 0 ? 0 : undefined),
    stopStrings: flags.stop,
  };
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as typeof options;
  try {
    // a placeholder decoder: the real one comes with the checkpoint's tokenizer
    resolveGenerateOptions({ ...defined, decode: () => '' });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const lines = e.issues.map((i) => {
      const [key, ...rest] = i.path.split(/(?=[.[])/);
      const flag = FLAG_OF[key ?? ''];
      return flag ? `${flag}${rest.join('')}: ${i.message.replace(/temperature > 0/g, '--temperature > 0')}` : `${i.path}: ${i.message}`;
    });
    throw new MllmError(`invalid generation flags:\n${lines.map((l) => `  - ${l}`).join('\n')}`);
  }
  return defined;
}
