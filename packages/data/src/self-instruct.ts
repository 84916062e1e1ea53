import type { Rng } from '@mllm/core';
import type { Scene } from './scene';
import { COLORS, SHAPES, SIZES, CELLS, ALL_CATEGORIES } from './scene';
import { NUMBER_WORDS, RELATIONS } from './language';
import { PHRASINGS, fillTemplate, isClosedTask, type ClosedTask, type InstructionTask } from './instruction-phrasings';
import { taskQueries } from './instruction-tasks';
import { Unanswerable, instructionWords, parseInstruction, sceneAnswer } from './instruction-parse';
import type { PromptPlan } from './prompt-plan';

/**
 * Self-instruction (Self-Instruct, Wang et al. 2023; LLaVA's GPT-4 data): a teacher writes new
 * instruction / response pairs from a few seed examples and each scene's annotations, and a
 * filter keeps only those that are new, well-formed and right. The teacher here recombines the
 * seeds' templates (the head of one up to its first slot, the tail of another after the same
 * slot: "where is the {object}" + " in the image ?"), fills the slots from the scene, and
 * writes the answer as a careless annotator would: wrong with probability `teacherNoise`. The
 * filter reads each instruction back (parseInstruction), answers it from the annotations and
 * drops it for the first reason that applies (SELF_INSTRUCT_DROPS).
 */

export interface SelfInstructOptions {
  /** Seed examples per held-in closed task, each in one of the plan's trained phrasings. Default 3. */
  seedsPerTask?: number;
  /** Candidate pairs the teacher writes per scene. Default 4. */
  perScene?: number;
  /** Chance that the teacher's answer is wrong (another value of the same kind). Default 0.2. */
  teacherNoise?: number;
  /** Word-bigram Jaccard overlap at or above which a pair asking a kept question of the same scene is a near duplicate. Default 0.6. */
  nearDuplicate?: number;
  /** Word limits of an instruction (punctuation counts as a word). Default 3 and 14. */
  minInstructionWords?: number;
  maxInstructionWords?: number;
  /** The words a tokenizer lacks (a pair using any is dropped); default: none lacking. */
  unknownWords?: (text: string) => string[];
  /**
   * false: keep every candidate the quality filter would drop (it still counts them); held-out
   * tasks and phrasings are dropped all the same, since they are the evaluation's split. Default true.
   */
  filter?: boolean;
}

/** Why a candidate was dropped, in the order the filter checks: the held-out split first, then quality. */
export const SELF_INSTRUCT_DROPS = [
  'held-out-task',
  'held-out-phrasing',
  'unparseable',
  'length',
  'unknown-words',
  'unanswerable',
  'wrong-answer',
  'exact-duplicate',
  'near-duplicate',
] as const;
export type SelfInstructDrop = (typeof SELF_INSTRUCT_DROPS)[number];

export interface SelfInstructPair {
  sceneId: string;
  instruction: string;
  response: string;
  /** The task the filter read the instruction as. */
  task: InstructionTask;
  /** The template the teacher wrote it from (slots unfilled). */
  template: string;
}

export interface SelfInstructStats {
  seeds: number;
  generated: number;
  kept: number;
  dropped: Record<SelfInstructDrop, number>;
  /** Distinct templates among the kept pairs, and how many of them are no task's template (recombined). */
  templates: number;
  newTemplates: number;
}

interface Seed {
  task: ClosedTask;
  template: string;
}

/** The seed examples: `perTask` distinct trained phrasings of each held-in closed task. */
export function selfInstructSeeds(plan: PromptPlan, perTask: number, rng: Rng): Seed[] {
  return plan.heldInTasks.filter(isClosedTask).flatMap((task) => rng.shuffle(plan.trainedPhrasings(task)).slice(0, perTask).map((template) => ({ task, template })));
}

const SLOT = /\{([a-z]+)\}/;

/** A's head through its first slot, then B's tail after the same slot; A itself when B lacks that slot. */
export function recombine(a: string, b: string): string {
  const first = SLOT.exec(a);
  if (!first) return a;
  const at = b.indexOf(first[0]);
  if (at < 0) return a;
  return a.slice(0, first.index + first[0].length) + b.slice(at + first[0].length);
}

/** Every value a slot can take, for a teacher that asks about things the scene may not hold. */
const SLOT_VALUES: Record<string, readonly string[]> = { object: ALL_CATEGORIES, a: ALL_CATEGORIES, b: ALL_CATEGORIES, shape: SHAPES, color: COLORS, relation: RELATIONS };

/** Wrong answers of the same kind as `answer`, for the teacher's mistakes. */
function wrongAnswers(answer: string): string[] {
  const kinds: readonly (readonly string[])[] = [['yes', 'no'], COLORS, SHAPES, SIZES, CELLS, NUMBER_WORDS];
  const kind = kinds.find((k) => k.includes(answer)) ?? [];
  return kind.filter((x) => x !== answer);
}

