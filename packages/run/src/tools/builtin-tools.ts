import { z } from 'zod';
import type { Registry } from '@mllm/core';
import { compareObjects, countObjects, detectObjects, renderDetections } from '@mllm/data';
import { ToolArgumentError, parseComparison, parseFilter, type ToolImage, type VisionTool } from './vision-tool';

/** What a tool's factory gets besides its validated options (nothing yet: tools read the image through ToolImage). */
export type ToolContext = Record<string, never>;

/** The tools slot of a registry: `registry.tools.register('my-tool', schema, build)`, as for connectors. */
export type ToolRegistry = Registry<ToolContext, VisionTool>;

/** Object detector: every object (or those of a colour / shape) with size, colour, shape and cell. */
export function detectTool(): VisionTool {
  const usage = '[<colour>] [<shape>]';
  return { name: 'detect', usage, run: (args, image) => renderDetections(detectObjects(image.objects(), parseFilter(args, usage))) };
}

/** Counter: how many objects (of a colour / shape) the detector found, as a digit. */
export function countTool(): VisionTool {
  const usage = '[<colour>] [<shape>]';
  return { name: 'count', usage, run: (args, image) => countObjects(image.objects(), parseFilter(args, usage)) };
}

/** Spatial comparator: whether "<colour> <shape> <relation> <colour> <shape>" holds between the detected objects. */
export function compareTool(): VisionTool {
  const usage = '<colour> <shape> <relation> <colour> <shape>';
  return {
    name: 'compare',
    usage,
    run(args, image: ToolImage) {
      const { a, relation, b } = parseComparison(args, usage);
      const compared = compareObjects(image.objects(), a, relation, b);
      if (!compared.ok) throw new ToolArgumentError(compared.text);
      return compared.text;
    },
  };
}

/** Registers the built-in tools (detect, count, compare); `createRegistry` calls it. */
export function registerBuiltinTools(tools: ToolRegistry): void {
  tools.register('detect', z.object({ type: z.literal('detect') }).strict(), detectTool);
  tools.register('count', z.object({ type: z.literal('count') }).strict(), countTool);
  tools.register('compare', z.object({ type: z.literal('compare') }).strict(), compareTool);
}
