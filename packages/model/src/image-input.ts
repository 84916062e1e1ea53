/**
 * An image with its canvas shape: pixels HWC RGB in [0, 1], height x width x 3 values. A tiled
 * encoder takes canvases of several grids (1x2 tiles, 2x1, ...), and the length of a bare array
 * cannot tell a 32x64 canvas from a 64x32 one.
 */
export interface ImageInput {
  pixels: Float32Array;
  width: number;
  height: number;
}

/** A batch image: a bare array is the encoder's square imageSize canvas (what the Shapes world renders). */
export type ModelImage = Float32Array | ImageInput;

/** The image with its shape spelled out; a bare array is size x size. */
export function imageInput(image: ModelImage, size: number): ImageInput {
  return image instanceof Float32Array ? { pixels: image, width: size, height: size } : image;
}
