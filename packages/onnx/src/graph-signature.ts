import onnxProto from 'onnx-proto';
import { OnnxModelError, REEXPORT_HINT } from './manifest';

const { onnx } = onnxProto;

/**
 * The inputs and outputs of an .onnx file with their element types and shapes, read from the
 * model proto: onnxruntime 1.21's InferenceSession exposes only their names.
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

/** Decodes `bytes` (the contents of `file`); an unreadable or graph-less file is an OnnxModelError naming it. */
export function readGraphSignature(bytes: Uint8Array, file: string): GraphSignature {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxModelError(`${file}: not a readable ONNX model (${(e as Error).message}); the file is truncated or corrupt, ${REEXPORT_HINT}`);
  }
  const graph = model.graph as onnxProto.onnx.GraphProto | null;
  if (!graph || graph.node.length === 0 || graph.output.length === 0)
    throw new OnnxModelError(`${file}: not an ONNX model (no graph with nodes and outputs); the file is corrupt or of another format, ${REEXPORT_HINT}`);
  // models of IR version < 4 list their initializers among the inputs; onnxruntime does not ask for them
  const initializers = new Set(graph.initializer.map((t) => t.name));
  return {
    inputs: graph.input.filter((v) => !initializers.has(v.name)).map((v) => valueSignature(v as onnxProto.onnx.ValueInfoProto)),
    outputs: graph.output.map((v) => valueSignature(v as onnxProto.onnx.ValueInfoProto)),
  };
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
