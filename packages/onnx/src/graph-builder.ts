import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Opset of every exported graph: 17 is the first with LayerNormalization. */
export const OPSET = 17;

/** onnxruntime's contrib ops (GroupQueryAttention, SkipSimplifiedLayerNormalization), opset version 1. */
export const CONTRIB_DOMAIN = 'com.microsoft';

export type ElementType = 'float32' | 'float16' | 'int64' | 'int8' | 'bool';

const ELEMENT_TYPES: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int8: onnx.TensorProto.DataType.INT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** How weight matrices are stored; compute stays float32 (weight-only compression). */
export type WeightFormat = 'fp32' | 'fp16' | 'int8';

/** A node attribute with its ONNX type said explicitly (a JS number is both int and float). */
export type Attr = { int: number } | { float: number } | { ints: number[] } | { string: string };

/** A dimension: a fixed size or a symbolic name (`batch`, `past_sequence_length`). */
export type Dim = number | string;

/**
 * Minimal ONNX graph builder over onnx-proto: named inputs/outputs, initializers and nodes
 * in topological order (the order they are added). Every helper returns the name of the
 * value it produces, so graphs read like the tfjs forward they mirror.
 */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly constants = new Map<string, string>();
  /** Weights already added, by name: a layer used twice (a prefix through the same k/v) shares one initializer. */
  private readonly weights = new Set<string>();
  private counter = 0;
  /** Op domains other than the default one that the nodes use (each gets an opset import). */
  private readonly domains = new Set<string>();

  constructor(readonly name: string, readonly weightFormat: WeightFormat = 'fp32') {}

  input(name: string, type: ElementType, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declares `value` a graph output called `name` (an Identity renames it when needed). */
  output(value: string, name: string, type: ElementType, dims: Dim[]): void {
    if (value !== name) this.op('Identity', [value], {}, name);
    this.outputs.push(valueInfo(name, type, dims));
  }

  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, outputName?: string): string {
    const out = outputName ?? `${opType.toLowerCase()}_${this.counter++}`;
    this.nodes.push({
      opType,
      name: `${opType}_${this.counter++}`,
      input: inputs,
      output: [out],
      attribute: Object.entries(attrs).map(([name, a]) => attribute(name, a)),
    });
    return out;
  }

  /** An op with several outputs (Split); `names[i]`, where given, names output i (a graph output then needs no Identity). */
  opMulti(opType: string, inputs: string[], count: number, attrs: Record<string, Attr> = {}, names: (string | undefined)[] = []): string[] {
    const outs = Array.from({ length: count }, (_, i) => names[i] ?? `${opType.toLowerCase()}_${this.counter++}`);
    this.nodes.push({ opType, name: `${opType}_${this.counter++}`, input: inputs, output: outs, attribute: Object.entries(attrs).map(([n, a]) => attribute(n, a)) });
    return outs;
  }

  /**
   * An onnxruntime contrib op (domain com.microsoft, version 1): one fused kernel where the
   * standard ops take many nodes. `outputs` has one entry per output: a name, undefined for a
   * fresh one, or '' to leave an optional output out. The graph then imports the com.microsoft opset, which
   * the ONNX checker accepts without a schema (a custom domain) and onnxruntime, onnxruntime-web
   * and transformers.js run.
   */
  contribOp(opType: string, inputs: string[], outputs: (string | undefined)[], attrs: Record<string, Attr> = {}): string[] {
    const outs = outputs.map((name) => name ?? `${opType.toLowerCase()}_${this.counter++}`);
    this.nodes.push({ opType, domain: CONTRIB_DOMAIN, name: `${opType}_${this.counter++}`, input: inputs, output: outs, attribute: Object.entries(attrs).map(([n, a]) => attribute(n, a)) });
    this.domains.add(CONTRIB_DOMAIN);
    return outs;
  }

  /** A float32 tensor stored at full precision (norm weights, biases, tables). */
  floatTensor(name: string, data: Float32Array, dims: number[]): string {
    if (this.weights.has(name)) return name;
    this.weights.add(name);
    this.initializers.push(tensor(name, 'float32', new Uint8Array(data.buffer, data.byteOffset, data.byteLength), dims));
    return name;
  }

  /**
   * A weight matrix stored in this graph's weight format and read back as float32: fp16 via
   * Cast, int8 symmetric per slice of `axis` (one scale per output column of a MatMul weight,
   * per row of an embedding table) via DequantizeLinear.
   */
  weight(name: string, data: Float32Array, dims: number[], axis = dims.length - 1): string {
    if (this.weightFormat === 'fp32' || dims.length !== 2 || this.weights.has(name)) return this.floatTensor(name, data, dims);
    this.weights.add(name);
    if (this.weightFormat === 'fp16') {
      const half = toFloat16(data);
      this.initializers.push(tensor(`${name}_fp16`, 'float16', new Uint8Array(half.buffer), dims));
      return this.op('Cast', [`${name}_fp16`], { to: { int: ELEMENT_TYPES.float32 } }, name);
    }
    const { values, scales } = quantizeInt8(data, dims as [number, number], axis);
    this.initializers.push(tensor(`${name}_int8`, 'int8', new Uint8Array(values.buffer), dims));
    this.floatTensor(`${name}_scale`, scales, [scales.length]);
    this.initializers.push(tensor(`${name}_zero`, 'int8', new Uint8Array(scales.length), [scales.length]));
    return this.op('DequantizeLinear', [`${name}_int8`, `${name}_scale`, `${name}_zero`], { axis: { int: axis } }, name);
  }

  /** A small constant, deduplicated by value. */
  constFloat(values: number[], dims: number[] = [values.length]): string {
    return this.constant('float32', values, dims);
  }

  constInt64(values: number[], dims: number[] = [values.length]): string {
    return this.constant('int64', values, dims);
  }

  private constant(type: 'float32' | 'int64', values: number[], dims: number[]): string {
    const key = `${type}:${dims.join('x')}:${values.join(',')}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const name = `const_${this.counter++}`;
    const bytes =
      type === 'float32'
        ? new Uint8Array(Float32Array.from(values).buffer)
        : new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
    this.initializers.push(tensor(name, type, bytes, dims));
    this.constants.set(key, name);
    return name;
  }

  /** Bytes of every initializer: whether the graph fits one protobuf message (2 GiB at most). */
  get initializerBytes(): number {
    return this.initializers.reduce((sum, t) => sum + (t.rawData?.length ?? 0), 0);
  }

  /** The model as ONNX protobuf bytes, weights inside. */
  serialize(producer = '@mllm/onnx'): Uint8Array {
    return this.encode(this.initializers, producer);
  }

  /**
   * The model in ONNX's external data format: every initializer of EXTERNAL_MIN_BYTES or more
   * moves to the file `location` (a name beside the .onnx file) at a 4 kB-aligned offset, and
   * its TensorProto keeps only `location`/`offset`/`length`. `data` are that file's pieces in
   * order (the weights' own bytes, not copies), to be written one after another.
   */
  serializeExternal(location: string, producer = '@mllm/onnx'): { model: Uint8Array; data: Uint8Array[] } {
    const data: Uint8Array[] = [];
    let offset = 0;
    const initializers = this.initializers.map((t): onnxProto.onnx.ITensorProto => {
      const raw = t.rawData!;
      if (raw.length < EXTERNAL_MIN_BYTES) return t;
      const padding = (EXTERNAL_ALIGN - (offset % EXTERNAL_ALIGN)) % EXTERNAL_ALIGN;
      if (padding) data.push(new Uint8Array(padding));
      offset += padding;
      data.push(raw);
      const entry = { name: t.name, dataType: t.dataType, dims: t.dims, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL };
      const external = [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.length) },
      ];
      offset += raw.length;
      return { ...entry, externalData: external };
    });
    return { model: this.encode(initializers, producer), data };
  }

  private encode(initializers: onnxProto.onnx.ITensorProto[], producer: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: producer,
      opsetImport: [{ domain: '', version: OPSET }, ...[...this.domains].map((domain) => ({ domain, version: 1 }))],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

/** Initializers this small stay inside the .onnx file (norm weights, constants), as Optimum's size_threshold. */
export const EXTERNAL_MIN_BYTES = 1024;
/** Offsets in the external data file are page-aligned, so onnxruntime can map the weights instead of copying them. */
const EXTERNAL_ALIGN = 4096;

function valueInfo(name: string, type: ElementType, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPES[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function tensor(name: string, type: ElementType, rawData: Uint8Array, dims: number[]): onnxProto.onnx.ITensorProto {
  return { name, dataType: ELEMENT_TYPES[type], dims, rawData };
}

function attribute(name: string, a: Attr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in a) return { name, type: T.INT, i: a.int };
  if ('float' in a) return { name, type: T.FLOAT, f: a.float };
  if ('ints' in a) return { name, type: T.INTS, ints: a.ints };
  return { name, type: T.STRING, s: new TextEncoder().encode(a.string) };
}

/** IEEE 754 binary16 bits of each value, round to nearest even. */
export function toFloat16(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < data.length; i++) {
    f[0] = data[i]!;
    const x = u[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let half = mant >>> shift;
      const rest = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      if (rest > mid || (rest === mid && half & 1)) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
    out[i] = sign | half;
  }
  return out;
}

/** Symmetric int8 per slice along `axis` of a 2-D matrix: w ~ q * scale, |q| <= 127. */
export function quantizeInt8(data: Float32Array, [rows, cols]: [number, number], axis: number): { values: Int8Array; scales: Float32Array } {
  const n = axis === 0 ? rows : cols;
  const max = new Float32Array(n);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const k = axis === 0 ? r : c;
      max[k] = Math.max(max[k]!, Math.abs(data[r * cols + c]!));
    }
  const scales = max.map((m) => (m > 0 ? m / 127 : 1));
  const values = new Int8Array(data.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) values[r * cols + c] = Math.round(data[r * cols + c]! / scales[axis === 0 ? r : c]!);
  return { values, scales };
}
