import { toolTraceTurns, type Scene, type ToolQuestion } from '@mllm/data';
import { toolQuestions } from '@mllm/data';
import { Rng } from '@mllm/core';

/**
 * The training-free paradigm of tool use (Visual ChatGPT, MM-REACT, HuggingGPT): a controller
 * that was never trained on tool calls gets demonstrations of them in its prompt, here written
 * as text before the question. They come from one fixed scene's tool-use traces, so they
 * show every tool and the call syntax, and share no image with the evaluation.
 */
const DEMONSTRATION_SCENE: Scene = {
  id: 'tool-demonstrations',
  objects: [
    { shape: 'circle', color: 'red', size: 'large', cell: 'top left', x: 8, y: 8 },
    { shape: 'square', color: 'blue', size: 'small', cell: 'bottom right', x: 24, y: 24 },
    { shape: 'triangle', color: 'red', size: 'small', cell: 'bottom left', x: 8, y: 24 },
  ],
};

/** The first word of each demonstration and of the question that follows them. */
export const DEMONSTRATION_WORDS = ['example', 'question'] as const;

function demonstration(q: ToolQuestion): string {
  return [DEMONSTRATION_WORDS[0], ...toolTraceTurns(q, false).map((t) => t.value)].join(' ');
}

/** "example <question> call ... result ... <answer> example ... question" : put before the question asked. */
export function toolDemonstrations(): string {
  const questions = toolQuestions(DEMONSTRATION_SCENE, new Rng(0).fork('tools:demonstrations'));
  const shown = ['spatial', 'count', 'color'].map((type) => questions.find((q) => q.type === type)!);
  return `${shown.map(demonstration).join(' ')} ${DEMONSTRATION_WORDS[1]}`;
}

/** The question as the training-free controller sees it. */
export function withDemonstrations(question: string): string {
  return `${toolDemonstrations()} ${question}`;
}
