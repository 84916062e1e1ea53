import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, silentLogger } from '@mllm/core';
import { keyConcepts, rewriteAnswer } from '@mllm/correct';
import { run } from './run';
import { openRun } from './open-run';
import { DETECTOR_FILE, RegionDetector } from './tools/detector';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));
const methods = {
  none: { model: 'instruct' },
  vcd: { model: 'instruct', decoding: { contrastive: { alpha: 1 } } },
  woodpecker: { model: 'instruct', correct: 'woodpecker' },
  dpo: { model: 'final' },
  'dpo+woodpecker': { model: 'final', correct: 'woodpecker' },
  lure: { model: 'instruct', correct: 'lure' },
};
const config = {
  ...tiny,
  // half the instruct batches teach revision, so the tiny model has seen the revise prompt
  stages: [...tiny.stages.map((s: { type: string }) => (s.type === 'instruct' ? { ...s, revise: 0.5 } : s)), { type: 'dpo', steps: 2, batchSize: 4 }],
  eval: { ...tiny.eval, maxNewTokens: 24, mitigation: { methods, detector: { steps: 20, batchSize: 16, lr: 0.01 } } },
};

describe('eval.mitigation: the evaluation once per mitigation method', () => {
  it('evaluates each method on its policy, corrects with the run detector, and reports them side by side', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mllm-mitigation-')), 'run');
    await run(config, { out, logger: silentLogger });
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const mitigation = report.eval.mitigation;
    expect(Object.keys(mitigation)).toEqual(Object.keys(methods));
    // "none" is the instruct policy undecorated: exactly the run's own evaluation after the instruct stage
    const afterInstruct = report.evals.find((e: { after: string }) => e.after.endsWith('instruct')).eval;
    expect(mitigation.none.detail.chair).toEqual(afterInstruct.detail.chair);
    expect(mitigation.none.pope).toEqual(afterInstruct.pope);
    // and "dpo" the final model's
    expect(mitigation.dpo.detail.chair).toEqual(report.eval.detail.chair);
    expect(mitigation.dpo.closedSet.accuracy).toBe(report.eval.closedSet.accuracy);
    const log = mitigation.woodpecker.correction;
    const asked = config.eval.scenes * 2 + mitigation.none.closedSet.n + ['random', 'popular', 'adversarial'].reduce((n, s) => n + mitigation.none.pope[s].n, 0);
    expect(log.answers).toBe(asked);
    expect(log.changed).toBeLessThanOrEqual(log.answers);
    expect(log.samples).toHaveLength(Math.min(log.changed, 10));
    expect(mitigation.none.correction).toBeUndefined();
    expect(mitigation.vcd.decoding).toEqual({ contrastive: { alpha: 1, beta: 0.1 } });
    // LURE revises only replies that name an object
    expect(mitigation.lure.correction.answers).toBe(asked);
    for (const sample of mitigation.lure.correction.samples) expect(keyConcepts(sample.answer).length).toBeGreaterThan(0);

    // each logged correction is the rewrite of the answer against what the saved detector sees in that scene, trusting its sure calls (0.9 by default)
    expect(existsSync(join(out, DETECTOR_FILE))).toBe(true);
    const opened = await openRun(out);
    try {
      expect(opened.tokenizer.encode('revise the description : a idk')).not.toContain(opened.tokenizer.special.unk);
      expect(opened.config.eval.mitigation!.minConfidence).toBe(0.9);
      const detector = await RegionDetector.load(opened.model, join(out, DETECTOR_FILE), opened.config.seed);
      for (const sample of [...log.samples, ...mitigation['dpo+woodpecker'].correction.samples]) {
        const seen = detector.detect([opened.world.image(sample.sceneId)])[0]!;
        const { corrected, corrections } = rewriteAnswer(sample.answer, seen, { minConfidence: opened.config.eval.mitigation!.minConfidence });
        expect(sample.corrected).toBe(corrected);
        expect(sample.corrections).toEqual(corrections);
        expect(sample.corrected).not.toBe(sample.answer);
      }
    } finally {
      opened.dispose();
    }
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Hallucination mitigation');
    expect(md).toMatch(/\| dpo\+woodpecker \| final model \+ woodpecker post-correction \|/);
  });

  it('refuses a method on the instruct policy in a run without an instruct stage, and a bad method name', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mllm-mitigation-')), 'run');
    const noInstruct = { ...config, stages: tiny.stages.slice(0, 3) };
    await expect(run(noInstruct, { out, logger: silentLogger })).rejects.toThrow(/eval\.mitigation\.methods\.none\.model: "instruct" is the policy an instruct stage trains/);
    await expect(run({ ...config, eval: { ...config.eval, mitigation: { methods: { 'DPO!': {} } } } }, { out, logger: silentLogger })).rejects.toThrow(ConfigError);
    await expect(run({ ...config, eval: { ...config.eval, mitigation: { methods: {} } } }, { out, logger: silentLogger })).rejects.toThrow(/needs at least one method/);
    // LURE needs a model that learned to revise before the policy it reads
    const unrevised = { ...config, stages: [...tiny.stages, { type: 'dpo', steps: 2, batchSize: 4 }] };
    await expect(run(unrevised, { out, logger: silentLogger })).rejects.toThrow(/eval\.mitigation\.methods\.lure\.correct: "lure" asks the model to revise its own answers.*"revise": 0\.1/);
  });
});
