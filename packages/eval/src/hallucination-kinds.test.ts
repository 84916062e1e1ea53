import { describe, expect, it } from 'vitest';
import { hallucinationByKind, kindRates } from './hallucination-kinds';
import type { KindSources } from './hallucination-kinds';
import type { PopeMetrics } from './pope';

describe('kindRates', () => {
  it('divides each kind by all claims and counts descriptions with any hallucination', () => {
    const r = kindRates([
      { claims: 5, existence: 1, attribute: 0, relationship: 2 },
      { claims: 3, existence: 0, attribute: 1, relationship: 0 },
      { claims: 2, existence: 0, attribute: 0, relationship: 0 },
    ]);
    expect(r).toEqual({
      descriptions: 3,
      claims: 10,
      counts: { existence: 1, attribute: 1, relationship: 2 },
      rates: { existence: 0.1, attribute: 0.1, relationship: 0.2 },
      hallucinatedShare: 2 / 3,
    });
  });

  it('is 0, never NaN, without claims or descriptions', () => {
    expect(kindRates([]).rates).toEqual({ existence: 0, attribute: 0, relationship: 0 });
    expect(kindRates([{ claims: 0, existence: 0, attribute: 0, relationship: 0 }]).hallucinatedShare).toBe(0);
  });
});

describe('hallucinationByKind', () => {
  const pope = (accuracy: number): PopeMetrics => ({ accuracy, precision: 1, recall: 1, f1: 1, yesRatio: 0.5, n: 2, other: 0 });
  const chair = (chairI: number) => ({ chairI, chairS: 0, coverage: 1, captions: 1, mentions: 1, hallucinated: 0, hallucinatedCaptions: 0 });
  const sources: KindSources = {
    pope: { random: pope(0.9), popular: pope(0.8), adversarial: pope(0.7) },
    chair: chair(0.1),
    closedSet: { accuracy: 0.5, byType: { existence: { accuracy: 0.6, n: 5 }, count: { accuracy: 1, n: 2 }, spatial: { accuracy: 0.4, n: 5 } }, n: 12 },
  };

  it('maps existence to POPE, CHAIR and existence questions, attribute to colour and relationship to spatial questions', () => {
    expect(hallucinationByKind(sources)).toEqual({
      existence: { pope: { random: 0.9, popular: 0.8, adversarial: 0.7 }, captionChairI: 0.1, closedSet: 0.6 },
      attribute: {}, // no colour question asked
      relationship: { closedSet: 0.4 },
    });
  });

  it('adds the description rates when descriptions were judged', () => {
    const rates = { existence: 0.3, attribute: 0.2, relationship: 0.1 };
    const withDetail: KindSources = {
      ...sources,
      detail: { chair: chair(0.25), kinds: { descriptions: 1, claims: 10, counts: { existence: 3, attribute: 2, relationship: 1 }, rates, hallucinatedShare: 1 } },
    };
    const r = hallucinationByKind(withDetail);
    expect(r.existence).toMatchObject({ detailChairI: 0.25, detailRate: 0.3 });
    expect(r.attribute).toEqual({ detailRate: 0.2 });
    expect(r.relationship).toEqual({ closedSet: 0.4, detailRate: 0.1 });
  });
});
