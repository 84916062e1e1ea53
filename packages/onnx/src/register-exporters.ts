import type { OnnxExporters } from './exporter-registry';
import { vitExporter } from './exporters/vit';
import { linearExporter, mlpExporter } from './exporters/projection';
import { perceiverExporter, qformerExporter } from './exporters/query';
import { adapterPromptsExporter, gatedCrossAttentionExporter, visualExpertExporter } from './exporters/fusion';
import { causalLmExporter } from './exporters/causal-lm';

/**
 * Adds an entry for every built-in component type: its exporter, or why it has none. A test
 * checks that each type of the component registry is decided here.
 */
export function registerOnnxExporters(exporters: OnnxExporters): void {
  exporters.encoders.register('vit', vitExporter);

  exporters.connectors.register('linear', linearExporter);
  exporters.connectors.register('mlp', mlpExporter);
  exporters.connectors.register('qformer', qformerExporter);
  exporters.connectors.register('perceiver', perceiverExporter);
  exporters.connectors.register('gated-cross-attention', gatedCrossAttentionExporter);
  exporters.connectors.register('adapter-prompts', adapterPromptsExporter);
  exporters.connectors.register('visual-expert', visualExpertExporter);
  exporters.connectors.register('expert', {
    unsupported:
      'The expert bridge ends its detector at an argmax and writes words from it, which the exported graphs (encoder -> connector -> decoder, all tensors) cannot carry; serve it with `mllm chat` on the trained run, or train a learned connector (mlp, qformer, ...) to export.',
  });

  exporters.llms.register('causal', causalLmExporter);
  exporters.llms.register('prefix', {
    unsupported: 'The decoder graph is causal; the prefix LM attends both ways over the prompt, which needs a prefix-length input the runtime does not feed yet. Train with llm type "causal" to export.',
  });
  exporters.llms.register('encoder-decoder', {
    unsupported: 'The export writes one decoder-only graph; an encoder-decoder LM needs an encoder graph and cross-attention caches. Train with llm type "causal" to export.',
  });
}
