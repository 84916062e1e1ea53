import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ConfigError, silentLogger, type Logger } from '@mllm/core';
import { BadSampleError } from '@mllm/data';
import { WordTokenizer } from '@mllm/tokenizer';
import { loadConfig } from './config-load';
import { lintData } from './lint-data';
import { loadImageInput } from './image-input';
import { openRun } from './open-run';
import { run } from './run';
import { writeTinyHfCausalLm } from '../../../packages/llm/src/hf-reference.test-helper';
import { tinyHfTokenizerFiles } from '../../../packages/tokenizer/src/hf-tokenizer.test-helper';

const tiny = JSON.parse(readFileSync(new URL('../../../configs/tiny.json', import.meta.url), 'utf8'));
const fresh = () => join(mkdtempSync(join(tmpdir(), 'data-input-out-')), 'run');
const FIFO_REASON = 'is a FIFO (named pipe), not a regular file; image paths must name image files';

let dir: string;
let images: string;
let file: string;
const chat = (question: string, answer: string) => [
  { from: 'human', value: question },
  { from: 'gpt', value: answer },
];

/**
 * A LLaVA folder with one good record and three bad ones, each with words of its own: an image
 * that is a FIFO, a conversation far over maxTokens, and a record over maxRecordBytes.
 */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'data-input-'));
  images = join(dir, 'img');
  mkdirSync(images);
  writeFileSync(join(images, 'red.png'), await sharp({ create: { width: 8, height: 8, channels: 3, background: '#e01e1e' } }).png().toBuffer());
  execFileSync('mkfifo', [join(images, 'pipe.png')]);
  const records = [
    { id: 'good', image: 'red.png', conversations: chat('<image>\nWhat colour is it?', 'It is red.') },
    { id: 'fifo', image: 'pipe.png', conversations: chat('<image>\nfifoword?', 'fifoanswer.') },
    { id: 'long', conversations: chat(Array.from({ length: 300 }, (_, i) => `longword${i}`).join(' '), 'longanswer.') },
    { id: 'huge', conversations: chat(`hugeword ${'x'.repeat(10000)}`, 'hugeanswer.') },
  ];
  file = join(dir, 'train.jsonl');
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n'));
});

const llavaConfig = (onBadSample: 'skip' | 'fail', tokenizer: Record<string, unknown> = { type: 'word' }) => ({
  ...tiny,
  tokenizer,
  stages: [{ type: 'instruct', steps: 2, batchSize: 4, evalEvery: 100, checkpointEvery: 100, data: [{ source: 'llava', file, images, onBadSample, maxTokens: 64, maxRecordBytes: 8192 }] }],
  eval: { scenes: 2, popePerImage: 2, batchSize: 8, maxNewTokens: 4 },
});

