import type { StageResult } from '@mllm/training';
import type { RunSizeEstimate } from './size-estimate';
import { formatBytes, type SizeLimits } from './size-limits';

/** What the run planned for before training: each stage's estimated memory against the limit it was checked with. */
export interface MemoryEstimateReport {
  limitBytes: number;
  limitSource: string;
  /** Per stage (and `eval.batchSize`): parameters as held, a frozen encoder's cache, images and the batch's activations (on wasm: what its heap holds; AdamW's moments live outside it). */
  stages: { path: string; estimatedBytes: number }[];
}

export function memoryEstimateReport(estimate: RunSizeEstimate, limits: SizeLimits): MemoryEstimateReport {
  return {
    limitBytes: limits.memoryBytes,
    limitSource: limits.memorySource,
    stages: estimate.batches.map((b) => ({ path: b.path, estimatedBytes: b.parameterBytes + (limits.wasm ? 0 : b.optimizerBytes) + b.cacheBytes + estimate.dataBytes + b.activationBytes })),
  };
}

const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

/**
 * report.md's section on speed and memory: one row per stage (seconds a step, tokens/s, images/s,
 * the process's peak RSS, tfjs tensors, the wasm heap) and the estimate each stage was admitted with.
 */
export function throughputMarkdown(stages: StageResult[], memory?: MemoryEstimateReport): string {
  const measured = stages.filter((s) => s.throughput);
  if (measured.length === 0) return '';
  const lines = [
    '## Speed and memory',
    '',
    'Per stage, over its training steps in this process (validation excluded). Peak RSS is the process high-water mark at the stage\'s end.',
    '',
    '| stage | trains | s/step | tokens/s | images/s | peak RSS | tensors | wasm heap | estimate |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  stages.forEach((s, i) => {
    const t = s.throughput;
    if (!t) return;
    const estimate = memory?.stages.find((e) => e.path === `stages[${i}].batchSize`);
    const trains = s.lora ? s.trains.map((m) => (m === 'llm' ? `llm (LoRA r${s.lora!.rank})` : m)).join(', ') : s.trains.join(', ');
    lines.push(
      `| ${s.name} | ${trains} | ${fixed(t.secondsPerStep, 2)} | ${fixed(t.tokensPerSecond, 1)} | ${fixed(t.imagesPerSecond, 2)} | ${formatBytes(t.peakRssBytes)} | ${formatBytes(t.peakTensorBytes)} | ${t.wasmHeapBytes !== undefined ? formatBytes(t.wasmHeapBytes) : '-'} | ${estimate ? formatBytes(estimate.estimatedBytes) : '-'} |`,
    );
  });
  if (memory) lines.push('', `Estimates were checked against ${formatBytes(memory.limitBytes)} (${memory.limitSource}).`);
  return `${lines.join('\n')}\n`;
}
