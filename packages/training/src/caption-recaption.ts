import { Rng } from '@mllm/core';
import { caption, captionSample, parseMentions, sceneCategories, type Scene } from '@mllm/data';
import type { MultimodalModel } from '@mllm/model';
import { askedSample } from './policy-sampling';
import { trainLoop } from './train-loop';
import type { RecaptionConfig } from './caption-data-schema';
import type { StageData } from './stage-data';

/**
 * ShareGPT4V's recipe (Chen et al., arXiv:2311.12793): a captioner trained on a small set of
 * fine-grained captions writes a caption for every image of the large pool, and pre-training
 * uses those. Here the captioner is a copy of the run's model as it is when the align stage
 * starts (encoder and LLM pre-trained), whose connector and LLM learn the world's fine-grained
 * caption on `scenes` train scenes; the run's own model is untouched.
 */

/** How faithful the recaptions are to their scenes: CHAIR over their object mentions, and coverage. */
export interface RecaptionQuality {
  captions: number;
  /** Hallucinated mentions / all mentions (Rohrbach et al.'s CHAIR_i). */
  chairI: number;
  /** Captions with at least one hallucinated mention / all captions (CHAIR_s). */
  chairS: number;
  /** Scene categories the caption mentions / scene categories (what a caption leaves out). */
  recall: number;
  /** Recaptions identical to the world's fine-grained caption of their scene. */
  exact: number;
}

/** CHAIR and coverage of captions against the scenes they describe (same order). */
export function recaptionQuality(scenes: readonly Scene[], captions: readonly string[]): RecaptionQuality {
  let mentions = 0;
  let hallucinated = 0;
  let withHallucination = 0;
  let truth = 0;
  let covered = 0;
  let exact = 0;
  scenes.forEach((scene, i) => {
    const present = new Set(sceneCategories(scene));
    const said = parseMentions(captions[i]!);
    const wrong = said.filter((c) => !present.has(c)).length;
    mentions += said.length;
    hallucinated += wrong;
    if (wrong > 0) withHallucination++;
    truth += present.size;
    covered += [...present].filter((c) => said.includes(c)).length;
    if (captions[i] === caption(scene)) exact++;
  });
  const n = scenes.length;
  return { captions: n, chairI: mentions === 0 ? 0 : hallucinated / mentions, chairS: withHallucination / n, recall: covered / truth, exact: exact / n };
}

/** Trains the captioner (`copy`, disposed by the caller) on the clean set's fine-grained captions. */
export async function trainCaptioner(copy: MultimodalModel, data: StageData, clean: readonly Scene[], config: RecaptionConfig): Promise<number> {
  copy.freeze();
  copy.connector.unfreeze();
  copy.llm.unfreeze();
  copy.train();
  const stream = new Rng(data.seed).fork('captions:captioner');
  const { lastLoss, optimizer } = await trainLoop({
    params: copy.trainableParameters(),
    optim: { steps: config.steps, lr: config.lr, warmup: config.warmup, minLrRatio: 0.1, weightDecay: 0.01, clipNorm: 1 },
    lossAt: (step) => {
      const rng = stream.fork(`step${step}`);
      const samples = Array.from({ length: config.batchSize }, () => data.tokenize(captionSample(clean[rng.int(clean.length)]!)));
      const batch = copy.collate(samples);
      return { tokens: batch.attentionMask.flat().reduce((a, c) => a + c, 0), images: samples.length, loss: () => copy.loss(batch) };
    },
  });
  optimizer.dispose();
  copy.eval();
  return lastLoss;
}

/** The captioner's greedy caption of each scene, asked with the scene's own caption prompt. */
export function recaption(copy: MultimodalModel, data: StageData, scenes: readonly Scene[], config: RecaptionConfig, batchSize = 100): string[] {
  const { special } = data.tokenizer;
  const suppressTokens = [special.image, special.pad, special.bos, special.unk, special.user, special.assistant];
  const out: string[] = [];
  for (let i = 0; i < scenes.length; i += batchSize) {
    const asked = scenes.slice(i, i + batchSize).map((scene) => askedSample(data, captionSample(scene).conversations[0]!.value, scene.id));
    const ids = copy.generate(asked, { maxNewTokens: config.maxNewTokens, stopTokens: [special.end, special.eos], suppressTokens });
    out.push(...ids.map((row) => data.tokenizer.decode(row).trim()));
  }
  return out;
}
