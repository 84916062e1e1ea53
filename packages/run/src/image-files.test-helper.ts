import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

/** CRC-32 (PNG's chunk checksum), written out: zlib.crc32 is missing from Node 20 before 20.15. */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A valid PNG header that claims width x height RGB pixels, followed by one row of pixel data:
 * a few hundred bytes that a decoder without a pixel limit would try to expand to gigabytes.
 */
export function hugeHeaderPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, adaptive filter, no interlace
  const firstRow = deflateSync(Buffer.alloc(1 + width * 3));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', firstRow), chunk('IEND', Buffer.alloc(0))]);
}

/** Image files of every kind `loadImageInput` must accept or refuse, written into `dir`. */
export async function writeImageCases(dir: string) {
  const create = () => sharp({ create: { width: 24, height: 24, channels: 3, background: { r: 255, g: 0, b: 0 } } });
  const png = await create().png().toBuffer();
  const paths = {
    png: join(dir, 'red.png'),
    tiff: join(dir, 'red.tiff'),
    truncated: join(dir, 'truncated.png'),
    cutHeader: join(dir, 'cut-header.png'),
    bmp: join(dir, 'red.bmp'),
    huge: join(dir, 'huge.png'),
    folder: join(dir, 'folder.png'),
    missing: join(dir, 'missing.png'),
  };
  writeFileSync(paths.png, png);
  writeFileSync(paths.tiff, await create().tiff({ compression: 'lzw' }).toBuffer()); // lossless, so its pixels equal the PNG's
  // noise does not compress, so half the file keeps the header and loses half the pixels
  const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251));
  const noisy = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
  writeFileSync(paths.truncated, noisy.subarray(0, Math.floor(noisy.length / 2)));
  writeFileSync(paths.cutHeader, png.subarray(0, 30)); // not even the header is whole
  writeFileSync(paths.bmp, bmp24(2, 2)); // BMP: a format sharp does not read
  writeFileSync(paths.huge, hugeHeaderPng(16000, 16000)); // 256e6 pixels, over the 64e6 limit of training data
  mkdirSync(paths.folder);
  return paths;
}

/** A width x height 24-bit BMP of red pixels. */
function bmp24(width: number, height: number): Buffer {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const file = Buffer.alloc(54 + rowBytes * height);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  file.writeUInt32LE(rowBytes * height, 34);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) file[54 + y * rowBytes + x * 3 + 2] = 255; // BGR
  return file;
}
