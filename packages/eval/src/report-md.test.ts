import { describe, expect, it } from 'vitest';
import type { PopeMetrics } from './pope';
import { fmt3, reportMarkdown } from './report-md';
import type { ReportEval, RunReport } from './report-md';

const pope = (accuracy: number): PopeMetrics => ({
  accuracy,
  precision: 2 / 3,
  recall: 1,
  f1: 0.8,
  yesRatio: 0.75,
  n: 4,
  other: 0,
});

const report: RunReport = {
  backend: 'wasm',
  seed: 7,
  config: 'configs/default.json',
  wallSeconds: 12.3456,
  stages: [
    { name: 'align', type: 'align', steps: 200, finalLoss: 1.23456, seconds: 3.5 },
    { name: 'instruct', steps: 400, finalLoss: Number.NaN, seconds: 8 },
  ],
  eval: {
    pope: { random: pope(0.75), popular: pope(0.5), adversarial: pope(0.25) },
    chair: { chairI: 3 / 7, chairS: 0.5, coverage: 0.5, captions: 4, mentions: 7, hallucinated: 3, hallucinatedCaptions: 2 },
    closedSet: { accuracy: 0.5, byType: { existence: { accuracy: 0.5, n: 2 }, 'count|x': { accuracy: 1 / 3, n: 3 } }, n: 5 },
    samples: { captions: [{ sceneId: 's0', caption: 'a red circle' }], closedSet: [] },
  },
};

describe('fmt3', () => {
  it('prints 3 decimals and n/a for non-finite values', () => {
    expect(fmt3(1 / 3)).toBe('0.333');
    expect(fmt3(2)).toBe('2.000');
    expect(fmt3(Number.NaN)).toBe('n/a');
  });
});

describe('reportMarkdown', () => {
  const md = reportMarkdown(report);

  it('records the setup', () => {
    expect(md.startsWith('# Run report\n')).toBe(true);
    expect(md).toContain('- backend: `wasm`');
    expect(md).toContain('- seed: 7');
    expect(md).toContain('- config: `configs/default.json`');
    expect(md).toContain('- wall time: 12.346 s');
  });

  it('tabulates stages with 3-decimal numbers', () => {
    expect(md).toContain('| stage | type | steps | final loss | seconds |');
    expect(md).toContain('| align | align | 200 | 1.235 | 3.500 |');
    expect(md).toContain('| instruct |  | 400 | n/a | 8.000 |');
  });

  it('adds a held-out column when a stage measured more than its loss', () => {
    const aligned = reportMarkdown({ ...report, stages: [...report.stages, { name: '4-dpo', type: 'dpo', steps: 10, finalLoss: 0.5, seconds: 2, heldOut: { rewardAccuracy: 0.9375 } }] });
    expect(aligned).toContain('| stage | type | steps | final loss | seconds | held out |');
    expect(aligned).toContain('| 4-dpo | dpo | 10 | 0.500 | 2.000 | rewardAccuracy 0.938 |');
    expect(aligned).toContain('| align | align | 200 | 1.235 | 3.500 |  |');
  });

  it('has one POPE row per sampling, in order', () => {
    expect(md).toContain('| sampling | accuracy | precision | recall | F1 | yes-ratio | n |');
    const random = md.indexOf('| random | 0.750 | 0.667 | 1.000 | 0.800 | 0.750 | 4 |');
    const popular = md.indexOf('| popular | 0.500 |');
    const adversarial = md.indexOf('| adversarial | 0.250 |');
    expect(random).toBeGreaterThan(0);
    expect(popular).toBeGreaterThan(random);
    expect(adversarial).toBeGreaterThan(popular);
  });

  it('reports CHAIR, closed set by type (escaping pipes) and sample captions', () => {
    expect(md).toContain('| 0.429 | 0.500 | 0.500 | 4 | 7 | 3 |');
    expect(md).toContain('| existence | 0.500 | 2 |');
    expect(md).toContain('| count\\|x | 0.333 | 3 |');
    expect(md).toContain('| **all** | **0.500** | 5 |');
    expect(md).toContain('| s0 | a red circle |');
    expect(md.endsWith('|\n')).toBe(true);
  });

  it('aligns text columns left and numbers right', () => {
    expect(md).toContain('| --- | --- | ---: | ---: | ---: |');
  });

  it('prints n/a for an empty POPE split', () => {
    const empty = { accuracy: 0, precision: 0, recall: 0, f1: 0, yesRatio: 0, n: 0, other: 0 };
    const r = reportMarkdown({ ...report, eval: { ...report.eval!, pope: { ...report.eval!.pope, popular: empty } } });
    expect(r).toContain('| popular | n/a | n/a | n/a | n/a | n/a | 0 |');
  });

  it('renders a report without descriptions as before', () => {
    expect(md).not.toContain('Detailed descriptions');
    expect(md).not.toContain('Hallucination by kind');
    expect(md).not.toContain('after each stage');
  });

  it('says so when a run was not evaluated', () => {
    const plain = reportMarkdown({ backend: 'cpu', seed: 0, stages: [] });
    expect(plain).toContain('No training stages.');
    expect(plain).toContain('Not evaluated.');
    expect(plain).not.toContain('config:');
    expect(plain).not.toContain('environment:');
  });

  it('prints what the numbers depend on, and what changed at a resume', () => {
    const environment = { node: 'v20.1.0', platform: 'linux-x64', cpu: 'Test CPU', matMul: { engine: 'onnxruntime', threads: 2 }, workers: 1, versions: { 'onnxruntime-node': '1.2.3' } };
    const md = reportMarkdown({ backend: 'cpu', seed: 0, stages: [], environment });
    expect(md).toContain('- environment: node v20.1.0 on linux-x64 (Test CPU), matMul on onnxruntime with 2 thread(s), 1 data-parallel participant(s); onnxruntime-node 1.2.3');
    expect(md).not.toContain('resumed in another environment');
    const resumed = reportMarkdown({ backend: 'cpu', seed: 0, stages: [], environment: { ...environment, resumedAcross: ['matMul threads: 4 -> 2'] } });
    expect(resumed).toContain('- resumed in another environment: matMul threads: 4 -> 2');
  });
});

