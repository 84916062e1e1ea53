export {
  SHAPES,
  COLORS,
  SIZES,
  CELLS,
  WORLD_SIZE,
  CELL_SIZE,
  ALL_CATEGORIES,
  categoryOf,
  cellPosition,
  sceneCategories,
  sceneSignature,
} from './scene';
export type { Shape, Color, Size, Cell, SceneObject, Scene, ObjectCategory } from './scene';
export { generateScene, cellCentre, COLOR_WEIGHTS, SHAPE_PREFERENCE, DOMINANT_COLOR_P, JITTER } from './generate-scene';
export type { GenerateOptions } from './generate-scene';
export { renderScene, BACKGROUND, COLOR_RGB, SIZE_FRACTION } from './render';
export type { RenderOptions } from './render';
export { imageToPngBuffer, loadImageFile } from './image-io';
export { caption, detailedDescription, describeObject, parseMentions, holds, RELATIONS, NUMBER_WORDS } from './language';
export type { Relation } from './language';
export { closedSetQuestions, existenceQuestion, COUNT_QUESTION } from './closed-set';
export type { ClosedSetQuestion, ClosedSetType } from './closed-set';
export { categoryStats, popeQuestions } from './pope';
export type { CategoryStats, PopeQuestion, PopeOptions, PopeSampling } from './pope';
export { captionSample, instructSamples, CAPTION_PROMPTS, DETAIL_PROMPT, IMAGE_TOKEN } from './llava';
export type { LlavaSample, LlavaTurn } from './llava';
export { loadLlavaJson, parseLlavaSamples, llavaSampleSchema, llavaTurnSchema, llavaRecordSchema, conversationProblem } from './llava-json';
export { LlavaDataset, readLlavaRecords, resolveImagePath, BadSampleError } from './llava-dataset';
export type { LlavaRecord, BadSample, OnBadSample, LlavaDatasetOptions } from './llava-dataset';
export { preprocessImage, readImageHeader, outputSize, ImageFileError, DEFAULT_MAX_PIXELS } from './image-preprocess';
export type { ImagePreprocessOptions, ImageLimits, ResampleKernel, Rgb } from './image-preprocess';
export { preprocessFromHf } from './preprocess-from-hf';
export type { FromHfOptions } from './preprocess-from-hf';
export { ShapesWorld, SPLITS } from './shapes-world';
export type { ShapesWorldOptions, Split } from './shapes-world';
export { preferencePairs, possibleKinds, HALLUCINATION_KINDS, PREFERENCE_TASKS } from './preference';
export type { HallucinationKind, PreferenceTask, PreferenceRecord, PreferencePair, PreferenceOptions } from './preference';
export { loadPreferenceJson, loadPreferenceJsonl, parsePreferenceJson, parsePreferenceJsonl, preferenceRecordSchema, PreferenceDataError } from './preference-json';
export type { PreferenceIssue } from './preference-json';
export { checkDescription } from './description-check';
export type { DescriptionCheck, ObjectClaimCheck, RelationClaimCheck, StatedObject } from './description-check';
export { reasoningQuestions, reasoningCorpus, withReasoningPrompt, listObjects, REASONING_PROMPT, ANSWER_MARKER } from './chain-of-thought';
export type { ReasoningQuestion, ReasoningType } from './chain-of-thought';
