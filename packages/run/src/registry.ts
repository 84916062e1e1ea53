import type { ComponentRegistry } from '@mllm/core';
import { createComponentRegistry } from '@mllm/model';

/**
 * Every slot a plugin can add to: the model's components (encoders, connectors, LLMs). One
 * object per run, so two runs in one process never see each other's plugin types.
 */
export type MllmRegistry = ComponentRegistry;

/** A registry holding every built-in type; `registryWithPlugins` adds a config's plugins to one. */
export function createRegistry(): MllmRegistry {
  return createComponentRegistry();
}
