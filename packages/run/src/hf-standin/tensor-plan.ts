/**
 * What a stand-in checkpoint holds, before any number is drawn: each tensor's HF name, shape,
 * storage dtype and how it is initialised. Shapes come from the config.json the folder ships, so
 * the same plan serves the released size and a shrunken test variant.
 */

/** How a tensor's values are made: seeded normal noise, or a constant (norm weights, biases). */
export type TensorInit = { kind: 'normal'; std: number } | { kind: 'const'; value: number } | { kind: 'positions' };

export interface PlannedTensor {
  name: string;
  shape: number[];
  init: TensorInit;
  /** Integer buffers that old checkpoints saved (CLIP's position_ids, stored as I64). */
  integer?: boolean;
}

export const normal = (std: number): TensorInit => ({ kind: 'normal', std });
export const ones: TensorInit = { kind: 'const', value: 1 };
export const zeros: TensorInit = { kind: 'const', value: 0 };
export const constant = (value: number): TensorInit => ({ kind: 'const', value });

/** Elements in a tensor of this shape (a scalar, shape [], holds one). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A Linear layer as PyTorch stores it: weight [out, in] (and bias [out] when it has one). */
export function linear(name: string, outFeatures: number, inFeatures: number, weight: TensorInit, bias?: TensorInit): PlannedTensor[] {
  const tensors: PlannedTensor[] = [{ name: `${name}.weight`, shape: [outFeatures, inFeatures], init: weight }];
  if (bias) tensors.push({ name: `${name}.bias`, shape: [outFeatures], init: bias });
  return tensors;
}

/** A LayerNorm at its initial state: weight 1, bias 0. */
export function layerNorm(name: string, dim: number): PlannedTensor[] {
  return [
    { name: `${name}.weight`, shape: [dim], init: ones },
    { name: `${name}.bias`, shape: [dim], init: zeros },
  ];
}
