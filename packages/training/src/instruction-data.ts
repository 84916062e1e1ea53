import { Rng } from '@mllm/core';
import { IMAGE_TOKEN, PromptPlan, selfInstruct, type LlavaSample, type Scene, type SelfInstructPair, type SelfInstructStats, type ShapesWorld } from '@mllm/data';
import { PROMPTED_KINDS, plannedKind, promptedSample, type PromptedKind } from '@mllm/data/internal';
import type { InstructionsConfig } from './instructions-option';

/** Closed pairs a self-instructed `qa` conversation packs, as the template data does. */
const QA_TURNS = 3;

/**
 * The instruct stages' questions under `data.instructions`: phrased from the task templates the
 * plan trains on, or (source `self-instruct`) the closed pairs a self-instruction teacher wrote
 * for each scene and the filter kept, with captions and descriptions from the templates. A
 * scene's pairs follow from the seed and the scene alone (selfInstruct forks its stream per
 * scene), so they are written when a batch first asks for them, and a resumed run or a
 * data-parallel participant gets the very same ones.
 */
export class InstructionData {
  readonly plan: PromptPlan;
  private readonly pairs = new Map<string, SelfInstructPair[]>();

  constructor(
    readonly config: InstructionsConfig,
    private readonly world: ShapesWorld,
    private readonly seed: number,
    /** The words the run's tokenizer lacks: a self-instructed pair using any is dropped. */
    private readonly unknownWords?: (text: string) => string[],
  ) {
    this.plan = new PromptPlan({ seed, phrasings: config.phrasings, heldOutPhrasings: config.heldOutPhrasings, heldInTasks: config.heldInTasks, heldOutTasks: config.heldOutTasks });
  }

  /** Whether a batch kind is one this data replaces (existence, qa, caption, detail); reasoning and tool batches stay as they are. */
  replaces(kind: string): kind is PromptedKind {
    return (PROMPTED_KINDS as readonly string[]).includes(kind);
  }

  /** One instruction sample of batch kind `kind` for `scene`. */
  sample(scene: Scene, rng: Rng, kind: PromptedKind): LlavaSample {
    const planned = plannedKind(kind, this.plan);
    if (this.config.source === 'self-instruct' && (planned === 'existence' || planned === 'qa')) {
      let pairs = this.pairs.get(scene.id);
      if (!pairs) this.pairs.set(scene.id, (pairs = this.write([scene]).pairs));
      // a scene whose every candidate was dropped is asked from the templates instead
      if (pairs.length > 0) return pairSample(scene, rng.shuffle(pairs).slice(0, planned === 'qa' ? QA_TURNS : 1));
    }
    return promptedSample(scene, rng, planned, this.plan);
  }

  /** What self-instruction writes, keeps and drops over the training scenes; undefined for template data. */
  selfInstructStats(): SelfInstructStats | undefined {
    return this.config.source === 'self-instruct' ? this.write(this.world.scenes('train')).stats : undefined;
  }

  private write(scenes: readonly Scene[]) {
    return selfInstruct(scenes, this.plan, new Rng(this.seed).fork('self-instruct'), { ...this.config.selfInstruct, unknownWords: this.unknownWords });
  }
}

function pairSample(scene: Scene, pairs: SelfInstructPair[]): LlavaSample {
  return {
    id: `${scene.id}-self-instruct`,
    image: scene.id,
    conversations: pairs.flatMap((p, i) => [
      { from: 'human' as const, value: i === 0 ? `${IMAGE_TOKEN}\n${p.instruction}` : p.instruction },
      { from: 'gpt' as const, value: p.response },
    ]),
  };
}
