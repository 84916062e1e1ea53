import { join } from 'node:path';
import * as ort from './ort-loader';
import { MANIFEST_FILE, OnnxModelError, REEXPORT_HINT, checkManifest, type OnnxManifest } from './manifest';
import { readModelFile, resolveModelFile } from './model-files';
import { readGraphSignature } from './graph-signature';
import { checkGraph, type GraphRole } from './graph-contract';

/**
 * Opening an `mllm export` folder: mllm.json read and checked, every graph file resolved inside the
 * folder and checked against it before onnxruntime sees any, then one onnxruntime session per graph.
 * Whatever is wrong is said with the file or field that holds it.
 */

/** mllm.json holds the run config too, a few kB; a file of many MB is not one the exporter wrote. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

const ROLES = ['visionEncoder', 'embedTokens', 'decoder'] as const;

export interface OpenedFolder {
  manifest: OnnxManifest;
  /** Each graph's path, for messages. */
  files: Record<GraphRole, string>;
  sessions: Record<GraphRole, ort.InferenceSession>;
}

/** The folder's manifest and a session per graph, on `threads` intra-op threads (undefined: onnxruntime's choice). */
export async function openModelFolder(dir: string, threads: number | undefined): Promise<OpenedFolder> {
  const manifestPath = join(dir, MANIFEST_FILE);
  const manifest = checkManifest(await readManifestJson(dir, manifestPath), manifestPath);
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    // onnxruntime's own log would print each failure a second time, unasked, on stderr; the thrown
    // OnnxModelError carries its message with the file (fatal errors still print)
    logSeverityLevel: 4,
    ...(threads !== undefined && { intraOpNumThreads: threads, interOpNumThreads: 1 }),
  };
  const files = Object.fromEntries(ROLES.map((role) => [role, join(dir, manifest.files[role])])) as Record<GraphRole, string>;
  const realPaths: string[] = [];
  for (const role of ROLES) {
    const real = await resolveModelFile(dir, manifest.files[role], { field: `files.${role}` });
    checkGraph(role, await readGraphSignature(real, files[role]), manifest, { manifestPath, files });
    realPaths.push(real);
    // onnxruntime opens the weights file itself: a missing or escaping one is refused here, by name
    const data = manifest.externalData?.[role];
    if (data !== undefined) await resolveModelFile(dir, data, { field: `externalData.${role}` });
  }
  // the token embedding is a Gather, run only to fill the runtime's table (TokenEmbeddingTable):
  // on one thread, with no thread pool of its own to spin on the cores the decoder uses
  const own = (role: GraphRole) => (role === 'embedTokens' && threads !== undefined ? { ...options, intraOpNumThreads: 1 } : options);
  const sessions: ort.InferenceSession[] = [];
  try {
    for (const [i, role] of ROLES.entries()) sessions.push(await createSession(realPaths[i]!, files[role], own(role)));
  } catch (e) {
    await Promise.all(sessions.map((s) => s.release()));
    throw e;
  }
  const [visionEncoder, embedTokens, decoder] = sessions as [ort.InferenceSession, ort.InferenceSession, ort.InferenceSession];
  return { manifest, files, sessions: { visionEncoder, embedTokens, decoder } };
}

/** mllm.json read as JSON: inside the folder, a regular file of at most MAX_MANIFEST_BYTES. */
async function readManifestJson(dir: string, manifestPath: string): Promise<unknown> {
  const bytes = await readModelFile(dir, MANIFEST_FILE, { maxBytes: MAX_MANIFEST_BYTES, missingHint: 'pass a folder written by `mllm export`' });
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new OnnxModelError(`${manifestPath}: not valid JSON (${(e as Error).message}); ${REEXPORT_HINT}`);
  }
}

/** An InferenceSession of the graph at `path`; onnxruntime's refusal (corrupt protobuf, unknown op, bad initializer) names the file. */
async function createSession(path: string, file: string, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(path, options);
  } catch (e) {
    throw new OnnxModelError(`${file}: onnxruntime cannot load it (${firstLine(e)}); the file is corrupt or not from \`mllm export\`, ${REEXPORT_HINT}`);
  }
}

/** The first line of an error's message (onnxruntime's carry a stack of native frames after it). */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim();
}
