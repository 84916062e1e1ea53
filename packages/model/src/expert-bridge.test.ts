import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, type ConnectorText } from '@mllm/core';
import { EXPERT_TEXT_TOKENS, EXPERT_WORDS, ExpertBridge, renderExpertText } from '@mllm/connector-expert';
import { buildModel, createComponentRegistry } from './index';

// A word vocabulary: padding, <image>, a few prompt words, then every word the expert writes.
const VOCAB = ['<pad>', '<image>', 'what', 'is', 'here', '?', ...EXPERT_WORDS];
const [PAD, IMAGE] = [0, 1];
const text: ConnectorText = {
  encode: (s) =>
    s.split(' ').map((w) => {
      const id = VOCAB.indexOf(w);
      if (id < 0) throw new Error(`no word "${w}"`);
      return id;
    }),
  padId: PAD,
  unknownWords: (s) => s.split(' ').filter((w) => !VOCAB.includes(w)),
};
const config = {
  encoder: { type: 'vit', imageSize: 8, patchSize: 4, dim: 8, layers: 2, heads: 2 },
  connector: { type: 'expert' },
  llm: { type: 'causal', dim: 16, layers: 1, heads: 2 },
};
const options = { registry: createComponentRegistry(), vocabSize: VOCAB.length, special: { imageTokenId: IMAGE, padId: PAD }, seed: 1 };
const make = () => buildModel(config, { ...options, text });
const img = (seed: number) => (tf.randomUniform([8 * 8 * 3], 0, 1, 'float32', seed).dataSync() as Float32Array).slice();
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!);
const prompt = text.encode('what is here ?');

/** The expert's caption of an image as padded token ids, computed from the detector by hand. */
function expertIds(bridge: ExpertBridge, features: tf.Tensor3D): number[][] {
  return bridge.detector.detect(features).map((found) => {
    const ids = text.encode(renderExpertText(found));
    return [...ids, ...new Array<number>(EXPERT_TEXT_TOKENS - ids.length).fill(PAD)];
  });
}

describe('a model with the expert bridge', () => {
  it('gives the LLM the expert caption: the same logits as the LLM reading that text typed in', () => {
    const model = make();
    const bridge = model.connector as ExpertBridge;
    expect(model.tokensPerImage).toBe(EXPERT_TEXT_TOKENS);
    const images = [img(1), img(2)];
    const batch = model.collate(images.map((image) => ({ ids: [IMAGE, ...prompt], lossMask: [0, 0, 0, 0, 0], images: [image] })));
    const features = model.encodeFeatures(images); // [2, 4, 8]
    const ids = expertIds(bridge, features);
    expect(ids.map((row) => row.length)).toEqual([EXPERT_TEXT_TOKENS, EXPERT_TEXT_TOKENS]);
    // a training batch's inputs drop the last token (it is only a target)
    const typed = ids.map((row) => [...row, ...prompt].slice(0, -1));
    const logits = model.forward(batch); // [2, M + 3, V]
    expect(logits.shape).toEqual([2, EXPERT_TEXT_TOKENS + prompt.length - 1, VOCAB.length]);
    const reference = tf.tidy(() => model.llm.forward(model.llm.embed(tf.tensor2d(typed, [2, typed[0]!.length], 'int32'))).logits);
    expect(maxDiff(logits, reference)).toBeLessThan(1e-5);
    expect(bridge.describe(features)).toEqual(bridge.detector.detect(features).map(renderExpertText));
    tf.dispose([features, logits, reference]);
  });

  it('sends gradients into the LLM word embeddings of the caption and none into the expert', () => {
    const model = make();
    const bridge = model.connector as ExpertBridge;
    const image = img(3);
    const batch = model.collate([{ ids: [IMAGE, ...prompt, PAD], lossMask: [0, 0, 0, 0, 1, 1], images: [image] }]);
    const features = model.encodeFeatures([image]);
    const written = new Set(expertIds(bridge, features)[0]!.filter((id) => !prompt.includes(id) && id !== PAD));
    features.dispose();
    expect(written.size).toBeGreaterThan(0);
    const embedding = model.llm.namedParameters().find(([n]) => /embed_tokens/.test(n))![1];
    const detector = bridge.detector.parameters();
    const { grads } = tf.variableGrads(() => model.loss(batch), [embedding, ...detector]);
    const rows = grads[embedding.name]!.arraySync() as number[][];
    // a word only the expert wrote (not in the prompt) gets a gradient, as a typed word would
    for (const id of written) expect(rows[id]!.some((v) => v !== 0)).toBe(true);
    for (const p of detector) expect(grads[p.name] ?? null).toBeNull();
    tf.dispose(Object.values(grads).filter((g) => g));
  });

  it('keeps its detector frozen when a stage trains the connector, and exposes it as the regions head', () => {
    const model = make();
    model.freeze();
    model.connector.unfreeze();
    expect(model.connector.trainableParameters()).toEqual([]);
    const bridge = model.connector as ExpertBridge;
    expect(bridge.trainedHeads.regions).toBe(bridge.detector);
    expect(bridge.numParameters()).toBe(2 * 8 + ((4 / 4) * 8 + 1) * 11);
  });

  it('generates from an image prompt without leaking tensors', () => {
    const model = make();
    const prompts = [{ ids: [IMAGE, ...prompt], lossMask: [0, 0, 0, 0, 0], images: [img(4)] }];
    model.generate(prompts, { maxNewTokens: 3, stopTokens: [] });
    const before = tf.memory().numTensors;
    expect(model.generate(prompts, { maxNewTokens: 3, stopTokens: [] })[0]).toHaveLength(3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is refused by path without a tokenizer, with a vocabulary that lacks its words, and on an encoder with a CLS token', () => {
    const refusal = (build: () => unknown) => {
      try {
        build();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).issues[0]!.path).toBe('connector.type');
        return (error as ConfigError).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(refusal(() => buildModel(config, options))).toMatch(/needs the LLM and the tokenizer/);
    const lacking: ConnectorText = { ...text, unknownWords: (s) => s.split(' ').filter((w) => w === 'cross' || w === 'zero') };
    expect(refusal(() => buildModel(config, { ...options, text: lacking }))).toMatch(/words the tokenizer lacks \(zero, cross\)/);
    expect(refusal(() => buildModel({ ...config, encoder: { ...config.encoder, includeCls: true } }, { ...options, text }))).toMatch(/gives 1 \+ 2 x 2 \+ 0/);
  });
});
