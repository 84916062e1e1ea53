import * as ort from './ort-loader';
import { OnnxModelError, REEXPORT_HINT, type OnnxManifest } from './manifest';
import { firstLine, openModelFolder } from './model-folder';
import { NEW_KEY_VALUES, visualTokensPerImage, type GraphRole } from './graph-contract';
import { HostKvCache } from './kv-cache';
import { PrefixKvCache } from './prefix-kv-cache';
import { TokenEmbeddingTable } from './token-embedding-table';
import { TokenPicker, checkSamplingOptions, positionsFromMask, type SamplingOptions } from '@mllm/llm/decoding';
import { HostMediaLayout } from './media-layout';

export { ortEngine, type OrtPackage } from './ort-loader';

/**
 * onnxruntime inference of a folder written by exportModel, on onnxruntime-node or, where that
 * is not installed, onnxruntime-web (./ort-loader). Imports nothing else but the tfjs-free
 * `@mllm/llm/decoding` (token picking, positions), zod (mllm.json) and onnx-proto (each graph's
 * inputs and outputs, checked on load): this file is the `@mllm/onnx/runtime` entry, loadable
 * without tfjs.
 * Shapes: B batch, T tokens, P cached tokens, D LLM width, V vocab, M visual tokens per image.
 */

export interface OnnxLoadOptions {
  /**
   * Intra-op threads per session. Default on onnxruntime-node: every CPU this process may use
   * (os.availableParallelism); onnxruntime-web keeps its own setting.
   * onnxruntime's own default counts physical cores as its CPU detection sees them, and on a
   * 2-core VM it ran one thread: a batch-1 decode, bound by reading the weights, then reads them
   * on one core (25.1 against 16.2 ms a token on two, docs/experiments/onnx-deploy.md). On a
   * machine shared with other work, fewer threads can decode faster.
   */
  threads?: number;
  /** Told once when onnxruntime-web stands in for onnxruntime-node (default: a Node process warning). */
  logger?: { warn(message: string): void };
}

/** One prompt: ids with one `<image>` id per image, images as HWC floats in [0, 1] at the encoder's size. */
export interface OnnxPrompt {
  ids: number[];
  images: Float32Array[];
}

export interface OnnxGenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** A row ends at the first of these ids (not included in its output). */
  stopTokens: number[];
  /** Called with each new token of each unfinished row, as it is picked. */
  onToken?: (row: number, id: number) => void;
}

type Past = Record<string, ort.Tensor>;

/** What a fusion connector's decoder input gets at one call. */
export interface FusionFeeds {
  /** adapter-prompts: [B, 1, D] per-row visual vector. */
  imagePrefix?: ort.Tensor;
  /** visual-expert: [B][T] 1 at this call's image positions. */
  imageTokenMask?: number[][];
  /** gated-cross-attention: each row's media keys [B, S, D] and where its images sit. */
  media?: { keys: ort.Tensor; layout: HostMediaLayout };
}

/** The exported model on onnxruntime: encoder + connector, token embeddings and the KV-cached decoder. */
export class OnnxMultimodalModel {
  private constructor(
    readonly manifest: OnnxManifest,
    /** Each graph's path, for messages. */
    private readonly files: Record<GraphRole, string>,
    private readonly visionEncoder: ort.InferenceSession,
    private readonly embedTokens: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession,
  ) {
    const d = manifest.llm.dim;
    this.tokenTable = new TokenEmbeddingTable(
      manifest.llm.vocabSize,
      d,
      async (first, n) => {
        const out = await this.run('embedTokens', { input_ids: int64(Array.from({ length: n }, (_, i) => first + i), [1, n]) });
        return this.output('embedTokens', out, 'inputs_embeds', [1, n, d]).data as Float32Array;
      },
      () => embedTokens.release(),
    );
  }

  private readonly tokenTable: TokenEmbeddingTable;

  static async load(dir: string, options: OnnxLoadOptions = {}): Promise<OnnxMultimodalModel> {
    ort.warnIfOrtFallback(options.logger);
    const { manifest, files, sessions } = await openModelFolder(dir, options.threads ?? ort.defaultIntraOpThreads());
    return new OnnxMultimodalModel(manifest, files, sessions.visionEncoder, sessions.embedTokens, sessions.decoder);
  }

