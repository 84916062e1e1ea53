import { ConfigError, Rng, type ConfigIssue, type Logger } from '@mllm/core';
import { toolQuestions } from '@mllm/data';
import { scoreTools, type ToolsResult } from '@mllm/eval';
import { trainsToolUse, type ToolsConfig } from '@mllm/training/internal';
import { modelAnswerer } from '../answerer';
import type { MllmRegistry } from '../registry';
import type { Session } from '../session';
import { RegionDetector, detectorOptions } from './detector';
import { modelController } from './model-controller';
import { withDemonstrations } from './training-free-prompt';
import { lazyToolImage, runToolSessions } from './tool-session';
import type { VisionTool } from './vision-tool';

/** Direct answers are one or two words. */
const DIRECT_MAX_NEW_TOKENS = 8;

/** The config's `tools.use` entries that the registry cannot build (unknown type, bad options, two tools of one name), each at its path. */
export function toolsConfigIssues(tools: ToolsConfig | undefined, registry: MllmRegistry): ConfigIssue[] {
  if (!tools) return [];
  const issues: ConfigIssue[] = [];
  const names = new Map<string, number>();
  tools.use.forEach((entry, i) => {
    const checked = registry.tools.validate(entry, `tools.use[${i}]`);
    if (!checked.ok) return issues.push(...checked.issues);
    const name = registry.tools.build(checked.value, {}).name;
    if (names.has(name)) issues.push({ path: `tools.use[${i}]`, message: `a second tool named "${name}" (tools.use[${names.get(name)}] has that name); the controller calls tools by name, keep one` });
    names.set(name, i);
  });
  return issues;
}

/** The tools a config's `tools.use` names, by the name the controller calls them with. */
export function buildToolbox(tools: ToolsConfig, registry: MllmRegistry): Map<string, VisionTool> {
  const issues = toolsConfigIssues(tools, registry);
  if (issues.length > 0) throw new ConfigError(issues);
  return new Map(tools.use.map((entry, i) => registry.tools.build(entry, {}, `tools.use[${i}]`)).map((tool) => [tool.name, tool]));
}

const detectors = new WeakMap<Session, RegionDetector>();

/** The session's detector, trained on the frozen encoder the first time a tool needs it. */
export function sessionDetector(session: Session, logger?: Logger): RegionDetector {
  let detector = detectors.get(session);
  if (!detector) {
    const { config, model, world } = session;
    detector = RegionDetector.train(model, world, { ...detectorOptions(config), seed: config.seed, ...(logger && { logger }) });
    detectors.set(session, detector);
  }
  return detector;
}

/**
 * The run's tool evaluation: questions of every type about test scenes, answered by the model
 * as controller with the config's tools (finetuned when a stage before `afterStages` trained
 * on tool traces, else training-free with demonstrations in the prompt), and the same
 * questions answered by the model without tools.
 */
export async function evaluateTools(session: Session, options: { afterStages?: number; batchSize: number; logger?: Logger }): Promise<ToolsResult> {
  const { config, model, tokenizer, world, registry } = session;
  const tools = config.tools!;
  const toolbox = buildToolbox(tools, registry);
  const detector = sessionDetector(session, options.logger);
  const scenes = world.scenes('test').slice(0, tools.scenes);
  const rng = new Rng(config.seed).fork('eval:tools');
  const items = scenes.flatMap((scene, imageIndex) => toolQuestions(scene, rng).map((q) => ({ ...q, imageIndex, sceneId: scene.id })));
  const images = scenes.map((s) => world.image(s.id));
  const seen = detector.detect(images);
  const toolImages = seen.map((objects) => lazyToolImage(() => objects));
  const paradigm = trainsToolUse(config.stages, options.afterStages) ? 'finetuned' : 'training-free';
  model.eval();
  const controller = modelController(model, tokenizer, images, { batchSize: options.batchSize });
  const outcomes = await runToolSessions(
    controller,
    toolbox,
    toolImages,
    items.map((q) => ({ imageIndex: q.imageIndex, history: [], question: paradigm === 'training-free' ? withDemonstrations(q.question) : q.question })),
    { maxCalls: tools.maxCalls },
  );
  const direct: string[] = [];
  const answerer = modelAnswerer(model, tokenizer, world, DIRECT_MAX_NEW_TOKENS);
  for (let from = 0; from < items.length; from += options.batchSize)
    direct.push(...(await answerer.answer(items.slice(from, from + options.batchSize).map((q) => ({ sceneId: q.sceneId, prompt: q.question })))));
  const samples = [...new Set(items.map((q) => q.type))].map((type) => {
    const i = items.findIndex((q) => q.type === type);
    return { type, answer: items[i]!.answer, trace: outcomes[i]!.trace.map(({ role, text }) => ({ role, text })) };
  });
  return { ...scoreTools(items, outcomes, direct, { paradigm, detectorCellAccuracy: detector.cellAccuracy(world, scenes) }), samples };
}
