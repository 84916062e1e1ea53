import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@mllm/core';
import { captionSample, instructSamples, CAPTION_PROMPTS } from './llava';
import { loadLlavaJson, parseLlavaSamples } from './llava-json';
import { caption, detailedDescription } from './language';
import { generateScene } from './generate-scene';

describe('LLaVA samples', () => {
  const rng = new Rng(2);
  const scenes = Array.from({ length: 50 }, (_, i) => generateScene(rng, `s${i}`));

  it('caption samples pair a caption prompt with the caption', () => {
    for (const s of scenes) {
      const sample = captionSample(s);
      expect(sample.image).toBe(s.id);
      const [human, gpt] = sample.conversations;
      expect(human!.from).toBe('human');
      expect(CAPTION_PROMPTS.map((p) => `<image>\n${p}`)).toContain(human!.value);
      expect(gpt).toEqual({ from: 'gpt', value: caption(s) });
    }
  });

  it('instruct samples: <image> first, alternating turns, POPE-style existence, a detail sample', () => {
    for (const s of scenes) {
      const samples = instructSamples(s, new Rng(1));
      expect(new Set(samples.map((x) => x.id)).size).toBe(samples.length);
      for (const sample of samples) {
        const conv = sample.conversations;
        expect(conv[0]!.value.startsWith('<image>\n')).toBe(true);
        conv.forEach((t, i) => expect(t.from).toBe(i % 2 === 0 ? 'human' : 'gpt'));
        expect(conv.slice(1).some((t) => t.value.includes('<image>'))).toBe(false);
      }
      const exist = samples.filter((x) => x.id.includes('-exist-'));
      expect(exist.map((x) => x.conversations[1]!.value).sort()).toEqual(['no', 'yes']);
      for (const x of exist) expect(x.conversations[0]!.value).toMatch(/^<image>\nis there a \w+ \w+ in the image \?$/);
      const detail = samples.find((x) => x.id === `${s.id}-detail`)!;
      expect(detail.conversations).toEqual([
        { from: 'human', value: '<image>\ndescribe the image in detail .' },
        { from: 'gpt', value: detailedDescription(s) },
      ]);
    }
  });
});

describe('loadLlavaJson', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llava-'));
  const write = (name: string, data: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, typeof data === 'string' ? data : JSON.stringify(data));
    return p;
  };
  const good = { id: 'a', image: 'img/a.png', conversations: [{ from: 'human', value: '<image>\nhi' }, { from: 'gpt', value: 'hello' }] };

  it('loads a valid file (numeric ids become strings)', async () => {
    const samples = await loadLlavaJson(write('ok.json', [good, { ...good, id: 7 }]));
    expect(samples).toHaveLength(2);
    expect(samples[1]!.id).toBe('7');
  });

  it('names the index and field of the first bad sample', async () => {
    const bad = { ...good, conversations: [{ from: 'user', value: 'x' }] };
    await expect(loadLlavaJson(write('bad.json', [good, good, bad]))).rejects.toThrow(/sample 2: conversations\.0\.from/);
    expect(() => parseLlavaSamples([{ id: 'x', conversations: [] }])).toThrow(/sample 0: image/);
    expect(() => parseLlavaSamples({})).toThrow(/JSON array/);
  });

  it('reports unreadable and malformed files with the path', async () => {
    await expect(loadLlavaJson(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json/);
    await expect(loadLlavaJson(write('broken.json', '[{'))).rejects.toThrow(/broken\.json is not valid JSON/);
  });
});
