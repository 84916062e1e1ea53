import * as tf from '@tensorflow/tfjs';
import { Rng, saveHfFolder } from '@mllm/core';

/** Writes a tiny random CLIPVisionModel folder (HF names, config.json + model.safetensors). */
export async function writeTinyHfClip(dir: string, shape = { hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 2, image_size: 16, patch_size: 8 }): Promise<void> {
  const rng = new Rng(3);
  const { hidden_size: d, intermediate_size: f, num_hidden_layers: layers, image_size: s, patch_size: p } = shape;
  const t: Record<string, tf.Tensor> = {};
  const put = (name: string, dims: number[], scale: number, offset = 0) => {
    t[`vision_model.${name}`] = tf.tensor(Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => offset + scale * (2 * rng.next() - 1)), dims);
  };
  const norm = (name: string) => (put(`${name}.weight`, [d], 0.2, 1), put(`${name}.bias`, [d], 0.1));
  const lin = (name: string, out: number, inF: number) => (put(`${name}.weight`, [out, inF], 1 / Math.sqrt(inF)), put(`${name}.bias`, [out], 0.1));
  put('embeddings.patch_embedding.weight', [d, 3, p, p], 0.3);
  put('embeddings.class_embedding', [d], 0.5);
  put('embeddings.position_embedding.weight', [(s / p) ** 2 + 1, d], 0.3);
  norm('pre_layrnorm');
  for (let l = 0; l < layers; l++) {
    const at = `encoder.layers.${l}`;
    norm(`${at}.layer_norm1`);
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) lin(`${at}.self_attn.${proj}`, d, d);
    norm(`${at}.layer_norm2`);
    lin(`${at}.mlp.fc1`, f, d);
    lin(`${at}.mlp.fc2`, d, f);
  }
  norm('post_layernorm');
  await saveHfFolder(dir, { architectures: ['CLIPVisionModel'], model_type: 'clip_vision_model', hidden_act: 'quick_gelu', layer_norm_eps: 1e-5, num_channels: 3, ...shape }, t);
  tf.dispose(Object.values(t));
}
