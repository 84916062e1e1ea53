import * as ort from './ort-loader';
import { OnnxModelError } from './manifest';

/** Ids per call of the token-embedding graph while the table is built: no output is the whole table. */
const CHUNK = 8192;

/**
 * The token-embedding graph's output for every id, [V, D], computed once and then read in place
 * of a graph call per token: at batch 1 that call took 0.14-0.31 ms after each 15 ms decoder
 * step on a 2-core machine, the lookup 0.01-0.04 ms (docs/experiments/onnx-deploy.md). The graph
 * maps each id on its own (a Gather, with whatever scaling or dequantisation the export put in
 * it), so its rows are exactly what it would give; its session is released once they are read,
 * since the table holds the same floats.
 */
export class TokenEmbeddingTable {
  private rows?: Promise<Float32Array>;

  constructor(
    private readonly vocabSize: number,
    private readonly dim: number,
    /** The graph's output for ids first .. first + n - 1, [n * D]. */
    private readonly embedRange: (first: number, n: number) => Promise<Float32Array>,
    /** Releases the graph's session. */
    private readonly releaseGraph: () => Promise<void>,
  ) {}

  /** Token ids [B][T] -> their embeddings [B, T, D]; ids outside the vocabulary are refused by place. */
  async lookup(ids: readonly (readonly number[])[]): Promise<ort.Tensor> {
    const [b, t, d, v] = [ids.length, ids[0]?.length ?? 0, this.dim, this.vocabSize];
    const table = await this.table();
    const out = new Float32Array(b * t * d);
    ids.forEach((row, r) => {
      if (row.length !== t) throw new OnnxModelError(`token id rows must be equally long: row ${r} has ${row.length} ids, row 0 has ${t}`);
      row.forEach((id, k) => {
        if (!Number.isInteger(id) || id < 0 || id >= v) throw new OnnxModelError(`token id ${id} (row ${r}, position ${k}) is outside the model's vocabulary of ${v} ids (mllm.json llm.vocabSize)`);
        out.set(table.subarray(id * d, (id + 1) * d), (r * t + k) * d);
      });
    });
    return new ort.Tensor('float32', out, [b, t, d]);
  }

  /** Releases the graph's session unless building the table already did. */
  async release(): Promise<void> {
    if (!this.rows) return this.releaseGraph();
    await this.rows.then(
      () => undefined,
      () => this.releaseGraph(),
    );
  }

  private table(): Promise<Float32Array> {
    this.rows ??= (async () => {
      const table = new Float32Array(this.vocabSize * this.dim);
      for (let first = 0; first < this.vocabSize; first += CHUNK) table.set(await this.embedRange(first, Math.min(CHUNK, this.vocabSize - first)), first * this.dim);
      await this.releaseGraph();
      return table;
    })();
    return this.rows;
  }
}
