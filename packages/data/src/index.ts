// The Shapes world: scenes with exact ground truth, split into train/val/test, rendered to pixels.
export { ShapesWorld, type ShapesWorldOptions, type Split } from './shapes-world';
export { SHAPES, COLORS, SIZES, CELLS, WORLD_SIZE, ALL_CATEGORIES, sceneCategories, cellTokenGrid } from './scene';
export type { Shape, Color, Size, Cell, SceneObject, Scene, ObjectCategory } from './scene';
export { generateScene, type SceneGenerateOptions } from './generate-scene';
export { renderScene, type RenderOptions } from './render';
export { imageToPngBuffer, loadImageFile } from './image-io';

// What the world says about a scene: captions, descriptions, questions, and the mentions a text makes.
export { caption, detailedDescription, parseMentions } from './language';
export { closedSetQuestions, type ClosedSetQuestion, type ClosedSetType } from './closed-set';
export { popeQuestions, categoryStats, type PopeQuestion, type PopeOptions, type CategoryStats } from './pope';
export { checkDescription, type DescriptionCheck } from './description-check';
export { attributeCheck, OBJECT_ATTRIBUTES, type AttributeTally } from './attribute-check';

// Chain-of-thought: reasoning questions, their step-by-step prompt and the marker before the answer.
export { reasoningQuestions, reasoningCorpus, REASONING_PROMPT, ANSWER_MARKER, type ReasoningQuestion, type ReasoningType, type ReasoningSubject } from './chain-of-thought';
// Chains that carry each object's cell, then the count or comparison: single or tree, fixed or adaptive length; and their self-consistency.
export { buildChain, chainSteps, infillingTurn, chainCorpus, CHAIN_STYLES, CHAIN_LENGTHS, CHAIN_CARRIES, type ChainOptions, type ChainStyle, type ChainLength, type ChainCarry } from './reasoning-chains';
export { chainImpliedAnswer, parseReasoningQuestion, listedObjects } from './chain-check';

// Tool use (LLM-aided visual reasoning): what the vision tools answer, and traces written from the ground truth.
export { toolQuestions, toolTraceSample, toolTraceTurns, toolCorpus, type ToolQuestion, type ToolQuestionType, type ToolStep } from './tool-traces';
export { renderDetections, detectObjects, countObjects, compareObjects, matches, toolWords, CALL_WORD, RESULT_WORD, ERROR_WORD, TOOL_NAMES } from './tool-logic';
export type { DetectedObject, ObjectFilter } from './tool-logic';
export { RELATIONS, NUMBER_WORDS, type Relation } from './language';

// Interleaved image-text sequences with a per-sequence label mapping, and the few-shot (M-ICL) tasks.
export { interleavedSequence, fewShotEpisode, FEW_SHOT_TASKS } from './interleaved';
export type { InterleavedPair, FewShotTask, FewShotEpisode } from './interleaved';

// Instruction data in the LLaVA conversation format, from the world or from files.
export { captionSample, instructSamples, CAPTION_PROMPTS, DETAIL_PROMPT, IMAGE_TOKEN, type LlavaSample, type LlavaTurn } from './llava';
export { loadLlavaJson, parseLlavaSamples } from './llava-json';
export { LlavaDataset, BadSampleError, type LlavaRecord, type BadSample, type OnBadSample, type LlavaDatasetOptions } from './llava-dataset';

// Image files: decode, check, resize and normalize as an HF image processor does.
export { preprocessImage, readImageHeader, readImageBytes, ImageFileError, DEFAULT_MAX_PIXELS, MAX_IMAGE_FILE_BYTES } from './image-preprocess';
export type { ImagePreprocessOptions, ImageLimits } from './image-preprocess';
// PIL's decoding and Image.resize, byte for byte, for pipelines that need the steps on their own.
export { pilResize, PIL_RESAMPLE_CODES, DEFAULT_RESAMPLE, type ResampleKernel, type RgbBytes } from './pil-resample';
export { decodeRgbLikePil } from './pil-decode';
export { toModelInput } from './image-io';
export { preprocessFromHf, type FromHfOptions } from './preprocess-from-hf';

// Instruction tasks in many phrasings, held-in / held-out task and phrasing splits, and self-instruction from seed examples.
export { PHRASINGS, type InstructionTask } from './instruction-phrasings';
export { PromptPlan, type PromptPlanOptions } from './prompt-plan';
export { heldOutQuestions, type HeldOutQuestion } from './held-out-questions';
export { selfInstruct, type SelfInstructOptions, type SelfInstructPair, type SelfInstructStats } from './self-instruct';
// Coarse web captions with a known share of noise, each pair labelled, beside the clean fine-grained ones.
export { webCaptionPool, webCaptionCorpus, GENERIC_ALT_TEXTS } from './web-captions';
export type { WebCaptionPair, WebCaptionLabel, WebCaptionOptions } from './web-captions';

// Preference pairs: a faithful answer and one with a hallucination of the survey's three kinds.
export { preferencePairs, HALLUCINATION_KINDS, PREFERENCE_TASKS } from './preference';
export type { HallucinationKind, PreferenceTask, PreferenceRecord, PreferencePair, PreferenceOptions } from './preference';
export { loadPreferenceJson, loadPreferenceJsonl, PreferenceDataError } from './preference-json';
