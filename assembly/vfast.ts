/**
 * A faster tanh for value() and reverse(), where the bar is agreement with the reference to
 * 1e-12 rather than bits (finite differences always run vmath.ts's exact vtanh). The same formula
 * as native's vtanh_fast (native/core/k_fast.h): tanh|x| = -t / (t + 2) with t = expm1(-2|x|),
 * which does not cancel anywhere; expm1 by its Taylor series to degree 13 where |y| <= ln2/2, else
 * 2^k e^r - 1 (e^r by Taylor, |r| <= ln2/2; at most a factor 2.4 of cancellation since
 * e^y <= 0.71 there). No division but the last, against fdlibm's three (vtanh ran at 11 ns per
 * element on W3's hidden layer). Within 4 ulp of Math.tanh (test/wasm-math.test.ts measures it);
 * |x| < 2^-28, |x| >= 22, NaN and +-Inf are selected exactly as fdlibm gives them.
 */

const C = memory.data<f64>([
  1.0 / 6227020800.0, // 0: 1/13!
  1.0 / 479001600.0, // 1: 1/12!
  1.0 / 39916800.0,
  1.0 / 3628800.0,
  1.0 / 362880.0,
  1.0 / 40320.0,
  1.0 / 5040.0,
  1.0 / 720.0,
  1.0 / 120.0,
  1.0 / 24.0,
  1.0 / 6.0,
  0.5,
  1.0, // 12
  0.34657359027997264, // 13: ln2/2
  1.4426950408889634, // 14: 1/ln2
  6755399441055744.0, // 15: 1.5 * 2^52: adding it rounds to an integer in the low bits
  6.93147180369123816490e-01, // 16: ln2 hi (21 trailing zero bits: k ln2_hi is exact)
  1.90821492927058770002e-10, // 17: ln2 lo
  -2.0, // 18
  2.0, // 19
  3.725290298461914e-9, // 20: 2^-28
  22.0, // 21
  -0.0, // 22: the sign bit
]);
const I = memory.data<i64>([1023]);

/** the constant number i, in both lanes (loaded: V8 rebuilds a v128.const at every use) */
// @ts-ignore: decorator
@inline function c(i: i32): v128 {
  return v128.load64_splat(C + (<usize>i << 3));
}

/** a x + b (fused in the relaxed-SIMD module) */
// @ts-ignore: decorator
@inline function madd(a: v128, x: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, x, b);
  return f64x2.add(f64x2.mul(a, x), b);
}

/** 1 + y + y^2/2 + ... + y^13/13! by Horner, for |y| <= ln2/2 (truncation < 5e-18 relative) */
// @ts-ignore: decorator
@inline function taylor(y: v128): v128 {
  let p = c(0);
  for (let i = 1; i <= 12; i++) p = madd(p, y, c(i));
  return madd(p, y, c(12));
}

/** tanh within 4 ulp (see above) */
// @ts-ignore: decorator
@inline export function vtanhFast(x: v128): v128 {
  const ax = f64x2.abs(x);
  const y = f64x2.mul(c(18), ax);
  // expm1(y) = y (1 + y/2 + ... + y^12/13!) for |y| <= ln2/2
  let p = c(0);
  for (let i = 1; i <= 11; i++) p = madd(p, y, c(i));
  p = madd(p, y, c(12));
  let t = f64x2.mul(p, y);
  const far = f64x2.lt(y, f64x2.neg(c(13))); // |y| > ln2/2 (y <= 0)
  if (v128.any_true(far)) {
    const km = madd(y, c(14), c(15));
    const kd = f64x2.sub(km, c(15));
    const r = f64x2.sub(f64x2.sub(y, f64x2.mul(kd, c(16))), f64x2.mul(kd, c(17)));
    const k = i64x2.sub(km, c(15));
    const scale = i64x2.shl(i64x2.add(k, v128.load64_splat(I)), 52);
    const big = f64x2.sub(f64x2.mul(taylor(r), scale), c(12));
    t = v128.bitselect(big, t, far);
  }
  let z = f64x2.div(f64x2.neg(t), f64x2.add(t, c(19)));
  z = v128.bitselect(c(12), z, f64x2.ge(ax, c(21))); // |x| >= 22 and +-Inf: 1
  z = v128.bitselect(ax, z, f64x2.lt(ax, c(20))); // |x| < 2^-28: x
  z = v128.or(z, v128.and(x, c(22))); // the sign of x
  return v128.bitselect(x, z, f64x2.ne(x, x)); // NaN
}
