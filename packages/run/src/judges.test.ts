import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, initBackend } from '@mllm/core';
import { ShapesWorld, detailedDescription } from '@mllm/data';
import { parseRunConfig } from '@mllm/training';
import { createRegistry } from './registry';
import { exactVerdict } from './judge-exact';
import { runJudges, sessionJudges } from './judges';

const configs = fileURLToPath(new URL('../../../configs/', import.meta.url));
const defaultConfig = JSON.parse(readFileSync(`${configs}default.json`, 'utf8')) as Record<string, unknown> & { eval?: Record<string, unknown> };
const withJudges = (judges: unknown) => ({ ...defaultConfig, eval: { ...defaultConfig.eval, judges } });
const world = new ShapesWorld({ seed: 4, imageSize: 32, sizes: { train: 50, val: 5, test: 8 } });

describe('eval.judges config', () => {
  it('is off by default: the default config parses without it', () => {
    expect(parseRunConfig(defaultConfig, createRegistry()).eval.judges).toBeUndefined();
  });

  it('fills training defaults and validates the endpoint', () => {
    const parsed = parseRunConfig(withJudges({ haelm: {}, rubric: { endpoint: { baseUrl: 'http://127.0.0.1:8000/v1', model: 'm' } } }), createRegistry()).eval.judges!;
    expect(parsed.haelm).toMatchObject({ steps: 400, batchSize: 32, dim: 64, layers: 2 });
    expect(parsed.rubric!.endpoint).toMatchObject({ timeoutMs: 60000, maxResponses: 400 });
  });

  it('names every bad field by its JSON path', () => {
    const bad = withJudges({ haelm: { steps: 0, dim: 30, heads: 4 }, rubric: { endpoint: { baseUrl: 'localhost:8000', model: '', apiKeyEnv: 'sk-123' } }, gpt: {} });
    let error: unknown;
    try {
      parseRunConfig(bad, createRegistry());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as ConfigError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['eval.judges.haelm.steps', 'eval.judges.haelm.heads', 'eval.judges.rubric.endpoint.baseUrl', 'eval.judges.rubric.endpoint.model', 'eval.judges.rubric.endpoint.apiKeyEnv']));
    expect((error as Error).message).toMatch(/baseUrl: must be an http\(s\) URL/);
    expect((error as Error).message).toMatch(/eval\.judges.*gpt/);
  });
});

describe('runJudges with an endpoint (a mock server on 127.0.0.1)', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function scoringServer(reply: (prompt: string) => string): Promise<string> {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const prompt = (JSON.parse(raw) as { messages: { content: string }[] }).messages[1]!.content;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ message: { content: reply(prompt) } }] }));
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  }

  const endpoint = (baseUrl: string) => ({ baseUrl, model: 'mock', timeoutMs: 5000, maxTokens: 8, concurrency: 4, maxResponses: 400 });
  const descriptions = world.scenes('test').map((s, i) => ({ sceneId: s.id, text: i % 2 ? 'there are four objects in the image .' : 'hello' }));

  it('correlates the endpoint\'s scores with the exact ones, per source too', async () => {
    // a judge that knows the answer: its score is the exact one, rounded (ties after rounding keep rho just below 1)
    const baseUrl = await scoringServer((prompt) => {
      const reference = prompt.split('\n')[1]!;
      const response = prompt.split('[Response]\n')[1]!.split('\n')[0]!;
      const scene = world.scenes('test').find((s) => detailedDescription(s) === reference)!;
      return `Score: ${Math.max(1, Math.round(exactVerdict(scene, response).score!))}`;
    });
    const hook = runJudges({ rubric: { endpoint: endpoint(baseUrl) } }, world, 0);
    const report = await hook(descriptions);
    expect(report.haelm).toBeUndefined();
    const r = report.rubric!;
    expect(r.judge).toBe(`mock at ${baseUrl}`);
    expect(r.unparsed).toBe(0);
    expect(r.n).toBeGreaterThan(8);
    expect(r.spearman).toBeGreaterThan(0.9);
    expect(Object.keys(r.bySource).sort()).toEqual(['model', 'synthetic']);
  });

  it('counts replies without a score and never throws on them', async () => {
    const baseUrl = await scoringServer(() => 'I would rather not say.');
    const r = (await runJudges({ rubric: { endpoint: endpoint(baseUrl) } }, world, 0)(descriptions)).rubric!;
    expect(r).toMatchObject({ n: 0 });
    expect(r.unparsed).toBeGreaterThan(8);
    expect(r.spearman).toBeNaN();
  });
});

describe('runJudges with the local judge LM', () => {
  it('trains once per session and reports accuracy and kappa per source', async () => {
    await initBackend({ backend: 'cpu' });
    const session = { config: { seed: 1, eval: { judges: { haelm: { steps: 2, batchSize: 4, lr: 1e-2, copyLoss: 1, dim: 8, layers: 1, heads: 2, reference: 'evidence' as const, modelResponses: 0, responsesPerScene: 1 } } } }, world };
    const hook = sessionJudges(session)!;
    expect(sessionJudges(session)).toBe(hook);
    expect(sessionJudges({ ...session, config: { seed: 1, eval: {} } })).toBeUndefined();
    const descriptions = world.scenes('test').map((s) => ({ sceneId: s.id, text: 'there is one object in the image .' }));
    const first = await hook(descriptions);
    const h = first.haelm!;
    expect(h.n).toBe(16);
    expect(h.bySource.synthetic!.n).toBe(8);
    expect(h.bySource.model!.n).toBe(8);
    expect(h.accuracy).toBeGreaterThanOrEqual(0);
    expect(h.training.steps).toBe(2);
    expect((await hook(descriptions)).haelm).toEqual(h); // the same judge, the same held-out responses
  });

  it("trains on the judged model's descriptions of training scenes when modelResponses asks, and needs the model for it", async () => {
    await initBackend({ backend: 'cpu' });
    const haelm = { steps: 2, batchSize: 4, lr: 1e-2, copyLoss: 1, dim: 8, layers: 1, heads: 2, reference: 'evidence' as const, modelResponses: 3, responsesPerScene: 1 };
    const asked: string[] = [];
    const describe = async (scenes: readonly { id: string }[]) => {
      asked.push(...scenes.map((s) => s.id));
      return scenes.map(() => 'there are two objects in the image .');
    };
    const descriptions = [{ sceneId: world.scenes('test')[0]!.id, text: 'there is one object in the image .' }];
    const report = await runJudges({ haelm }, world, 1, undefined, describe)(descriptions);
    expect(asked).toEqual(world.scenes('train').slice(0, 3).map((s) => s.id)); // training scenes only, described once
    expect(report.haelm!.training.steps).toBe(2);
    await expect(runJudges({ haelm }, world, 1)(descriptions)).rejects.toThrow(/modelResponses needs the judged model/);
  });
});