  /** Runs one graph; an onnxruntime failure (a shape it refuses, a kernel error) names the file. */
  private async run(role: GraphRole, feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<Record<string, ort.Tensor>> {
    const session = role === 'visionEncoder' ? this.visionEncoder : role === 'embedTokens' ? this.embedTokens : this.decoder;
    try {
      return await (fetches ? session.run(feeds, fetches) : session.run(feeds));
    } catch (e) {
      throw new OnnxModelError(`${this.files[role]}: onnxruntime failed to run it (${firstLine(e)}); the graph does not fit mllm.json, ${REEXPORT_HINT}`);
    }
  }

  /** An output of a graph run, with the shape the runtime reads it as. */
  private output(role: GraphRole, out: Record<string, ort.Tensor>, name: string, dims: number[]): ort.Tensor {
    const value = out[name];
    if (!value || value.dims.length !== dims.length || value.dims.some((d, i) => d !== dims[i]))
      throw new OnnxModelError(
        `${this.files[role]}: output "${name}" is ${value ? `[${value.dims.join(', ')}]` : 'missing'} where mllm.json makes it [${dims.join(', ')}]; the graph and mllm.json come from different exports, ${REEXPORT_HINT}`,
      );
    return value;
  }

  get vocabSize(): number {
    return this.manifest.llm.vocabSize;
  }

  async release(): Promise<void> {
    await Promise.all([this.visionEncoder.release(), this.tokenTable.release(), this.decoder.release()]);
  }

  /** Images (HWC in [0, 1]) -> visual tokens [N, M, D]. */
  async encodeImages(images: Float32Array[]): Promise<ort.Tensor> {
    const { size, channels, mean, std } = this.manifest.image;
    const pixels = new Float32Array(images.length * channels * size * size);
    images.forEach((image, n) => {
      if (image.length !== size * size * channels)
        throw new OnnxModelError(`image ${n} has ${image.length} values; the encoder takes ${size}x${size}x${channels} (resize images to ${size}x${size})`);
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++)
          for (let c = 0; c < channels; c++) pixels[((n * channels + c) * size + y) * size + x] = (image[(y * size + x) * channels + c]! - mean[c]!) / std[c]!;
    });
    const out = await this.run('visionEncoder', { pixel_values: new ort.Tensor('float32', pixels, [images.length, channels, size, size]) });
    return this.output('visionEncoder', out, 'image_features', [images.length, visualTokensPerImage(this.manifest), this.manifest.llm.dim]);
  }

  /** Token ids [B][T] -> their embeddings [B, T, D], rows of the token-embedding graph's output. */
  async embed(ids: number[][]): Promise<ort.Tensor> {
    return this.tokenTable.lookup(ids);
  }

  /**
   * Left-padded prompt embeddings with each image's M tokens in place of its expanded
   * `<image>` placeholders, and the key mask: what MultimodalModel.generate feeds its LLM.
   * `fusion` holds what a fusion connector's decoder input needs: adapter prompts and gated
   * cross-attention leave `<image>` a text token and carry the images into every decoder call
   * (a per-row visual vector; per-row media keys with their layout), the visual expert marks the
   * spliced image positions.
   */
  async embedPrompts(prompts: OnnxPrompt[]): Promise<{ embeds: ort.Tensor; attentionMask: number[][]; inputIds: number[][]; fusion: FusionFeeds }> {
    const { imageTokenId, padId } = this.manifest.special;
    const m = this.manifest.image.tokensPerImage;
    const expanded = prompts.map((p, row) => {
      const count = p.ids.filter((id) => id === imageTokenId).length;
      if (count !== p.images.length) throw new OnnxModelError(`prompt ${row} has ${count} <image> tokens but ${p.images.length} images; each <image> needs exactly one image`);
      return p.ids.flatMap((id) => (id === imageTokenId ? new Array<number>(m).fill(id) : [id]));
    });
    const length = Math.max(...expanded.map((e) => e.length));
    const inputIds = expanded.map((e) => [...new Array<number>(length - e.length).fill(padId), ...e]);
    const attentionMask = expanded.map((e) => [...new Array<number>(length - e.length).fill(0), ...e.map(() => 1)]);
    const embeds = await this.embed(inputIds);
    const images = prompts.flatMap((p) => p.images);
    if (this.manifest.fusion?.type === 'adapter-prompts') return { embeds, attentionMask, inputIds, fusion: { imagePrefix: await this.rowVisuals(prompts) } };
    if (this.manifest.fusion?.type === 'gated-cross-attention') {
      // `<image>` stays a text token; its position is where the row's image becomes visible
      const starts = inputIds.flatMap((row, b) => row.flatMap((id, t) => (id === imageTokenId && attentionMask[b]![t] ? [[b, t] as [number, number]] : [])));
      const layout = new HostMediaLayout(starts, prompts.length, this.manifest.fusion.mediaTokens);
      const features = images.length > 0 ? ((await this.encodeImages(images)).data as Float32Array) : undefined;
      return { embeds, attentionMask, inputIds, fusion: { media: { keys: layout.media(features, this.manifest.llm.dim), layout } } };
    }
    if (images.length > 0) {
      const features = (await this.encodeImages(images)).data as Float32Array; // [N, M, D]
      const d = this.manifest.llm.dim;
      const data = embeds.data as Float32Array;
      let next = 0; // image tokens in prompt order, as HF's masked scatter
      inputIds.forEach((row, b) =>
        row.forEach((id, t) => {
          if (id === imageTokenId && attentionMask[b]![t]) data.set(features.subarray(next * d, ++next * d), (b * length + t) * d);
        }),
      );
    }
    // the visual expert routes exactly the spliced image positions
    const imageTokenMask = inputIds.map((row, b) => row.map((id, t) => (id === imageTokenId && attentionMask[b]![t] ? 1 : 0)));
    return { embeds, attentionMask, inputIds, fusion: this.manifest.fusion?.type === 'visual-expert' ? { imageTokenMask } : {} };
  }

