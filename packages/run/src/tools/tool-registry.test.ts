import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlugins } from '../plugins';
import { createRegistry } from '../registry';
import { buildToolbox, toolsConfigIssues } from './tool-eval';

const DEFAULT_TOOLS = { use: [{ type: 'detect' }, { type: 'count' }, { type: 'compare' }], detector: { steps: 1, batchSize: 1, lr: 0.1 }, maxCalls: 3, scenes: 1 };

describe('the tools registry slot', () => {
  it('holds the built-in tools by default', () => {
    expect(createRegistry().tools.types()).toEqual(['compare', 'count', 'detect']);
    expect([...buildToolbox(DEFAULT_TOOLS, createRegistry()).keys()]).toEqual(['detect', 'count', 'compare']);
  });

  it('takes a tool from a plugin exactly as a connector: register(registry) adds it, the config names it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mllm-tool-plugin-'));
    const file = join(dir, 'largest.mjs');
    writeFileSync(
      file,
      `import { z } from 'zod';
export function register(registry) {
  registry.tools.register('largest', z.object({ type: z.literal('largest') }).strict(), () => ({
    name: 'largest',
    usage: '',
    run: (args, image) => image.objects().filter((o) => o.size === 'large').map((o) => o.color + ' ' + o.shape).join(' , ') || 'nothing',
  }));
}
`,
    );
    const registry = await loadPlugins(createRegistry(), [file]);
    const toolbox = buildToolbox({ ...DEFAULT_TOOLS, use: [...DEFAULT_TOOLS.use, { type: 'largest' }] }, registry);
    const image = { objects: () => [{ shape: 'circle' as const, color: 'red' as const, size: 'large' as const, cell: 'top left' as const }] };
    expect(toolbox.get('largest')!.run([], image)).toBe('red circle');
    // and a fresh registry does not know it
    expect(toolsConfigIssues({ ...DEFAULT_TOOLS, use: [{ type: 'largest' }] }, createRegistry())).toEqual([
      { path: 'tools.use[0].type', message: 'unknown tools type "largest"; allowed: compare, count, detect' },
    ]);
  });

  it('reports bad tool entries at their path: unknown options, a second tool of one name', () => {
    expect(toolsConfigIssues({ ...DEFAULT_TOOLS, use: [{ type: 'count', colour: 'red' }] }, createRegistry())).toEqual([{ path: 'tools.use[0]', message: 'unknown field(s) "colour"' }]);
    expect(toolsConfigIssues({ ...DEFAULT_TOOLS, use: [{ type: 'count' }, { type: 'count' }] }, createRegistry())[0]).toMatchObject({ path: 'tools.use[1]', message: expect.stringContaining('a second tool named "count"') });
    expect(() => buildToolbox({ ...DEFAULT_TOOLS, use: [{ type: 'zoom' }] }, createRegistry())).toThrow(/tools\.use\[0\]\.type: unknown tools type "zoom"/);
  });
});