const chairOf = (chairI: number, chairS: number) => ({ chairI, chairS, coverage: 0.9, captions: 4, mentions: 10, hallucinated: 1, hallucinatedCaptions: 1 });
const kinds = (existence: number, attribute: number, relationship: number) => ({
  descriptions: 4,
  claims: 20,
  counts: { existence: existence * 20, attribute: attribute * 20, relationship: relationship * 20 },
  rates: { existence, attribute, relationship },
  hallucinatedShare: 0.5,
});
const closedSet = (color: number) => ({
  accuracy: 0.8,
  byType: { existence: { accuracy: 0.9, n: 8 }, color: { accuracy: color, n: 4 }, count: { accuracy: 1, n: 4 }, spatial: { accuracy: 0.5, n: 4 } },
  n: 20,
});
const instruct: ReportEval = {
  pope: { random: pope(0.9), popular: pope(0.85), adversarial: pope(0.8) },
  chair: chairOf(0.1, 0.2),
  closedSet: closedSet(0.75),
  detail: { chair: chairOf(0.3, 0.5), kinds: kinds(0.15, 0.1, 0.05), samples: [{ sceneId: 's1', description: 'a small red circle is at the top left .' }] },
};
const dpo: ReportEval = {
  ...instruct,
  pope: { random: pope(0.95), popular: pope(0.9), adversarial: pope(0.85) },
  detail: { ...instruct.detail!, chair: chairOf(0.2, 0.25), kinds: kinds(0.05, 0.1, 0) },
};

describe('reportMarkdown with detailed descriptions', () => {
  it('adds the description scores, the kind table and sample descriptions', () => {
    const md = reportMarkdown({ backend: 'cpu', seed: 0, stages: [], eval: instruct });
    expect(md).toContain('| CHAIR_i | CHAIR_s | coverage | descriptions | claims | existence | attribute | relationship |');
    expect(md).toContain('| 0.300 | 0.500 | 0.900 | 4 | 20 | 0.150 | 0.100 | 0.050 |');
    expect(md).toContain('## Hallucination by kind');
    expect(md).toContain('| kind | metric | score |');
    expect(md).toContain('| existence | POPE accuracy, adversarial | 0.800 |');
    expect(md).toContain('| attribute | closed-set color | 0.750 |');
    expect(md).toContain('| relationship | detail relationship rate | 0.050 |');
    expect(md).toContain('| s1 | a small red circle is at the top left . |');
  });

  it('puts evaluations after successive stages side by side, one column each', () => {
    const md = reportMarkdown({
      backend: 'cpu',
      seed: 0,
      stages: [],
      eval: dpo,
      evals: [
        { after: '3-instruct', eval: instruct },
        { after: '4-dpo', eval: dpo },
      ],
    });
    expect(md).toContain('## Evaluation after each stage');
    expect(md).toContain('| kind | metric | after 3-instruct | after 4-dpo |');
    expect(md).toContain('| --- | --- | ---: | ---: |');
    const rows = [
      '| existence | POPE accuracy, random | 0.900 | 0.950 |',
      '| existence | POPE accuracy, popular | 0.850 | 0.900 |',
      '| existence | POPE accuracy, adversarial | 0.800 | 0.850 |',
      '| existence | caption CHAIR_i | 0.100 | 0.100 |',
      '| existence | detail CHAIR_i | 0.300 | 0.200 |',
      '| existence | detail existence rate | 0.150 | 0.050 |',
      '| existence | closed-set existence | 0.900 | 0.900 |',
      '| attribute | detail attribute rate | 0.100 | 0.100 |',
      '| attribute | closed-set color | 0.750 | 0.750 |',
      '| relationship | detail relationship rate | 0.050 | 0.000 |',
      '| relationship | closed-set spatial | 0.500 | 0.500 |',
      '| all | caption CHAIR_s | 0.200 | 0.200 |',
      '| all | detail CHAIR_s | 0.500 | 0.250 |',
      '| all | closed-set count | 1.000 | 1.000 |',
      '| all | closed-set accuracy | 0.800 | 0.800 |',
    ];
    expect(md).toContain(rows.join('\n'));
    // the final evaluation in full below, without repeating the kind table
    expect(md.indexOf('## POPE')).toBeGreaterThan(md.indexOf('## Evaluation after each stage'));
    expect(md).toContain('| random | 0.950 |');
    expect(md).not.toContain('## Hallucination by kind');
  });

  it('compares stored reports without descriptions (n/a where one lacks them) and details the last without `eval`', () => {
    const old: ReportEval = { pope: instruct.pope, chair: instruct.chair, closedSet: { accuracy: 0.5, byType: { count: { accuracy: 0.5, n: 2 } }, n: 2 } };
    const md = reportMarkdown({ backend: 'cpu', seed: 0, stages: [], evals: [{ after: 'instruct', eval: old }, { after: 'dpo', eval: dpo }] });
    expect(md).toContain('| existence | detail CHAIR_i | n/a | 0.200 |');
    expect(md).toContain('| attribute | closed-set color | n/a | 0.750 |');
    expect(md).toContain('| all | closed-set count | 0.500 | 1.000 |');
    expect(md).toContain('the last evaluation (after dpo)');
    expect(md).toContain('| 0.200 | 0.250 | 0.900 | 4 | 20 | 0.050 | 0.100 | 0.000 |');
    const neither = reportMarkdown({ backend: 'cpu', seed: 0, stages: [], evals: [{ after: 'instruct', eval: old }] });
    expect(neither).not.toMatch(/\| detail /);
    expect(neither).not.toContain('| attribute |');
  });
});

