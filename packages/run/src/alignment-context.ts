import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MllmError, Rng, loadSafetensors } from '@mllm/core';
import { buildModel } from '@mllm/model';
import { RewardModel, type AlignmentContext } from '@mllm/training';
import { connectorText, type Session } from './session';

export const REWARD_MODEL_FILE = 'reward-model.safetensors';

/** Fresh models of the run's architecture, for the copies alignment stages make of the policy. */
export function alignmentContext(session: Session): AlignmentContext {
  const { config, registry, tokenizer } = session;
  return {
    newModel: () =>
      buildModel(config as unknown as Record<string, unknown>, {
        registry,
        vocabSize: tokenizer.vocabSize,
        special: { imageTokenId: tokenizer.special.image, padId: tokenizer.special.pad },
        seed: config.seed,
        text: connectorText(tokenizer),
      }),
  };
}

/** The reward model a finished `reward` stage of this run saved, for a resumed `ppo`. */
export async function loadRewardModel(session: Session, context: AlignmentContext, dir: string): Promise<RewardModel> {
  const path = join(dir, REWARD_MODEL_FILE);
  if (!existsSync(path)) throw new MllmError(`--resume: the run finished a reward stage but ${path} is missing; rerun from the start without --resume`);
  const stage = [...session.config.stages].reverse().find((s) => s.type === 'reward');
  const pooling = stage?.type === 'reward' ? stage.pooling : 'last';
  const ratio = stage?.type === 'reward' && pooling === 'ratio' ? { reference: context.newModel(), beta: stage.beta } : undefined;
  const rewardModel = new RewardModel(context.newModel(), new Rng(session.config.seed), pooling, ratio);
  const { tensors } = await loadSafetensors(path);
  rewardModel.loadStateDict(tensors, { source: path });
  for (const t of Object.values(tensors)) t.dispose();
  return rewardModel.freeze().eval();
}
