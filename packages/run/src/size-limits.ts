import { createRequire } from 'node:module';
import { totalmem } from 'node:os';
import { ConfigError, type ConfigIssue } from '@mllm/core';
import type { RunConfig } from '@mllm/training';
import { WEIGHT_BYTES, estimateRunSize, type RunSizeEstimate } from './size-estimate';
import type { MllmRegistry } from './registry';

/** The wasm backend's heap: 32-bit addresses, 4 GiB whatever the machine has. */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;
/** Share of the machine's memory a run on a native backend plans for; the rest is the OS's, Node's and other processes'. */
export const MACHINE_SHARE = 0.5;
/** Training holds float32 weights, their gradients and AdamW's two moments: 16 bytes a trained parameter (4 a frozen one). */
export const TRAINING_BYTES_PER_PARAMETER = 16;

export interface SizeLimits {
  memoryBytes: number;
  parameters: number;
  /** Where each limit comes from, for the message. */
  memorySource: string;
  parametersSource: string;
  /**
   * True on the wasm backend: the limit is its heap's, which AdamW's moments (host memory) stay
   * outside of, and a native backend would give more.
   */
  wasm: boolean;
}

/**
 * The limits a run is held to: the config's `limits`, else what the machine gives. The backend is
 * not started yet, so `auto` is taken as native only when a native tfjs package resolves.
 */
export function sizeLimits(config: Pick<RunConfig, 'limits'>, backend: string = process.env.MLLM_BACKEND ?? 'auto'): SizeLimits {
  const machine = Math.floor(totalmem() * MACHINE_SHARE);
  const wasm = backend === 'wasm' || (backend === 'auto' && !nativeBackendInstalled());
  const halfMachine = `half of this machine's ${formatBytes(totalmem())}`;
  const [derived, source] = wasm && WASM_HEAP_BYTES <= machine ? [WASM_HEAP_BYTES, "the wasm backend's 4 GiB heap"] : [machine, halfMachine];
  const memoryBytes = config.limits?.memoryBytes ?? derived;
  const memorySource = config.limits?.memoryBytes !== undefined ? 'limits.memoryBytes' : source;
  // the model must at least be held as float32 weights; what each stage trains on top is checked per stage
  return {
    memoryBytes,
    parameters: config.limits?.parameters ?? Math.floor(memoryBytes / WEIGHT_BYTES),
    memorySource,
    parametersSource: config.limits?.parameters !== undefined ? 'limits.parameters' : `${memorySource}, ${formatBytes(memoryBytes)}, at ${WEIGHT_BYTES} bytes each (float32 weights)`,
    wasm,
  };
}

