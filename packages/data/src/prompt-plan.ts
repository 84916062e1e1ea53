import { Rng } from '@mllm/core';
import { ALL_CATEGORIES, CELLS, COLORS, SHAPES, SIZES } from './scene';
import { NUMBER_WORDS, RELATIONS } from './language';
import {
  CANONICAL_PHRASINGS,
  DEFAULT_HELD_IN_TASKS,
  INSTRUCTION_TASKS,
  MAX_HELD_OUT_PHRASINGS,
  PHRASINGS,
  fillTemplate,
  isClosedTask,
  type ClosedTask,
  type InstructionTask,
} from './instruction-phrasings';

export interface PromptPlanOptions {
  /** Seed of the run: which phrasings are held out follows from it alone. */
  seed: number;
  /** `many`: train on every phrasing not held out; `one`: on the canonical phrasing(s) only. */
  phrasings?: 'one' | 'many';
  /** Phrasings held out per task (never trained, asked at evaluation). Default 2. */
  heldOutPhrasings?: number;
  /** Tasks the instruct data tunes on. Default: the world's original six. */
  heldInTasks?: readonly InstructionTask[];
  /** Closed tasks never in the instruct data, evaluated zero-shot. */
  heldOutTasks?: readonly ClosedTask[];
}

/**
 * Which tasks and phrasings a run tunes on and which it holds out. The held-out phrasings of
 * each task are drawn from Rng(seed).fork('prompts:split').fork(task) among the non-canonical
 * ones, so they depend on the seed and the count only: a one-phrasing and a many-phrasing run
 * of the same seed are evaluated on the very same held-out phrasings.
 */
export class PromptPlan {
  readonly mode: 'one' | 'many';
  readonly heldInTasks: readonly InstructionTask[];
  readonly heldOutTasks: readonly ClosedTask[];
  private readonly heldOut = new Map<InstructionTask, Set<number>>();

  constructor(options: PromptPlanOptions) {
    this.mode = options.phrasings ?? 'many';
    this.heldInTasks = options.heldInTasks ?? DEFAULT_HELD_IN_TASKS;
    this.heldOutTasks = options.heldOutTasks ?? [];
    const count = options.heldOutPhrasings ?? 2;
    if (!Number.isInteger(count) || count < 0 || count > MAX_HELD_OUT_PHRASINGS)
      throw new Error(`PromptPlan: heldOutPhrasings must be an integer in [0, ${MAX_HELD_OUT_PHRASINGS}], got ${count}`);
    const both = this.heldOutTasks.filter((t) => this.heldInTasks.includes(t));
    if (both.length > 0) throw new Error(`PromptPlan: ${both.join(', ')} cannot be both held in and held out`);
    const split = new Rng(options.seed).fork('prompts:split');
    for (const task of INSTRUCTION_TASKS) {
      const candidates = PHRASINGS[task].map((_, i) => i).slice(CANONICAL_PHRASINGS[task]);
      this.heldOut.set(task, new Set(split.fork(task).shuffle(candidates).slice(0, count)));
    }
  }

  isHeldIn(task: InstructionTask): boolean {
    return this.heldInTasks.includes(task);
  }

  /** Phrasings of `task` never trained on: the same for every run of this seed and count. */
  heldOutPhrasings(task: InstructionTask): string[] {
    return PHRASINGS[task].filter((_, i) => this.heldOut.get(task)!.has(i));
  }

  /** Phrasings a run of this plan trains `task` with (for a held-out task: those it would have). */
  trainedPhrasings(task: InstructionTask): string[] {
    if (this.mode === 'one') return PHRASINGS[task].slice(0, CANONICAL_PHRASINGS[task]);
    return PHRASINGS[task].filter((_, i) => !this.heldOut.get(task)!.has(i));
  }

  /** Closed tasks the plan evaluates: the held-in closed tasks, then the held-out ones. */
  evaluatedTasks(): ClosedTask[] {
    return [...this.heldInTasks.filter(isClosedTask), ...this.heldOutTasks];
  }
}

/**
 * Every word a phrased instruction or its answer can use: each template of each task filled
 * with sample slot values, and every slot value and answer word. A tokenizer trained on it
 * encodes held-in and held-out phrasings alike (their words may be seen; the held-out
 * phrasings themselves are never trained on).
 */
export function instructionCorpus(): string[] {
  const slots = { object: ALL_CATEGORIES[0]!, shape: SHAPES[0], color: COLORS[0], a: ALL_CATEGORIES[0]!, relation: RELATIONS[0]!, b: ALL_CATEGORIES[1]! };
  const text = INSTRUCTION_TASKS.flatMap((task) => PHRASINGS[task].map((t) => fillTemplate(t, slots)));
  text.push([...ALL_CATEGORIES, ...RELATIONS, ...CELLS, ...SIZES, ...NUMBER_WORDS, 'yes', 'no'].join(' '));
  return text;
}
