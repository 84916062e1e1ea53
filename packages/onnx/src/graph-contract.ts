import { OnnxModelError, REEXPORT_HINT, type OnnxManifest } from './manifest';
import { formatDims, type GraphSignature, type SignatureDim, type ValueSignature } from './graph-signature';

/**
 * What each graph of an export must take and give, derived from mllm.json, and the check of a
 * graph's signature against it: an edited `tokensPerImage`, `dim`, `vocabSize`, image size or
 * head shape is refused naming the field and the value the graph has, a swapped or foreign
 * file naming what it takes instead. Shapes: B batch, T tokens, S keys, P cached tokens,
 * M visual tokens per image, D LLM width, V vocabulary.
 */

export type GraphRole = keyof OnnxManifest['files'];

/** A dimension the manifest fixes (its field and value), one the runtime fixes (no field), or null where the export writes a symbolic one. */
type ExpectedDim = { field?: string; value: number } | null;

interface ExpectedValue {
  name: string;
  type: 'float32' | 'int64';
  dims: ExpectedDim[];
}

export interface GraphContract {
  inputs: ExpectedValue[];
  outputs: ExpectedValue[];
}

/** Why a field and a graph disagree, and the fix. */
const EDITED = `mllm.json was edited or the files come from different exports, ${REEXPORT_HINT}`;

/**
 * Prefix of the decoder's optional outputs holding each call's own keys and values,
 * `new_key_values.{i}.{key,value}` [B, Hkv, T, dh], read by the runtime's host-side cache (HostKvCache);
 * folders exported before them decode through `present.*`. Not `present...`: transformers.js
 * takes every output named `present*` into its cache.
 */
export const NEW_KEY_VALUES = 'new_key_values';

/** The input that tells each graph of an export apart. */
const ROLE_INPUT: Record<GraphRole, string> = { visionEncoder: 'pixel_values', embedTokens: 'input_ids', decoder: 'inputs_embeds' };
const ROLE_NAME: Record<GraphRole, string> = { visionEncoder: 'vision encoder', embedTokens: 'token embedding', decoder: 'decoder' };

/** The decoder inputs each fusion connector adds (beyond inputs_embeds, masks, positions and the cache). */
export const FUSION_INPUTS = { 'adapter-prompts': ['image_prefix_features'], 'visual-expert': ['image_token_mask'], 'gated-cross-attention': ['media', 'media_mask', 'media_present'] } as const;

/** Visual tokens per image out of the vision encoder: one vector for adapter prompts, every encoder token for cross-attention. */
export function visualTokensPerImage({ fusion, image }: OnnxManifest): number {
  return fusion?.type === 'adapter-prompts' ? 1 : fusion?.type === 'gated-cross-attention' ? fusion.mediaTokens : image.tokensPerImage;
}

/** The three graphs' inputs and outputs as the runtime feeds and reads them, for `manifest`. */
export function graphContracts(manifest: OnnxManifest): Record<GraphRole, GraphContract> {
  const fixed = (field: string, value: number): ExpectedDim => ({ field, value });
  const any = null;
  const one: ExpectedDim = { value: 1 };
  const { image, llm, fusion } = manifest;
  const dim = fixed('llm.dim', llm.dim);
  const visualTokens = fixed(fusion?.type === 'adapter-prompts' ? 'fusion.type' : fusion?.type === 'gated-cross-attention' ? 'fusion.mediaTokens' : 'image.tokensPerImage', visualTokensPerImage(manifest));
  const cache = (kind: 'past_key_values' | 'present') =>
    Array.from({ length: llm.layers }, (_, i) =>
      (['key', 'value'] as const).map((part) => ({ name: `${kind}.${i}.${part}`, type: 'float32' as const, dims: [any, fixed('llm.kvHeads', llm.kvHeads), any, fixed('llm.headDim', llm.headDim)] })),
    ).flat();
  const fusionInputs: Record<string, ExpectedValue[]> = {
    'adapter-prompts': [{ name: 'image_prefix_features', type: 'float32', dims: [any, one, dim] }],
    'visual-expert': [{ name: 'image_token_mask', type: 'float32', dims: [any, any] }],
    'gated-cross-attention': [
      { name: 'media', type: 'float32', dims: [any, any, dim] },
      { name: 'media_mask', type: 'float32', dims: [any, one, any, any] },
      { name: 'media_present', type: 'float32', dims: [any, any, one] },
    ],
  };
  return {
    visionEncoder: {
      inputs: [{ name: 'pixel_values', type: 'float32', dims: [any, fixed('image.channels', image.channels), fixed('image.size', image.size), fixed('image.size', image.size)] }],
      outputs: [{ name: 'image_features', type: 'float32', dims: [any, visualTokens, dim] }],
    },
    embedTokens: {
      inputs: [{ name: 'input_ids', type: 'int64', dims: [any, any] }],
      outputs: [{ name: 'inputs_embeds', type: 'float32', dims: [any, any, dim] }],
    },
    decoder: {
      inputs: [
        { name: 'inputs_embeds', type: 'float32', dims: [any, any, dim] },
        { name: 'attention_mask', type: 'int64', dims: [any, any] },
        { name: 'position_ids', type: 'int64', dims: [any, any] },
        ...cache('past_key_values'),
        ...(fusion ? fusionInputs[fusion.type]! : []),
      ],
      outputs: [{ name: 'logits', type: 'float32', dims: [any, any, fixed('llm.vocabSize', llm.vocabSize)] }, ...cache('present')],
    },
  };
}

