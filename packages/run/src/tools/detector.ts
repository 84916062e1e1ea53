import * as tf from '@tensorflow/tfjs';
import { Rng, loadSafetensors, saveSafetensors, type Logger } from '@mllm/core';
import type { DetectedObject, Scene, ShapesWorld } from '@mllm/data';
import type { ModelImage, MultimodalModel } from '@mllm/model';
import { RegionHead, toolsSchema, type CellPrediction, type ToolsConfig } from '@mllm/training/internal';
import type { RunConfig } from '@mllm/training';

/** Where a run folder keeps the detector its tools read. */
export const DETECTOR_FILE = 'tools-detector.safetensors';

/**
 * How a run trains its detector: the tools' settings, else post-correction's (`eval.mitigation`),
 * else the tools schema's defaults. One head per run: both read the same frozen encoder.
 */
export function detectorOptions(config: RunConfig): ToolsConfig['detector'] {
  return config.tools?.detector ?? config.eval.mitigation?.detector ?? toolsSchema.shape.detector.parse(undefined);
}

/** Images whose encoder tokens are computed in one go while training the head. */
const FEATURE_BATCH = 250;

/**
 * An object the detector sees, with the probability of its shape call and of every shape at
 * its cell (post-correction overrules an answer only where the detector is sure of its call,
 * or gives the shape the answer names little chance).
 */
export type Detection = DetectedObject & { confidence: number; shapeProbabilities: Readonly<Record<string, number>> };

/** The objects a region head's cell readings describe: every cell it reads as occupied, with the attributes it read there. */
export function objectsFromCells(cells: readonly CellPrediction[]): Detection[] {
  return cells.flatMap((c) => (c.shape ? [{ shape: c.shape, color: c.color, size: c.size, cell: c.cell, confidence: c.confidence, shapeProbabilities: c.shapeProbabilities }] : []));
}

/**
 * The object detector behind the vision tools: the `regions` objective's head (each cell of
 * the encoder's token grid names its shape, colour and size) on the run's frozen encoder. It
 * is trained on training scenes only, so what it reports about a test image is what a trained
 * model sees there, mistakes included.
 */
export class RegionDetector {
  private constructor(
    private readonly model: MultimodalModel,
    readonly head: RegionHead,
  ) {}

  /** A fresh head for `model`'s encoder (weights to train or load). */
  static forModel(model: MultimodalModel, seed: number): RegionDetector {
    const head = new RegionHead(model.encoder.outputDim, model.encoder.gridTokenCount ?? model.encoder.numTokens, new Rng(seed).fork('tools:detector'));
    return new RegionDetector(model, head);
  }

  /** Trains the head on the frozen encoder's tokens of the world's training scenes; returns the last loss. */
  static train(model: MultimodalModel, world: ShapesWorld, options: ToolsConfig['detector'] & { seed: number; logger?: Logger }): RegionDetector {
    const detector = RegionDetector.forModel(model, options.seed);
    const scenes = world.scenes('train');
    const tokens = detector.encodeAll(scenes.map((s) => world.image(s.id)));
    const rng = new Rng(options.seed).fork('tools:detector-batches');
    const optimizer = tf.train.adam(options.lr);
    let last = NaN;
    for (let step = 0; step < options.steps; step++) {
      const picks = Array.from({ length: Math.min(options.batchSize, scenes.length) }, () => rng.int(scenes.length));
      const cost = optimizer.minimize(
        () => {
          const batch = tf.gather(tokens, tf.tensor1d(picks, 'int32')) as tf.Tensor3D;
          return detector.head.loss(batch, picks.map((i) => scenes[i]!));
        },
        true,
        detector.head.parameters(),
      );
      if (step === options.steps - 1) last = cost!.dataSync()[0]!;
      cost?.dispose();
    }
    optimizer.dispose();
    tokens.dispose();
    options.logger?.info(`tools: detector trained ${options.steps} steps on ${scenes.length} training scenes, loss ${last.toFixed(4)}`);
    return detector;
  }

  /** The detector of a finished run, from its folder's DETECTOR_FILE. */
  static async load(model: MultimodalModel, path: string, seed: number): Promise<RegionDetector> {
    const detector = RegionDetector.forModel(model, seed);
    const { tensors } = await loadSafetensors(path);
    detector.head.loadStateDict(tensors, { source: path });
    for (const t of Object.values(tensors)) t.dispose();
    return detector;
  }

  async save(path: string): Promise<void> {
    await saveSafetensors(path, this.head.stateDict(), { format: 'pt' });
  }

  /** The objects in each image: every cell the head reads as occupied. */
  detect(images: readonly ModelImage[]): Detection[][] {
    const out: Detection[][] = [];
    for (let from = 0; from < images.length; from += FEATURE_BATCH) {
      const tokens = this.encodeAll(images.slice(from, from + FEATURE_BATCH));
      const cells = this.head.predict(tokens);
      tokens.dispose();
      out.push(...cells.map(objectsFromCells));
    }
    return out;
  }

  /** Share of test scenes' cells read right (shape or empty, and colour and size where occupied). */
  cellAccuracy(world: ShapesWorld, scenes: readonly Scene[]): number {
    const seen = this.detect(scenes.map((s) => world.image(s.id)));
    let right = 0;
    scenes.forEach((scene, i) => {
      const key = (o: DetectedObject) => `${o.cell}:${o.size} ${o.color} ${o.shape}`;
      const truth = new Set(scene.objects.map(key));
      const found = new Set(seen[i]!.map(key));
      for (const cell of ['top left', 'top right', 'bottom left', 'bottom right']) {
        const t = [...truth].find((k) => k.startsWith(`${cell}:`));
        const f = [...found].find((k) => k.startsWith(`${cell}:`));
        if (t === f) right++;
      }
    });
    return right / (scenes.length * 4);
  }

  /** The frozen encoder's grid tokens [B, N, D] of `images`, in batches. */
  private encodeAll(images: readonly ModelImage[]): tf.Tensor3D {
    const parts: tf.Tensor3D[] = [];
    for (let from = 0; from < images.length; from += FEATURE_BATCH) {
      parts.push(
        tf.tidy(() => {
          const pixels = this.model.imagesToTensor(images.slice(from, from + FEATURE_BATCH) as ModelImage[]);
          return this.model.encoder.gridTokens?.(pixels) ?? (this.model.encoder.encode(pixels) as tf.Tensor3D);
        }),
      );
    }
    if (parts.length === 1) return parts[0]!;
    const all = tf.concat(parts, 0);
    for (const p of parts) p.dispose();
    return all;
  }
}
