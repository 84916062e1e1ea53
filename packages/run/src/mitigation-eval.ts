import type { Logger } from '@mllm/core';
import { fixedExpert, type SeenObject } from '@mllm/correct';
import { evaluate, type EvalReport } from '@mllm/eval';
import { instructPolicyStage, type MitigationMethod } from '@mllm/training/internal';
import type { RunConfig } from '@mllm/training';
import { modelAnswerer } from './answerer';
import { buildEvalSet } from './eval-set';
import { correctingAnswerer, newCorrectionLog, revisingAnswerer, rewriteOptions, type CorrectionLog } from './post-correction';
import type { Session } from './session';
import { sessionDetector } from './tools/tool-eval';

/** Which policy a mitigation method reads: the instruct model before alignment, or the run's final model. */
export type MitigationPoint = MitigationMethod['model'];

/**
 * One method's evaluation (`eval.mitigation.<name>`): what the method is, then the same scores as
 * the run's `eval` (POPE, CHAIR with coverage and attribute CHAIR, closed set, detailed
 * descriptions, FaithScore, by kind), and with post-correction what it changed.
 */
export type MitigationResult = MitigationMethod & Omit<EvalReport, 'reasoning' | 'icl' | 'judge' | 'tools' | 'heldOut'> & { correction?: CorrectionLog };

/**
 * The policies a run's evaluation after stage `index` stands for: `instruct` after the stage
 * whose model the instruct methods read (instructPolicyStage), `final` after the last stage.
 */
export function mitigationPointsAfter(config: RunConfig, index: number): MitigationPoint[] {
  if (!config.eval.mitigation) return [];
  const points: MitigationPoint[] = [];
  if (index === instructPolicyStage(config.stages.map((s) => s.type))) points.push('instruct');
  if (index === config.stages.length - 1) points.push('final');
  return points;
}

/**
 * Evaluates every method of `eval.mitigation` that reads the session's current model (`points`),
 * each with its own decoding and post-correction; reasoning, few-shot, tools and judges stay in
 * the run's own `eval` (they measure the model, not a mitigation).
 */
export async function evaluateMitigation(session: Session, points: readonly MitigationPoint[], options: { logger?: Logger } = {}): Promise<Record<string, MitigationResult>> {
  const { model, tokenizer, world, config } = session;
  const methods = Object.entries(config.eval.mitigation?.methods ?? {}).filter(([, m]) => points.includes(m.model));
  if (methods.length === 0) return {};
  model.eval();
  const { reasoning: _reasoning, icl: _icl, ...set } = buildEvalSet(world, config);
  let seen: Map<string, readonly SeenObject[]> | undefined;
  const seenOf = () => {
    if (seen) return seen;
    const detector = sessionDetector(session, options.logger);
    const found = detector.detect(set.scenes.map((s) => world.image(s.id)));
    return (seen = new Map(set.scenes.map((s, i) => [s.id, found[i]!])));
  };
  const results: Record<string, MitigationResult> = {};
  for (const [name, method] of methods) {
    const plain = modelAnswerer(model, tokenizer, world, config.eval.maxNewTokens, method.decoding ?? {}, config.eval.sampling);
    const log = method.correct ? newCorrectionLog() : undefined;
    let answerer = plain;
    if (method.correct === 'woodpecker') answerer = correctingAnswerer(plain, (sceneId) => fixedExpert(seenOf().get(sceneId) ?? []), log, rewriteOptions(config));
    // the revisor is the model itself, asked with plain decoding: the method's decoding shapes the answer, not its revision
    if (method.correct === 'lure') answerer = revisingAnswerer(plain, modelAnswerer(model, tokenizer, world, config.eval.maxNewTokens), log);
    const report = await evaluate(answerer, set, { batchSize: config.eval.batchSize });
    results[name] = { ...method, ...report, ...(log && { correction: log }) };
    options.logger?.info(`mitigation ${name}: detail CHAIR_i ${report.detail!.chair.chairI.toFixed(3)}, coverage ${report.detail!.chair.coverage.toFixed(3)}, POPE adversarial ${report.pope.adversarial.accuracy.toFixed(3)}`);
  }
  return results;
}