// a FIFO opened the ordinary way blocks until a writer comes: these tests would hang, not fail,
// if anything opened it so; reaching the assertions is the proof, no clock is involved
describe.skipIf(process.platform === 'win32')('data a run reads: regular files only, vocabulary from accepted records', () => {
  it('lint-data reports the FIFO image as a problem instead of hanging', async () => {
    const report = await lintData(file, { imageDir: images });
    expect(report.bad.map((b) => [b.line, b.reason])).toEqual([[2, `sample "fifo": ${FIFO_REASON}`]]);
  });

  it('under onBadSample fail, run stops at the FIFO naming file and line, before the run folder exists', async () => {
    const out = fresh();
    const error = await run(llavaConfig('fail'), { out, logger: silentLogger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadSampleError);
    expect((error as Error).message).toContain(`${file}:2: sample "fifo": ${FIFO_REASON}`);
    expect(existsSync(out)).toBe(false);
  });

  it('under skip, run trains on the good record; the skipped records\' words are not in the vocabulary', async () => {
    const out = fresh();
    const report = await run(llavaConfig('skip'), { out, logger: silentLogger });
    const skipped = report.data!.skipped![file]!;
    expect(skipped.reasons).toEqual([
      `${file}:2: sample "fifo": ${FIFO_REASON}`,
      expect.stringMatching(/:3: sample "long": 30\d tokens before its 0 image\(s\) are expanded, over the source's maxTokens 64; raise maxTokens or shorten the conversation$/),
      `${file}:4: the record is over 8192 bytes (maxRecordBytes); split the conversation or raise the limit`,
    ]);
    const vocab = (await WordTokenizer.load(out)).tokens();
    expect(vocab).toEqual(expect.arrayContaining(['colour', 'red']));
    for (const word of ['fifoword', 'fifoanswer', 'longword0', 'longword299', 'longanswer', 'hugeword', 'hugeanswer']) expect(vocab).not.toContain(word);
  });

  it('lint-data prints a BPE run\'s samples as text (pieces decoded, no byte-map spelling), trained runs in [[ ]]', async () => {
    const configPath = join(dir, 'bpe-config.json');
    writeFileSync(configPath, JSON.stringify(llavaConfig('skip', { type: 'bpe' })));
    const report = await lintData(file, { imageDir: images, configPath, show: 1 });
    const [good] = report.rendered;
    expect(good!.id).toBe('good');
    expect(good!.text).toContain('What colour is it?');
    expect(good!.text).toContain('[[It is red.');
    expect(good!.text).not.toMatch(/Ġ|Ċ/);
  });

  it('tokenizer.maxVocab caps the vocabulary: the least frequent words read as <unk>, and the run says so', async () => {
    const out = fresh();
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (m: string) => void warnings.push(m) };
    await run(llavaConfig('skip', { type: 'word', maxVocab: 40 }), { out, logger });
    expect((await WordTokenizer.load(out)).vocabSize).toBe(40);
    expect(warnings.some((w) => /^tokenizer: the data has \d+ distinct words, over tokenizer\.maxVocab 40: the \d+ least frequent read as <unk>; raise tokenizer\.maxVocab to keep them$/.test(w))).toBe(true);
  });

  it('a FIFO named as the data file or the config is refused by what it is, before anything reads it', async () => {
    const pipe = join(dir, 'data-pipe.jsonl');
    execFileSync('mkfifo', [pipe]);
    const config = llavaConfig('fail');
    config.stages[0].data[0].file = pipe;
    const error = await run(config, { out: fresh(), logger: silentLogger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([{ path: 'stages[0].data[0].file', message: expect.stringContaining(`${pipe} is a FIFO (named pipe), not a regular file`) }]);
    await expect(loadConfig(pipe)).rejects.toThrow(/config .*data-pipe\.jsonl is a FIFO \(named pipe\), not a regular file; pass a JSON config file/);
  });

  it('an image input that is a FIFO or /dev/zero is refused by what it is', async () => {
    await expect(loadImageInput(join(images, 'pipe.png'), { size: 8 })).rejects.toThrow(`${join(images, 'pipe.png')}: ${FIFO_REASON}`);
    await expect(loadImageInput('/dev/zero', { size: 8 })).rejects.toThrow('/dev/zero: is a character device, not a regular file');
  });
});

describe('chat templates are rendered once, bounded, before the run folder is written', () => {
  /** A tiny HF Llama folder whose tokenizer_config.json carries `template`. */
  async function llamaWithTemplate(template: string): Promise<string> {
    const llm = join(mkdtempSync(join(tmpdir(), 'data-input-hf-')), 'llama');
    const files = tinyHfTokenizerFiles();
    await writeTinyHfCausalLm(llm, { config: { vocab_size: files.vocabSize }, tie: true });
    writeFileSync(join(llm, 'tokenizer.json'), files['tokenizer.json']);
    writeFileSync(join(llm, 'tokenizer_config.json'), JSON.stringify({ ...JSON.parse(files['tokenizer_config.json']), chat_template: template }));
    return llm;
  }

  it.each([
    ['range(1e9)', '{% for i in range(1000000000) %}x{% endfor %}', /rendering stopped: range\(0, 1000000000, 1\) has 1000000000 items, over the budget of 100000 steps/],
    ['a syntax error', '{% for m in messages %}{{ m.content }', /does not parse \(.+\)/],
    ['an exception', "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}", /rendering failed \(Conversation roles must alternate/],
  ])('a template with %s is a ConfigError at llm.from naming its file; no run folder', async (_what, template, reason) => {
    const llm = await llamaWithTemplate(template);
    const out = fresh();
    const config = { ...tiny, llm: { type: 'causal', from: `hf:${llm}`, layers: 2 }, stages: [{ type: 'align', steps: 1, batchSize: 2 }] };
    const error = await run(config, { out, logger: silentLogger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const issue = (error as ConfigError).issues[0]!;
    expect(issue.path).toBe('llm.from');
    expect(issue.message).toContain(`the chat_template of ${join(llm, 'tokenizer_config.json')} is refused: `);
    expect(issue.message).toMatch(reason);
    expect(existsSync(out)).toBe(false);
  });

  it('openRun refuses a run folder whose tokenizer_config.json template was edited to loop, as a ConfigError', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'data-input-open-')), 'run');
    mkdirSync(out);
    const files = tinyHfTokenizerFiles();
    writeFileSync(join(out, 'config.json'), JSON.stringify(tiny));
    writeFileSync(join(out, 'tokenizer.json'), files['tokenizer.json']);
    writeFileSync(join(out, 'tokenizer_config.json'), JSON.stringify({ ...JSON.parse(files['tokenizer_config.json']), chat_template: '{% for i in range(1000000000) %}{% endfor %}', mllm_model_vocab_size: files.vocabSize + 1 }));
    const error = await openRun(out).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]).toMatchObject({ path: 'chat_template', message: expect.stringContaining(join(out, 'tokenizer_config.json')) });
  });
});
