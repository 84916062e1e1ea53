import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-common';

/**
 * Which onnxruntime runs the exported model: onnxruntime-node (native, the fast one) when it
 * loads, else onnxruntime-web's wasm build, which runs in Node too.
 *
 * Why a fallback at all: onnxruntime-node's postinstall downloads CUDA binaries from GitHub on
 * every Linux x64 install unless ONNXRUNTIME_NODE_INSTALL_CUDA=skip is set, and where GitHub
 * cannot be reached the whole `npm install` failed. So @mllm/onnx declares it an
 * optionalDependency (a failed postinstall drops the package, the install succeeds) and
 * onnxruntime-web (no install script) a dependency; the runtime warns once naming the fix.
 *
 * Both packages implement onnxruntime-common's API, which is all the runtime uses.
 */

export type OrtPackage = 'onnxruntime-node' | 'onnxruntime-web';

export interface OrtChoice {
  package: OrtPackage;
  ort: typeof Ort;
  /** Why onnxruntime-node did not load, when onnxruntime-web stands in. */
  fallbackReason?: string;
}

/** The command that installs onnxruntime-node where its CUDA download cannot work. */
export const ORT_NODE_INSTALL = 'ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install onnxruntime-node@1.21.0';

/**
 * Loads onnxruntime-node, else onnxruntime-web. Synchronous (require), since the runtime's
 * classes are module-level values in both the ESM and the CJS build.
 */
export function chooseOrt(load: (id: string) => unknown = packageRequire()): OrtChoice {
  try {
    return { package: 'onnxruntime-node', ort: load('onnxruntime-node') as typeof Ort };
  } catch (e) {
    const fallbackReason = (e as Error).message.split('\n')[0]!;
    try {
      return { package: 'onnxruntime-web', ort: load('onnxruntime-web') as typeof Ort, fallbackReason };
    } catch (web) {
      throw new Error(
        `@mllm/onnx needs onnxruntime-node or onnxruntime-web and neither loads (onnxruntime-node: ${fallbackReason}; onnxruntime-web: ${(web as Error).message.split('\n')[0]}). Install one: ${ORT_NODE_INSTALL}`,
      );
    }
  }
}

function packageRequire(): (id: string) => unknown {
  // the CJS build has __filename and no import.meta.url; the ESM build the other way round
  return typeof __filename === 'string' ? createRequire(__filename) : createRequire(import.meta.url);
}

const chosen = chooseOrt();

/** The onnxruntime in use, for reports. */
export function ortEngine(): { package: OrtPackage; fallbackReason?: string } {
  return { package: chosen.package, ...(chosen.fallbackReason !== undefined && { fallbackReason: chosen.fallbackReason }) };
}

/** The warning for a process that runs on onnxruntime-web because onnxruntime-node did not load. */
export function ortFallbackWarning(reason: string): string {
  return (
    `ONNX inference runs on onnxruntime-web (wasm), slower than the native onnxruntime-node, which did not load (${reason}). ` +
    `Install it with \`${ORT_NODE_INSTALL}\` (the variable skips its CUDA download from GitHub, which fails where GitHub cannot be reached).`
  );
}

let warned = false;

/**
 * Says once per process that onnxruntime-web stands in: through the caller's logger, or Node's
 * process warning (stderr) when it passed none, so the slowdown is never silent.
 */
export function warnIfOrtFallback(logger?: { warn(message: string): void }): void {
  if (warned || chosen.fallbackReason === undefined) return;
  warned = true;
  const message = ortFallbackWarning(chosen.fallbackReason);
  if (logger) logger.warn(message);
  else process.emitWarning(message, { code: 'MLLM_ONNXRUNTIME_WEB' });
}

/**
 * Intra-op threads when the caller sets none: on onnxruntime-node every CPU this process may use
 * (os.availableParallelism); onnxruntime's own default counts physical cores as its CPU detection
 * sees them and ran one thread on a 2-core VM. Undefined on onnxruntime-web, which keeps its own
 * setting (ort.env.wasm.numThreads). node:os is required here, not imported, so a browser bundle
 * (where onnxruntime-web stands in) never needs it.
 */
export function defaultIntraOpThreads(): number | undefined {
  if (chosen.package !== 'onnxruntime-node') return undefined;
  const os = packageRequire()('node:os') as { availableParallelism?: () => number; cpus(): unknown[] };
  return os.availableParallelism?.() ?? os.cpus().length;
}

// The runtime writes `ort.Tensor` / `ort.InferenceSession` as values and as types, as it would
// with `import * as ort from 'onnxruntime-node'`.
export const Tensor: typeof Ort.Tensor = chosen.ort.Tensor;
export type Tensor = Ort.Tensor;
export const InferenceSession: typeof Ort.InferenceSession = chosen.ort.InferenceSession;
export type InferenceSession = Ort.InferenceSession;
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace InferenceSession {
  type SessionOptions = Ort.InferenceSession.SessionOptions;
}
