/**
 * The fused optimizer steps (SGD and Adam with PyTorch's update rules, documented in
 * src/train/optimizers.ts), one pass over f64x2 lanes per step, with the state (momentum buffer,
 * moments) in one block of the module's memory. Each element sees the same IEEE operations in the
 * same order as the js reference (src/backends/js/optim.ts) and the native kernels, so all
 * backends compute the same bits (wasm has no fused multiply-add; sqrt and division are correctly
 * rounded). The odd last element runs through the same vector code with a zero second lane.
 *
 * A state block: a 16-byte header [tag, n, vectors], then theta and grad (the JS side copies
 * them in and theta back out) and `vectors` state vectors of n float64, each 16-byte aligned.
 * Every step checks the header first, so a stale or made-up address is refused.
 */
import { alloc, free } from './heap';

const TAG: u32 = 0x0b7e5a7e;
const HEAD: usize = 16;

// @ts-ignore: decorator
@inline function stride(n: i32): usize {
  return ((<usize>n << 3) + 15) & ~(<usize>15);
}

/** The state for n parameters and `vectors` (0..3) state vectors, zeroed; its address, or 0. */
export function optimCreate(n: i32, vectors: i32): usize {
  if (n < 0 || vectors < 0 || vectors > 3) return 0;
  const bytes = <f64>HEAD + (<f64>n * 8 + 16) * <f64>(2 + vectors);
  const p = alloc(bytes); // refuses sizes beyond 3.5 GiB, so the usize arithmetic below is safe
  if (p == 0) return 0;
  memory.fill(p, 0, HEAD + stride(n) * <usize>(2 + vectors));
  store<u32>(p, TAG);
  store<u32>(p, <u32>n, 4);
  store<u32>(p, <u32>vectors, 8);
  return p;
}

function live(p: usize, n: i32, vectors: i32): bool {
  if (p == 0 || (p & 15) != 0 || <u64>p + HEAD > (<u64>memory.size() << 16)) return false;
  return load<u32>(p) == TAG && load<u32>(p, 4) == <u32>n && load<u32>(p, 8) == <u32>vectors;
}

/** Address of vector k of a state block (0 theta, 1 grad, 2.. the state), 0 if p is not one. */
export function optimVector(p: usize, n: i32, vectors: i32, k: i32): usize {
  if (!live(p, n, vectors) || k < 0 || k >= 2 + vectors) return 0;
  return p + HEAD + stride(n) * <usize>k;
}

/** Releases a state block; false if p is not one. */
export function optimFree(p: usize, n: i32, vectors: i32): bool {
  if (!live(p, n, vectors)) return false;
  store<u32>(p, 0);
  return free(p);
}

// @ts-ignore: decorator
@inline function sgdPair(t: v128, g: v128, buf: usize, sign: v128, wd: v128, mu: v128, keep: v128, lr: v128, hasWd: bool,
  momentum: bool, nesterov: bool, first: bool, whole: bool): v128 {
  g = f64x2.mul(g, sign);
  if (hasWd) g = f64x2.add(g, f64x2.mul(wd, t));
  if (momentum) {
    let b = g;
    if (!first) b = f64x2.add(f64x2.mul(mu, whole ? v128.load(buf) : v128.load64_zero(buf)), f64x2.mul(keep, g));
    if (whole) v128.store(buf, b);
    else v128.store64_lane(buf, b, 0);
    g = nesterov ? f64x2.add(g, f64x2.mul(mu, b)) : b;
  }
  return f64x2.sub(t, f64x2.mul(lr, g));
}

/** One SGD step on the theta and grad in the block (state vector: the momentum buffer). 0, or -1 for a bad block. */
export function sgdStep(p: usize, n: i32, maximize: bool, weightDecay: f64, momentum: f64, dampening: f64, lr: f64, nesterov: bool,
  first: bool): i32 {
  const vectors = momentum != 0 ? 1 : 0;
  if (!live(p, n, vectors)) return -1;
  const s = stride(n);
  const theta = p + HEAD, grad = theta + s, buf = grad + s;
  const sign = f64x2.splat(maximize ? -1.0 : 1.0), wd = f64x2.splat(weightDecay), mu = f64x2.splat(momentum);
  const keep = f64x2.splat(1.0 - dampening), rate = f64x2.splat(lr);
  const hasWd = weightDecay != 0, hasMomentum = momentum != 0;
  const end = <usize>n << 3;
  let i: usize = 0;
  for (; i + 16 <= end; i += 16) {
    const r = sgdPair(v128.load(theta + i), v128.load(grad + i), buf + i, sign, wd, mu, keep, rate, hasWd, hasMomentum, nesterov, first, true);
    v128.store(theta + i, r);
  }
  if (i < end) {
    const r = sgdPair(v128.load64_zero(theta + i), v128.load64_zero(grad + i), buf + i, sign, wd, mu, keep, rate, hasWd, hasMomentum,
      nesterov, first, false);
    v128.store64_lane(theta + i, r, 0);
  }
  return 0;
}

