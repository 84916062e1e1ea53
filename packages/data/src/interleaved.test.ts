import { describe, it, expect } from 'vitest';
import { Rng } from '@mllm/core';
import { ShapesWorld } from './shapes-world';
import { COUNT_KIND_QUESTION, FEW_SHOT_TASKS, INTERLEAVED_LABELS, fewShotEpisode, interleavedCorpus, interleavedSequence } from './interleaved';
import type { Scene } from './scene';

const world = new ShapesWorld({ seed: 3, sizes: { train: 300, val: 20, test: 60 } });

/** The colour (or with `bySize`, the size) of the only object of `shape` in the scene: the key a mapping reads, found independently. */
function keyOf(scene: Scene, question: string, bySize = false): string {
  const shape = /the (\w+) \?$/.exec(question)?.[1];
  const color = /the (\w+) one \?$/.exec(question)?.[1];
  const named = scene.objects.filter((o) => (color ? o.color === color : o.shape === shape));
  expect(named).toHaveLength(1);
  return color ? named[0]!.shape : bySize ? named[0]!.size : named[0]!.color;
}

describe('interleaved sequences', () => {
  it('keep one mapping per sequence: the same key always gets the same word, a word from the training labels', () => {
    const rng = new Rng(1);
    const keysPerSequence: number[] = [];
    for (let s = 0; s < 50; s++) {
      const pairs = interleavedSequence(world.scenes('train'), rng);
      expect(pairs).toHaveLength(5);
      const wordOf = new Map<string, string>();
      for (const p of pairs) {
        expect(INTERLEAVED_LABELS).toContain(p.answer);
        expect(['zero', 'one', 'two', 'three', 'four']).not.toContain(p.answer);
        const key = keyOf(world.scene(p.sceneId), p.question);
        expect(wordOf.get(key) ?? p.answer).toBe(p.answer);
        wordOf.set(key, p.answer);
      }
      keysPerSequence.push(wordOf.size);
    }
    // half the sequences bursty (two keys, so a key repeats), half over every key like a random episode
    expect(keysPerSequence.filter((k) => k <= 2).length).toBeGreaterThan(20);
    expect(keysPerSequence.filter((k) => k >= 3).length).toBeGreaterThan(5);
  });

  it('keep to the keys asked for', () => {
    const rng = new Rng(3);
    for (let s = 0; s < 20; s++) {
      const keys = new Set(interleavedSequence(world.scenes('train'), rng, { keys: 1 }).map((p) => p.answer));
      expect(keys.size).toBe(1);
    }
  });

  it('draw mappings that differ between sequences', () => {
    const rng = new Rng(2);
    const first = new Set(Array.from({ length: 40 }, () => interleavedSequence(world.scenes('train'), rng)[0]!.answer));
    expect(first.size).toBeGreaterThan(5);
  });
});

