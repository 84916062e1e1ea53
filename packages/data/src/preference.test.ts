import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@mllm/core';
import { HALLUCINATION_KINDS, PREFERENCE_TASKS, possibleKinds, preferencePairs } from './preference';
import type { HallucinationKind, PreferencePair, PreferenceTask } from './preference';
import { PreferenceDataError, loadPreferenceJson, loadPreferenceJsonl, parsePreferenceJson } from './preference-json';
import { COLORS, categoryOf, sceneCategories } from './scene';
import type { Scene, SceneObject } from './scene';
import { caption, detailedDescription, holds, parseMentions } from './language';
import { generateScene } from './generate-scene';
import { ShapesWorld } from './shapes-world';

const scenesFrom = (seed: number, n: number) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => generateScene(rng, `s${i}`));
};

/** An object as the text states it: "a small red circle at the top left" / "... is at the top left ." */
interface Stated {
  size: string;
  color: string;
  shape: string;
  cell: string;
}
const CELL = '(top left|top right|bottom left|bottom right)';
function statedObjects(text: string, task: 'caption' | 'detail'): Stated[] {
  const re = new RegExp(`a (small|large) (\\w+) (\\w+) ${task === 'caption' ? 'at' : 'is at'} the ${CELL}`, 'g');
  return [...text.matchAll(re)].map((m) => ({ size: m[1]!, color: m[2]!, shape: m[3]!, cell: m[4]! }));
}
const key = (o: Stated | SceneObject) => `${o.size} ${o.color} ${o.shape}@${o.cell}`;
const looks = (o: Stated | SceneObject) => `${o.size} ${o.color} ${o.shape}`;
const RELATION_SENTENCE = /the (small|large) (\w+) (\w+) is (left of|right of|above|below) the (small|large) (\w+) (\w+) \.$/;
type Rel = 'left of' | 'right of' | 'above' | 'below';

/** Checks a pair against the scene by re-reading its text, independently of how it was made. */
function checkPair(scene: Scene, pair: PreferencePair): void {
  expect(pair.prompt.startsWith('<image>\n')).toBe(true);
  expect(pair.image).toBe(scene.id);
  expect(pair.chosen).not.toBe(pair.rejected);
  const categories: string[] = sceneCategories(scene);
  const truthKeys = new Set(scene.objects.map(key));

  if (pair.task !== 'question') {
    const task = pair.task;
    expect(pair.chosen).toBe(task === 'caption' ? caption(scene) : detailedDescription(scene));
    for (const m of parseMentions(pair.chosen)) expect(categories).toContain(m);
    const chosen = statedObjects(pair.chosen, task);
    const rejected = statedObjects(pair.rejected, task);
    expect(chosen.map(key)).toEqual(scene.objects.map(key));
    const wrong = rejected.filter((o) => !truthKeys.has(key(o)));

    if (pair.kind === 'existence') {
      // exactly one stated object is not in the scene, and its colour + shape is absent altogether
      expect(wrong).toHaveLength(1);
      expect(categories).not.toContain(`${wrong[0]!.color} ${wrong[0]!.shape}`);
      expect(parseMentions(pair.rejected).some((m) => !categories.includes(m))).toBe(true);
    } else if (pair.kind === 'attribute') {
      // same cells and shapes; one object with exactly one of colour / size changed
      expect(rejected.map((o) => `${o.shape}@${o.cell}`)).toEqual(chosen.map((o) => `${o.shape}@${o.cell}`));
      expect(wrong).toHaveLength(1);
      const truth = chosen.find((o) => o.cell === wrong[0]!.cell)!;
      expect(Number(truth.color !== wrong[0]!.color) + Number(truth.size !== wrong[0]!.size)).toBe(1);
    } else if (task === 'caption') {
      // the same objects, at least one of them named at a cell where it is not
      expect(rejected.map(looks).sort()).toEqual(chosen.map(looks).sort());
      expect(wrong.length).toBeGreaterThan(0);
    } else {
      // object sentences untouched; the relation sentence states a relation that does not hold
      expect(rejected).toEqual(chosen);
      const stated = RELATION_SENTENCE.exec(pair.rejected)!;
      const told = RELATION_SENTENCE.exec(pair.chosen)!;
      const [a, b] = scene.objects as [SceneObject, SceneObject];
      expect(`${stated[1]} ${stated[2]} ${stated[3]}`).toBe(looks(a));
      expect(`${stated[5]} ${stated[6]} ${stated[7]}`).toBe(looks(b));
      expect(holds(a, stated[4] as Rel, b)).toBe(false);
      expect(holds(a, told[4] as Rel, b)).toBe(true);
      expect(pair.rejected.slice(0, stated.index)).toBe(pair.chosen.slice(0, told.index));
    }
    return;
  }

  const question = pair.prompt.slice('<image>\n'.length);
  const opposite = { yes: 'no', no: 'yes' } as Record<string, string>;
  if (pair.kind === 'existence') {
    const m = /^is there a (\w+ \w+) in the image \?$/.exec(question)!;
    expect(pair.chosen).toBe(categories.includes(m[1]!) ? 'yes' : 'no');
    expect(pair.rejected).toBe(opposite[pair.chosen]);
  } else if (pair.kind === 'attribute') {
    const m = /^what color is the (\w+) \?$/.exec(question)!;
    const hits = scene.objects.filter((o) => o.shape === m[1]);
    expect(hits).toHaveLength(1);
    expect(pair.chosen).toBe(hits[0]!.color);
    expect(COLORS as readonly string[]).toContain(pair.rejected);
  } else {
    const m = /^is the (\w+ \w+) (left of|right of|above|below) the (\w+ \w+) \?$/.exec(question)!;
    const find = (c: string) => {
      const hits = scene.objects.filter((o) => categoryOf(o) === c);
      expect(hits).toHaveLength(1);
      return hits[0]!;
    };
    expect(pair.chosen).toBe(holds(find(m[1]!), m[2] as Rel, find(m[3]!)) ? 'yes' : 'no');
    expect(pair.rejected).toBe(opposite[pair.chosen]);
  }
}

