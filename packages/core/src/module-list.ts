import { Module } from './module';

/** Ordered children named 0..n-1, so parameters read `layers.3.mlp...` as in HF checkpoints. */
export class ModuleList<M extends Module> extends Module {
  readonly items: readonly M[];

  constructor(items: readonly M[]) {
    super();
    items.forEach((m, i) => this.add(String(i), m));
    this.items = items;
  }

  get length(): number {
    return this.items.length;
  }
}

/** A module that only groups named children (HF's `model`, `encoder` wrappers). */
export class ModuleGroup extends Module {
  constructor(children: Record<string, Module>) {
    super();
    for (const [name, child] of Object.entries(children)) this.add(name, child);
  }
}
