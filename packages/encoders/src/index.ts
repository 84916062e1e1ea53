export { VisionTransformer, vitSchema, type VitConfig } from './vit';
export { registerEncoders } from './register';
export { HighResEncoder, highResSchema, highResInputSize, type HighResConfig } from './high-res';
export { selectGrid, extractTiles, downsample, type GridShape, type TileLayout } from './tile-grid';