describe('preferencePairs', () => {
  const scenes = scenesFrom(11, 400);

  it('chosen is faithful and rejected carries exactly the documented hallucination', () => {
    const seen = new Set<string>();
    const rng = new Rng(3);
    for (const scene of scenes) {
      const pairs = preferencePairs(scene, rng);
      expect(pairs.map((p) => p.task)).toEqual(PREFERENCE_TASKS);
      for (const pair of pairs) {
        expect(possibleKinds(scene, pair.task)).toContain(pair.kind);
        checkPair(scene, pair);
        seen.add(`${pair.task}/${pair.kind}`);
      }
    }
    expect(seen.size).toBe(9); // every task met every kind
  });

  it('covers the edge layouts: a full grid (existence by substitution, swapped cells) and a lone object', () => {
    const full = scenes.filter((s) => s.objects.length === 4);
    const lone = scenes.filter((s) => s.objects.length === 1);
    expect(full.length).toBeGreaterThan(5);
    expect(lone.length).toBeGreaterThan(5);
    const rng = new Rng(8);
    for (const scene of [...full, ...lone]) {
      for (const kind of HALLUCINATION_KINDS) {
        for (const pair of preferencePairs(scene, rng, { kinds: { [kind]: 1 } })) checkPair(scene, pair);
      }
    }
  });

  it('writes only words of the world corpus, so the word tokenizer covers every pair', () => {
    const world = new ShapesWorld({ seed: 0, sizes: { train: 300, val: 0, test: 0 } });
    const vocabulary = new Set(world.corpus().flatMap((t) => t.split(/\s+/)));
    const rng = new Rng(4);
    for (const scene of scenes) {
      for (const pair of preferencePairs(scene, rng)) {
        expect(pair.prompt.startsWith('<image>\n')).toBe(true);
        for (const text of [pair.prompt.slice('<image>\n'.length), pair.chosen, pair.rejected]) {
          expect(text).toBe(text.toLowerCase());
          expect(text).not.toMatch(/ {2}|^ | $/); // single spaces between tokens
          for (const w of text.split(' ')) expect(vocabulary.has(w), `"${w}" in "${text}"`).toBe(true);
        }
      }
    }
  });

  it('draws kinds in the configured proportions', () => {
    const weights: Record<HallucinationKind, number> = { existence: 5, attribute: 3, relationship: 2 };
    const counts: Record<HallucinationKind, number> = { existence: 0, attribute: 0, relationship: 0 };
    let n = 0;
    const rng = new Rng(5);
    for (const scene of scenesFrom(12, 1500)) {
      for (const pair of preferencePairs(scene, rng, { kinds: weights })) {
        // only where every kind was possible, so no fallback bends the count
        if (possibleKinds(scene, pair.task).length < 3) continue;
        counts[pair.kind]++;
        n++;
      }
    }
    expect(n).toBeGreaterThan(2000);
    for (const k of HALLUCINATION_KINDS) expect(Math.abs(counts[k] / n - weights[k] / 10)).toBeLessThan(0.03);
  });

  it('falls back to the possible kind with the largest weight and records it', () => {
    const lone = scenes.find((s) => s.objects.length === 1)!;
    const kindsOf = (scene: Scene, kinds: Partial<Record<HallucinationKind, number>>, seed: number) =>
      Object.fromEntries(preferencePairs(scene, new Rng(seed), { kinds }).map((p) => [p.task, p.kind])) as Record<PreferenceTask, HallucinationKind>;
    // four identical objects: no empty cell and no swap that changes the text; no shape is unique
    const same = (cell: SceneObject['cell']): SceneObject => ({ shape: 'circle', color: 'red', size: 'small', cell, x: 0, y: 0 });
    const grid: Scene = { id: 'grid', objects: [same('top left'), same('top right'), same('bottom left'), same('bottom right')] };
    expect(possibleKinds(lone, 'caption')).toEqual(HALLUCINATION_KINDS);
    expect(possibleKinds(lone, 'detail')).toEqual(['existence', 'attribute']);
    expect(possibleKinds(grid, 'caption')).toEqual(['existence', 'attribute']);
    expect(possibleKinds(grid, 'question')).toEqual(['existence']);
    for (let seed = 0; seed < 20; seed++) {
      // only impossible kinds weigh anything: HALLUCINATION_KINDS order decides
      expect(kindsOf(lone, { relationship: 1 }, seed)).toEqual({ caption: 'relationship', detail: 'existence', question: 'existence' });
      expect(kindsOf(grid, { relationship: 1 }, seed)).toEqual({ caption: 'existence', detail: 'relationship', question: 'existence' });
      // a lone object has no relation to another one: whatever is drawn, attribute is what the pair gets
      const fromLone = kindsOf(lone, { relationship: 3, attribute: 1 }, seed);
      expect([fromLone.detail, fromLone.question]).toEqual(['attribute', 'attribute']);
      const fromGrid = kindsOf(grid, { relationship: 2, attribute: 1 }, seed);
      expect([fromGrid.caption, fromGrid.question]).toEqual(['attribute', 'existence']);
    }
    for (const pair of preferencePairs(grid, new Rng(2), { kinds: { relationship: 1 } })) checkPair(grid, pair);
  });

  it('is determined by the rng seed', () => {
    const run = (seed: number) => scenes.slice(0, 50).flatMap((s) => preferencePairs(s, new Rng(seed).fork(s.id)));
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('rejects bad options with the fix in the message', () => {
    const scene = scenes[0]!;
    expect(() => preferencePairs(scene, new Rng(0), { kinds: { existence: -1 } })).toThrow(/kinds\.existence must be a finite number >= 0/);
    expect(() => preferencePairs(scene, new Rng(0), { kinds: { existence: 0 } })).toThrow(/every kind weighs 0/);
    expect(() => preferencePairs(scene, new Rng(0), { tasks: ['chat' as PreferenceTask] })).toThrow(/unknown task "chat"/);
    expect(preferencePairs(scene, new Rng(0), { tasks: ['question'] }).map((p) => p.id)).toEqual([`${scene.id}-pref-question`]);
  });
});

describe('preference data loaders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'preference-'));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const good = { prompt: '<image>\nis there a red circle ?', chosen: 'yes', rejected: 'no' };
  const issuesOf = async (load: Promise<unknown>) => {
    const error = await load.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PreferenceDataError);
    return (error as PreferenceDataError).issues;
  };

  it('loads good JSON and JSON Lines files (image optional, blank lines skipped)', async () => {
    const records = [good, { ...good, image: 'img/a.png', extra: 1 }];
    expect(await loadPreferenceJson(write('ok.json', JSON.stringify(records, null, 2)))).toEqual([good, { ...good, image: 'img/a.png' }]);
    const jsonl = `${JSON.stringify(records[0])}\n\n${JSON.stringify(records[1])}\n`;
    expect(await loadPreferenceJsonl(write('ok.jsonl', jsonl))).toEqual([good, { ...good, image: 'img/a.png' }]);
    expect(await loadPreferenceJson(write('empty.json', '[]'))).toEqual([]);
  });

  it('JSON Lines: reports each bad line with its number and collects every problem', async () => {
    const lines = [
      JSON.stringify(good),
      JSON.stringify({ prompt: 'p', rejected: 'no' }), // line 2: chosen missing
      '',
      JSON.stringify({ prompt: 'p', chosen: ' \n ', rejected: 'no' }), // line 4: chosen empty after trim
      JSON.stringify({ prompt: 'p', chosen: 'yes', rejected: 'yes ' }), // line 5: identical
      JSON.stringify({ prompt: 'p', chosen: 3, rejected: 'no' }), // line 6: wrong type
      '{"prompt": ', // line 7: broken JSON
      '"just a string"', // line 8: not an object
    ];
    const path = write('bad.jsonl', lines.join('\n'));
    const issues = await issuesOf(loadPreferenceJsonl(path));
    expect(issues.map((i) => [i.line, i.field, i.message])).toEqual([
      [2, 'chosen', 'missing field'],
      [4, 'chosen', 'is empty'],
      [5, undefined, expect.stringMatching(/chosen and rejected are the same text/)],
      [6, 'chosen', expect.stringMatching(/expected string/)],
      [7, undefined, expect.stringMatching(/^not valid JSON/)],
      [8, undefined, expect.stringMatching(/expected an object/)],
    ]);
    await expect(loadPreferenceJsonl(path)).rejects.toThrow(new RegExp(`Invalid preference data in .*bad\\.jsonl \\(6 problems\\):\\n  - .*bad\\.jsonl:2 \\(record 1\\) chosen: missing field`));
  });

  it('JSON array: reports the line where each bad element starts', async () => {
    const text = [
      '[',
      '  { "prompt": "a, [b] {c} \\"q\\" ,{", "chosen": "x", "rejected": "y" },', // line 2, brackets inside a string
      '  {',
      '    "prompt": "b",', // element 1 starts on line 3
      '    "chosen": "x",',
      '    "rejected": ""',
      '  },',
      '  {"prompt": "c", "chosen": "same", "rejected": "same"}, {"chosen": "x", "rejected": "y"},', // elements 2 and 3 on line 8
      '',
      '  [1, 2]', // element 4 on line 10
      ']',
    ].join('\n');
    const issues = await issuesOf(loadPreferenceJson(write('bad.json', text)));
    expect(issues.map((i) => [i.index, i.line, i.field])).toEqual([
      [1, 3, 'rejected'],
      [2, 8, undefined],
      [3, 8, 'prompt'],
      [4, 10, undefined],
    ]);
    expect(issues[2]!.message).toBe('missing field');
  });

  it('explains unreadable, non-JSON and non-array files', async () => {
    await expect(loadPreferenceJson(join(dir, 'missing.json'))).rejects.toThrow(/cannot read .*missing\.json; check the path/);
    await expect(loadPreferenceJson(write('lines.json', `${JSON.stringify(good)}\n${JSON.stringify(good)}`))).rejects.toThrow(/is not valid JSON.*loadPreferenceJsonl/);
    expect(() => parsePreferenceJson('{"prompt": "p"}', 'mem')).toThrow(/mem: expected a JSON array/);
  });
});
