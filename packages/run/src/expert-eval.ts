import * as tf from '@tensorflow/tfjs';
import { ExpertBridge } from '@mllm/connector-expert';
import { attributeCheck, type Scene } from '@mllm/data';
import { attributeRates, type ExpertTextReport } from '@mllm/eval';
import type { Session } from './session';

/** Images per encoder call: the evaluation's scenes at once would hold every image's features. */
const BATCH = 64;
const SAMPLES = 10;

/**
 * What an expert bridge writes about the evaluation scenes, scored per object attribute as the
 * model's descriptions are: the ceiling of what its LLM can know. Undefined for any other
 * connector, whose image reaches the LLM as vectors no text reading can score.
 */
export function expertTextReport(session: Session, scenes: readonly Scene[]): ExpertTextReport | undefined {
  const bridge = session.model.connector;
  if (!(bridge instanceof ExpertBridge)) return undefined;
  const texts: string[] = [];
  for (let start = 0; start < scenes.length; start += BATCH) {
    const images = scenes.slice(start, start + BATCH).map((s) => session.world.image(s.id));
    const features = session.model.encodeFeatures(images); // [n, N, D_enc]
    try {
      texts.push(...bridge.describe(features));
    } finally {
      tf.dispose(features);
    }
  }
  return {
    attributes: attributeRates(scenes.map((scene, i) => attributeCheck(scene, texts[i]!))),
    samples: scenes.slice(0, SAMPLES).map((scene, i) => ({ sceneId: scene.id, text: texts[i]! })),
  };
}
