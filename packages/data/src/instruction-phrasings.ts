import { CAPTION_PROMPTS, DETAIL_PROMPT } from './llava';
import { COUNT_QUESTION } from './closed-set';

/**
 * The instruction tasks of the Shapes world and the ways each is asked (prompt diversity, as
 * FLAN and InstructBLIP write several templates per task). Closed tasks have one short answer
 * checked against the scene; `caption` and `detail` are open and scored by CHAIR elsewhere.
 */
export const INSTRUCTION_TASKS = ['existence', 'color', 'count', 'spatial', 'shape', 'size', 'position', 'color-count', 'caption', 'detail'] as const;
export type InstructionTask = (typeof INSTRUCTION_TASKS)[number];

/** Tasks with one short answer that the scene decides, so their accuracy can be measured. */
export const CLOSED_TASKS = ['existence', 'color', 'count', 'spatial', 'shape', 'size', 'position', 'color-count'] as const;
export type ClosedTask = (typeof CLOSED_TASKS)[number];

/** The tasks the Shapes instruct data has always had: what a run tunes on unless told otherwise. */
export const DEFAULT_HELD_IN_TASKS: readonly InstructionTask[] = ['existence', 'color', 'count', 'spatial', 'caption', 'detail'];

/**
 * Templates per task. Slots: `{object}` a category ("red circle"), `{shape}`, `{color}`, and for
 * spatial `{a}` `{relation}` `{b}`. The first CANONICAL_PHRASINGS[task] of each list are the
 * phrasings the world has always used (a "one"-phrasing run trains on those only, and they are
 * never held out); every word is lower case and punctuation stands apart, as the word tokenizer
 * splits it.
 */
export const PHRASINGS: Readonly<Record<InstructionTask, readonly string[]>> = {
  existence: [
    'is there a {object} in the image ?',
    'does the image contain a {object} ?',
    'can you see a {object} ?',
    'is a {object} present in the picture ?',
    'do you see a {object} in the image ?',
    'does the picture show a {object} ?',
    'is there any {object} ?',
    'is a {object} visible in the image ?',
  ],
  color: [
    'what color is the {shape} ?',
    'what is the color of the {shape} ?',
    'which color does the {shape} have ?',
    'the {shape} is what color ?',
    'tell me the color of the {shape} .',
    'name the color of the {shape} .',
    'what colour is the {shape} ?',
    'in which color is the {shape} drawn ?',
  ],
  count: [
    COUNT_QUESTION,
    'how many objects are in the image ?',
    'how many shapes are there ?',
    'count the objects in the image .',
    'what is the number of objects ?',
    'how many shapes can you see ?',
    'tell me how many objects there are .',
    'how many things are in the picture ?',
  ],
  spatial: [
    'is the {a} {relation} the {b} ?',
    'is the {a} located {relation} the {b} ?',
    'does the {a} appear {relation} the {b} ?',
    'is it true that the {a} is {relation} the {b} ?',
    'would you say the {a} is {relation} the {b} ?',
    'looking at the image , is the {a} {relation} the {b} ?',
    'tell me whether the {a} is {relation} the {b} .',
    'is the {a} placed {relation} the {b} ?',
  ],
  shape: [
    'what shape is the {color} object ?',
    'what is the shape of the {color} object ?',
    'which shape is {color} ?',
    'the {color} object is which shape ?',
    'name the shape of the {color} object .',
    'what kind of shape is the {color} object ?',
    'tell me the shape of the {color} object .',
    'which shape has the color {color} ?',
  ],
  size: [
    'is the {object} small or large ?',
    'what size is the {object} ?',
    'how big is the {object} ?',
    'what is the size of the {object} ?',
    'is the {object} large or small ?',
    'tell me the size of the {object} .',
    'would you call the {object} small or large ?',
    'how large is the {object} ?',
  ],
  position: [
    'where is the {object} ?',
    'where is the {object} located ?',
    'in which part of the image is the {object} ?',
    'what is the position of the {object} ?',
    'which corner is the {object} in ?',
    'tell me where the {object} is .',
    'where in the picture is the {object} ?',
    'where can you find the {object} ?',
  ],
  'color-count': [
    'how many {color} objects are there ?',
    'how many {color} shapes are in the image ?',
    'count the {color} objects .',
    'what is the number of {color} objects ?',
    'how many objects are {color} ?',
    'how many {color} things can you see ?',
    'tell me how many {color} objects there are .',
    'how many of the objects are {color} ?',
  ],
  caption: [
    ...CAPTION_PROMPTS,
    'give a short description of the picture .',
    'caption this image .',
    'what is shown in the picture ?',
    'summarize the image in one sentence .',
    'write a caption for the picture .',
  ],
  detail: [
    DETAIL_PROMPT,
    'give a detailed description of the image .',
    'describe every object in the picture .',
    'tell me everything you see in the image .',
    'write a detailed description of the picture .',
    'explain the image in detail .',
  ],
};

/** How many leading phrasings of each task are the world's original ones (three caption prompts, one of everything else). */
export const CANONICAL_PHRASINGS: Readonly<Record<InstructionTask, number>> = Object.fromEntries(
  INSTRUCTION_TASKS.map((t) => [t, t === 'caption' ? CAPTION_PROMPTS.length : 1]),
) as Record<InstructionTask, number>;

/** The most phrasings a run may hold out per task: every task keeps its canonical ones and at least one more to train on. */
export const MAX_HELD_OUT_PHRASINGS = Math.min(...INSTRUCTION_TASKS.map((t) => PHRASINGS[t].length - CANONICAL_PHRASINGS[t] - 1));

/** A template with its slots filled: `fillTemplate('is the {a} {relation} the {b} ?', { a: 'red circle', ... })`. */
export function fillTemplate(template: string, slots: Readonly<Record<string, string>>): string {
  return template.replace(/\{([a-z]+)\}/g, (_, name: string) => {
    const value = slots[name];
    if (value === undefined) throw new Error(`fillTemplate: no value for slot {${name}} in "${template}"`);
    return value;
  });
}

export function isClosedTask(task: string): task is ClosedTask {
  return (CLOSED_TASKS as readonly string[]).includes(task);
}
