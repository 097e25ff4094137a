/**
 * The module's arithmetic peak on registers alone, as native/core/k_peak.h measures one core's:
 * independent chains of vector multiply-adds, each chain c <- a + c m with m just below 1 (it
 * converges to a / (1 - m): no overflow, no subnormals, and nothing a compiler can fold, since
 * every product reads its own chain). The multiply-add is the products' own (matmul.ts's
 * Separate or Fused, matmul32.ts's for f32x4), so the peak is what the gemm tiles could reach
 * with free loads: bench/dtype.ts prints each workload's product floor (its products'
 * FLOPs / this peak) beside the measured time. JS times the call (src/backends/wasm/peak.ts).
 *
 * 12 chains: a Separate chain waits on a multiply and then an add (5 to 6 cycles), a Fused one on
 * an FMA (4), and the core issues 2 a cycle, so 12 cover either; 12 chains, m and a are 14 of the
 * 15 xmm registers V8 gives wasm (the 15th holds a Separate product). Measured on Zen 5 (Node 20,
 * load 1.5): f64x2 30.5-31 GFLOP/s and f32x4 61-63, Separate and Fused alike; with 8 chains
 * Separate read a third lower (latency-bound) and Fused the same.
 */
import { Fused, Separate } from './matmul';
import { Fused32, Separate32 } from './matmul32';

/** chains of the peak loop (FLOPs of one call: 2 reps PEAK_CHAINS lanes) */
export const PEAK_CHAINS = 12;
const PEAK_M = memory.data(16, 16);
const PEAK_A = memory.data(16, 16);

// @ts-ignore: decorator
@inline function chains<M>(reps: i32, m: v128, a: v128, lanes: i32): f64 {
  let c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
  for (let r = 0; r < reps; r++) {
    c0 = changetype<M>(0).madd(a, c0, m); c1 = changetype<M>(0).madd(a, c1, m);
    c2 = changetype<M>(0).madd(a, c2, m); c3 = changetype<M>(0).madd(a, c3, m);
    c4 = changetype<M>(0).madd(a, c4, m); c5 = changetype<M>(0).madd(a, c5, m);
    c6 = changetype<M>(0).madd(a, c6, m); c7 = changetype<M>(0).madd(a, c7, m);
    c8 = changetype<M>(0).madd(a, c8, m); c9 = changetype<M>(0).madd(a, c9, m);
    c10 = changetype<M>(0).madd(a, c10, m); c11 = changetype<M>(0).madd(a, c11, m);
  }
  // the sum keeps every chain live
  return lanesum(c0, lanes) + lanesum(c1, lanes) + lanesum(c2, lanes) + lanesum(c3, lanes) + lanesum(c4, lanes) + lanesum(c5, lanes)
    + lanesum(c6, lanes) + lanesum(c7, lanes) + lanesum(c8, lanes) + lanesum(c9, lanes) + lanesum(c10, lanes) + lanesum(c11, lanes);
}

// @ts-ignore: decorator
@inline function lanesum(v: v128, lanes: i32): f64 {
  if (lanes == 2) return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
  return <f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1) + <f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3);
}

/** the chains' sum after the last peakChains call (kept, so that the chains are live) */
export let peakSink: f64 = 0;

/**
 * reps rounds of PEAK_CHAINS multiply-adds on f64x2 (f32 false) or f32x4 lanes, fused (the
 * relaxed module's FMA; multiply-then-add in the other module) or not; m in (0, 1) and a > 0
 * come from the caller so that nothing is known when the module is compiled. Returns the FLOPs
 * done (2 a multiply-add a lane); the chains' sum goes to peakSink.
 */
export function peakChains(f32: bool, fused: bool, reps: i32, m: f64, a: f64): f64 {
  // m and a pass through memory: TurboFan re-splats a splat of a parameter on every round of the
  // loop that uses it (the plain module read 20% low), but not a value loaded before the loop
  if (f32) {
    v128.store(PEAK_M, f32x4.splat(<f32>m));
    v128.store(PEAK_A, f32x4.splat(<f32>a));
  } else {
    v128.store(PEAK_M, f64x2.splat(m));
    v128.store(PEAK_A, f64x2.splat(a));
  }
  const vm = v128.load(PEAK_M), va = v128.load(PEAK_A);
  if (f32) peakSink = fused ? chains<Fused32>(reps, vm, va, 4) : chains<Separate32>(reps, vm, va, 4);
  else peakSink = fused ? chains<Fused>(reps, vm, va, 2) : chains<Separate>(reps, vm, va, 2);
  return 2 * <f64>reps * <f64>PEAK_CHAINS * (f32 ? 4 : 2);
}