/** Where the messages point: mllm.json and each graph's file. */
export interface ContractPaths {
  manifestPath: string;
  files: Record<GraphRole, string>;
}

/** Throws an OnnxModelError at the first input or output of `signature` that does not fit the manifest. */
export function checkGraph(role: GraphRole, signature: GraphSignature, manifest: OnnxManifest, paths: ContractPaths): void {
  const file = paths.files[role];
  const names = (values: ValueSignature[]) => values.map((v) => v.name).join(', ') || 'none';
  const has = (name: string) => signature.inputs.some((v) => v.name === name);
  if (!has(ROLE_INPUT[role])) {
    const other = (Object.keys(ROLE_INPUT) as GraphRole[]).find((r) => r !== role && has(ROLE_INPUT[r]));
    const why = other
      ? `it takes the ${ROLE_NAME[other]}'s inputs: mllm.json files.${role} and files.${other} are swapped, or the files come from different exports`
      : 'not a graph of an `mllm export` folder';
    throw new OnnxModelError(`${file}: has no input "${ROLE_INPUT[role]}" (its inputs: ${names(signature.inputs)}); ${why}; ${REEXPORT_HINT}`);
  }
  if (role === 'decoder') checkDecoderLayout(signature, manifest, paths);
  const contract = graphContracts(manifest)[role];
  for (const [kind, expected, actual] of [
    ['input', contract.inputs, signature.inputs],
    ['output', contract.outputs, signature.outputs],
  ] as const)
    for (const want of expected) {
      const got = actual.find((v) => v.name === want.name);
      if (!got) throw new OnnxModelError(`${file}: has no ${kind} "${want.name}" (its ${kind}s: ${names(actual)}); the files come from different exports, ${REEXPORT_HINT}`);
      checkValue(`${file}: ${kind} "${want.name}"`, want, got, paths.manifestPath);
    }
  const fed = new Set(contract.inputs.map((v) => v.name));
  const extra = signature.inputs.find((v) => !fed.has(v.name));
  if (extra) throw new OnnxModelError(`${file}: takes input "${extra.name}", which the runtime does not feed for this mllm.json; the files come from different exports, ${REEXPORT_HINT}`);
}

/** The layer count and fusion inputs first: one wrong field there would otherwise read as many missing inputs. */
function checkDecoderLayout(signature: GraphSignature, manifest: OnnxManifest, paths: ContractPaths): void {
  const file = paths.files.decoder;
  const inputNames = signature.inputs.map((v) => v.name);
  const layers = inputNames.filter((n) => /^past_key_values\.\d+\.key$/.test(n)).length;
  if (layers !== manifest.llm.layers)
    throw new OnnxModelError(`${paths.manifestPath}: field "llm.layers" is ${manifest.llm.layers} but ${file} has ${layers} layers of past_key_values; ${EDITED}`);
  for (const [type, inputs] of Object.entries(FUSION_INPUTS)) {
    const takes = inputNames.includes(inputs[0]);
    if (takes !== (manifest.fusion?.type === type))
      throw new OnnxModelError(
        `${paths.manifestPath}: field "fusion" ${takes ? `is not ${type} but the decoder takes ${inputs[0]}` : `says ${type} but the decoder has no ${inputs[0]} input`}; ${EDITED}`,
      );
  }
}

function checkValue(what: string, want: ExpectedValue, got: ValueSignature, manifestPath: string): void {
  if (got.type !== want.type) throw new OnnxModelError(`${what} is ${got.type}, the runtime feeds and reads ${want.type}; ${REEXPORT_HINT}`);
  // a graph without a declared shape is checked by onnxruntime when it runs
  if (!got.dims) return;
  const wantShape = formatDims(want.dims.map((d): SignatureDim => d?.value));
  if (got.dims.length !== want.dims.length) throw new OnnxModelError(`${what} has shape ${formatDims(got.dims)}, rank ${got.dims.length}; the runtime expects ${wantShape}; ${REEXPORT_HINT}`);
  want.dims.forEach((d, i) => {
    const actual = got.dims![i];
    // a symbolic dimension in the graph is checked when it runs
    if (!d || typeof actual !== 'number' || actual === d.value) return;
    if (d.field === undefined) throw new OnnxModelError(`${what} has shape ${formatDims(got.dims)}; the runtime feeds ${wantShape}; ${REEXPORT_HINT}`);
    throw new OnnxModelError(`${manifestPath}: field "${d.field}" is ${d.value} but ${what} has ${actual} there (shape ${formatDims(got.dims)}); ${EDITED}`);
  });
}
