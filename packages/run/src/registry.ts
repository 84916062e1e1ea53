import type { ComponentRegistry } from '@mllm/core';
import { createComponentRegistry } from '@mllm/model';
import { createOnnxExporters, registerOnnxExporters, type OnnxExporters } from '@mllm/onnx';

/**
 * Every slot a plugin can add to: the model's components (encoders, connectors, LLMs) and, by
 * the same `type` keys, their ONNX exporters (`onnx.connectors.register('my-type', exporter)`).
 * One object per run, so two runs in one process never see each other's plugin types.
 */
export interface MllmRegistry extends ComponentRegistry {
  onnx: OnnxExporters;
}

/** A registry holding every built-in type and exporter; `registryFor` adds a config's plugins to one. */
export function createRegistry(): MllmRegistry {
  const onnx = createOnnxExporters();
  registerOnnxExporters(onnx);
  return { ...createComponentRegistry(), onnx };
}
