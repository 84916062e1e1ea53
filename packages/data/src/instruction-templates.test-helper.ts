import { COLORS, SHAPES } from './scene';
import { RELATIONS } from './language';
import { PHRASINGS, type InstructionTask } from './instruction-phrasings';

const color = `(?:${COLORS.join('|')})`;
const shape = `(?:${SHAPES.join('|')})`;
const SLOT_PATTERNS: Record<string, string> = { object: `${color} ${shape}`, a: `${color} ${shape}`, b: `${color} ${shape}`, shape, color, relation: `(?:${RELATIONS.join('|')})` };

/** Every template (of `task`, or of any task) a question fits, slots read as the values they take. */
export function templatesOf(question: string, task?: InstructionTask): string[] {
  const tasks = task ? [task] : (Object.keys(PHRASINGS) as InstructionTask[]);
  return tasks
    .flatMap((t) => PHRASINGS[t])
    .filter((template) => {
      const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([a-z]+)\}/g, (_, name: string) => SLOT_PATTERNS[name]!);
      return new RegExp(`^${pattern}$`).test(question);
    });
}
