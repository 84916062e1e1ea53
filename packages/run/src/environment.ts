import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { MllmError, matMulEngineInfo } from '@mllm/core';
import { writeFileAtomic } from '@mllm/core/internal';

/**
 * What a run's numbers depend on beyond its config and seed. Measured (docs/reproducibility.md):
 * a run repeats bit for bit on the same versions, engine and matMul threads; onnxruntime's GEMM
 * sums in another order with another thread count (1 vs 2 threads: other weights, same seed),
 * while the wasm engine gives the same weights on any number of cores.
 */
export interface RunEnvironment {
  node: string;
  platform: string;
  cpu: string;
  /** Cores this process may use (`os.availableParallelism()`): the default thread count. */
  cores: number;
  backend: string;
  matMul: { engine: 'onnxruntime' | 'wasm'; threads: number };
  /** Data-parallel participants (1: this process alone); their gradients are summed in participant order. */
  workers: number;
  /** Versions of the packages whose arithmetic the result depends on. */
  versions: Record<string, string>;
}

/** The packages whose arithmetic a result depends on, as recorded in `environment.versions`. */
const NUMERIC_PACKAGES = ['@mllm/core', '@mllm/run', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', 'onnxruntime-node', 'onnxruntime-web'] as const;

const requireHere = createRequire(import.meta.url);

/** A package's version, found from its resolved entry upwards (not every package exports its package.json); undefined when not installed. */
function installedVersion(name: string): string | undefined {
  let entry: string;
  try {
    entry = requireHere.resolve(name);
  } catch {
    return undefined;
  }
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === name) return pkg.version;
  }
  return undefined;
}

/** The environment of this process for a run on `backend` with `workers` participants (call after the matMul engine is set). */
export function runEnvironment(backend: string, workers: number): RunEnvironment {
  const engine = matMulEngineInfo();
  const versions: Record<string, string> = {};
  for (const name of NUMERIC_PACKAGES) {
    const version = installedVersion(name);
    if (version) versions[name] = version;
  }
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    backend,
    matMul: { engine: engine.engine, threads: engine.threads },
    workers,
    versions,
  };
}

/**
 * Threads for onnxruntime's matMul in a single-process run: `requested` (`--threads`), else
 * env MLLM_THREADS, else every core. Pinning it is how a run repeats on a machine with another
 * core count.
 */
export function matMulThreads(requested: number | undefined): number {
  const raw = requested ?? process.env.MLLM_THREADS;
  if (raw === undefined || raw === '') return availableParallelism();
  const threads = Number(raw);
  if (!Number.isInteger(threads) || threads < 1)
    throw new MllmError(`${requested !== undefined ? '--threads' : 'MLLM_THREADS'} must be a whole number >= 1 (matMul threads), got ${raw}`);
  return threads;
}

/** The fields whose change alters a run's arithmetic; cpu and cores only matter through them (or through SIMD paths, which the cpu names). */
function arithmeticIdentity(env: RunEnvironment): Record<string, string> {
  return {
    'matMul engine': env.matMul.engine,
    'matMul threads': String(env.matMul.threads),
    workers: String(env.workers),
    backend: env.backend,
    cpu: env.cpu,
    ...env.versions,
  };
}

/** What differs between the environment a run started in and this one, as `name: before -> now` lines. */
export function environmentChanges(before: RunEnvironment, now: RunEnvironment): string[] {
  const a = arithmeticIdentity(before);
  const b = arithmeticIdentity(now);
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).map((k) => `${k}: ${a[k] ?? 'none'} -> ${b[k] ?? 'none'}`);
}

const ENVIRONMENT_FILE = 'environment.json';

/** Records the environment a run starts in, so a `--resume` elsewhere can say what will differ. */
export async function writeRunEnvironment(dir: string, env: RunEnvironment): Promise<void> {
  await writeFileAtomic(join(dir, ENVIRONMENT_FILE), JSON.stringify(env, null, 2));
}

/** The environment a run started in, or undefined for a run folder written before it was recorded (or unreadable: it is advice only). */
export async function readRunEnvironment(dir: string): Promise<RunEnvironment | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, ENVIRONMENT_FILE), 'utf8')) as RunEnvironment;
  } catch {
    return undefined;
  }
}