  /** Adapter prompts: per row, the mean of its images' visual vectors [B, 1, D] (as AdapterPrompts.rowVisual). */
  private async rowVisuals(prompts: OnnxPrompt[]): Promise<ort.Tensor> {
    const d = this.manifest.llm.dim;
    const out = new Float32Array(prompts.length * d);
    const images = prompts.flatMap((p) => p.images);
    if (images.length > 0) {
      const vectors = (await this.encodeImages(images)).data as Float32Array; // [I, 1, D]
      let next = 0;
      prompts.forEach((p, row) => {
        const weight = Math.fround(1 / p.images.length);
        for (const _ of p.images) {
          for (let k = 0; k < d; k++) out[row * d + k] = Math.fround(out[row * d + k]! + Math.fround(weight * vectors[next * d + k]!));
          next++;
        }
      });
    }
    return new ort.Tensor('float32', out, [prompts.length, 1, d]);
  }

  private emptyPast(batch: number): Past {
    const { layers, kvHeads, headDim } = this.manifest.llm;
    const past: Past = {};
    for (let i = 0; i < layers; i++)
      for (const kind of ['key', 'value']) past[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [batch, kvHeads, 0, headDim]);
    return past;
  }

  /**
   * One decoder call: embeds [B, T, D] after `past` (P cached positions), full key mask [B][P+T]
   * -> logits [B, T, V] and the cache holding P+T positions.
   */
  async decode(embeds: ort.Tensor, attentionMask: number[][], past?: Past, fusion: FusionFeeds = {}): Promise<{ logits: ort.Tensor; past: Past }> {
    const [b] = embeds.dims as [number, number, number];
    this.realPositions(embeds, attentionMask); // refuses padding the graph cannot place
    const out = await this.run('decoder', this.decoderFeeds(embeds, attentionMask, past ?? this.emptyPast(b), fusion));
    const present: Past = {};
    for (const [name, value] of Object.entries(out)) if (name.startsWith('present.')) present[name.replace('present.', 'past_key_values.')] = value;
    return { logits: this.output('decoder', out, 'logits', [b, embeds.dims[1]!, this.vocabSize]), past: present };
  }

  /**
   * Each row's real positions among this call's T: the call's attention_mask columns hold a row's
   * padding first (left-padded). A decoder whose attention reads each row's cache as a prefix
   * (mllm.json `llm.cache` 'prefix', GroupQueryAttention) moves each row's tokens before its
   * padding itself, which is right only where nothing is cached yet: padding after cached
   * positions is refused here, as is padding after a row's tokens.
   */
  private realPositions(embeds: ort.Tensor, attentionMask: number[][]): number[] {
    const t = embeds.dims[1]!;
    const past = attentionMask[0]!.length - t;
    return attentionMask.map((row, r) => {
      const own = row.slice(past);
      const pad = own.indexOf(1) < 0 ? t : own.indexOf(1);
      if (this.manifest.llm.cache !== 'prefix') return t - pad;
      if (own.slice(pad).some((m) => m !== 1))
        throw new OnnxModelError(`attention_mask row ${r}: padding must come before a row's tokens (left-padded), got [${own.join(', ')}] for this call's ${t} positions`);
      if (pad === t && past === 0) throw new OnnxModelError(`attention_mask row ${r}: the row has no tokens; every prompt needs at least one`);
      if (pad > 0 && past > 0)
        throw new OnnxModelError(`attention_mask row ${r}: this decoder (GroupQueryAttention, mllm.json llm.cache 'prefix') takes padding only in its first call, but ${pad} of this call's ${t} positions are padding after ${past} cached ones; start a new cache for a new prompt`);
      return t - pad;
    });
  }

