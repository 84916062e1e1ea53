/**
 * Hallucination reported per kind, the three kinds MLLM surveys distinguish (Bai et al. 2024,
 * arXiv:2404.18930): existence (an object that is not there), attribute (a wrong colour or
 * size), relationship (a wrong position or spatial relation). Each kind is measured by the
 * probes that target it: POPE and CHAIR for existence, colour questions for attribute, spatial
 * questions for relationship, and for all three the claims of detailed descriptions as a
 * judge (e.g. @mllm/data's `checkDescription`) classifies them.
 */
import type { ChairResult } from './chair';
import type { ClosedSetResult } from './closed-set';
import type { PopeMetrics } from './pope';
import { safeRatio } from './ratio';

/** The same kinds, and order, as @mllm/data's HallucinationKind and HALLUCINATION_KINDS, the public names (eval depends on no package). */
export type HallucinationKind = 'existence' | 'attribute' | 'relationship';
export const HALLUCINATION_KINDS: readonly HallucinationKind[] = ['existence', 'attribute', 'relationship'];

/** The closed-set question type that probes each kind (the Shapes world's types). */
export const KIND_QUESTION_TYPES: Readonly<Record<HallucinationKind, string>> = {
  existence: 'existence',
  attribute: 'color',
  relationship: 'spatial',
};

/** One description's hallucinated claims by kind; `claims` is what the rates divide by. */
export type DescriptionJudgement = Record<HallucinationKind, number> & { claims: number };

/** Judges a description of the scene `sceneId`; injected so eval needs no scene model. */
export type DescriptionJudge = (sceneId: string, text: string) => DescriptionJudgement;

/** Hallucinated claims per kind over a set of descriptions. */
export interface KindRates {
  descriptions: number;
  claims: number;
  /** Hallucinated claims of each kind. */
  counts: Record<HallucinationKind, number>;
  /** counts / claims (0 without claims): the share of claims that carry that kind. */
  rates: Record<HallucinationKind, number>;
  /** Descriptions with at least one hallucinated claim / descriptions. */
  hallucinatedShare: number;
}

/** Sums judgements into per-kind counts and rates. */
export function kindRates(judgements: readonly DescriptionJudgement[]): KindRates {
  const counts = { existence: 0, attribute: 0, relationship: 0 };
  let claims = 0;
  let hallucinated = 0;
  for (const j of judgements) {
    claims += j.claims;
    for (const k of HALLUCINATION_KINDS) counts[k] += j[k];
    if (HALLUCINATION_KINDS.some((k) => j[k] > 0)) hallucinated++;
  }
  const rates = { existence: safeRatio(counts.existence, claims), attribute: safeRatio(counts.attribute, claims), relationship: safeRatio(counts.relationship, claims) };
  return { descriptions: judgements.length, claims, counts, rates, hallucinatedShare: safeRatio(hallucinated, judgements.length) };
}

/** What an evaluation measured about one kind; a field is absent when the set had no such probe. */
export interface KindMetrics {
  /** Closed-set accuracy on the kind's question type (KIND_QUESTION_TYPES). */
  closedSet?: number;
  /** Share of detailed-description claims hallucinated with this kind. */
  detailRate?: number;
}

export interface HallucinationByKind {
  existence: KindMetrics & {
    /** POPE accuracy per negative sampling. */
    pope: { random: number; popular: number; adversarial: number };
    /** CHAIR_i of the short captions. */
    captionChairI: number;
    /** CHAIR_i of the detailed descriptions. */
    detailChairI?: number;
  };
  attribute: KindMetrics;
  relationship: KindMetrics;
}

/** The scores an EvalReport holds, as byKind needs them (a stored report's are enough). */
export interface KindSources {
  pope: { random: PopeMetrics; popular: PopeMetrics; adversarial: PopeMetrics };
  chair: ChairResult;
  closedSet: ClosedSetResult;
  detail?: { chair: ChairResult; kinds?: KindRates };
}

/** Regroups an evaluation's scores by the hallucination kind each one probes. */
export function hallucinationByKind(r: KindSources): HallucinationByKind {
  const metrics = (kind: HallucinationKind): KindMetrics => {
    const closed = r.closedSet.byType[KIND_QUESTION_TYPES[kind]];
    const rate = r.detail?.kinds?.rates[kind];
    return { ...(closed ? { closedSet: closed.accuracy } : {}), ...(rate !== undefined ? { detailRate: rate } : {}) };
  };
  return {
    existence: {
      pope: { random: r.pope.random.accuracy, popular: r.pope.popular.accuracy, adversarial: r.pope.adversarial.accuracy },
      captionChairI: r.chair.chairI,
      ...(r.detail ? { detailChairI: r.detail.chair.chairI } : {}),
      ...metrics('existence'),
    },
    attribute: metrics('attribute'),
    relationship: metrics('relationship'),
  };
}
