import * as tf from '@tensorflow/tfjs';
import { CELLS, COLORS, SHAPES, SIZES } from '@mllm/data';
import { atomicFacts, chairMentions, factText } from '@mllm/eval';
import { CausalLM, causalLmSchema } from '@mllm/llm';
import { WordTokenizer } from '@mllm/tokenizer';
import type { Rng } from '@mllm/core';
import type { JudgeModelConfig } from '@mllm/training/internal';

/**
 * A text-only judge LM: a small causal decoder (@mllm/llm's CausalLM) that reads a reference
 * description and a response and answers in one word. Two tasks share the model:
 *   haelm  - "... hallucination ?" -> "yes" / "no" (HaELM, Wang et al. 2023, arXiv:2308.15126)
 *   rubric - "... score ?"         -> "1" .. "10" (LLaVA-Bench-style rubric scoring)
 * The reference stands in for the image, as HaELM's judge reads the image's annotations.
 * HaELM's judge reads a whole response; this one reads it one atomic fact at a time (FaithScore's
 * decomposition, @mllm/eval's atomicFacts: "the red circle is small", "there are two objects"),
 * and the response hallucinates when the judge calls any of its facts false. Each fact is read
 * beside the reference's sentences about its objects (claimEvidence), so a verdict compares a
 * few words: a whole response stayed at the loss of a constant answer, one sentence at a time
 * reached kappa 0.19 after 2000 steps, one fact against the whole reference 0.27, and one fact
 * against its evidence 0.84 after 3000 (docs/experiments/hallucination-judges.md).
 * Shapes: B rows, T tokens, V vocab.
 */
export const JUDGE_TASKS = ['haelm', 'rubric'] as const;
export type JudgeTask = (typeof JUDGE_TASKS)[number];

export interface JudgeLmOptions {
  dim: number;
  layers: number;
  heads: number;
  /** What of the reference a claim is judged against: its sentences about the claim's objects (claimEvidence, the default), or all of it. */
  reference?: JudgeReference;
}

/** What of the reference the haelm judge reads: the config's `eval.judges.haelm.reference`. */
export type JudgeReference = JudgeModelConfig['reference'];

const QUESTION: Record<JudgeTask, string> = { haelm: 'hallucination ?', rubric: 'score ?' };
/** What the text after the reference is: one fact of a response (haelm), or the whole response (rubric). */
const LABEL: Record<JudgeTask, string> = { haelm: 'claim', rubric: 'response' };
const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
const SCORES = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'];

/** The judge's input: both texts after a label each, then the task's question; the answer is the next word. */
export function judgePrompt(task: JudgeTask, reference: string, text: string): string {
  return `reference : ${reference} ${LABEL[task]} : ${text} ${QUESTION[task]}`;
}

/** The distinct atomic facts of a response, as the text the haelm task reads ("the red circle is small"). */
export function responseClaims(response: string): string[] {
  return [...new Set(atomicFacts(response).map(factText))];
}

const pluralOf = (shape: string) => (/(s|x|z|ch|sh)$/.test(shape) ? `${shape}es` : `${shape}s`);

/**
 * The sentences of a reference description a claim is checked against: those naming one of
 * the claim's objects ("the red circle is small" -> "a large red circle is at the top left ."),
 * or, for a claim that names no object ("there are two objects"), those counting objects. An
 * object the reference never names leaves nothing: the claim has no support. This is the
 * retrieval step of a fact verifier (FaithScore checks each fact against the evidence for it);
 * it keeps the judge's verdict to comparing a few words instead of finding them among ~40.
 */
export function claimEvidence(reference: string, claim: string): string {
  const sentences = reference.match(/[^.]*\./g)?.map((x) => x.trim()) ?? [];
  const objects = new Set(chairMentions(claim));
  const about = (sentence: string) => (objects.size > 0 ? chairMentions(sentence).some((o) => objects.has(o)) : /\bobjects?\b/.test(sentence));
  return sentences.filter(about).join(' ');
}

/**
 * Every word a Shapes description, the prompt and the answers use: the judge's vocabulary is
 * fixed by the world, not by the responses it happens to train on (a word a model invents reads as <unk>).
 */
function judgeCorpus(): string[] {
  const plurals = SHAPES.map(pluralOf);
  const words = [...SHAPES, ...plurals, ...COLORS, ...SIZES, ...CELLS, ...NUMBER_WORDS, 'left of right of above below', 'there is are objects object in the image .', 'a the it only and at'];
  return [...words, judgePrompt('haelm', '', ''), judgePrompt('rubric', '', ''), 'yes no', ...SCORES];
}

export class JudgeLm {
  readonly tokenizer: WordTokenizer;
  readonly llm: CausalLM;
  readonly reference: JudgeReference;
  /**
   * The margin logit(yes) - logit(no) above which a fact is called false. Training rows are
   * rebalanced towards false facts, so a trained judge sets it to the log prior-odds ratio of
   * its training rows against facts as responses state them (trainJudgeLm); 0: the raw argmax.
   */
  verdictThreshold = 0;
  private readonly answerIds: { yes: number; no: number };

  constructor(options: JudgeLmOptions, rng: Rng) {
    this.reference = options.reference ?? 'evidence';
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

  /** The haelm prompt for one claim, against the whole reference or its evidence for the claim (the judge's `reference` option). */
  encodeClaim(reference: string, claim: string): number[] {
    return this.encode('haelm', this.reference === 'evidence' ? claimEvidence(reference, claim) : reference, claim);
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

  /** Where the judged text starts in an encoded prompt (after "claim :" or "response :"). */
  responseStart(ids: readonly number[]): number {
    return Math.max(ids.lastIndexOf(this.tokenId('claim')), ids.lastIndexOf(this.tokenId('response'))) + 2;
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

  /** HaELM's verdict per response: "yes" (hallucinates) when, for some fact of it, the logit of "yes" beats "no"'s by more than `threshold` (verdictThreshold unless given); a response stating no fact does not. */
  hallucinates(items: readonly { reference: string; response: string }[], batchSize = 64, threshold = this.verdictThreshold): boolean[] {
    const rows = items.flatMap((x, item) => responseClaims(x.response).map((claim) => ({ item, ids: this.encodeClaim(x.reference, claim) })));
    const out = new Array<boolean>(items.length).fill(false);
    for (let start = 0; start < rows.length; start += batchSize) {
      const batch = rows.slice(start, start + batchSize);
      const margin = tf.tidy(() => {
        const logits = this.answerLogits(batch.map((r) => r.ids));
        return logits.gather([this.answerIds.yes], 1).sub(logits.gather([this.answerIds.no], 1)).squeeze([1]);
      });
      margin.dataSync().forEach((m, k) => {
        if (m > threshold) out[batch[k]!.item] = true;
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
