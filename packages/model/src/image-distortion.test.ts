import { describe, expect, it } from 'vitest';
import { diffusionNoised, diffusionScales } from './image-distortion';

describe('VCD image distortion', () => {
  it('follows VCD\'s schedule: almost no noise at step 0, mostly noise at step 999, monotone', () => {
    // step 0: beta_0 = sigmoid(-6) * (5e-3 - 1e-5) + 1e-5
    const beta0 = (1 / (1 + Math.exp(6))) * (0.5e-2 - 1e-5) + 1e-5;
    expect(diffusionScales(0).signal).toBeCloseTo(Math.sqrt(1 - beta0), 12);
    const steps = [0, 100, 500, 999].map((t) => diffusionScales(t));
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.signal).toBeLessThan(steps[i - 1]!.signal);
    for (const s of steps) expect(s.signal ** 2 + s.noise ** 2).toBeCloseTo(1, 12);
    // sqrt(alphas_prod[t]) of VCD's schedule in torch float64 (torch.linspace, sigmoid, cumprod): 0.8630171 at 500, 0.2850424 at 999
    expect(diffusionScales(500).signal).toBeCloseTo(0.8630171, 6);
    expect(diffusionScales(999).signal).toBeCloseTo(0.2850424, 6);
  });

  it('refuses steps outside the schedule', () => {
    expect(() => diffusionScales(1000)).toThrow(/\[0, 999\]/);
    expect(() => diffusionScales(1.5)).toThrow(/integer/);
  });

  it('adds the noise in the encoder\'s normalised space and keeps shapes; same seed same noise', () => {
    const pixels = new Float32Array(3 * 400).map((_, k) => (k % 3) / 2); // channels 0, 0.5, 1
    const normalization = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
    const [a] = diffusionNoised([pixels], { noiseStep: 500, seed: 1 }, normalization);
    const [b] = diffusionNoised([pixels], { noiseStep: 500, seed: 1 }, normalization);
    expect(Array.from(a as Float32Array)).toEqual(Array.from(b as Float32Array));
    const { signal, noise } = diffusionScales(500);
    // in normalised space: z' = signal z + noise eps, eps ~ N(0, 1): mean and spread per channel
    for (const c of [0, 1, 2]) {
      const z = Array.from(a as Float32Array).filter((_, k) => k % 3 === c).map((x) => (x - 0.5) / 0.25);
      const zClean = (c / 2 - 0.5) / 0.25;
      const m = z.reduce((s, v) => s + v, 0) / z.length;
      const sd = Math.sqrt(z.reduce((s, v) => s + (v - m) ** 2, 0) / (z.length - 1));
      expect(Math.abs(m - signal * zClean)).toBeLessThan(4 * noise / Math.sqrt(z.length));
      expect(sd / noise).toBeGreaterThan(0.85);
      expect(sd / noise).toBeLessThan(1.15);
    }
    const shaped = diffusionNoised([{ pixels, width: 20, height: 20 }], { noiseStep: 10, seed: 2 })[0]!;
    expect(shaped).toMatchObject({ width: 20, height: 20 });
  });
});
