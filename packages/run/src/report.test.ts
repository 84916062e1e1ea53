import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, type EvalSet } from '@mllm/eval';
import { writeReports, type RunReportJson } from './report';

const set: EvalSet = {
  scenes: [{ id: 's0', objects: [{ color: 'red', shape: 'circle' }] }],
  closedSet: [{ sceneId: 's0', type: 'color', question: 'what color is the circle ?', answer: 'red' }],
  pope: { random: [{ sceneId: 's0', label: 'yes', question: 'is there a red circle in the image ?' }], popular: [], adversarial: [] },
  captionPrompt: 'describe the image .',
  detail: { prompt: 'describe the image in detail .', judge: () => ({ claims: 2, existence: 1, attribute: 0, relationship: 0 }) },
};

describe('writeReports', () => {
  it('renders the evaluations after each stage side by side in report.md and keeps them in report.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mllm-report-'));
    const before = { ...(await evaluate({ answer: async (r) => r.map(() => 'a blue cross') }, set)), seconds: 1 };
    const after = { ...(await evaluate({ answer: async (r) => r.map(() => 'red') }, set)), seconds: 1 };
    const report: RunReportJson = {
      backend: 'cpu',
      seed: 0,
      config: 'test',
      wallSeconds: 2,
      parameters: { total: 1, encoder: 0, connector: 1, llm: 0 },
      connector: { type: 'mlp', kind: 'token-connector', tokensPerImage: 4, encoderTokens: 4 },
      stages: [],
      eval: after,
      evals: [
        { after: '3-instruct', eval: before },
        { after: '4-dpo', eval: after },
      ],
    };
    await writeReports(dir, report, []);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('| kind | metric | after 3-instruct | after 4-dpo |');
    expect(md).toContain('| existence | detail CHAIR_i | 1.000 | 0.000 |');
    expect(md).toContain('| attribute | closed-set color | 0.000 | 1.000 |');
    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RunReportJson;
    expect(json.evals!.map((e) => e.after)).toEqual(['3-instruct', '4-dpo']);
    expect(json.evals!.at(-1)!.eval).toEqual(json.eval);
  });
});
