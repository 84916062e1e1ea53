import * as tf from '@tensorflow/tfjs';
import { CheckpointError } from './errors';

/** A learnable tensor with its HF-style dotted name. Trainability lives on the variable. */
export type Parameter = tf.Variable;

export interface LoadReport {
  missing: string[];
  unexpected: string[];
  shapeMismatches: { name: string; expected: number[]; got: number[] }[];
}

/**
 * PyTorch-like container: owns parameters and child modules under dotted names
 * (`layers.0.self_attn.q_proj.weight`), so checkpoints load by name.
 */
export class Module {
  private readonly ownParams = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();
  training = true;

  protected add<M extends Module>(name: string, child: M): M {
    if (this.children.has(name) || this.ownParams.has(name)) throw new Error(`Module already has a member named "${name}"`);
    this.children.set(name, child);
    return child;
  }

  protected param(name: string, initial: tf.Tensor): Parameter {
    if (this.children.has(name) || this.ownParams.has(name)) throw new Error(`Module already has a member named "${name}"`);
    const v = tf.variable(initial, true, `${name}_${Module.nextId++}`);
    initial.dispose();
    this.ownParams.set(name, v);
    return v;
  }
  private static nextId = 0;

  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [n, p] of this.ownParams) out.push([prefix + n, p]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  trainableParameters(): [string, Parameter][] {
    return this.namedParameters().filter(([, p]) => p.trainable);
  }

  numParameters(options: { trainableOnly?: boolean } = {}): number {
    const list = options.trainableOnly ? this.trainableParameters() : this.namedParameters();
    return list.reduce((n, [, p]) => n + p.size, 0);
  }

  /** Stops gradients into every parameter below this module. */
  freeze(): this {
    this.setTrainable(false);
    return this;
  }

  unfreeze(): this {
    this.setTrainable(true);
    return this;
  }

  private setTrainable(on: boolean): void {
    for (const p of this.ownParams.values()) p.trainable = on;
    for (const c of this.children.values()) c.setTrainable(on);
  }

  train(): this {
    this.training = true;
    for (const c of this.children.values()) c.train();
    return this;
  }

  eval(): this {
    this.training = false;
    for (const c of this.children.values()) c.eval();
    return this;
  }

  /** Live references to the parameters by name (do not dispose them). */
  stateDict(): Record<string, tf.Tensor> {
    return Object.fromEntries(this.namedParameters());
  }

  /** Which tensors of `state` are missing, unexpected or mis-shaped for this module; loads nothing. */
  compareStateDict(state: Record<string, tf.Tensor>): LoadReport {
    const own = new Map(this.namedParameters());
    const report: LoadReport = { missing: [], unexpected: [], shapeMismatches: [] };
    for (const name of own.keys()) if (!(name in state)) report.missing.push(name);
    for (const [name, t] of Object.entries(state)) {
      const p = own.get(name);
      if (!p) report.unexpected.push(name);
      else if (!tf.util.arraysEqual(p.shape, t.shape)) report.shapeMismatches.push({ name, expected: p.shape, got: t.shape });
    }
    return report;
  }

  /**
   * Copies tensors into the parameters by name. Strict by default: any missing,
   * unexpected or mis-shaped tensor throws, listing every offender by name.
   */
  loadStateDict(state: Record<string, tf.Tensor>, options: { strict?: boolean; source?: string } = {}): LoadReport {
    const strict = options.strict ?? true;
    const own = new Map(this.namedParameters());
    const report = this.compareStateDict(state);
    const bad = report.missing.length + report.unexpected.length + report.shapeMismatches.length > 0;
    if (bad && strict) throw new CheckpointError(options.source ?? '(state dict)', describeLoadReport(report));
    const mismatched = new Set(report.shapeMismatches.map((m) => m.name));
    for (const [name, t] of Object.entries(state)) {
      const p = own.get(name);
      if (p && !mismatched.has(name)) p.assign(t.dtype === p.dtype ? t : t.cast(p.dtype));
    }
    return report;
  }

  dispose(): void {
    for (const p of this.ownParams.values()) p.dispose();
    for (const c of this.children.values()) c.dispose();
  }
}

export function describeLoadReport(r: LoadReport): string {
  const parts: string[] = [];
  if (r.missing.length) parts.push(`missing ${r.missing.length}: ${r.missing.join(', ')}`);
  if (r.unexpected.length) parts.push(`unexpected ${r.unexpected.length}: ${r.unexpected.join(', ')}`);
  if (r.shapeMismatches.length)
    parts.push(
      `shape mismatch ${r.shapeMismatches.length}: ${r.shapeMismatches.map((m) => `${m.name} expected [${m.expected}] got [${m.got}]`).join(', ')}`,
    );
  return `does not fit the model (${parts.join('; ')}). Check that the config matches the one the checkpoint was trained with.`;
}
