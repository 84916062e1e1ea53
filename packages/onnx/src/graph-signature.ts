import { open, type FileHandle } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { OnnxModelError, REEXPORT_HINT } from './manifest';

const { onnx } = onnxProto;

/**
 * The inputs and outputs of an .onnx file with their element types and shapes, read from the
 * model proto (onnx-proto decodes each input's and output's ValueInfoProto): onnxruntime 1.21's
 * InferenceSession exposes only their names.
 */

/** A dimension: a fixed size, a symbolic name (`batch_size`), or unknown. */
export type SignatureDim = number | string | undefined;

export interface ValueSignature {
  name: string;
  /** `float32`, `int64`, ... (`type N` for element types the runtime never feeds). */
  type: string;
  /** Undefined when the graph declares no shape. */
  dims?: SignatureDim[];
}

export interface GraphSignature {
  inputs: ValueSignature[];
  outputs: ValueSignature[];
}

const TYPE_NAMES: Record<number, string> = {
  [onnx.TensorProto.DataType.FLOAT]: 'float32',
  [onnx.TensorProto.DataType.FLOAT16]: 'float16',
  [onnx.TensorProto.DataType.DOUBLE]: 'float64',
  [onnx.TensorProto.DataType.INT64]: 'int64',
  [onnx.TensorProto.DataType.INT32]: 'int32',
  [onnx.TensorProto.DataType.INT8]: 'int8',
  [onnx.TensorProto.DataType.BOOL]: 'bool',
};

/**
 * Reads the graph's inputs and outputs from the .onnx file at `path` (named `file` in messages),
 * seeking past nodes and initializers instead of reading them: reading a 100 MB decoder whole
 * took about a second here, as long as onnxruntime's own load, the walk below a few ms. Graph
 * inputs that are initializers (IR version < 4) are not told apart: such a file is not an export.
 * An unreadable or graph-less file is an OnnxModelError naming it.
 */
export async function readGraphSignature(path: string, file: string): Promise<GraphSignature> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const fields = new FieldReader(handle);
    const inputs: ValueSignature[] = [];
    const outputs: ValueSignature[] = [];
    let graphs = 0;
    let nodes = 0;
    try {
      // ModelProto.graph = 7; GraphProto.node = 1, input = 11, output = 12
      for (const model of await fields.walk(0, size)) {
        if (model.field !== 7) continue;
        graphs++;
        for (const graph of await fields.walk(model.start, model.end)) {
          if (graph.field === 1) nodes++;
          if (graph.field === 11 || graph.field === 12)
            (graph.field === 11 ? inputs : outputs).push(valueSignature(onnx.ValueInfoProto.decode(await fields.bytes(graph.start, graph.end))));
        }
      }
    } catch (e) {
      throw new OnnxModelError(`${file}: not a readable ONNX model (${(e as Error).message}); the file is truncated or corrupt, ${REEXPORT_HINT}`);
    }
    if (graphs !== 1 || nodes === 0 || outputs.length === 0)
      throw new OnnxModelError(`${file}: not an ONNX model (no graph with nodes and outputs); the file is corrupt or of another format, ${REEXPORT_HINT}`);
    return { inputs, outputs };
  } finally {
    await handle.close();
  }
}

const WINDOW_BYTES = 64 * 1024;

/** A length-delimited field of a protobuf message: its number and where its bytes lie in the file. */
interface FieldSpan {
  field: number;
  start: number;
  end: number;
}

/** Protobuf wire format (tag varint, then a varint, 8 bytes, a length and bytes, or 4 bytes) read by position from a file. */
class FieldReader {
  /** The last 64 kB read: consecutive small fields (nodes, tags, lengths) cost one read, not one each. */
  private window = { start: 0, data: new Uint8Array(0) };

  constructor(private readonly handle: FileHandle) {}

  async bytes(start: number, end: number): Promise<Uint8Array> {
    const { window } = this;
    if (start >= window.start && end <= window.start + window.data.length) return window.data.subarray(start - window.start, end - window.start);
    const length = Math.max(end - start, WINDOW_BYTES);
    const data = new Uint8Array(length);
    const { bytesRead } = await this.handle.read(data, 0, length, start);
    if (bytesRead < end - start) throw new Error(`unexpected end of file at byte ${start + bytesRead}`);
    this.window = { start, data: data.subarray(0, bytesRead) };
    return data.subarray(0, end - start);
  }

  /** The length-delimited fields of the message in [start, end); other wire types are skipped. */
  async walk(start: number, end: number): Promise<FieldSpan[]> {
    const spans: FieldSpan[] = [];
    let pos = start;
    while (pos < end) {
      const [tag, afterTag] = await this.varint(pos, end);
      const wire = tag % 8;
      if (wire === 0) pos = (await this.varint(afterTag, end))[1];
      else if (wire === 1) pos = afterTag + 8;
      else if (wire === 5) pos = afterTag + 4;
      else if (wire === 2) {
        const [length, body] = await this.varint(afterTag, end);
        pos = body + length;
        spans.push({ field: Math.floor(tag / 8), start: body, end: pos });
      } else throw new Error(`invalid wire type ${wire} at byte ${pos}`);
      if (pos > end) throw new Error(`field ${Math.floor(tag / 8)} runs past the end of its message (byte ${pos} of ${end})`);
    }
    return spans;
  }

  /** A varint at `pos` (at most 2^53: lengths and tags) and the position after it. */
  private async varint(pos: number, end: number): Promise<[number, number]> {
    const bytes = await this.bytes(pos, Math.min(pos + 10, end));
    let value = 0;
    for (let i = 0; i < bytes.length; i++) {
      value += (bytes[i]! & 0x7f) * 2 ** (7 * i);
      if (bytes[i]! < 0x80) return [value, pos + i + 1];
    }
    throw new Error(`malformed varint at byte ${pos}`);
  }
}

function valueSignature(value: onnxProto.onnx.ValueInfoProto): ValueSignature {
  const tensor = value.type?.tensorType;
  const elemType = tensor?.elemType ?? 0;
  // decoded messages say which member of the oneof is set (unset fields read as their defaults)
  const dims = tensor?.shape?.dim?.map((d): SignatureDim => {
    const dim = d as onnxProto.onnx.TensorShapeProto.Dimension;
    return dim.value === 'dimValue' ? Number(dim.dimValue) : dim.value === 'dimParam' ? dim.dimParam! : undefined;
  });
  return { name: value.name ?? '', type: TYPE_NAMES[elemType] ?? `type ${elemType}`, ...(dims && { dims }) };
}

/** `[batch_size, 3, 8, 8]`: a shape as the messages show it. */
export function formatDims(dims: SignatureDim[] | undefined): string {
  return dims ? `[${dims.map((d) => d ?? '?').join(', ')}]` : '(no shape)';
}