const normalize = (text: string) => instructionWords(text).join(' ');

function bigrams(text: string): Set<string> {
  const w = instructionWords(text);
  return new Set(w.slice(1).map((x, i) => `${w[i]} ${x}`));
}

/** |A n B| / |A u B| of two texts' word bigrams. */
export function bigramOverlap(a: string, b: string): number {
  const x = bigrams(a);
  const y = bigrams(b);
  const shared = [...x].filter((g) => y.has(g)).length;
  return shared / (x.size + y.size - shared || 1);
}

/**
 * Candidate pairs for `scenes` from the plan's seeds, filtered and deduplicated; `stats` says
 * how many were written, kept and dropped per reason. Deterministic in `rng`.
 */
export function selfInstruct(scenes: readonly Scene[], plan: PromptPlan, rng: Rng, options: SelfInstructOptions = {}): { pairs: SelfInstructPair[]; stats: SelfInstructStats } {
  const seeds = selfInstructSeeds(plan, options.seedsPerTask ?? 3, rng.fork('seeds'));
  const perScene = options.perScene ?? 4;
  const noise = options.teacherNoise ?? 0.2;
  const [minWords, maxWords] = [options.minInstructionWords ?? 3, options.maxInstructionWords ?? 14];
  const heldOutTemplates = new Set(Object.keys(PHRASINGS).flatMap((t) => plan.heldOutPhrasings(t as InstructionTask)));
  const allTemplates = new Set(Object.values(PHRASINGS).flat());
  const dropped = Object.fromEntries(SELF_INSTRUCT_DROPS.map((d) => [d, 0])) as Record<SelfInstructDrop, number>;
  const pairs: SelfInstructPair[] = [];
  let generated = 0;
  if (seeds.length === 0) return { pairs, stats: { seeds: 0, generated, kept: 0, dropped, templates: 0, newTemplates: 0 } };
  for (const scene of scenes) {
    const teacher = rng.fork(scene.id);
    const kept: { pair: SelfInstructPair; key: string }[] = [];
    for (let k = 0; k < perScene; k++) {
      const a = teacher.pick(seeds);
      const template = recombine(a.template, teacher.pick(seeds).template);
      // the teacher fills the slots as its own task reads the scene, or now and then with anything
      const queries = taskQueries(scene, a.task, teacher);
      const query = queries.length > 0 && teacher.next() < 0.9 ? teacher.pick(queries) : undefined;
      const slots = query?.slots ?? Object.fromEntries(Object.entries(SLOT_VALUES).map(([name, values]) => [name, teacher.pick(values)]));
      let response = query?.answer ?? teacher.pick(['yes', 'no', ...COLORS, ...SHAPES]);
      const wrong = wrongAnswers(response);
      if (teacher.next() < noise && wrong.length > 0) response = teacher.pick(wrong);
      const instruction = fillTemplate(template, slots);
      generated++;
      const parsed = parseInstruction(instruction);
      const truth = parsed && sceneAnswer(scene, parsed);
      const key = parsed ? `${parsed.task}|${JSON.stringify(parsed.slots)}` : '';
      const words = instructionWords(instruction).length;
      // the split is not a quality judgement: held-out tasks and phrasings are dropped even unfiltered
      const split: SelfInstructDrop | undefined = parsed && !plan.isHeldIn(parsed.task) ? 'held-out-task' : heldOutTemplates.has(template) ? 'held-out-phrasing' : undefined;
      const quality: SelfInstructDrop | undefined = !parsed
        ? 'unparseable'
        : words < minWords || words > maxWords
          ? 'length'
          : (options.unknownWords?.(`${instruction} ${response}`).length ?? 0) > 0
            ? 'unknown-words'
            : truth instanceof Unanswerable
              ? 'unanswerable'
              : normalize(truth!) !== normalize(response)
                ? 'wrong-answer'
                : kept.some((p) => normalize(p.pair.instruction) === normalize(instruction))
                  ? 'exact-duplicate'
                  : kept.some((p) => p.key === key && bigramOverlap(p.pair.instruction, instruction) >= (options.nearDuplicate ?? 0.6))
                    ? 'near-duplicate'
                    : undefined;
      const reason = split ?? quality;
      if (reason) dropped[reason]++;
      if (split || (quality && options.filter !== false)) continue;
      kept.push({ pair: { sceneId: scene.id, instruction, response, task: parsed?.task ?? a.task, template }, key });
    }
    pairs.push(...kept.map((p) => p.pair));
  }
  const templates = new Set(pairs.map((p) => p.template));
  return {
    pairs,
    stats: { seeds: seeds.length, generated, kept: pairs.length, dropped, templates: templates.size, newTemplates: [...templates].filter((t) => !allTemplates.has(t)).length },
  };
}
