/**
 * `@mllm/run/browser`: what a web page needs of @mllm/run, with no tfjs and no file system. How a
 * question or conversation about an image becomes the ids a model continues (the same for every
 * answerer and `mllm chat`), and the Shapes scene `mllm scene` draws for a seed, as pixels with
 * its ground truth, and how a streamed answer's text grows token by token as `mllm chat` prints it.
 * The playground (apps/playground) builds its prompts, scenes and streamed answers with these.
 */
export { conversationTurns, promptIds, type Conversation } from './answerer';
export { StreamedAnswer } from './streamed-answer';
export { drawShapesScene, type DrawnScene, type SceneGroundTruth, type SceneOptions } from './shapes-scene-draw';
