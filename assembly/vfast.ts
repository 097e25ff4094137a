/**
 * A faster tanh for value() and reverse(), where the bar is agreement with the reference to
 * 1e-12 rather than bits (finite differences always run vmath.ts's exact vtanh). Below |x| = 1
 * the formula of native's vtanh_fast (native/core/k_fast.h): tanh|x| = -t / (t + 2) with
 * t = expm1(-2|x|), which does not cancel anywhere; expm1 by its Taylor series to degree 13
 * where |y| <= ln2/2, else 2^k expm1(r) + (2^k - 1) (expm1(r) by the same series, |r| <= ln2/2).
 * No division but the last, against fdlibm's three: on W3's hidden layer (8192 elements) 47 µs
 * against vtanh's 92 (71 with Horner's order instead of Estrin's); 31 µs without the branch on
 * |y| > ln2/2 (below), 27 without the selects for lanes that took vtanh (the loop is bound by
 * its instruction count, not by the latency of its chain: two pairs a trip ran no faster). A pair of lanes with |x| >= 1
 * (or NaN) takes vtanh, fdlibm's 1 - 2/(expm1(2|x|) + 2), which keeps 1 - |tanh| accurate.
 * Within 4 ulp of Math.tanh (test/wasm-math.test.ts measures it on 1.9M inputs); |x| < 2^-28 is
 * selected exactly as fdlibm gives it.
 */

import { map1 } from './kernels/map';
import { vtanh } from './vmath';

const C = memory.data<f64>([
  // 0..13: 1/j! (e^r = sum_j r^j/j!; expm1(y)/y = sum_j y^j/(j+1)! takes them from 1)
  1.0, 1.0, 1.0 / 2.0, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0, 1.0 / 5040.0, 1.0 / 40320.0, 1.0 / 362880.0, 1.0 / 3628800.0, 1.0 / 39916800.0, 1.0 / 479001600.0, 1.0 / 6227020800.0,
  0.34657359027997264, // 14: ln2/2 (unused: the slots are positional)
  1.4426950408889634, // 15: 1/ln2
  6755399441055744.0, // 16: 1.5 * 2^52: adding it rounds to an integer in the low bits
  6.93147180369123816490e-01, // 17: ln2 hi (21 trailing zero bits: k ln2_hi is exact)
  1.90821492927058770002e-10, // 18: ln2 lo
  -2.0, // 19
  2.0, // 20
  3.725290298461914e-9, // 21: 2^-28
  22.0, // 22 (unused: the slots are positional)
  -0.0, // 23: the sign bit
]);
const INV_LN2 = 15, ROUND = 16, LN2_HI = 17, LN2_LO = 18, MINUS_TWO = 19, TWO = 20, TWO_M28 = 21, SIGN = 23, ONE = 0;
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

/**
 * sum_{j=0}^{12} C[o + j] y^j (o = 0: e^y to degree 12, with the degree-13 term added by the
 * caller; o = 1: expm1(y)/y to degree 12) by Estrin's scheme: four levels of multiply-adds
 * instead of Horner's twelve in a row, so that the two polynomials and the loop's iterations
 * overlap (Horner ran at 64 cycles per vector, bound by its chain).
 */
// @ts-ignore: decorator
@inline function poly12(y: v128, y2: v128, y4: v128, y8: v128, o: i32): v128 {
  const p01 = madd(c(o + 1), y, c(o)), p23 = madd(c(o + 3), y, c(o + 2)), p45 = madd(c(o + 5), y, c(o + 4));
  const p67 = madd(c(o + 7), y, c(o + 6)), p89 = madd(c(o + 9), y, c(o + 8)), pab = madd(c(o + 11), y, c(o + 10));
  const q0 = madd(p23, y2, p01), q1 = madd(p67, y2, p45), q2 = madd(pab, y2, p89);
  const r0 = madd(q1, y4, q0), r1 = madd(c(o + 12), y4, q2);
  return madd(r1, y8, r0);
}

/** tanh within 4 ulp (see above); a pair with a lane at |x| >= 1 (or NaN) takes vmath's vtanh */
// @ts-ignore: decorator
@inline export function vtanhFast(x: v128): v128 {
  const ax = f64x2.abs(x);
  // near +-1, -t/(t + 2) keeps tanh's relative error but not that of 1 - |tanh| (log1p(tanh(-15))
  // agreed only to 2e-5 on native): there fdlibm's 1 - 2/(expm1(2|x|) + 2), exactly
  if (!i64x2.all_true(f64x2.lt(ax, c(ONE)))) return vtanh(x);
  const y = f64x2.mul(c(MINUS_TWO), ax);
  // e^y - 1 = 2^k expm1(r) + (2^k - 1) with r = y - k ln2, |r| <= ln2/2: the second term is
  // exact, and the sum cancels by less than e^y - 1 itself did (a factor 1.7 instead of 3.1:
  // 7 ulp at worst became 4). Where |y| <= ln2/2, k = 0, r = y and 2^k = 1 make it y's own
  // series, y (1 + y/2 + ... + y^12/13!), to the bit: one formula for every lane, no branch
  // (branching on k != 0 evaluated both series for most pairs of W3's hidden layer)
  const km = madd(y, c(INV_LN2), c(ROUND));
  const kd = f64x2.sub(km, c(ROUND));
  const r = f64x2.sub(f64x2.sub(y, f64x2.mul(kd, c(LN2_HI))), f64x2.mul(kd, c(LN2_LO)));
  const k = i64x2.sub(km, c(ROUND));
  const scale = i64x2.shl(i64x2.add(k, v128.load64_splat(I)), 52);
  const r2 = f64x2.mul(r, r);
  const r4 = f64x2.mul(r2, r2);
  const em1r = f64x2.mul(poly12(r, r2, r4, f64x2.mul(r4, r4), 1), r);
  const t = madd(scale, em1r, f64x2.sub(scale, c(ONE)));
  // |x| >= 22, +-Inf and NaN took vtanh above (|x| < 1 here): no selects for them (V8 spells a
  // bitselect as three instructions; the loop is bound by its instruction count)
  let z = f64x2.div(f64x2.neg(t), f64x2.add(t, c(TWO)));
  z = v128.bitselect(ax, z, f64x2.lt(ax, c(TWO_M28))); // |x| < 2^-28: x
  return v128.or(z, v128.and(x, c(SIGN))); // the sign of x
}

@final @unmanaged class TanhFast {
  // @ts-ignore: decorator
  @inline f(x: v128): v128 {
    return vtanhFast(x);
  }
}

/** o = tanh(a) over n elements, for value() and reverse() */
export function tanhFastFwd<T>(o: usize, a: usize, n: i32): void {
  map1<TanhFast, T>(o, a, n);
}