// @ts-ignore: decorator
@inline function adamPair(t: v128, g: v128, m: usize, v: usize, vm: usize, sign: v128, wd: v128, b1: v128, c1: v128, b2: v128,
  c2: v128, stepSize: v128, epsHat: v128, decay: v128, mode: i32, amsgrad: bool, whole: bool): v128 {
  g = f64x2.mul(g, sign);
  if (mode == 1) g = f64x2.add(g, f64x2.mul(wd, t));
  else if (mode == 2) t = f64x2.mul(t, decay);
  const m0 = whole ? v128.load(m) : v128.load64_zero(m);
  const v0 = whole ? v128.load(v) : v128.load64_zero(v);
  const mi = f64x2.add(f64x2.mul(b1, m0), f64x2.mul(c1, g));
  const vi = f64x2.add(f64x2.mul(b2, v0), f64x2.mul(f64x2.mul(c2, g), g));
  let s = vi;
  if (amsgrad) {
    const x = whole ? v128.load(vm) : v128.load64_zero(vm);
    // the maximum, NaN from either side kept (js: vi > x || vi !== vi ? vi : x)
    s = v128.bitselect(vi, x, v128.or(f64x2.gt(vi, x), f64x2.ne(vi, vi)));
    if (whole) v128.store(vm, s);
    else v128.store64_lane(vm, s, 0);
  }
  if (whole) {
    v128.store(m, mi);
    v128.store(v, vi);
  } else {
    v128.store64_lane(m, mi, 0);
    v128.store64_lane(v, vi, 0);
  }
  const denom = f64x2.add(f64x2.sqrt(s), epsHat);
  return f64x2.sub(t, f64x2.div(f64x2.mul(stepSize, mi), denom));
}

/**
 * One Adam step on the theta and grad in the block (state vectors m, v, and vmax with amsgrad);
 * stepSize and epsHat carry the bias corrections (src/backends/types.ts, FusedAdam).
 * mode: 0 no weight decay, 1 L2 (Adam), 2 decoupled (AdamW). 0, or -1 for a bad block.
 */
export function adamStep(p: usize, n: i32, maximize: bool, weightDecay: f64, mode: i32, beta1: f64, beta2: f64, amsgrad: bool,
  stepSize: f64, epsHat: f64, decay: f64): i32 {
  if (!live(p, n, amsgrad ? 3 : 2) || mode < 0 || mode > 2) return -1;
  const s = stride(n);
  const theta = p + HEAD, grad = theta + s, m = grad + s, v = m + s, vm = v + s;
  const sign = f64x2.splat(maximize ? -1.0 : 1.0), wd = f64x2.splat(weightDecay);
  const b1 = f64x2.splat(beta1), c1 = f64x2.splat(1.0 - beta1), b2 = f64x2.splat(beta2), c2 = f64x2.splat(1.0 - beta2);
  const step = f64x2.splat(stepSize), e = f64x2.splat(epsHat), d = f64x2.splat(decay);
  const end = <usize>n << 3;
  let i: usize = 0;
  for (; i + 16 <= end; i += 16) {
    const r = adamPair(v128.load(theta + i), v128.load(grad + i), m + i, v + i, vm + i, sign, wd, b1, c1, b2, c2, step, e, d, mode,
      amsgrad, true);
    v128.store(theta + i, r);
  }
  if (i < end) {
    const r = adamPair(v128.load64_zero(theta + i), v128.load64_zero(grad + i), m + i, v + i, vm + i, sign, wd, b1, c1, b2, c2, step,
      e, d, mode, amsgrad, false);
    v128.store64_lane(theta + i, r, 0);
  }
  return 0;
}
