import { describe, it, expect } from 'vitest';
import { createRegistry } from './registry';

describe('createRegistry', () => {
  it('holds, for every built-in component type of each slot, its ONNX exporter or the reason it has none', () => {
    const registry = createRegistry();
    for (const slot of ['encoders', 'connectors', 'llms'] as const) {
      const types = registry[slot].types();
      expect(types.length).toBeGreaterThan(0);
      for (const type of types) expect(registry.onnx[slot].has(type), `${slot} type "${type}" has no ONNX entry`).toBe(true);
      expect(registry.onnx[slot].types()).toEqual(types);
    }
  });

  it('gives each run its own registries, so a plugin type registered in one is unknown to the next', () => {
    const first = createRegistry();
    first.onnx.connectors.register('plugin-type', { unsupported: 'registered by a test to check that registries are not shared between runs' });
    expect(createRegistry().onnx.connectors.has('plugin-type')).toBe(false);
  });
});
