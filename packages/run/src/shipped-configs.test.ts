import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { createRegistry } from './registry';
import { parseRunConfig } from '@mllm/training';

const dir = new URL('../../../configs/', import.meta.url);
const names = readdirSync(dir).filter((n) => n.endsWith('.json'));

describe('configs/', () => {
  it('ships configs', () => expect(names.length).toBeGreaterThan(10));

  // a README points users at each of these: one that no longer parses fails only when someone runs it
  it.each(names)('%s is a valid run config', (name) => {
    const raw = JSON.parse(readFileSync(new URL(name, dir), 'utf8'));
    expect(() => parseRunConfig(raw, createRegistry())).not.toThrow();
  });
});