function nativeBackendInstalled(): boolean {
  const require = createRequire(import.meta.url);
  return ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].some((pkg) => {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Refuses a config whose derived sizes pass the limits, before anything is allocated: the
 * model's parameters, then for every stage (and the evaluation) the memory its batch needs on
 * top of the parameters and the world's images. Each issue names the JSON path, the size, the
 * limit and how to raise it. Returns the estimate for the caller's log.
 */
export function checkSizeLimits(config: RunConfig, registry: MllmRegistry, options: { vocabSize?: number; backend?: string } = {}): RunSizeEstimate {
  const estimate = estimateRunSize(config, registry, { vocabSize: options.vocabSize });
  const limits = sizeLimits(config, options.backend);
  const issues = sizeIssues(estimate, limits);
  if (issues.length > 0) throw new ConfigError(issues, 'Config too large for the limits');
  return estimate;
}

/** The issues of an estimate against limits (empty when it fits). */
export function sizeIssues(estimate: RunSizeEstimate, limits: SizeLimits): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const raiseMemory = `or raise the limit with "limits": { "memoryBytes": N } in the config (--set limits.memoryBytes=N)`;
  const { parameters } = estimate;
  const total = estimate.totalParameters ?? Object.values(parameters).reduce<number>((s, p) => s + (p ?? 0), 0);
  if (total > limits.parameters) {
    const slots = (['encoder', 'connector', 'llm'] as const).filter((s) => parameters[s] !== undefined);
    const largest = slots.reduce((a, b) => (parameters[b]! > parameters[a]! ? b : a));
    const parts = slots.map((s) => `${s} ${formatCount(parameters[s]!)}`).join(', ');
    issues.push({
      path: largest,
      message:
        `the model would have ${formatCount(total)} parameters (${parts}; vocabulary ${estimate.vocabSizeEstimated ? `~${estimate.vocabSize}, estimated` : estimate.vocabSize}), ${formatBytes(total * WEIGHT_BYTES)} as float32 weights, ` +
        `over the limit of ${formatCount(limits.parameters)} parameters (${limits.parametersSource}); ` +
        `make ${largest} smaller (layers, dim)${nativeHint(limits)}, or raise the limit with "limits": { "parameters": N } in the config (--set limits.parameters=N)`,
    });
    return issues; // every batch would be over too: the parameters are the one thing to fix
  }
  const held = total * WEIGHT_BYTES + estimate.dataBytes;
  if (held > limits.memoryBytes) {
    issues.push({
      path: 'data',
      message: `the ${estimate.scenes} scenes' images (${formatBytes(estimate.dataBytes)}) and the float32 weights (${formatBytes(total * WEIGHT_BYTES)}) need more than the ${formatBytes(limits.memoryBytes)} of ${limits.memorySource}; ask for fewer scenes (data.train, data.val, data.test)${nativeHint(limits)} ${raiseMemory}`,
    });
    return issues;
  }
  for (const batch of estimate.batches) {
    const optimizer = limits.wasm ? 0 : batch.optimizerBytes;
    const fixed = batch.parameterBytes + optimizer + batch.cacheBytes + estimate.dataBytes;
    const needed = fixed + batch.activationBytes;
    if (needed <= limits.memoryBytes) continue;
    const perSample = batch.activationBytes / batch.batchSize;
    const fits = Math.floor((limits.memoryBytes - fixed) / perSample);
    const stage = batch.path.replace(/\.batchSize$/, '');
    const ways = [
      fits >= 1 ? `use a batch of at most ${fits}` : fixed > limits.memoryBytes ? undefined : 'a batch of 1 is over: shorten the sequences (fewer text tokens, fewer visual tokens per image)',
      batch.remedies.includes('lora') ? `train the LLM through LoRA ("lora": { "rank": 8 } on ${stage}: its weights then need no gradients or AdamW moments)` : undefined,
      batch.remedies.includes('freeze') ? `train fewer modules (${stage}.trains: a frozen module holds only its weights)` : undefined,
      'use a smaller model (layers, dim)',
    ].filter((w) => w !== undefined);
    issues.push({
      path: batch.path,
      message:
        `batch ${batch.batchSize} needs about ${formatBytes(batch.activationBytes)} of activations (${formatBytes(perSample)} a sample at ${batch.sequenceTokens} tokens) on top of ${formatBytes(fixed)} ` +
        `(parameters ${formatBytes(batch.parameterBytes + optimizer)}, ${formatCount(batch.trainedParameters)} of them trained${batch.cacheBytes > 0 ? `; cached encoder features ${formatBytes(batch.cacheBytes)}` : ''}; images ${formatBytes(estimate.dataBytes)}), ` +
        `${formatBytes(needed)} in all, over the ${formatBytes(limits.memoryBytes)} of ${limits.memorySource}; ${ways.join('; or ')}${nativeHint(limits)}; ${raiseMemory}`,
    });
  }
  return issues;
}

/** On the wasm backend, where the native backends would lift the 4 GiB ceiling. */
function nativeHint(limits: SizeLimits): string {
  if (!limits.wasm) return '';
  return `; or install @tensorflow/tfjs-node (or -gpu, where CUDA is) and run with --backend tensorflow (or tensorflow-gpu): a native backend may use half of this machine's ${formatBytes(totalmem())}`;
}

/** 1234567 -> "1.23e+6"; small counts as they are. */
export function formatCount(n: number): string {
  return n < 1e5 ? String(Math.round(n)) : n.toExponential(2);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (value >= 1024) return `${bytes.toExponential(2)} B`;
  return `${value.toFixed(value < 10 && unit > 0 ? 1 : 0)} ${units[unit]}`;
}
