/**
 * `@mllm/llm/internal`: what @mllm/model needs of generation to drive it step by step. Not a
 * stable API: names here change or go without a major version; a consumer imports from
 * `@mllm/llm` (or `@mllm/llm/decoding`).
 */

// Generation as steps: the events of each decoding step, and those steps streamed.
export { generationSteps, streamSteps } from './generate';
