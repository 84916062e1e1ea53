import { dirname, resolve } from 'node:path';
import { initBackend, type Logger } from '@mllm/core';
import { LlavaDataset, readImageHeader, type BadSample, type LlavaRecord, type LlavaTurn } from '@mllm/data';
import { resolveImagePath } from '@mllm/data/internal';
import { applyChatTemplate, type TextTokenizer } from '@mllm/tokenizer';
import { parseRunConfig, type RunConfig } from '@mllm/training';
import { loadConfig } from './config-load';
import { createSession, createWorld } from './session';
import { registryFor } from './plugins';
import { trainTokenizer } from './train-tokenizer';

export interface LintOptions {
  /** Folder the image paths are relative to (default: the data file's folder). */
  imageDir?: string;
  /** A run config: lengths are counted with its tokenizer, chat template and tokens per image. */
  configPath?: string;
  /** Context length; default: maxTokens of the config's llava source that reads this file. */
  maxLength?: number;
  /** How many samples to print rendered (default 3). */
  show?: number;
  maxPixels?: number;
  backend?: string;
  logger?: Logger;
}

/** A sample too long for the context: it would not fit a training batch. */
export interface LongSample {
  file: string;
  line: number;
  id: string;
  tokens: number;
  imageTokens: number;
}

export interface LintReport {
  file: string;
  imageDir: string;
  samples: number;
  bad: BadSample[];
  tooLong: LongSample[];
  /** Set when a config gave the tokenizer and the model. */
  tokens?: { perImage: number; max: number; mean: number; maxLength?: number; withUnknownWords: number };
  /** First samples rendered with the chat template, trained tokens inside [[ ]]. */
  rendered: { file: string; line: number; id: string; text: string }[];
  problems: number;
}

/**
 * The ids as text, one piece per run of tokens the loss does or does not see. Decoded, not
 * spelt token by token: a byte-level BPE token reads "Ġcircle" (its leading space as GPT-2's
 * byte map writes it), and a word split into pieces would print with spaces inside it.
 */
function decodedRuns(tokenizer: TextTokenizer, ids: readonly number[], lossMask: readonly number[]): { text: string; trained: boolean }[] {
  const runs: { ids: number[]; trained: boolean }[] = [];
  ids.forEach((id, i) => {
    const trained = lossMask[i] === 1;
    const last = runs.at(-1);
    if (last && last.trained === trained) last.ids.push(id);
    else runs.push({ ids: [id], trained });
  });
  return runs.map((r) => ({ text: tokenizer.decode(r.ids, { skipSpecial: false }).trim(), trained: r.trained }));
}

/** Runs of trained tokens wrapped in [[ ]]: what the loss sees. */
export function markTrained(pieces: readonly { text: string; trained: boolean }[]): string {
  const out: string[] = [];
  let run: string[] = [];
  const close = () => {
    if (run.length) out.push(`[[${run.join(' ')}]]`);
    run = [];
  };
  for (const p of pieces) {
    if (p.trained) run.push(p.text);
    else {
      close();
      out.push(p.text);
    }
  }
  close();
  return out.join(' ');
}

/** The chat template as text pieces (no tokenizer): the same layout and loss mask as applyChatTemplate. */
function templatePieces(conversation: readonly LlavaTurn[]): { text: string; trained: boolean }[] {
  const pieces = [{ text: '<bos>', trained: false }];
  for (const t of conversation) {
    const gpt = t.from === 'gpt';
    pieces.push({ text: gpt ? '<|assistant|>' : '<|user|>', trained: false }, { text: t.value.replace(/\n/g, '\\n'), trained: gpt }, { text: '<|end|>', trained: gpt });
  }
  if (conversation[conversation.length - 1]?.from === 'gpt') pieces.push({ text: '<eos>', trained: true });
  return pieces;
}

/** The llava source of the config's stages that reads this file, for its maxTokens. */
function sourceFor(config: RunConfig, file: string): { maxTokens?: number } | undefined {
  for (const stage of config.stages) {
    const data = (stage as { data?: { source: string; file?: string; valFile?: string; maxTokens?: number }[] }).data ?? [];
    const hit = data.find((s) => s.source === 'llava' && [s.file, s.valFile].some((f) => f !== undefined && resolve(f) === resolve(file)));
    if (hit) return hit;
  }
  return undefined;
}

/**
 * `mllm lint-data`: every check LlavaDataset makes (schema, turns, placeholders, image paths),
 * every image decoded, and with a config the length of each sample after image expansion.
 */
