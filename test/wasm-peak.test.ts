/**
 * The wasm module's register-only multiply-add peak (assembly/kernels/peak.ts, timed by
 * src/backends/wasm/peak.ts): a finite positive rate for each dtype, fused or not. How fast is
 * bench/dtype.ts's business, not a test's.
 */
import { describe, expect, it } from 'vitest';
import { instantiateWasm } from '../src/backends/wasm/engine.js';
import { wasmPeak } from '../src/backends/wasm/peak.js';

describe('the wasm multiply-add peak', () => {
  it('peakChains counts its FLOPs: twice as many f32x4 lanes as f64x2, linear in the rounds', async () => {
    const w = await instantiateWasm();
    const f64 = w.peakChains(0, 0, 1000, 0.999999, 1e-3);
    expect(f64).toBeGreaterThan(0);
    // the chains ran: each converges from a towards a / (1 - m), so their sum is a positive number
    expect(w.peakSink()).toBeGreaterThan(0);
    expect(Number.isFinite(w.peakSink())).toBe(true);
    expect(w.peakChains(1, 0, 1000, 0.999999, 1e-3)).toBe(2 * f64);
    expect(w.peakChains(0, 1, 3000, 0.999999, 1e-3)).toBe(3 * f64);
    expect(w.peakChains(0, 0, 0, 0.999999, 1e-3)).toBe(0);
  });

  it('is a finite positive rate in GFLOP/s for float64 and float32, fused or not', async () => {
    const w = await instantiateWasm();
    for (const dtype of ['float64', 'float32'] as const)
      for (const fused of [false, true]) {
        const g = wasmPeak(w, dtype, { fused, ms: 5 });
        expect(Number.isFinite(g), `${dtype} fused ${fused}`).toBe(true);
        expect(g, `${dtype} fused ${fused}`).toBeGreaterThan(0);
      }
  });
});
