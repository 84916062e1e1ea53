import { describe, expect, it } from 'vitest';
import { ConfigError } from '@mllm/core';
import { createComponentRegistry } from '@mllm/model';
import { parseRunConfig } from './run-config';

const config = (captions: unknown, stages: unknown[] = [{ type: 'align', steps: 1 }], train = 100) => ({
  encoder: { type: 'vit', imageSize: 16, patchSize: 8, dim: 16, layers: 1, heads: 2 },
  connector: { type: 'mlp' },
  llm: { type: 'causal', dim: 32, layers: 1, heads: 2 },
  data: { train, val: 10, test: 10, captions },
  stages,
});
const parse = (captions: unknown, stages?: unknown[]) => () => parseRunConfig(config(captions, stages), createComponentRegistry());

describe('data.captions', () => {
  it('fills the defaults of the web source, its filter and its scorer', () => {
    const run = parseRunConfig(config({ source: 'web', noise: 0.3, filter: { threshold: 0.28 } }, undefined, 1000), createComponentRegistry());
    expect(run.data.captions).toEqual({
      source: 'web',
      noise: 0.3,
      filter: { threshold: 0.28, scorer: { trainOn: 'clean', scenes: 500, steps: 200, batchSize: 64, lr: 2e-3, warmup: 20, hardNegatives: true, projectionDim: 64, textLayers: 1 } },
    });
    expect(parseRunConfig(config(undefined), createComponentRegistry()).data.captions).toBeUndefined();
  });

  it('names the JSON path of every bad value and how to fix it', () => {
    expect(parse({ source: 'alt-text' })).toThrow(ConfigError);
    expect(parse({ source: 'alt-text' })).toThrow(/data\.captions\.source.*fine.*web/s);
    expect(parse({ source: 'web', noise: 1.2 })).toThrow(/data\.captions\.noise/);
    expect(parse({ source: 'fine', noise: 0.2 })).toThrow(/data\.captions\.noise: only the web source has noise; set data\.captions\.source to "web"/);
    expect(parse({ source: 'fine', filter: { keep: 0.5 } })).toThrow(/data\.captions\.filter: only the web source has noise to filter/);
    expect(parse({ source: 'web', filter: {} })).toThrow(/data\.captions\.filter: give exactly one of threshold .* or keep/);
    expect(parse({ source: 'web', filter: { threshold: 0.2, keep: 0.5 } })).toThrow(/data\.captions\.filter: give exactly one/);
    expect(parse({ source: 'web', filter: { keep: 0 } })).toThrow(/data\.captions\.filter\.keep/);
    expect(parse({ source: 'web', filter: { keep: 0.5, scorer: { trainOn: 'laion' } } })).toThrow(/data\.captions\.filter\.scorer\.trainOn.*clean.*pool/s);
    expect(parse({ source: 'web', filter: { keep: 0.5 }, recaption: {} })).toThrow(/data\.captions\.recaption: recaptioning rewrites every caption/);
    expect(parse({ source: 'web', recaption: { steps: 0 } })).toThrow(/data\.captions\.recaption\.steps/);
    expect(parse({ source: 'web', colour: 'red' })).toThrow(/data\.captions.*colour/s);
  });

  it('needs an align stage to feed, and sets no larger than the train split', () => {
    expect(parse({ source: 'web' }, [{ type: 'instruct', steps: 1 }])).toThrow(/data\.captions: the captions feed the align stage, and this run has none/);
    expect(parse({ source: 'web', scenes: 500 })).toThrow(/data\.captions\.scenes: 500 is more than the 100 train scenes/);
    expect(parse({ source: 'web', filter: { keep: 0.5, scorer: { scenes: 101 } } })).toThrow(/data\.captions\.filter\.scorer\.scenes: 101/);
    // the scorer trained on the pool needs no clean set
    expect(parse({ source: 'web', filter: { keep: 0.5, scorer: { trainOn: 'pool', scenes: 101 } } })).not.toThrow();
    expect(parse({ source: 'web', recaption: { scenes: 200 } })).toThrow(/data\.captions\.recaption\.scenes: 200/);
    expect(parse({ source: 'web', recaption: { scenes: 50 } })).not.toThrow();
  });
});
