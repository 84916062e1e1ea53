import { Registry, type ComponentRegistry } from '@mllm/core';
import { registerBuiltinTools, type ToolRegistry } from './tools/builtin-tools';
import { createComponentRegistry } from '@mllm/model';
import { createOnnxExporters, registerOnnxExporters, type OnnxExporters } from '@mllm/onnx';

/**
 * Every slot a plugin can add to: the model's components (encoders, connectors, LLMs), by the
 * same `type` keys their ONNX exporters (`onnx.connectors.register('my-type', exporter)`), and
 * the vision tools of LLM-aided reasoning.
 * One object per run, so two runs in one process never see each other's plugin types.
 */
export interface MllmRegistry extends ComponentRegistry {
  onnx: OnnxExporters;
  /** Vision tools a controller LLM calls (`registry.tools.register('my-tool', schema, build)`); a config's `tools.use` names them. */
  tools: ToolRegistry;
}

/** A registry holding every built-in type and exporter; `registryFor` adds a config's plugins to one. */
export function createRegistry(): MllmRegistry {
  const onnx = createOnnxExporters();
  registerOnnxExporters(onnx);
  const tools: ToolRegistry = new Registry('tools');
  registerBuiltinTools(tools);
  return { ...createComponentRegistry(), onnx, tools };
}
