import { MllmError } from '@mllm/core';

/** Thrown when a model holds a component or option the ONNX export does not write; names it and says why. */
export class UnsupportedExportError extends MllmError {
  constructor(
    readonly component: string,
    detail: string,
  ) {
    super(`ONNX export: not supported yet: ${component}. ${detail}`);
  }
}
