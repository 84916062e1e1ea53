import type { ReasoningQuestion } from './chain-of-thought';
import type { Scene, SceneObject } from './scene';

// A hand-worked scene for the chain tests: a small red circle top left, nothing top right, a
// large blue square bottom left, a large red cross bottom right.
export const obj = (cell: SceneObject['cell'], size: SceneObject['size'], color: SceneObject['color'], shape: SceneObject['shape']): SceneObject => ({ cell, size, color, shape, x: 0, y: 0 });
export const circle = obj('top left', 'small', 'red', 'circle');
export const square = obj('bottom left', 'large', 'blue', 'square');
export const cross = obj('bottom right', 'large', 'red', 'cross');
export const handScene: Scene = { id: 'hand', objects: [circle, square, cross] };
/** A reasoning question about the hand-worked scene, without the original chain. */
export const question = (text: string, answer: string, about: ReasoningQuestion['about']): ReasoningQuestion => ({ type: about.type, question: text, answer, chain: '', about });
export const redCount = question('how many red objects are there ?', 'two', { type: 'count', filter: { color: 'red' } });
export const squareColor = question('what color is the square ?', 'blue', { type: 'color', object: square });
