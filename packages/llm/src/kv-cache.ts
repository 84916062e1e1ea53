import type { KvCache } from '@mllm/core';

export function createKvCache(): KvCache {
  return { layers: [], keyMask: [] };
}

export function disposeKvCache(cache: KvCache): void {
  for (const layer of cache.layers) {
    layer?.key.dispose();
    layer?.value.dispose();
  }
  cache.layers = [];
  cache.keyMask = [];
  for (const layer of cache.encoder?.layers ?? []) {
    layer.key.dispose();
    layer.value.dispose();
  }
  delete cache.encoder;
}
