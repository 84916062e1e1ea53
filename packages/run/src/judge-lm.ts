import * as tf from '@tensorflow/tfjs';
import { CELLS, COLORS, SHAPES, SIZES } from '@mllm/data';
import { CausalLM, causalLmSchema } from '@mllm/llm';
import { WordTokenizer } from '@mllm/tokenizer';
import type { Rng } from '@mllm/core';

/**
 * A text-only judge LM: a small causal decoder (@mllm/llm's CausalLM) that reads a reference
 * description and a response and answers in one word. Two tasks share the model:
 *   haelm  - "... hallucination ?" -> "yes" / "no" (HaELM, Wang et al. 2023, arXiv:2308.15126)
 *   rubric - "... score ?"         -> "1" .. "10" (LLaVA-Bench-style rubric scoring)
 * The reference stands in for the image, as HaELM's judge reads the image's annotations.
 * HaELM's judge reads a whole response; this one reads it a sentence at a time, as FaithScore
 * splits an answer into facts, and the response hallucinates when any sentence does: each
 * verdict is then one claim against the reference instead of five (a whole-response verdict
 * stayed at the loss of a constant answer for 200 steps of 16 responses at width 32, 3 layers;
 * per sentence, kappa reached 0.16 in 300 steps: still far from the checker, see
 * docs/experiments/hallucination-judges.md).
 * Shapes: B rows, T tokens, V vocab.
 */
export const JUDGE_TASKS = ['haelm', 'rubric'] as const;
export type JudgeTask = (typeof JUDGE_TASKS)[number];

export interface JudgeLmOptions {
  dim: number;
  layers: number;
  heads: number;
}

const QUESTION: Record<JudgeTask, string> = { haelm: 'hallucination ?', rubric: 'score ?' };
const SCORES = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'];

/** A response's sentences, each with its full stop; a last one cut off without one counts too. */
export function responseSentences(text: string): string[] {
  return text.split(/(?<=[.?!])\s+/).map((x) => x.trim()).filter((x) => x.length > 0);
}

/** The judge's input: both texts after a label each, then the task's question; the answer is the next word. */
export function judgePrompt(task: JudgeTask, reference: string, response: string): string {
  return `reference : ${reference} response : ${response} ${QUESTION[task]}`;
}

/**
 * Every word a Shapes description, the prompt and the answers use: the judge's vocabulary is
 * fixed by the world, not by the responses it happens to train on (a word a model invents reads as <unk>).
 */
function judgeCorpus(): string[] {
  const words = [...SHAPES, ...COLORS, ...SIZES, ...CELLS, 'left of right of above below', 'there is are one two three four objects object in the image .', 'a the it only and at'];
  return [...words, judgePrompt('haelm', '', ''), judgePrompt('rubric', '', ''), 'yes no', ...SCORES];
}

export class JudgeLm {
  readonly tokenizer: WordTokenizer;
  readonly llm: CausalLM;
  private readonly answerIds: { yes: number; no: number };

  constructor(options: JudgeLmOptions, rng: Rng) {
    this.tokenizer = WordTokenizer.train(judgeCorpus());
    const config = causalLmSchema.parse({ type: 'causal', dim: options.dim, layers: options.layers, heads: options.heads });
    this.llm = new CausalLM(config, this.tokenizer.vocabSize, rng);
    this.answerIds = { yes: this.tokenId('yes'), no: this.tokenId('no') };
  }

  /** The id of one answer word ("yes", "no", "1".."10"). */
  tokenId(word: string): number {
    const id = this.tokenizer.tokenToId(word);
    if (id === undefined) throw new Error(`JudgeLm: "${word}" is not in the judge's vocabulary`);
    return id;
  }

  /** The id of the rubric answer for an exact score on the 0-10 scale: rounded, at least 1. */
  scoreId(score: number): number {
    return this.tokenId(SCORES[Math.min(10, Math.max(1, Math.round(score))) - 1]!);
  }

  encode(task: JudgeTask, reference: string, response: string): number[] {
    return [this.tokenizer.special.bos, ...this.tokenizer.encode(judgePrompt(task, reference, response))];
  }

  /**
   * Next-token logits after each prompt [B, V]. Rows are left-padded, so every prompt ends at
   * the last position; the attention mask keeps padding out and positions start at each row's
   * first real token.
   */
  answerLogits(rows: readonly number[][]): tf.Tensor2D {
    const t = Math.max(...rows.map((r) => r.length));
    return tf.tidy(() => this.sequenceLogits(rows).slice([0, t - 1, 0], [rows.length, 1, -1]).squeeze([1]) as tf.Tensor2D); // [B, V]
  }

  /** Next-token logits at every position of left-padded rows [B, T, V] (T the longest row). */
  sequenceLogits(rows: readonly number[][]): tf.Tensor3D {
    const t = Math.max(...rows.map((r) => r.length));
    const pad = this.tokenizer.special.pad;
    const ids = rows.map((r) => [...new Array<number>(t - r.length).fill(pad), ...r]);
    const attentionMask = rows.map((r) => [...new Array<number>(t - r.length).fill(0), ...new Array<number>(r.length).fill(1)]);
    return tf.tidy(() => {
      const embeds = this.llm.embed(tf.tensor2d(ids, [rows.length, t], 'int32')); // [B, T, D]
      return this.llm.forward(embeds, { attentionMask }).logits; // [B, T, V]
    });
  }

  /** Where the response starts in an encoded prompt (after "response :"). */
  responseStart(ids: readonly number[]): number {
    const response = this.tokenId('response');
    return ids.lastIndexOf(response) + 2;
  }

  /**
   * The judge's one-word replies, greedy over the whole vocabulary (so an untrained or confused
   * judge can answer something that is not an answer, and the caller's parser sees it).
   */
  reply(task: JudgeTask, items: readonly { reference: string; response: string }[], batchSize = 64): string[] {
    const out: string[] = [];
    for (let start = 0; start < items.length; start += batchSize) {
      const rows = items.slice(start, start + batchSize).map((x) => this.encode(task, x.reference, x.response));
      const best = tf.tidy(() => this.answerLogits(rows).argMax(1));
      out.push(...Array.from(best.dataSync()).map((id) => this.tokenizer.idToToken(id) ?? ''));
      best.dispose();
    }
    return out;
  }

  /** HaELM's verdict per response: "yes" (hallucinates) when, for some sentence, the logit of "yes" beats "no"'s. */
  hallucinates(items: readonly { reference: string; response: string }[], batchSize = 64): boolean[] {
    const rows = items.flatMap((x, item) => responseSentences(x.response).map((sentence) => ({ item, ids: this.encode('haelm', x.reference, sentence) })));
    const out = new Array<boolean>(items.length).fill(false);
    for (let start = 0; start < rows.length; start += batchSize) {
      const batch = rows.slice(start, start + batchSize);
      const margin = tf.tidy(() => {
        const logits = this.answerLogits(batch.map((r) => r.ids));
        return logits.gather([this.answerIds.yes], 1).sub(logits.gather([this.answerIds.no], 1)).squeeze([1]);
      });
      margin.dataSync().forEach((m, k) => {
        if (m > 0) out[batch[k]!.item] = true;
      });
      margin.dispose();
    }
    return out;
  }

  dispose(): void {
    this.llm.dispose();
    this.llm.rotary.dispose(); // its rotation tables are not parameters, so Module.dispose leaves them
  }
}
