import { Registry, type ComponentRegistry } from '@mllm/core';
import { registerEncoders } from '@mllm/encoders';
import { registerProjectionConnectors } from '@mllm/connector-projection';
import { registerQueryConnectors } from '@mllm/connector-query';
import { registerFusionConnectors } from '@mllm/connector-fusion';
import { registerExpertConnectors } from '@mllm/connector-expert';
import { registerLlms } from '@mllm/llm';

/** A fresh registry holding every built-in type; add third-party types with `registry.<slot>.register`. */
export function createComponentRegistry(): ComponentRegistry {
  const registry: ComponentRegistry = {
    encoders: new Registry('encoder'),
    connectors: new Registry('connector'),
    llms: new Registry('llm'),
  };
  registerEncoders(registry);
  registerProjectionConnectors(registry);
  registerQueryConnectors(registry);
  registerFusionConnectors(registry);
  registerExpertConnectors(registry);
  registerLlms(registry);
  return registry;
}
