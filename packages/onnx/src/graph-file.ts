import { open, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { MllmError } from '@mllm/core';
import type { GraphBuilder } from './graph-builder';

/**
 * Writing one graph to disk, its weights inside the .onnx file or, past what one protobuf
 * message can hold, in ONNX's external data format: `<name>.onnx_data` beside it, the file
 * name transformers.js asks for when config.json's `use_external_data_format` names the graph
 * and the one onnxruntime opens from the initializers' `location`.
 */

/** Protobuf refuses messages of 2 GiB or more; 64 MiB is left for the nodes and small tensors. */
export const INLINE_WEIGHT_LIMIT = 2 ** 31 - 2 ** 26;

/**
 * Where 'auto' moves weights out: a graph inlined is encoded into one protobuf buffer, a second
 * copy of its weights beside the model's own, which for a 1.5 GB decoder (SmolLM2-360M in fp32)
 * took the export past 5 GB resident; external data is written from the weights' own buffers.
 */
export const AUTO_EXTERNAL_BYTES = 2 ** 30;

/** 'auto': external data for a graph of more than AUTO_EXTERNAL_BYTES of weights; true: always; false: never (refused past INLINE_WEIGHT_LIMIT). */
export type ExternalDataChoice = 'auto' | boolean;

/** The external data file of the graph at `path`: `decoder_model_merged.onnx_data` beside `decoder_model_merged.onnx`. */
export const externalDataPath = (path: string): string => `${path}_data`;

/**
 * Serializes `graph` to `path`; returns true when its weights went to the external data file.
 * The weights are written piece by piece from the builder's own buffers, so a large graph is
 * never copied into one protobuf buffer.
 */
export async function writeGraphFile(graph: GraphBuilder, path: string, choice: ExternalDataChoice): Promise<boolean> {
  const bytes = graph.initializerBytes;
  const external = choice === true || (choice === 'auto' && bytes > AUTO_EXTERNAL_BYTES);
  if (!external) {
    if (bytes > INLINE_WEIGHT_LIMIT)
      throw new MllmError(
        `exportModel: ${basename(path)} holds ${(bytes / 2 ** 30).toFixed(2)} GiB of weights, more than one ONNX protobuf can (2 GiB); export with externalData 'auto' or true (weights in ${basename(externalDataPath(path))}), or smaller weights (--dtype fp16 or int8)`,
      );
    await writeFile(path, graph.serialize());
    return false;
  }
  const { model, data } = graph.serializeExternal(basename(externalDataPath(path)));
  await writeFile(path, model);
  const handle = await open(externalDataPath(path), 'w');
  try {
    // writeFile on a handle writes all of it from the current position (write() may stop short)
    for (const piece of data) await handle.writeFile(piece);
  } finally {
    await handle.close();
  }
  return true;
}
