/**
 * The wasm module's arithmetic peak on registers alone (assembly/kernels/peak.ts: independent
 * chains of the products' own multiply-add, no loads), timed here since the module has no clock.
 * bench/dtype.ts divides a workload's product FLOPs by it: the floor the matrix products
 * cannot beat on this engine, as native's addon peak() is for the native kernels.
 */
import type { DType } from '../../api/dtype.js';
import type { WasmExports } from './engine.js';

/**
 * GFLOP/s of the fastest call over about `ms` milliseconds, each call long enough (about 1 ms)
 * for the timer. fused: the relaxed module's FMA (the module without relaxed SIMD multiplies and
 * then adds either way); by default the multiply-add value() and reverse() run in this module.
 */
export function wasmPeak(
  w: Pick<WasmExports, 'peakChains' | 'relaxedSimd'>,
  dtype: DType,
  options: { fused?: boolean; ms?: number } = {},
): number {
  const f32 = dtype === 'float32' ? 1 : 0;
  const fused = (options.fused ?? w.relaxedSimd?.() === 1) ? 1 : 0;
  const ms = options.ms ?? 200;
  // m just below 1, a small: every chain converges to a / (1 - m)
  const run = (reps: number) => {
    const t0 = performance.now();
    const flops = w.peakChains(f32, fused, reps, 0.999999, 1e-3);
    return { flops, ms: performance.now() - t0 };
  };
  let reps = 4096;
  while (reps < 2 ** 30 && run(reps).ms < 1) reps *= 2;
  let best = 0;
  for (const end = performance.now() + ms; performance.now() < end;) {
    const r = run(reps);
    if (r.ms > 0) best = Math.max(best, r.flops / r.ms / 1e6);
  }
  return best;
}
