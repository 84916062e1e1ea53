import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Rng, initBackend } from '@mllm/core';
import { ShapesWorld } from '@mllm/data';
import { JudgeLm, claimEvidence, judgePrompt, responseClaims } from './judge-lm';
import { trainJudgeLm } from './judge-train';

const world = new ShapesWorld({ seed: 2, imageSize: 32, sizes: { train: 100, val: 5, test: 5 } });
const tiny = { dim: 16, layers: 1, heads: 2, batchSize: 8, lr: 1e-2, copyLoss: 1 };

describe('judge LM', () => {
  it('reads reference, response and question, and answers at the last position of left-padded rows', async () => {
    await initBackend({ backend: 'cpu' });
    const judge = new JudgeLm(tiny, new Rng(0));
    expect(judgePrompt('haelm', 'a red circle .', 'there is a blue square')).toBe('reference : a red circle . claim : there is a blue square hallucination ?');
    expect(judgePrompt('rubric', 'a red circle .', 'a blue square .')).toBe('reference : a red circle . response : a blue square . score ?');
    expect(responseClaims('there are two objects . a small red circle is at the top left . two red circles .')).toEqual([
      'there are two objects',
      'there is a red circle',
      'the red circle is small',
      'the red circle is at the top left',
      'there are two red circles',
    ]);
    expect(judge.encode('haelm', 'a red circle .', 'there are two red circles')).not.toContain(judge.tokenizer.special.unk);
    const short = judge.encode('haelm', 'a red circle .', 'a red circle .');
    const long = judge.encode('rubric', 'a red circle is at the top left .', 'there is one object in the image .');
    expect(short).not.toContain(judge.tokenizer.special.unk);
    // a row's answer logits do not depend on the padding another row forces on it
    const alone = judge.answerLogits([short]);
    const padded = judge.answerLogits([short, long]);
    expect(Array.from(padded.slice([0, 0], [1, -1]).dataSync())).toEqual(Array.from(alone.dataSync()).map((v) => expect.closeTo(v, 4)));
    expect(padded.shape).toEqual([2, judge.tokenizer.vocabSize]);
    tf.dispose([alone, padded]);
    expect(judge.scoreId(0)).toBe(judge.tokenId('1'));
    expect(judge.scoreId(6.7)).toBe(judge.tokenId('7'));
    judge.dispose();
  });

  it('judges a claim against the reference sentences about its objects when told to', async () => {
    await initBackend({ backend: 'cpu' });
    const reference = 'there are two objects in the image . a small red circle is at the top left . a large blue square is at the bottom right . the small red circle is left of the large blue square .';
    expect(claimEvidence(reference, 'the red circle is large')).toBe('a small red circle is at the top left . the small red circle is left of the large blue square .');
    expect(claimEvidence(reference, 'there are two blue squares')).toBe('a large blue square is at the bottom right . the small red circle is left of the large blue square .');
    expect(claimEvidence(reference, 'there are three objects')).toBe('there are two objects in the image .');
    expect(claimEvidence(reference, 'there is a green cross')).toBe(''); // nothing supports it
    const whole = new JudgeLm({ ...tiny, reference: 'whole' }, new Rng(0));
    const evidence = new JudgeLm(tiny, new Rng(0)); // the default
    expect(whole.encodeClaim(reference, 'the red circle is large')).toEqual(whole.encode('haelm', reference, 'the red circle is large'));
    expect(evidence.encodeClaim(reference, 'there is a green cross')).toEqual(evidence.encode('haelm', '', 'there is a green cross'));
    whole.dispose();
    evidence.dispose();
  });

  it('trains: the answer loss falls, and the same seed trains the same judge', async () => {
    await initBackend({ backend: 'cpu' });
    const before = tf.memory().numTensors;
    const run = () => trainJudgeLm(world.scenes('train'), ['haelm', 'rubric'], { ...tiny, steps: 16 }, 7);
    const a = await run();
    const first = a.losses.slice(0, 4).reduce((s, v) => s + v, 0) / 4;
    const last = a.losses.slice(-4).reduce((s, v) => s + v, 0) / 4;
    expect(a.losses).toHaveLength(16);
    expect(last).toBeLessThan(first - 0.5); // from ln(vocab) (~4.1) towards the answer words
    const replies = a.judge.reply('haelm', [{ reference: 'a red circle .', response: 'a red circle .' }]);
    expect(replies).toHaveLength(1);
    // the rows over-sample false facts, so a fact must beat the prior shift to be called false
    expect(a.judge.verdictThreshold).toBeGreaterThan(0);
    const items = [{ reference: 'there is one object in the image . a red circle is at the top left .', response: 'a red circle is at the top left . there are two objects .' }];
    expect(a.judge.hallucinates(items, 8, Infinity)).toEqual([false]);
    expect(a.judge.hallucinates(items, 8, -Infinity)).toEqual([true]);
    expect(a.judge.hallucinates([{ reference: 'a red circle .', response: 'yes .' }], 8, -Infinity)).toEqual([false]); // no fact, no verdict
    const b = await run();
    expect(b.losses).toEqual(a.losses);
    expect(b.judge.verdictThreshold).toBe(a.judge.verdictThreshold);
    a.judge.dispose();
    b.judge.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
