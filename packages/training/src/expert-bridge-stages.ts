import type { ConfigIssue } from '@mllm/core';
import { DEFAULT_TRAINS, STAGE_TYPES, type StageType } from './stage-schema';

/** The connector type of the expert-model bridge (@mllm/connector-expert), whose detector only the `regions` objective trains. */
const EXPERT_CONNECTOR = 'expert';

/** Stages whose loss reads the image through the connector. */
const READS_IMAGES: readonly StageType[] = ['align', 'instruct', 'dpo', 'reward', 'ppo'];

/**
 * What an expert bridge needs of a run's stages: its detector is the head a `pretrain-encoder`
 * stage with the `regions` objective trains, so one must come before the first stage that shows
 * the LLM an image; and the bridge hands the LLM words, through which no gradient flows back, so
 * every such stage must train the LLM (training only the connector would train nothing).
 */
export function expertBridgeIssues(connectorType: unknown, stages: unknown[]): ConfigIssue[] {
  if (connectorType !== EXPERT_CONNECTOR) return [];
  const issues: ConfigIssue[] = [];
  let detectorTrained = false;
  let firstReader = true;
  stages.forEach((raw, i) => {
    const stage = (raw ?? {}) as { type?: unknown; objectives?: unknown; trains?: unknown };
    if (!(STAGE_TYPES as readonly unknown[]).includes(stage.type)) return;
    const type = stage.type as StageType;
    if (type === 'pretrain-encoder' && Array.isArray(stage.objectives) && stage.objectives.includes('regions')) detectorTrained = true;
    if (!READS_IMAGES.includes(type)) return;
    if (firstReader && !detectorTrained)
      issues.push({
        path: 'connector.type',
        message: `"expert" reads images through the region head that encoder pre-training trains, but no "pretrain-encoder" stage with "objectives": ["regions"] comes before stages[${i}] (${type}); add one first`,
      });
    firstReader = false;
    const trains = Array.isArray(stage.trains) ? (stage.trains as string[]) : DEFAULT_TRAINS[type];
    if (!trains.includes('llm'))
      issues.push({
        path: `stages[${i}].trains`,
        message: `with connector "expert" the LLM reads the expert's words and no gradient reaches the expert, so training ${trains.join(', ')} alone trains nothing; set stages[${i}].trains to ["llm"]`,
      });
  });
  return issues;
}
