import { MllmError } from '@mllm/core';
import type { ConnectorExporter, EncoderExporter, LlmExporter } from './exporter-types';
import { UnsupportedExportError } from './unsupported-error';

/** A type the export knowingly does not write, with what the user can do instead. */
export interface UnsupportedExport {
  readonly unsupported: string;
}

/** What a type is registered with: its exporter, or the stated reason it has none. */
export type ExporterEntry<T> = T | UnsupportedExport;

type Slot = 'encoder' | 'connector' | 'llm';

const isUnsupported = (entry: object): entry is UnsupportedExport => 'unsupported' in entry;

/**
 * Exact-key registry of ONNX exporters for one slot, keyed by the component registry's `type`
 * strings. Every type decides: an exporter, or `{ unsupported: reason }`. Duplicate
 * registration throws, as the component registry's does.
 */
export class ExporterRegistry<T extends object> {
  private readonly entries = new Map<string, ExporterEntry<T>>();

  constructor(
    readonly slot: Slot,
    /** Methods an exporter of this slot must have; checked at registration (plugins are plain JS). */
    private readonly required: readonly string[],
  ) {}

  register(type: string, entry: ExporterEntry<T>): void {
    const where = `ONNX ${this.slot} exporter "${type}"`;
    if (this.entries.has(type)) throw new MllmError(`${where} is already registered`);
    if (typeof entry !== 'object' || entry === null) throw new MllmError(`${where}: register an exporter object or { unsupported: "<reason>" }`);
    if (isUnsupported(entry)) {
      if (typeof entry.unsupported !== 'string' || !entry.unsupported.trim()) throw new MllmError(`${where}: { unsupported } needs a reason a user can act on`);
    } else {
      const missing = this.required.filter((m) => typeof (entry as Record<string, unknown>)[m] !== 'function');
      if (missing.length) throw new MllmError(`${where} lacks ${missing.map((m) => `${m}()`).join(', ')}; see the ${this.slot} exporter interface in @mllm/onnx/graph`);
      if (this.slot === 'connector') checkFusionPair(entry as ConnectorExporter, where);
    }
    this.entries.set(type, entry);
  }

  has(type: string): boolean {
    return this.entries.has(type);
  }

  types(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** The entry of `type`; an unknown type throws naming the known ones. */
  get(type: string): ExporterEntry<T> {
    const entry = this.entries.get(type);
    if (!entry) throw new MllmError(`no ONNX exporter for ${this.slot} type "${type}"; known: ${this.types().join(', ')}`);
    return entry;
  }

  /**
   * The exporter of the part at `path` (`connector`) of `type`, or an UnsupportedExportError
   * that names the part, its class and why: the type's stated reason, or that no exporter is
   * registered (with the known types and how a plugin adds one).
   */
  exporterFor(type: string, path: string, component: object): T {
    const label = `${path} ${component.constructor?.name ?? typeof component} (type "${type}")`;
    const entry = this.entries.get(type);
    if (!entry)
      throw new UnsupportedExportError(
        label,
        `No ONNX exporter is registered for ${this.slot} type "${type}" (exported ${this.slot} types: ${this.exportable().join(', ') || 'none'}); the plugin that adds the type can add its exporter with registry.onnx.${this.slot}s.register("${type}", exporter).`,
      );
    if (isUnsupported(entry)) throw new UnsupportedExportError(label, entry.unsupported);
    return entry;
  }

  private exportable(): string[] {
    return this.types().filter((t) => !isUnsupported(this.entries.get(t)!));
  }
}

function checkFusionPair(exporter: ConnectorExporter, where: string): void {
  if ((exporter.decoder === undefined) !== (exporter.fusion === undefined))
    throw new MllmError(`${where}: a fusion connector's exporter gives both decoder() (its decoder nodes) and fusion() (the runtime inputs they take), or neither`);
}

/** One exporter registry per model slot, with the component registry's `type` keys. */
export interface OnnxExporters {
  encoders: ExporterRegistry<EncoderExporter>;
  connectors: ExporterRegistry<ConnectorExporter>;
  llms: ExporterRegistry<LlmExporter>;
}

/** Empty registries; `registerOnnxExporters` adds the built-in types' entries. */
export function createOnnxExporters(): OnnxExporters {
  return {
    encoders: new ExporterRegistry<EncoderExporter>('encoder', ['image', 'features', 'hf']),
    connectors: new ExporterRegistry<ConnectorExporter>('connector', ['imageFeatures']),
    llms: new ExporterRegistry<LlmExporter>('llm', ['shape', 'embedTokens', 'decoder', 'hf']),
  };
}
