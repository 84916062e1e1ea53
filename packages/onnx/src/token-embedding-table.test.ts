import { describe, expect, it } from 'vitest';
import { TokenEmbeddingTable } from './token-embedding-table';

/** A stand-in graph: id i's row is [i, i + 0.5, ...]; records its calls and releases. */
function fakeGraph(dim: number) {
  const calls: [number, number][] = [];
  let released = 0;
  const embedRange = async (first: number, n: number) => {
    calls.push([first, n]);
    return Float32Array.from({ length: n * dim }, (_, k) => first + Math.floor(k / dim) + (k % dim) / 2);
  };
  return { calls, released: () => released, embedRange, releaseGraph: async () => void released++ };
}

describe('TokenEmbeddingTable', () => {
  it("gathers each id's row of the graph's output, built once in chunks, then releases the graph", async () => {
    const g = fakeGraph(3);
    const table = new TokenEmbeddingTable(20000, 3, g.embedRange, g.releaseGraph);
    const out = await table.lookup([
      [5, 19999],
      [0, 8192],
    ]);
    expect(out.dims).toEqual([2, 2, 3]);
    expect(Array.from(out.data as Float32Array)).toEqual([5, 5.5, 6, 19999, 19999.5, 20000, 0, 0.5, 1, 8192, 8192.5, 8193]);
    expect(g.calls).toEqual([
      [0, 8192],
      [8192, 8192],
      [16384, 3616],
    ]);
    await table.lookup([[7]]);
    expect(g.calls).toHaveLength(3);
    expect(g.released()).toBe(1);
    await table.release();
    expect(g.released()).toBe(1);
  });

  it('refuses ids outside the vocabulary and rows of different lengths, naming the place', async () => {
    const g = fakeGraph(2);
    const table = new TokenEmbeddingTable(10, 2, g.embedRange, g.releaseGraph);
    await expect(table.lookup([[3, 10]])).rejects.toThrow(/token id 10 \(row 0, position 1\) is outside the model's vocabulary of 10 ids/);
    await expect(table.lookup([[-1]])).rejects.toThrow(/token id -1 \(row 0, position 0\)/);
    await expect(table.lookup([[1.5]])).rejects.toThrow(/token id 1.5/);
    await expect(table.lookup([[1, 2], [3]])).rejects.toThrow(/row 1 has 1 ids, row 0 has 2/);
  });

  it('release() before any lookup releases the graph itself; a failed build leaves it to release()', async () => {
    const unused = fakeGraph(2);
    await new TokenEmbeddingTable(4, 2, unused.embedRange, unused.releaseGraph).release();
    expect(unused.released()).toBe(1);
    let released = 0;
    const broken = new TokenEmbeddingTable(4, 2, async () => Promise.reject(new Error('the graph failed')), async () => void released++);
    await expect(broken.lookup([[1]])).rejects.toThrow('the graph failed');
    await broken.release();
    expect(released).toBe(1);
  });
});
