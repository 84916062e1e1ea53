/**
 * `@mllm/data/internal`: helpers that @mllm/training and @mllm/run share with this package. Not a
 * stable API: names here change or go without a major version; a consumer imports from `@mllm/data`.
 */

// Scene identity and single questions, as the training data builders draw them.
export { sceneSignature } from './scene';
export { existenceQuestion } from './closed-set';

// Where a LLaVA record's image path points, refused when it leaves the image folder.
export { resolveImagePath } from './llava-dataset';
