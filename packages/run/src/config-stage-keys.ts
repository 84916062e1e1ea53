import { stageName, type StageConfig } from '@mllm/training';

/**
 * How an extending config or a `--set` path names one stage of the list it changes, in the
 * order tried: the stage's name (its `name`, else `stageName`'s `<index>-<type>`, e.g.
 * "3-instruct"), its index ("3"), or its type ("instruct") when exactly one stage has it.
 */
export type StageLookup = { index: number } | { error: string };

/** The key `"+"` of a stage-override object: stages appended after the inherited ones. */
export const APPEND_STAGES = '+';

const typeOf = (stage: unknown): unknown => (stage as { type?: unknown } | null)?.type;
const nameOf = (stage: unknown, index: number): string => stageName((stage ?? {}) as StageConfig, index);

/** The index of the stage `key` names in `stages`, or why it names none (a predicate of the key, listing the names there are). */
export function findStage(stages: readonly unknown[], key: string): StageLookup {
  const byName = stages.findIndex((stage, i) => nameOf(stage, i) === key);
  if (byName >= 0) return { index: byName };
  if (/^\d+$/.test(key)) {
    const index = Number(key);
    if (index < stages.length) return { index };
    return { error: `is past the end: the list has ${stages.length} stage(s), 0 to ${stages.length - 1}` };
  }
  const byType = stages.flatMap((stage, i) => (typeOf(stage) === key ? [i] : []));
  if (byType.length === 1) return { index: byType[0]! };
  if (byType.length > 1)
    return { error: `is ambiguous: ${byType.length} stages have type "${key}" (${byType.map((i) => nameOf(stages[i], i)).join(', ')}); name one of them` };
  return { error: `names no stage; ${stageKeysHelp(stages)}` };
}

/** The keys that name each stage of `stages`, for error messages. */
export function stageKeysHelp(stages: readonly unknown[]): string {
  if (stages.length === 0) return 'the list is empty';
  const types = stages.map(typeOf);
  const keys = stages.map((stage, i) => {
    const type = types[i];
    const unique = typeof type === 'string' && types.indexOf(type) === types.lastIndexOf(type) && nameOf(stage, i) !== type;
    return unique ? `${nameOf(stage, i)} (or ${type}, or ${i})` : `${nameOf(stage, i)} (or ${i})`;
  });
  return `the stages are: ${keys.join(', ')}`;
}