describe('reportMarkdown with and without reasoning', () => {
  const acc = (count: number, color: number) => ({ accuracy: (count + color) / 2, byType: { count: { accuracy: count, n: 4 }, color: { accuracy: color, n: 4 } }, n: 8 });
  const reasoning = { direct: acc(0.25, 1), chain: acc(0.75, 0.5), inconsistent: 0.125, answered: 0.875, samples: [] };

  it('tabulates accuracy per type asked directly and with the chain, the gain and the inconsistent share', () => {
    const md = reportMarkdown({ ...report, eval: { ...report.eval!, reasoning } });
    expect(md).toContain('## With and without reasoning');
    expect(md).toContain('0.875 of them');
    expect(md).toContain('Inconsistent chains (final answer not the one their own steps imply, or none): 0.125.');
    expect(md).toContain('| count | 0.250 | 0.750 | 0.500 | 4 |');
    expect(md).toContain('| color | 1.000 | 0.500 | -0.500 | 4 |');
    expect(md).toContain('| **all** | **0.625** | **0.625** | **0.000** | 8 |');
    expect(reportMarkdown(report)).not.toContain('reasoning');
  });

  it('adds both forms per type to the side-by-side comparison', () => {
    const md = reportMarkdown({ ...report, evals: [{ after: 'instruct', eval: { ...report.eval!, reasoning } }, { after: 'dpo', eval: report.eval! }] });
    expect(md).toContain('| all | count, asked directly | 0.250 | n/a |');
    expect(md).toContain('| all | count, chain | 0.750 | n/a |');
    expect(md).toContain('| all | inconsistent chains | 0.125 | n/a |');
  });
});

describe('reportMarkdown: open-set and attribute scores', () => {
  it('shows FaithScore per kind and attribute CHAIR when the evaluation has them, n/a for older reports', () => {
    const faith = { score: 0.75, byKind: { object: 1, attribute: 0.5, relation: 1, count: 0 }, facts: 8, factsByKind: { object: 4, attribute: 2, relation: 1, count: 1 }, textsWithoutFacts: 0 };
    const withScores = {
      ...report,
      eval: {
        ...report.eval!,
        chair: { ...report.eval!.chair, byAttribute: { color: 0.1, size: 0.5, position: 0 }, attributes: { stated: { color: 10, size: 4, position: 3 }, wrong: { color: 1, size: 2, position: 0 } } },
        openSet: { faithScore: { ...faith, learned: { ...faith, score: 0.5 } } },
      },
    };
    const md = reportMarkdown(withScores);
    expect(md).toContain('## Open-set: FaithScore');
    expect(md).toContain('| ground truth | 0.750 | 1.000 (4) | 0.500 (2) | 1.000 (1) | 0.000 (1) | 0 |');
    expect(md).toContain('| learned view | 0.500 |');
    expect(md).toContain('0.100 (1/10) | 0.500 (2/4) | 0.000 (0/3)');
    expect(reportMarkdown(report)).toContain('| n/a | n/a | n/a |');
  });
});
