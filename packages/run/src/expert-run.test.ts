import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, silentLogger } from '@mllm/core';
import { ExpertBridge } from '@mllm/connector-expert';
import { run } from './run';
import { openRun } from './open-run';
import { exportCheckpoint } from './export';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));
const expertConfig = { ...tiny, connector: { type: 'expert' }, stages: tiny.stages.map((s: { type: string }) => (s.type === 'align' ? { ...s, trains: ['llm'] } : s)) };

describe('a run with the expert bridge', () => {
  it('trains, reports POPE, CHAIR, closed set, attributes and the expert text, and reopens to answer', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mllm-expert-')), 'run');
    await run(expertConfig, { out, logger: silentLogger });
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(Object.keys(report.eval)).toEqual(expect.arrayContaining(['pope', 'chair', 'closedSet', 'detail', 'expert']));
    expect(Object.keys(report.eval.detail.attributes.accuracy)).toEqual(['shape', 'color', 'size', 'position', 'count']);
    const expert = report.eval.expert;
    expect(expert.attributes.totals.count).toBe(tiny.eval.scenes);
    for (const a of Object.values(expert.attributes.accuracy) as number[]) expect(a).toBeGreaterThanOrEqual(0);
    expect(expert.samples[0].text).toMatch(/^(a (small|large) \w+ \w+ at the (top|bottom) (left|right)( and )?)+ \.$|^there are zero objects in the image \.$/);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## Expert text');

    const opened = await openRun(out);
    try {
      expect(opened.model.connector).toBeInstanceOf(ExpertBridge);
      const scene = opened.world.scenes('test')[0]!;
      expect(typeof (await opened.answer(opened.world.image(scene.id), 'how many objects are there ?', { maxNewTokens: 3 }))).toBe('string');
    } finally {
      opened.dispose();
    }
    // the ONNX export refuses it by name, saying why and what to do instead
    await expect(exportCheckpoint({ checkpoint: out, out: join(out, 'onnx'), logger: silentLogger })).rejects.toThrow(/connector ExpertBridge \(type "expert"\).*argmax/);
    await expect(exportCheckpoint({ checkpoint: out, out: join(out, 'hf'), format: 'hf', logger: silentLogger })).rejects.toThrow(/connector \(type "expert"\)/);
  });

  it('is refused before training when the align stage trains only the connector', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mllm-expert-')), 'run');
    await expect(run({ ...tiny, connector: { type: 'expert' } }, { out, logger: silentLogger })).rejects.toThrow(ConfigError);
  });
});
