import { parseHfSpec, type ComponentRegistry } from '@mllm/core';
import { VisionTransformer, vitSchema } from './vit';
import { HighResEncoder } from './high-res';
import { checkHfVisionWeights, loadHfVisionWeights } from './hf-vision';
import { estimateVit } from './size-estimate';

/** Adds this package's encoder types to a registry; `highRes` wraps the built encoder; `from` loads HF weights. */
export function registerEncoders(registry: Pick<ComponentRegistry, 'encoders'>): void {
  registry.encoders.register('vit', vitSchema, (config, { rng }) => {
    if (config.from) checkHfVisionWeights(config, parseHfSpec(config.from)); // headers only, before a tower of the config's size exists
    const vit = new VisionTransformer(config, rng);
    if (config.from) {
      try {
        loadHfVisionWeights(vit, parseHfSpec(config.from));
      } catch (e) {
        vit.dispose();
        throw e;
      }
    }
    return config.highRes ? new HighResEncoder(vit, config.highRes, rng.fork('high-res')) : vit;
  }, { estimate: estimateVit });
}
