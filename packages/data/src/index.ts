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
export { loadLlavaJson, parseLlavaSamples, llavaSampleSchema, llavaTurnSchema } from './llava-json';
export { ShapesWorld, SPLITS } from './shapes-world';
export type { ShapesWorldOptions, Split } from './shapes-world';
export { preferencePairs, possibleKinds, HALLUCINATION_KINDS, PREFERENCE_TASKS } from './preference';
export type { HallucinationKind, PreferenceTask, PreferenceRecord, PreferencePair, PreferenceOptions } from './preference';
export { loadPreferenceJson, loadPreferenceJsonl, parsePreferenceJson, parsePreferenceJsonl, preferenceRecordSchema, PreferenceDataError } from './preference-json';
export type { PreferenceIssue } from './preference-json';
export { checkDescription } from './description-check';
export type { DescriptionCheck, ObjectClaimCheck, RelationClaimCheck, StatedObject } from './description-check';
