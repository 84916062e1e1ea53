import * as tf from '@tensorflow/tfjs';
import { CheckpointError, Rng, loadHfFolder, type HfFolder, type LanguageModel, type LoadReport } from '@mllm/core';
import { CausalLM, causalLmSchema } from './causal-lm';
import { causalSpecFromHf, type HfCausalSpec } from './hf-config';

export interface HfCausalLm {
  model: CausalLM;
  spec: HfCausalSpec;
  /** The folder's config.json as read. */
  config: Record<string, unknown>;
}

export interface LoadHfCausalLmOptions {
  /** Only seeds parameters the checkpoint does not set (none, for a complete checkpoint). */
  rng?: Rng;
  /**
   * A vocabulary larger than the checkpoint's (a tokenizer that added `<image>`): the new rows
   * of embed_tokens (and an untied lm_head) start at the mean of the old ones, as transformers'
   * resize_token_embeddings does with mean resizing.
   */
  vocabSize?: number;
}

/** Builds a `causal` LM from an HF folder (LlamaForCausalLM, MistralForCausalLM, MixtralForCausalLM) and loads its weights. */
export async function loadHfCausalLm(dirOrFolder: string | HfFolder, options: LoadHfCausalLmOptions = {}): Promise<HfCausalLm> {
  const folder = typeof dirOrFolder === 'string' ? await loadHfFolder(dirOrFolder) : dirOrFolder;
  const source = folder.files[0]?.replace(/\/[^/]*$/, '') ?? '(HF folder)';
  try {
    const spec = causalSpecFromHf(folder.config, `${source}/config.json`);
    const vocabSize = options.vocabSize ?? spec.vocabSize;
    const model = new CausalLM(causalLmSchema.parse(spec.llm), vocabSize, options.rng ?? new Rng(0));
    try {
      loadHfCausalWeights(model, folder.tensors, spec, source);
    } catch (e) {
      model.dispose();
      throw e;
    }
    model.eval(); // for inference as loaded; a training stage switches it back
    return { model, spec, config: folder.config };
  } finally {
    if (typeof dirOrFolder === 'string') for (const t of Object.values(folder.tensors)) t.dispose();
  }
}

/**
 * Copies HF tensors into a built LM by name. Our parameter names are HF's, so the mapping is the
 * identity except: a tied model has no lm_head (a saved copy equal to embed_tokens is dropped),
 * an untied model over a tied checkpoint starts lm_head from embed_tokens, RoPE's saved `inv_freq` buffers
 * (older Llama exports) are dropped as transformers drops them, and a grown vocabulary is padded.
 * A missing, unexpected or mis-shaped tensor throws, listing the first few of each by name.
 */
export function loadHfCausalWeights(model: LanguageModel, tensors: Record<string, tf.Tensor>, spec: HfCausalSpec, source = '(HF checkpoint)'): void {
  const state: Record<string, tf.Tensor> = {};
  const made: tf.Tensor[] = [];
  for (const [name, t] of Object.entries(tensors)) if (!name.endsWith('.rotary_emb.inv_freq')) state[name] = t;
  const embed = state['model.embed_tokens.weight'];
  const head = state['lm_head.weight'];
  const modelTied = !('lm_head.weight' in model.stateDict());
  if (modelTied && head) {
    // a tied checkpoint may still save the shared matrix under both names; one that differs was trained untied
    if (!embed || !sameValues(head, embed))
      throw new CheckpointError(source, 'saves an lm_head.weight that differs from model.embed_tokens.weight, but the model ties them (tie_word_embeddings); set "tie_word_embeddings": false in config.json (and tieWordEmbeddings: false in the llm config) to load both');
    delete state['lm_head.weight'];
  } else if (!modelTied && spec.tieWordEmbeddings && embed) state['lm_head.weight'] = embed; // an untied model built over a tied checkpoint starts its head as a copy
  if (spec.vocabSize !== model.vocabSize) {
    if (model.vocabSize < spec.vocabSize)
      throw new CheckpointError(source, `has vocab_size ${spec.vocabSize} but the model was asked for ${model.vocabSize}; a vocabulary can grow, not shrink`);
    for (const name of ['model.embed_tokens.weight', 'lm_head.weight']) {
      const t = state[name];
      if (t?.rank === 2 && t.shape[0] === spec.vocabSize) {
        const grown = tf.tidy(() => tf.concat([t, tf.mean(t, 0, true).tile([model.vocabSize - spec.vocabSize, 1])], 0));
        made.push(grown);
        state[name] = grown;
      }
    }
  }
  try {
    const report = model.compareStateDict(state);
    if (report.missing.length + report.unexpected.length + report.shapeMismatches.length > 0)
      throw new CheckpointError(source, `does not fit the ${spec.architecture} config: ${describeFirstMismatches(report)}`);
    model.loadStateDict(state, { source });
  } finally {
    for (const t of made) t.dispose();
  }
}

function sameValues(a: tf.Tensor, b: tf.Tensor): boolean {
  return tf.util.arraysEqual(a.shape, b.shape) && tf.tidy(() => tf.all(tf.equal(a, b)).dataSync()[0] === 1);
}

/** A real checkpoint can mismatch in thousands of tensors; the first few by name say what is wrong. */
export function describeFirstMismatches(report: LoadReport, limit = 6): string {
  const more = (n: number) => (n > limit ? `, ... (${n - limit} more)` : '');
  const parts: string[] = [];
  if (report.shapeMismatches.length)
    parts.push(
      `${report.shapeMismatches.length} shape mismatch(es): ${report.shapeMismatches
        .slice(0, limit)
        .map((m) => `${m.name} is [${m.got.join(', ')}] in the checkpoint, the model expects [${m.expected.join(', ')}]`)
        .join('; ')}${more(report.shapeMismatches.length)}`,
    );
  if (report.missing.length) parts.push(`${report.missing.length} missing: ${report.missing.slice(0, limit).join(', ')}${more(report.missing.length)}`);
  if (report.unexpected.length) parts.push(`${report.unexpected.length} unexpected: ${report.unexpected.slice(0, limit).join(', ')}${more(report.unexpected.length)}`);
  return `${parts.join('. ')}. Check that config.json belongs to these weights.`;
}
