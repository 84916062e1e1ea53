// Split from image-io so the decoder and the file helpers share it without importing each other.
export type Sharp = typeof import('sharp');

/** sharp is loaded only when an image file is touched, so scene generation works without it. */
export async function loadSharp(): Promise<Sharp> {
  try {
    const mod = (await import('sharp')) as unknown as { default?: Sharp };
    return mod.default ?? (mod as unknown as Sharp);
  } catch (cause) {
    throw new Error('Image file I/O needs the "sharp" package: run `npm install sharp` in your project', { cause });
  }
}