  /**
   * Whether steps() can keep the cache itself: the decoder returns each call's own keys and values
   * (`new_key_values.*`) right after the logits. onnxruntime-node 1.21 names fetched outputs by
   * their place among all the session's outputs, so a fetch of some outputs is only read right
   * when they are the first ones; an export without them (or in another order) decodes through
   * `present.*`.
   */
  private get hasNewKeyValues(): boolean {
    const wanted = ['logits', ...this.cacheNames().map((name) => name.replace('past_key_values', NEW_KEY_VALUES))];
    return wanted.every((name, i) => this.decoder.outputNames[i] === name);
  }

  /** The decoder's past inputs, `past_key_values.{i}.{key,value}` in layer order. */
  private cacheNames(): string[] {
    return Array.from({ length: this.manifest.llm.layers }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();
  }

  /**
   * decode() on a PrefixKvCache: feeds its whole buffers, fetches only the logits and this call's
   * keys and values, and writes those behind each row's cached ones.
   */
  private async decodeIntoPrefix(embeds: ort.Tensor, attentionMask: number[][], cache: PrefixKvCache, fusion: FusionFeeds = {}): Promise<ort.Tensor> {
    const [b, t] = embeds.dims as [number, number, number];
    const real = this.realPositions(embeds, attentionMask);
    const stepNames = cache.names.map((name) => name.replace('past_key_values', NEW_KEY_VALUES));
    const out = await this.run('decoder', this.decoderFeeds(embeds, attentionMask, cache.feeds(), fusion), ['logits', ...stepNames]);
    // the new keys and values come real positions first, as the graph moved them
    cache.append(Object.fromEntries(cache.names.map((name, i) => [name, out[stepNames[i]!]!])), real);
    return this.output('decoder', out, 'logits', [b, t, this.vocabSize]);
  }

  /**
   * decode() on a HostKvCache: feeds views of it, fetches only the logits and this call's keys
   * and values (onnxruntime-node copies each fetched output; `present.*` would be the whole
   * cache), and appends those to it.
   */
  private async decodeCached(embeds: ort.Tensor, attentionMask: number[][], cache: HostKvCache, fusion: FusionFeeds = {}): Promise<ort.Tensor> {
    const [b, t] = embeds.dims as [number, number, number];
    const fetches = ['logits', ...cache.names.map((name) => name.replace('past_key_values', NEW_KEY_VALUES))];
    const out = await this.run('decoder', this.decoderFeeds(embeds, attentionMask, cache.feeds(), fusion), fetches);
    cache.append(Object.fromEntries(cache.names.map((name) => [name, out[name.replace('past_key_values', NEW_KEY_VALUES)]!])));
    return this.output('decoder', out, 'logits', [b, t, this.vocabSize]);
  }

  private decoderFeeds(embeds: ort.Tensor, attentionMask: number[][], past: Past, fusion: FusionFeeds): Record<string, ort.Tensor> {
    const [b, t] = embeds.dims as [number, number, number];
    const length = attentionMask[0]!.length;
    if (length > this.manifest.llm.maxPositions)
      throw new OnnxModelError(`a sequence of ${length} tokens is longer than the export's RoPE table (mllm.json llm.maxPositions ${this.manifest.llm.maxPositions}); re-export with a larger --max-positions`);
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: embeds,
      attention_mask: int64(attentionMask.flat(), [b, attentionMask[0]!.length]),
      position_ids: int64(positionsFromMask(attentionMask, t).flat(), [b, t]),
      ...past,
    };
    if (this.manifest.fusion?.type === 'adapter-prompts') {
      const d = this.manifest.llm.dim;
      feeds.image_prefix_features = fusion.imagePrefix ?? new ort.Tensor('float32', new Float32Array(b * d), [b, 1, d]);
    }
    if (this.manifest.fusion?.type === 'gated-cross-attention') {
      const layout = fusion.media?.layout ?? new HostMediaLayout([], b, this.manifest.fusion.mediaTokens);
      const { mask, present } = layout.masks(attentionMask[0]!.length - t, t);
      Object.assign(feeds, { media: fusion.media?.keys ?? layout.media(undefined, this.manifest.llm.dim), media_mask: mask, media_present: present });
    }
    if (this.manifest.fusion?.type === 'visual-expert')
      feeds.image_token_mask = new ort.Tensor('float32', fusion.imageTokenMask ? Float32Array.from(fusion.imageTokenMask.flat()) : new Float32Array(b * t), [b, t]);
    return feeds;
  }

