import { drawShapesScene, type DrawnScene } from '@mllm/run/browser';
import { pixelsOf, toImageData, type ImageInput } from './image-input';
import type { VisualTokens } from './worker/protocol';

/** The image being talked about: what the canvas shows, the model's pixels, and the scene when it is one. */
export interface CurrentImage {
  pixels: Float32Array;
  /** A generated Shapes scene (ground truth known), or undefined for the user's own image. */
  scene?: DrawnScene;
  /** The user's decoded image, to read again at another model's size. */
  bitmap?: ImageBitmap;
  name: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/**
 * A Shapes scene drawn by the code `mllm scene` runs (drawShapesScene), at the model's image size,
 * and its pixels rounded to bytes as the PNG the CLI reads: the page's pixels are the CLI's.
 */
export async function generateScene(seed: number, objects: number | undefined, size: number): Promise<CurrentImage> {
  const scene = drawShapesScene({ seed, size, ...(objects !== undefined && { objects }) });
  const image = toImageData(scene.pixels, size);
  showImage(image, size);
  const canvas = new OffscreenCanvas(size, size);
  canvas.getContext('2d')!.putImageData(image, 0, 0);
  const link = $<HTMLAnchorElement>('scene-download');
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(await canvas.convertToBlob({ type: 'image/png' }));
  link.download = `scene-${seed}.png`;
  link.hidden = false;
  showGroundTruth(scene);
  return { pixels: pixelsOf(canvas, size), scene, name: `scene ${seed}` };
}

export function showUserImage(input: ImageInput, name: string, size: number): CurrentImage {
  const canvas = $<HTMLCanvasElement>('image-canvas');
  canvas.width = input.width;
  canvas.height = input.height;
  canvas.getContext('2d')!.drawImage(input.bitmap, 0, 0);
  $('image-note').textContent = input.resized
    ? `${name}: ${input.width}x${input.height}, stretched to ${size}x${size} by the browser's canvas (not sharp's kernel: the CLI may answer differently)`
    : `${name}: ${size}x${size}, the model's own size (read as is)`;
  $('ground-truth').replaceChildren();
  $<HTMLAnchorElement>('scene-download').hidden = true;
  return { pixels: input.pixels, bitmap: input.bitmap, name };
}

function showImage(image: ImageData, size: number): void {
  const canvas = $<HTMLCanvasElement>('image-canvas');
  canvas.width = size;
  canvas.height = size;
  canvas.getContext('2d')!.putImageData(image, 0, 0);
}

function showGroundTruth({ groundTruth }: DrawnScene): void {
  $('image-note').textContent = `Shapes scene, seed ${groundTruth.seed}, ${groundTruth.size}x${groundTruth.size} (as \`mllm scene --seed ${groundTruth.seed} --size ${groundTruth.size}\`)`;
  const box = $('ground-truth');
  box.innerHTML = '<h4>ground truth</h4>';
  const list = document.createElement('ul');
  for (const o of groundTruth.objects) {
    const item = document.createElement('li');
    item.textContent = `${o.size} ${o.color} ${o.shape} at the ${o.cell}`;
    list.append(item);
  }
  const caption = document.createElement('p');
  caption.textContent = `caption: ${groundTruth.caption}`;
  caption.dataset.testid = 'caption';
  box.append(list, caption);
  box.dataset.groundTruth = JSON.stringify(groundTruth);
}

/** The visual tokens over the image: a grid when they are the encoder's patch grid, a strip otherwise. */
export function showVisualTokens(tokens: VisualTokens, spatial: boolean): void {
  const grid = $('token-grid');
  const m = tokens.norms.length;
  const side = Math.round(Math.sqrt(m));
  const square = spatial && side * side === m;
  grid.style.gridTemplateColumns = `repeat(${square ? side : m}, 1fr)`;
  grid.style.gridTemplateRows = square ? `repeat(${side}, 1fr)` : '1fr';
  const max = Math.max(...tokens.norms);
  grid.replaceChildren(
    ...tokens.nearest.map((words, i) => {
      const cell = document.createElement('div');
      cell.textContent = words[0]?.word ?? '';
      cell.style.background = `rgba(25, 118, 210, ${(0.45 * tokens.norms[i]!) / max})`;
      cell.title = `visual token ${i}: norm ${tokens.norms[i]!.toFixed(2)}; nearest words ${words.map((w) => `${w.word} (${w.cosine.toFixed(2)})`).join(', ')}`;
      return cell;
    }),
  );
  $('visual-tokens').textContent = `${m} visual tokens${square ? ` as a ${side}x${side} grid over the image` : ' (not a spatial grid: a query connector)'}; shading: token norm; label: the nearest word embedding (hover for more)`;
}

export function clearVisualTokens(): void {
  $('token-grid').replaceChildren();
  $('visual-tokens').textContent = '';
}