export async function lintData(file: string, options: LintOptions = {}): Promise<LintReport> {
  const dataset = await LlavaDataset.open(file, {
    ...(options.imageDir !== undefined && { imageDir: options.imageDir }),
    onBadSample: 'skip',
    checkImages: 'decode',
    ...(options.maxPixels !== undefined && { maxPixels: options.maxPixels }),
  });
  const show = options.show ?? 3;
  const report: LintReport = { file, imageDir: dataset.imageDir, samples: dataset.records.length + dataset.skipped.length, bad: [...dataset.skipped], tooLong: [], rendered: [], problems: 0 };

  let measure: ((r: LlavaRecord) => Promise<{ tokens: number; imageTokens: number; unknown: boolean; pieces: { text: string; trained: boolean }[] }>) | undefined;
  let maxLength = options.maxLength;
  let disposeModel: (() => void) | undefined;
  if (options.configPath) {
    const { registry, raw } = await registryFor(await loadConfig(options.configPath), dirname(options.configPath));
    const config = parseRunConfig(raw, registry);
    maxLength ??= sourceFor(config, file)?.maxTokens;
    await initBackend({ backend: options.backend, logger: options.logger });
    // the tokenizer of a run that trains on this file: the Shapes corpus plus the file's text
    const corpus = [...createWorld(config).corpus(), ...dataset.records.flatMap((r) => r.conversations.map((t) => t.value))];
    const tokenizer = trainTokenizer(config.tokenizer, corpus);
    const { model } = createSession(config, registry, tokenizer);
    const perImage = model.tokensPerImage;
    // a tiled encoder gives an image the grid of its aspect ratio, and that grid's token count
    const canvasFor = model.encoder.canvasFor?.bind(model.encoder);
    const tokensOfCanvas = (canvas: { width: number; height: number }) => model.tokensFor({ pixels: new Float32Array(0), ...canvas });
    const imageTokensOf = async (r: LlavaRecord): Promise<number[]> => {
      if (!canvasFor) return r.images.map(() => perImage);
      return Promise.all(
        r.images.map(async (written) => {
          const where = resolveImagePath(dataset.imageDir, written);
          if (!('path' in where)) return perImage; // already reported as a bad sample
          const { width, height } = await readImageHeader(where.path);
          return tokensOfCanvas(canvasFor(width, height));
        }),
      );
    };
    disposeModel = () => model.dispose();
    measure = async (r) => {
      const { ids, lossMask } = applyChatTemplate(tokenizer, r.conversations);
      const imageTokens = (await imageTokensOf(r)).reduce((a, m) => a + m, 0);
      const images = ids.filter((id) => id === tokenizer.special.image).length;
      return {
        tokens: ids.length - images + imageTokens,
        imageTokens,
        unknown: ids.includes(tokenizer.special.unk),
        pieces: decodedRuns(tokenizer, ids, lossMask),
      };
    };
    report.tokens = { perImage, max: 0, mean: 0, withUnknownWords: 0, ...(maxLength !== undefined && { maxLength }) };
  }

  let total = 0;
  for (const record of dataset.records) {
    const m = await measure?.(record);
    if (m && report.tokens) {
      total += m.tokens;
      report.tokens.max = Math.max(report.tokens.max, m.tokens);
      if (m.unknown) report.tokens.withUnknownWords++;
      if (maxLength !== undefined && m.tokens > maxLength)
        report.tooLong.push({ file: record.file, line: record.line, id: record.id, tokens: m.tokens, imageTokens: m.imageTokens });
    }
    if (report.rendered.length < show)
      report.rendered.push({ file: record.file, line: record.line, id: record.id, text: markTrained(m?.pieces ?? templatePieces(record.conversations)) });
  }
  disposeModel?.();
  if (report.tokens && dataset.records.length) report.tokens.mean = total / dataset.records.length;
  report.problems = report.bad.length + report.tooLong.length;
  return report;
}

export function formatLintReport(r: LintReport): string {
  const lines = [`lint-data ${r.file} (images in ${r.imageDir})`];
  if (r.bad.length || r.tooLong.length) {
    const problems = [
      ...r.bad.map((b) => ({ line: b.line, text: `${b.file}:${b.line}: ${b.reason}` })),
      ...r.tooLong.map((t) => ({
        line: t.line,
        text: `${t.file}:${t.line}: sample "${t.id}": ${t.tokens} tokens (${t.imageTokens} of them image tokens), over the max length ${r.tokens!.maxLength}; it would not fit a training batch`,
      })),
    ].sort((a, b) => a.line - b.line);
    lines.push('', 'problems:', ...problems.map((p) => `  ${p.text}`));
  }
  if (r.tokens) {
    const t = r.tokens;
    lines.push(
      '',
      `lengths after image expansion (${t.perImage} tokens per image): max ${t.max}, mean ${t.mean.toFixed(1)}; ` +
        (t.maxLength !== undefined ? `${r.tooLong.length} over the max length ${t.maxLength}` : 'no max length known: pass --max-length N to check truncation'),
    );
    if (t.withUnknownWords) lines.push(`${t.withUnknownWords} samples hold words the tokenizer maps to <unk> (below tokenizer.minFrequency, or past tokenizer.maxVocab)`);
  }
  if (r.rendered.length) {
    lines.push('', `first ${r.rendered.length} sample${r.rendered.length === 1 ? '' : 's'} as the model reads ${r.rendered.length === 1 ? 'it' : 'them'}, trained tokens inside [[ ]]:`);
    for (const s of r.rendered) lines.push(`  ${s.file}:${s.line} "${s.id}":`, `    ${s.text}`);
  }
  const ok = r.samples - r.bad.length - r.tooLong.length;
  lines.push(
    '',
    `${r.samples} samples: ${ok} ok, ${r.bad.length} bad, ${r.tooLong.length} too long -> ${r.problems === 0 ? 'no problems' : `${r.problems} problem${r.problems === 1 ? '' : 's'}`}`,
  );
  return lines.join('\n');
}
