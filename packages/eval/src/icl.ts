/**
 * Multimodal in-context learning (M-ICL): accuracy of the answer to a query after k
 * demonstrations (image, question, answer), for each k, on tasks whose answer format or label
 * mapping only the demonstrations define (Flamingo's few-shot evaluation, arXiv:2204.14198).
 */
import { safeRatio } from './ratio';

/** A solved example shown before the question: an image (by scene id), its question and the answer. */
export interface Demonstration {
  sceneId: string;
  question: string;
  answer: string;
}

/** One request to an answerer: a prompt about an image, optionally after demonstrations (in the order given). */
export interface AnswerRequest {
  sceneId: string;
  prompt: string;
  demonstrations?: readonly Demonstration[];
}

/**
 * A query with the demonstrations for its largest shot count; k shots show the first k, or
 * `byShots[k]` where an episode gives it (a task that shows the query's key in every prompt at a
 * random place among the k, where the first k would always put it first).
 */
export interface IclEpisode extends Demonstration {
  demonstrations: readonly Demonstration[];
  byShots?: Readonly<Record<string, readonly Demonstration[]>>;
}

export interface IclSet {
  /** Shot counts to ask each episode with, e.g. [0, 1, 2, 4]. */
  shots: readonly number[];
  /** Episodes by task name. */
  tasks: Record<string, readonly IclEpisode[]>;
}

/**
 * `eval.icl` of report.json: accuracy per task and shot count (keys are the counts as strings),
 * and per shot count above zero what copying the label of a demonstration picked at random would
 * score on the same prompts (`copy`): the part of the accuracy that needs no matching of the
 * query to the demonstrations.
 */
export interface IclResult {
  tasks: Record<string, { shots: Record<string, number>; copy?: Record<string, number> }>;
}

/**
 * The answer word of a reply: its first word, lower case, without punctuation around it. Every
 * few-shot label is one word, and a demonstration's answer is that word alone, so a reply
 * that follows the demonstrations' format starts with it.
 *
 *   iclAnswer('Two .')  // 'two'     iclAnswer(' red circle') // 'red'     iclAnswer('') // ''
 */
export function iclAnswer(reply: string): string {
  return reply.trim().toLowerCase().split(/[\s.,!?;:'"]+/).find((w) => w !== '') ?? '';
}

function checkSet(set: IclSet): void {
  for (const k of set.shots) if (!Number.isInteger(k) || k < 0) throw new Error(`icl: shot counts must be integers >= 0, got ${k}`);
  const most = Math.max(0, ...set.shots);
  for (const [task, episodes] of Object.entries(set.tasks)) {
    if (episodes.length === 0) throw new Error(`icl: task "${task}" has no episodes; give it at least one`);
    const short = episodes.findIndex((e) => e.demonstrations.length < most);
    if (short >= 0) throw new Error(`icl: task "${task}" episode ${short} has ${episodes[short]!.demonstrations.length} demonstrations but ${most} shots are asked; give every episode at least ${most}`);
    episodes.forEach((e, i) => {
      for (const [k, shown] of Object.entries(e.byShots ?? {}))
        if (shown.length !== Number(k)) throw new Error(`icl: task "${task}" episode ${i} gives ${shown.length} demonstrations for ${k} shots; byShots[k] must hold exactly k`);
    });
  }
}

/** The demonstrations a k-shot prompt of `episode` shows. */
function shownDemonstrations(episode: IclEpisode, k: number): readonly Demonstration[] {
  return episode.byShots?.[String(k)] ?? episode.demonstrations.slice(0, k);
}

/** The requests to ask: per task (in key order), per shot count, every episode with its first k demonstrations. */
export function iclRequests(set: IclSet): AnswerRequest[] {
  checkSet(set);
  return Object.values(set.tasks).flatMap((episodes) =>
    set.shots.flatMap((k) => episodes.map((e) => ({ sceneId: e.sceneId, prompt: e.question, ...(k > 0 && { demonstrations: shownDemonstrations(e, k) }) }))),
  );
}

/** Scores replies given in iclRequests order: a reply is right when its answer word is the episode's answer. */
export function scoreIcl(set: IclSet, replies: readonly string[]): IclResult {
  const total = Object.values(set.tasks).reduce((n, episodes) => n + episodes.length * set.shots.length, 0);
  if (replies.length !== total) throw new Error(`scoreIcl: ${total} requests but ${replies.length} replies; pass one reply per request, in iclRequests order`);
  let next = 0;
  const tasks: IclResult['tasks'] = {};
  for (const [task, episodes] of Object.entries(set.tasks)) {
    const shots: Record<string, number> = {};
    const copy: Record<string, number> = {};
    for (const k of set.shots) {
      const right = episodes.filter((e) => iclAnswer(replies[next++]!) === e.answer.toLowerCase()).length;
      shots[String(k)] = safeRatio(right, episodes.length);
      if (k > 0) {
        const sameLabel = (e: IclEpisode) => shownDemonstrations(e, k).filter((d) => d.answer.toLowerCase() === e.answer.toLowerCase()).length / k;
        copy[String(k)] = episodes.reduce((sum, e) => sum + sameLabel(e), 0) / episodes.length;
      }
    }
    tasks[task] = { shots, ...(Object.keys(copy).length > 0 && { copy }) };
  }
  return { tasks };
}
