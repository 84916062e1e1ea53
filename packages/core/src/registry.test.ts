import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { Registry } from './registry';
import { ConfigError } from './errors';

describe('Registry', () => {
  const reg = new Registry<{ width: number }, string>('connector');
  reg.register('mlp', z.object({ type: z.literal('mlp'), depth: z.number().int().min(1).default(2) }).strict(), (c, ctx) => `mlp${c.depth}x${ctx.width}`);
  reg.register('linear', z.object({ type: z.literal('linear') }).strict(), () => 'linear');

  it('builds by exact type with schema defaults', () => {
    expect(reg.build({ type: 'mlp' }, { width: 4 })).toBe('mlp2x4');
  });

  it('an unknown type lists the allowed ones; no fuzzy matching', () => {
    expect(() => reg.build({ type: 'mlp2' }, { width: 4 })).toThrow(/connector.type: unknown connector type "mlp2"; allowed: linear, mlp/);
  });

  it('reports wrong and unknown fields by JSON path', () => {
    const r = reg.validate({ type: 'mlp', depth: 0, colour: 1 }, 'model.connector');
    expect(r.ok).toBe(false);
    const paths = !r.ok ? r.issues.map((i) => i.path) : [];
    expect(paths).toContain('model.connector.depth');
    expect(paths).toContain('model.connector');
    expect(() => reg.build({ type: 'mlp', depth: 0 }, { width: 1 })).toThrow(ConfigError);
  });

  it('gives the schema a type validates with, for a JSON Schema of configs', () => {
    expect(reg.schemaOf('mlp').parse({ type: 'mlp' })).toEqual({ type: 'mlp', depth: 2 });
    expect(() => reg.schemaOf('mlp2')).toThrow(/connector.type: unknown connector type "mlp2"; allowed: linear, mlp/);
  });

  it('refuses duplicate registration', () => {
    expect(() => reg.register('mlp', z.object({}), () => '')).toThrow(/already registered/);
  });

  it('resolves "from" through the type that reads it, and leaves other configs alone', async () => {
    const withSource = new Registry<{ width: number }, string>('llm');
    const loaded: string[] = [];
    withSource.register('hf-backed', z.object({ type: z.literal('hf-backed'), dim: z.number() }).strict(), (c) => `dim${c.dim}`, {
      fromSource: async ({ from, ...rest }, path) => ({ config: { ...rest, dim: from.length }, load: async (c) => void loaded.push(`${path}:${c}`) }),
    });
    withSource.register('plain', z.object({ type: z.literal('plain'), from: z.string().optional() }).strict(), () => 'plain');
    const source = await withSource.resolveFrom({ type: 'hf-backed', from: 'hf:abc' }, 'llm');
    expect(source?.config).toEqual({ type: 'hf-backed', dim: 6 });
    await source!.load(withSource.build(source!.config, { width: 1 }));
    expect(loaded).toEqual(['llm:dim6']);
    expect(await withSource.resolveFrom({ type: 'hf-backed', dim: 3 })).toBeUndefined();
    expect(await withSource.resolveFrom({ type: 'plain', from: 'hf:x' })).toBeUndefined();
    expect(await withSource.resolveFrom({ type: 'nope', from: 'hf:x' })).toBeUndefined();
  });
});