describe('few-shot episodes', () => {
  it('color-number maps colours to number words one..four, consistently between demonstrations and query', () => {
    const rng = new Rng(4);
    for (let e = 0; e < 30; e++) {
      const episode = fewShotEpisode('color-number', world.scenes('test'), rng, 4);
      const all = [...episode.demonstrations, episode];
      const wordOf = new Map<string, string>();
      for (const p of all) {
        expect(['one', 'two', 'three', 'four']).toContain(p.answer);
        const key = keyOf(world.scene(p.sceneId), p.question);
        expect(wordOf.get(key) ?? p.answer).toBe(p.answer);
        wordOf.set(key, p.answer);
      }
      expect(episode.demonstrations.every((d) => d.sceneId !== episode.sceneId)).toBe(true);
    }
  });

  it('every k-shot prompt of a mapping task shows the query\'s key, at a place that varies between episodes', () => {
    const rng = new Rng(7);
    const places: number[] = [];
    for (let e = 0; e < 60; e++) {
      const task = (['color-word', 'size-word', 'color-number'] as const)[e % 3]!;
      const bySize = task === 'size-word';
      const episode = fewShotEpisode(task, world.scenes('test'), rng, 4);
      const queryKey = keyOf(world.scene(episode.sceneId), episode.question, bySize);
      for (const k of [1, 2, 3, 4]) {
        const shown = episode.byShots![String(k)]!;
        expect(shown).toHaveLength(k);
        const showing = shown.map((d) => keyOf(world.scene(d.sceneId), d.question, bySize) === queryKey);
        expect(showing).toContain(true);
        // the label shown for the key is the query's answer, so the answer is defined by what the model sees
        shown.forEach((d, i) => showing[i] && expect(d.answer).toBe(episode.answer));
        expect(shown.every((d) => d.sceneId !== episode.sceneId)).toBe(true);
      }
      expect(episode.demonstrations).toEqual(episode.byShots!['4']);
      places.push(episode.byShots!['4']!.findIndex((d) => keyOf(world.scene(d.sceneId), d.question, bySize) === queryKey));
    }
    expect(new Set(places).size).toBeGreaterThan(2);
  });

  it('size-word maps the named shape\'s size (not its colour) to training labels, consistently', () => {
    const rng = new Rng(8);
    let colourWouldDisagree = 0;
    for (let e = 0; e < 30; e++) {
      const episode = fewShotEpisode('size-word', world.scenes('test'), rng, 4);
      const wordOf = new Map<string, string>();
      const byColour = new Map<string, string>();
      for (const p of [...episode.demonstrations, episode]) {
        expect(INTERLEAVED_LABELS).toContain(p.answer);
        const size = keyOf(world.scene(p.sceneId), p.question, true);
        expect(wordOf.get(size) ?? p.answer).toBe(p.answer);
        wordOf.set(size, p.answer);
        const colour = keyOf(world.scene(p.sceneId), p.question);
        if ((byColour.get(colour) ?? p.answer) !== p.answer) colourWouldDisagree++;
        byColour.set(colour, p.answer);
      }
      expect(wordOf.size).toBeLessThanOrEqual(2);
    }
    // the colour is not what the labels follow
    expect(colourWouldDisagree).toBeGreaterThan(0);
  });

  it('count-kind answers with the count of one kind, the same kind across the episode', () => {
    const rng = new Rng(5);
    for (let e = 0; e < 30; e++) {
      const episode = fewShotEpisode('count-kind', world.scenes('test'), rng, 4);
      const all = [...episode.demonstrations, episode];
      expect(all.every((p) => p.question === COUNT_KIND_QUESTION)).toBe(true);
      const words = ['zero', 'one', 'two', 'three', 'four'];
      // some colour or shape whose count in every scene is the answer
      const kinds = [...new Set(world.scenes('test').flatMap((s) => s.objects.flatMap((o) => [`c:${o.color}`, `s:${o.shape}`])))];
      const count = (scene: Scene, kind: string) => scene.objects.filter((o) => (kind.startsWith('c:') ? `c:${o.color}` : `s:${o.shape}`) === kind).length;
      const fits = kinds.filter((k) => all.every((p) => words[count(world.scene(p.sceneId), k)] === p.answer));
      expect(fits.length).toBeGreaterThan(0);
      expect(all.every((p) => p.answer !== 'zero')).toBe(true);
    }
  });

  it('the corpus holds every word of every task (so a word tokenizer trained on it has no <unk>)', () => {
    const words = new Set([...world.corpus(), ...interleavedCorpus()].flatMap((t) => t.split(/\s+/)));
    const unknown = (text: string) => text.split(/\s+/).filter((w) => !words.has(w));
    const rng = new Rng(6);
    for (const task of FEW_SHOT_TASKS) {
      const episode = fewShotEpisode(task, world.scenes('test'), rng, 4);
      for (const p of [...episode.demonstrations, episode]) expect(unknown(`${p.question} ${p.answer}`)).toEqual([]);
    }
    expect(unknown(interleavedSequence(world.scenes('train'), rng).map((p) => `${p.question} ${p.answer}`).join(' '))).toEqual([]);
  });

  it('a world too small for a task says so', () => {
    const tiny = [world.scenes('test')[0]!];
    expect(() => fewShotEpisode('count-kind', tiny, new Rng(0), 1)).toThrow(/use more scenes/);
  });
});
