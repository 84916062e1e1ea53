import { describe, expect, it } from 'vitest';
import { CANONICAL_PHRASINGS, INSTRUCTION_TASKS, MAX_HELD_OUT_PHRASINGS, PHRASINGS } from './instruction-phrasings';
import { PromptPlan, instructionCorpus } from './prompt-plan';
import { instructionWords } from './instruction-parse';

const heldOutOf = (plan: PromptPlan) => Object.fromEntries(INSTRUCTION_TASKS.map((t) => [t, plan.heldOutPhrasings(t)]));

describe('PromptPlan', () => {
  it('holds out the same phrasings for the same seed, whatever else the plan says', () => {
    const a = new PromptPlan({ seed: 3, phrasings: 'many', heldOutPhrasings: 2 });
    const b = new PromptPlan({ seed: 3, phrasings: 'one', heldOutPhrasings: 2, heldInTasks: ['existence'], heldOutTasks: ['count'] });
    expect(heldOutOf(b)).toEqual(heldOutOf(a));
    for (const t of INSTRUCTION_TASKS) expect(a.heldOutPhrasings(t)).toHaveLength(2);
    // other seeds draw other subsets (over ten seeds and ten tasks, never all the same)
    const others = [4, 5, 6, 7, 8, 9, 10, 11, 12].map((seed) => JSON.stringify(heldOutOf(new PromptPlan({ seed }))));
    expect(new Set([JSON.stringify(heldOutOf(a)), ...others]).size).toBeGreaterThan(1);
  });

  it('never holds out a canonical phrasing, and trains on the rest (many) or the canonical ones only (one)', () => {
    for (const seed of [0, 1, 2, 3, 4]) {
      const many = new PromptPlan({ seed, heldOutPhrasings: MAX_HELD_OUT_PHRASINGS });
      const one = new PromptPlan({ seed, phrasings: 'one' });
      for (const t of INSTRUCTION_TASKS) {
        const canonical = PHRASINGS[t].slice(0, CANONICAL_PHRASINGS[t]);
        expect(many.heldOutPhrasings(t).some((p) => canonical.includes(p))).toBe(false);
        expect(many.trainedPhrasings(t).filter((p) => many.heldOutPhrasings(t).includes(p))).toEqual([]);
        expect([...many.trainedPhrasings(t), ...many.heldOutPhrasings(t)].sort()).toEqual([...PHRASINGS[t]].sort());
        expect(many.trainedPhrasings(t).length).toBeGreaterThan(CANONICAL_PHRASINGS[t]); // one more than the canonical at least
        expect(one.trainedPhrasings(t)).toEqual(canonical);
      }
    }
  });

  it('refuses a task both held in and held out, and too many held-out phrasings', () => {
    expect(() => new PromptPlan({ seed: 0, heldInTasks: ['count', 'caption'], heldOutTasks: ['count'] })).toThrow(/count cannot be both/);
    expect(() => new PromptPlan({ seed: 0, heldOutPhrasings: MAX_HELD_OUT_PHRASINGS + 1 })).toThrow(/heldOutPhrasings must be an integer in \[0, 4\]/);
  });

  it("evaluates the held-in closed tasks, then the held-out ones", () => {
    const plan = new PromptPlan({ seed: 0, heldInTasks: ['caption', 'count', 'existence'], heldOutTasks: ['size'] });
    expect(plan.evaluatedTasks()).toEqual(['count', 'existence', 'size']);
  });
});

describe('instructionCorpus', () => {
  it('holds every word of every phrasing, held-out ones included', () => {
    const words = new Set(instructionCorpus().flatMap(instructionWords));
    const missing = Object.values(PHRASINGS)
      .flat()
      .flatMap((t) => instructionWords(t.replace(/\{[a-z]+\}/g, '')))
      .filter((w) => !words.has(w));
    expect(missing).toEqual([]);
    for (const w of ['top', 'left', 'small', 'large', 'zero', 'four', 'above', 'cross']) expect(words.has(w)).toBe(true);
  });
});