  /** Logits [B, T, V] of whole prompts in one call (no cache): the parity check's prefill. */
  async promptLogits(prompts: OnnxPrompt[]): Promise<ort.Tensor> {
    const { embeds, attentionMask, fusion } = await this.embedPrompts(prompts);
    return (await this.decode(embeds, attentionMask, undefined, fusion)).logits;
  }

  /**
   * Decoding with the KV cache: one prefill over the prompts, then one token per step; yields
   * each step's picked ids ([B]) and which rows had already finished before it.
   */
  async *steps(prompts: OnnxPrompt[], options: OnnxGenerateOptions): AsyncGenerator<{ ids: number[]; finished: boolean[] }> {
    checkSamplingOptions(options, this.vocabSize);
    const { embeds, attentionMask, inputIds, fusion } = await this.embedPrompts(prompts);
    // decode steps see the adapter's visual vector again; their new tokens are never image positions
    const stepFusion: FusionFeeds = { imagePrefix: fusion.imagePrefix, media: fusion.media };
    const picker = new TokenPicker(options, inputIds.length, inputIds, attentionMask);
    const b = prompts.length;
    const v = this.vocabSize;
    let mask = attentionMask;
    // the cache stays in this process where the export returns each call's new keys and values:
    // each row's as a prefix of a fixed buffer on GroupQueryAttention, else appended to all rows
    const { kvHeads, headDim } = this.manifest.llm;
    const reserve = mask[0]!.length + options.maxNewTokens;
    const prefix = this.manifest.llm.cache === 'prefix' && this.hasNewKeyValues ? new PrefixKvCache(this.cacheNames(), { batch: b, kvHeads, headDim, capacity: reserve }) : undefined;
    const cache = !prefix && this.hasNewKeyValues ? new HostKvCache(this.cacheNames(), { batch: b, kvHeads, headDim, reserve }) : undefined;
    let past: Past | undefined;
    const call = async (input: ort.Tensor, callFusion: FusionFeeds): Promise<ort.Tensor> => {
      if (prefix) return this.decodeIntoPrefix(input, mask, prefix, callFusion);
      if (cache) return this.decodeCached(input, mask, cache, callFusion);
      const out = await this.decode(input, mask, past, callFusion);
      past = out.past;
      return out.logits;
    };
    let lastRows = lastPosition(await call(embeds, fusion), v);
    const done = new Array<boolean>(b).fill(false);
    for (let step = 0; step < options.maxNewTokens; step++) {
      const next = picker.pick(lastRows);
      const finished = [...done];
      next.forEach((id, i) => {
        if (!done[i] && options.stopTokens.includes(id)) done[i] = true;
      });
      yield { ids: next, finished };
      if (done.every(Boolean) || step === options.maxNewTokens - 1) break;
      mask = mask.map((row) => [...row, 1]);
      lastRows = lastPosition(await call(await this.embed(next.map((id) => [id])), stepFusion), v);
    }
  }

  /** New token ids per prompt (stop tokens excluded), as MultimodalModel.generate returns them. */
  async generate(prompts: OnnxPrompt[], options: OnnxGenerateOptions): Promise<number[][]> {
    const outputs: number[][] = prompts.map(() => []);
    for await (const { ids, finished } of this.steps(prompts, options))
      ids.forEach((id, row) => {
        if (finished[row] || options.stopTokens.includes(id)) return;
        outputs[row]!.push(id);
        options.onToken?.(row, id);
      });
    return outputs;
  }

  /** Streams one prompt's new tokens as they are decoded. */
  async *stream(prompt: OnnxPrompt, options: OnnxGenerateOptions): AsyncGenerator<number> {
    for await (const { ids } of this.steps([prompt], options)) {
      if (options.stopTokens.includes(ids[0]!)) return;
      yield ids[0]!;
    }
  }
}

function int64(values: number[], dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

/** The last position's logits of each row, [B][V]. */
function lastPosition(logits: ort.Tensor, v: number): Float32Array[] {
  const [b, t] = logits.dims as [number, number, number];
  const data = logits.data as Float32Array;
  return Array.from({ length: b }, (_, i) => data.subarray((i * t + t - 1) * v, (i * t + t) * v));
}
