import type { Command } from 'commander';
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
  /** Visual contrastive decoding strength (VCD's alpha; 0 = off), its beta and diffusion step. */
  vcd?: string;
  'vcd-beta'?: string;
  'vcd-noise-step'?: string;
  /** PAI's image-attention boost (alpha; 0 = off) and the first layer it boosts. */
  pai?: string;
  'pai-from-layer'?: string;
}

/** Generation options a chat passes to the model: the LLM's, plus VCD's distorted-image noise. */
export type ChatGenerationOptions = Omit<GenerateOptions, 'decode' | 'stopTokens'> & { imageNoise?: { noiseStep?: number; seed?: number } };

const FLAG_OF: Record<string, string> = {
  maxNewTokens: '--max-new-tokens',
  temperature: '--temperature',
  topK: '--top-k',
  topP: '--top-p',
  repetitionPenalty: '--repetition-penalty',
  seed: '--seed',
  stopStrings: '--stop',
  rng: '--seed',
  'contrastive.alpha': '--vcd',
  'contrastive.beta': '--vcd-beta',
  'imageAttention.alpha': '--pai',
  'imageAttention.fromLayer': '--pai-from-layer',
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
export function generationOptionsFromFlags(flags: GenerationFlags, defaults: { maxNewTokens: number }): ChatGenerationOptions {
  const temperature = number('--temperature', flags.temperature);
  const vcd = number('--vcd', flags.vcd);
  const pai = number('--pai', flags.pai);
  for (const [flag, needs] of [['vcd-beta', 'vcd'], ['vcd-noise-step', 'vcd'], ['pai-from-layer', 'pai']] as const)
    if (flags[flag] !== undefined && flags[needs] === undefined) throw new MllmError(`--${flag} applies to --${needs}; add --${needs} <alpha> (e.g. --${needs} 1)`);
  const noiseStep = number('--vcd-noise-step', flags['vcd-noise-step']);
  if (noiseStep !== undefined && !(Number.isInteger(noiseStep) && noiseStep >= 0 && noiseStep <= 999))
    throw new MllmError(`--vcd-noise-step must be a whole diffusion step from 0 to 999 (VCD uses 500), got ${flags['vcd-noise-step']}`);
  const options = {
    maxNewTokens: number('--max-new-tokens', flags['max-new-tokens']) ?? defaults.maxNewTokens,
    temperature,
    topK: number('--top-k', flags['top-k']),
    topP: number('--top-p', flags['top-p']),
    repetitionPenalty: number('--repetition-penalty', flags['repetition-penalty']),
    seed: number('--seed', flags.seed) ?? (temperature !== undefined && temperature > 0 ? 0 : undefined),
    stopStrings: flags.stop,
    contrastive: vcd === undefined ? undefined : { alpha: vcd, ...(flags['vcd-beta'] !== undefined && { beta: number('--vcd-beta', flags['vcd-beta']) }) },
    imageAttention: pai === undefined ? undefined : { alpha: pai, ...(flags['pai-from-layer'] !== undefined && { fromLayer: number('--pai-from-layer', flags['pai-from-layer']) }) },
  };
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as typeof options;
  try {
    // a placeholder decoder: the real one comes with the checkpoint's tokenizer
    resolveGenerateOptions({ ...defined, decode: () => '' });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const lines = e.issues.map((i) => {
      const [key, ...rest] = i.path.split(/(?=[.[])/);
      const flag = FLAG_OF[i.path] ?? FLAG_OF[key ?? ''];
      return flag ? `${flag}${FLAG_OF[i.path] ? '' : rest.join('')}: ${i.message.replace(/temperature > 0/g, '--temperature > 0')}` : `${i.path}: ${i.message}`;
    });
    throw new MllmError(`invalid generation flags:\n${lines.map((l) => `  - ${l}`).join('\n')}`);
  }
  return noiseStep === undefined ? defined : { ...defined, imageNoise: { noiseStep } };
}

/** The in-process hallucination mitigation flags, shared by `mllm chat` and `mllm eval`. */
export function withMitigationFlags(command: Command): Command {
  return command
    .option('--vcd <alpha>', 'visual contrastive decoding: contrast with a noised image at this strength (1 in the paper; tfjs runtime)')
    .option('--vcd-beta <b>', 'VCD plausibility cut-off: keep tokens with p >= b x the highest (default 0.1)')
    .option('--vcd-noise-step <t>', 'VCD diffusion step of the noised image, 0-999 (default 500)')
    .option('--pai <alpha>', "boost the generated token's attention to the image by this much (PAI; 0.5 in the paper; tfjs runtime)")
    .option('--pai-from-layer <n>', 'first LLM layer PAI boosts (default 0)');
}

/** Those flags as commander hands them over (camelCase). */
export interface MitigationFlags {
  vcd?: string;
  vcdBeta?: string;
  vcdNoiseStep?: string;
  pai?: string;
  paiFromLayer?: string;
}

/** The GenerationFlags spelling of the mitigation flags. */
export function mitigationFlags(flags: MitigationFlags): Pick<GenerationFlags, 'vcd' | 'vcd-beta' | 'vcd-noise-step' | 'pai' | 'pai-from-layer'> {
  return { vcd: flags.vcd, 'vcd-beta': flags.vcdBeta, 'vcd-noise-step': flags.vcdNoiseStep, pai: flags.pai, 'pai-from-layer': flags.paiFromLayer };
}
