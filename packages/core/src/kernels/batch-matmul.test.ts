import { describe, it, expect, afterEach } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { batchMatMul, batchMatMulNT, batchMatMulTN, setFastKernels, installFastKernels, setMatMulEngine, matMulEngineInfo, type MatMulEngine } from './batch-matmul';

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(a.sub(b))).dataSync()[0]!;
const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

/** Value and both gradients of f under a random upstream gradient. */
function valueAndGrads(f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, a: tf.Tensor, b: tf.Tensor, seed: number): tf.Tensor[] {
  const y = f(a, b);
  const up = rand(y.shape, seed);
  const [ga, gb] = tf.grads((p: tf.Tensor, q: tf.Tensor) => f(p, q).mul(up).sum())([a, b]);
  return [y, ga!, gb!];
}

/** The stock tfjs kernel's answer (our kernels off). */
function plain<T>(f: () => T): T {
  setFastKernels(false);
  try {
    return f();
  } finally {
    setFastKernels(true);
  }
}

afterEach(() => {
  setFastKernels(true);
  setMatMulEngine('auto');
});

describe('SIMD batched matMul kernels', () => {
  // widths that are and are not multiples of the 4-lane vectors
  for (const [g, m, n, k] of [[3, 5, 7, 8], [2, 4, 6, 6], [1, 1, 3, 5], [2, 3, 24, 5], [1, 2, 37, 19]] as const) {
    it(`match tfjs's own kernel in value and gradient (G ${g}, m ${m}, n ${n}, k ${k})`, () => {
      const a = rand([g, m, k], 1);
      const bT = rand([g, n, k], 2);
      const b = rand([g, k, n], 3);
      const aT = rand([g, k, m], 4);
      const cases: [(x: tf.Tensor, y: tf.Tensor) => tf.Tensor, tf.Tensor, tf.Tensor][] = [
        [(x, y) => batchMatMulNT(x as tf.Tensor3D, y as tf.Tensor3D), a, bT],
        [(x, y) => batchMatMul(x as tf.Tensor3D, y as tf.Tensor3D), a, b],
        [(x, y) => batchMatMulTN(x as tf.Tensor3D, y as tf.Tensor3D), aT, b],
      ];
      for (const [f, x, y] of cases) {
        const ours = valueAndGrads(f, x, y, 5);
        const ref = plain(() => valueAndGrads(f, x, y, 5));
        ours.forEach((t, i) => expect(maxDiff(t, ref[i]!)).toBeLessThan(1e-4));
      }
    });
  }
});

describe('BatchMatMul registered for wasm', () => {
  const onWasm = tf.getBackend() === 'wasm';
  it.runIf(onWasm)('replaces the wasm kernel only', () => {
    installFastKernels();
    const fast = (backend: string) => (tf.getKernel('BatchMatMul', backend)?.kernelFunc as { mllmFast?: boolean } | undefined)?.mllmFast === true;
    expect(fast('wasm')).toBe(true);
    expect(fast('cpu')).toBe(false);
  });

  // the small products stay on wasm under either engine (below the onnxruntime call's cost); the
  // larger ones are what onnxruntime serves
  const shapes: [number[], number, number, number][] = [[[], 6, 5, 7], [[1], 9, 16, 4], [[3], 5, 18, 6], [[2, 3], 4, 9, 24], [[], 70, 65, 48], [[2], 48, 40, 40], [[2, 2], 33, 30, 19]];
  for (const engine of ['wasm', 'onnxruntime'] as MatMulEngine[])
    it.runIf(onWasm)(`serves every transpose-flag combination, 2-D, 3-D and 4-D, equal to the stock kernel with gradients (${engine} engine)`, () => {
      installFastKernels();
      setMatMulEngine(engine);
      expect(matMulEngineInfo().engine).toBe(engine);
      for (const [lead, m, n, k] of shapes) {
        for (const tA of [false, true])
          for (const tB of [false, true]) {
            const a = rand([...lead, ...(tA ? [k, m] : [m, k])], 11);
            const b = rand([...lead, ...(tB ? [n, k] : [k, n])], 12);
            const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, tA, tB);
            const ours = valueAndGrads(f, a, b, 13);
            const ref = plain(() => valueAndGrads(f, a, b, 13));
            expect(ours[0]!.shape).toEqual([...lead, m, n]);
            ours.forEach((t, i) => expect(maxDiff(t, ref[i]!), `lead [${lead}] tA ${tA} tB ${tB} output ${i}`).toBeLessThan(1e-4));
          }
      }
    });

  it.runIf(onWasm)('onnxruntime writes into the output in place and leaves the operands as they were', () => {
    installFastKernels();
    setMatMulEngine('onnxruntime');
    const a = rand([64, 48], 1);
    const b = rand([40, 48], 2);
    const before = [a.dataSync().slice(), b.dataSync().slice()];
    const y = tf.matMul(a, b, false, true);
    const z = tf.matMul(a, b, false, true);
    expect(y.dataSync()).toEqual(z.dataSync());
    expect(a.dataSync()).toEqual(before[0]);
    expect(b.dataSync()).toEqual(before[1]);
  });

  it('refuses an unknown engine or thread count, saying what is allowed', () => {
    expect(() => setMatMulEngine('gpu' as MatMulEngine)).toThrow(/unknown matMul engine "gpu"; choose one of auto, onnxruntime, wasm/);
    expect(() => setMatMulEngine('auto', { threads: 0 })).toThrow(/positive integer, got 0/);
  });

  it('reads MLLM_MATMUL under auto, and refuses a value it does not know', () => {
    try {
      process.env.MLLM_MATMUL = 'wasm';
      setMatMulEngine('auto');
      expect(matMulEngineInfo().engine).toBe('wasm');
      process.env.MLLM_MATMUL = 'fast';
      setMatMulEngine('auto');
      expect(() => matMulEngineInfo()).toThrow(/MLLM_MATMUL="fast" is not a matMul engine; choose one of auto, onnxruntime, wasm/);
    } finally {
      delete process.env.MLLM_MATMUL;
      setMatMulEngine('auto');
    }
  });

  for (const engine of ['wasm', 'onnxruntime'] as MatMulEngine[])
  it.runIf(onWasm)(`leaves no tensor or heap allocation behind (the transposed copies are freed; ${engine} engine)`, () => {
    installFastKernels();
    setMatMulEngine(engine);
    const a = rand([4, 48, 36], 1);
    const b = rand([4, 25, 36], 2);
    const c = rand([4, 25, 48], 4);
    const w = rand([36, 25], 3);
    const run = () => {
      tf.matMul(a, b, false, true).dispose();
      tf.matMul(a, c, true, true).dispose();
      tf.matMul(w, w, true, false).dispose();
    };
    run();
    const before = { ...tf.memory(), dataIds: tf.engine().backend.numDataIds() };
    for (let i = 0; i < 5; i++) run();
    expect({ ...tf.memory(), dataIds: tf.engine().backend.numDataIds() }).toEqual(before);
  });

  it.runIf(onWasm)('broadcast batches and int32 operands still work (tfjs kernel)', () => {
    const a = rand([3, 4, 5], 1);
    const b = rand([1, 5, 2], 2);
    const ours = tf.matMul(a, b);
    const ref = plain(() => tf.matMul(a, b));
    expect(maxDiff(ours, ref)).toBeLessThan(1e-5);
  });
});
