/**
 * `@mllm/data/internal`: helpers that @mllm/training, @mllm/run and the CLI's tests share with this
 * package. Not a stable API: names here change or go without a major version; a consumer imports
 * from `@mllm/data`.
 */

// Scene identity, single questions and reasoning prompts, as the training data builders draw them.
export { sceneSignature } from './scene';
export { existenceQuestion } from './closed-set';
export { withReasoningPrompt } from './chain-of-thought';

// Counterfactual reasoning chains (descriptions that differ from the image, with the words to leave untrained), as the instruct data draws them.
export { counterfactualChain, takesCounterfactuals, type CounterfactualChain } from './counterfactual-chains';

// The words of interleaved sequences and few-shot tasks, for the tokenizer of a run that uses them, and their options.
export { interleavedCorpus, INTERLEAVED_LABELS, COUNT_KIND_QUESTION, type InterleavedOptions } from './interleaved';

// The palette renderScene paints with, for tests that read rendered pixels.
export { BACKGROUND, COLOR_RGB } from './render';

// Single web captions (clean, wrong, unrelated), for the CLIP-filter scorer's captions and hard negatives.
export { webCaption, wrongWebCaption, unrelatedWebCaption, type WebNoiseKind } from './web-captions';

// Where a LLaVA record's image path points, refused when it leaves the image folder.
export { resolveImagePath } from './llava-dataset';

// Instruction phrasings and tasks as the training and evaluation builders draw them (the public names are in index.ts).
export { INSTRUCTION_TASKS, CLOSED_TASKS, DEFAULT_HELD_IN_TASKS, CANONICAL_PHRASINGS, MAX_HELD_OUT_PHRASINGS, fillTemplate, isClosedTask, type ClosedTask } from './instruction-phrasings';
export { taskQueries, type TaskQuery } from './instruction-tasks';
export { instructionCorpus } from './prompt-plan';
export { generalText, generalTextCorpus } from './general-text';
export { promptedSample, plannedKind, PROMPTED_KINDS, ANSWERED_BY_EVERY_SCENE, type PromptedKind } from './prompted-samples';
export { recombine, bigramOverlap, SELF_INSTRUCT_DROPS, type SelfInstructDrop } from './self-instruct';
export { parseInstruction, sceneAnswer, Unanswerable, type ParsedInstruction } from './instruction-parse';

// Descriptions with injected hallucinations (a judge's training responses) and the revisor's pairs built from them (LURE).
export { hallucinatedDescription, RESPONSE_EDITS, type ResponseEdit } from './hallucinated-description';
export { revisionSample, revisePrompt, maskLateObjects, revisionCorpus, REVISE_PROMPT, UNSURE_OBJECT } from './revision';
