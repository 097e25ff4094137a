/**
 * exp, log1p and tanh on two lanes at once (f64x2), bit-identical to the scalar fdlibm ports in
 * math.ts (and so to V8's Math.*): the same operations in the same order, with fdlibm's branches
 * turned into lane selects. test/wasm-math.test.ts checks each against Math.* over wide ranges
 * and random bit patterns.
 *
 * vexp and vlog1p leave fdlibm's rare paths out (NaN, Inf, overflow, subnormal results, log1p near
 * -1, past 2^53 or at the two spots where its reduced argument is tiny): kernels OR
 * expRare/log1pRare of their arguments into an accumulator while they loop and, if any lane was
 * rare, redo the block with the scalar functions afterwards. A scalar call inside the loop would
 * make V8 spill every live vector register around it. vtanh handles every input with selects.
 *
 * Why the select form of the exp reduction equals fdlibm's (expm1 inside vtanh reduces alike):
 * - 0.5 ln2 < |x| < 1.5 ln2 (fdlibm's k = +-1 branch): the general reduction with t = +-1 gives the
 *   same hi, lo and k, since ln2HI[1] = -ln2HI[0] and trunc(x/ln2 +- 0.5) = +-1 there;
 * - |x| <= 0.5 ln2 (k = 0): with t = 0 the general formula 1 - ((0 - r*c/(2-c)) - x) equals fdlibm's
 *   1 - ((x*c)/(c-2) - x) exactly (IEEE negation and division are sign-symmetric), and 2^0 = 1;
 * - |x| < 2^-28 and x = 1 are selected afterwards (1 + x and Math.E).
 */
import { exp, EXP_E, EXP_INV_LN2, EXP_LN2_HI, EXP_LN2_LO, EXP_P1, EXP_P2, EXP_P3, EXP_P4, EXP_P5 } from './math';

/**
 * Constants live in linear memory and are loaded (vmovddup) where used: V8 rematerialises every
 * v128.const at every use with two or three instructions through a general register, which made
 * these functions a third slower.
 */

const F = memory.data<f64>([
  4503599627370496.0 + 1023.0, // 0 BIAS_2P52_1023: 2^52 + 1023: 2^t from the bits of t + this
  0.5, // 1 HALF
  -0.0, // 2 NEG_ZERO: the sign bit
  EXP_INV_LN2, // 3 INV_LN2
  0.3465735912322998, // 4 REDUCE_FROM: |x| from which fdlibm reduces exp and expm1 (0x3fd62e43_00000000)
  -708.0, // 5 EXP_SAFE_LO: expRare: below, fdlibm may scale by 2^k with k < -1021 (from -708.05)
  709.4, // 6 EXP_SAFE_HI: expRare: above, k may be 1024 (from 709.44)
  EXP_LN2_HI, // 7 LN2_HI
  EXP_LN2_LO, // 8 LN2_LO
  EXP_P1, // 9 P1
  EXP_P2, // 10 P2
  EXP_P3, // 11 P3
  EXP_P4, // 12 P4
  EXP_P5, // 13 P5
  2.0, // 14 TWO
  1.0, // 15 ONE
  3.725290298461914e-9, // 16 TWO_M28: 2^-28
  EXP_E, // 17 E
  0.4142136573791504, // 18 K0_BELOW: log1p: k = 0 below (0x3fda827a_00000000)
  -0.292893648147583, // 19 K0_ABOVE: log1p: k = 0 above (-0x3fd2bec5_00000000)
  1.862645149230957e-9, // 20 TWO_M29: 2^-29
  -1.0, // 21 MINUS_ONE
  9007199254740992.0, // 22 TWO53: 2^53
  6.666666666666735130e-01, // 23 LP1
  3.999999999940941908e-01, // 24 LP2
  2.857142874366239149e-01, // 25 LP3
  2.222219843214978396e-01, // 26 LP4
  1.818357216161805012e-01, // 27 LP5
  1.531383769920937332e-01, // 28 LP6
  1.479819860511658591e-01, // 29 LP7
  4503599627371520.0, // 30 BIAS_2P52_1024: 2^52 + 1024
  5.551115123125783e-17, // 31 TWO_M54: 2^-54
  -3.33333333333331316428e-02, // 32 Q1
  1.58730158725481460165e-03, // 33 Q2
  -7.93650757867487942473e-05, // 34 Q3
  4.00821782732936239552e-06, // 35 Q4
  -2.01099218183624371326e-07, // 36 Q5
  3.0, // 37 THREE
  6.0, // 38 SIX
  20.0, // 39 TWENTY
  -2.0, // 40 MINUS_TWO
  56.0, // 41 FIFTY_SIX
  0.0, // 42 ZERO
  22.0, // 43 TWENTY_TWO
]);

const I = memory.data<i64>([
  0xfffff, // 0 MANT_HI: the mantissa bits of a high word
  0, // 1 I_ZERO
  0xffffc, // 2 HU_VANISH: above, (0x100000 - hu) >> 2 is 0
  1023, // 3 I_1023
  0x6a09e, // 4 HU_SQRT2: sqrt(2) in a high word mantissa
  0x3ff00000, // 5 HI_ONE
  0x3fe00000, // 6 HI_HALF
  0xffffffff, // 7 LOW_WORD
  1, // 8 I_ONE
  0x4330000000000400, // 9 BIAS_K: the bits of 2^52 + 1024
]);
const BIAS_2P52_1023 = 0, HALF = 1, NEG_ZERO = 2, INV_LN2 = 3, REDUCE_FROM = 4, EXP_SAFE_LO = 5,
  EXP_SAFE_HI = 6, LN2_HI = 7, LN2_LO = 8, P1 = 9, P2 = 10, P3 = 11, P4 = 12, P5 = 13, TWO = 14, ONE = 15,
  TWO_M28 = 16, E = 17, K0_BELOW = 18, K0_ABOVE = 19, TWO_M29 = 20, MINUS_ONE = 21, TWO53 = 22, LP1 = 23,
  LP2 = 24, LP3 = 25, LP4 = 26, LP5 = 27, LP6 = 28, LP7 = 29, BIAS_2P52_1024 = 30, TWO_M54 = 31, Q1 = 32,
  Q2 = 33, Q3 = 34, Q4 = 35, Q5 = 36, THREE = 37, SIX = 38, TWENTY = 39, MINUS_TWO = 40, FIFTY_SIX = 41,
  ZERO = 42, TWENTY_TWO = 43;
const MANT_HI = 0, I_ZERO = 1, HU_VANISH = 2, I_1023 = 3, HU_SQRT2 = 4, HI_ONE = 5, HI_HALF = 6,
  LOW_WORD = 7, I_ONE = 8, BIAS_K = 9;

/** the f64 constant number i, in both lanes */
// @ts-ignore: decorator
@inline function cf(i: i32): v128 {
  return v128.load64_splat(F + (<usize>i << 3));
}
/** the i64 constant number i, in both lanes */
// @ts-ignore: decorator
@inline function ci(i: i32): v128 {
  return v128.load64_splat(I + (<usize>i << 3));
}

/** 2^t for integral t in [-1022, 1023], from the bits of t + 2^52 + 1023 */
// @ts-ignore: decorator
@inline function pow2(t: v128): v128 {
  return i64x2.shl(f64x2.add(t, cf(BIAS_2P52_1023)), 52);
}

/** t = k as f64: trunc(x/ln2 +- 0.5), zero where fdlibm does not reduce */
// @ts-ignore: decorator
@inline function reduceK(x: v128): v128 {
  const half = v128.or(cf(HALF), v128.and(x, cf(NEG_ZERO)));
  const kf = f64x2.convert_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(f64x2.add(f64x2.mul(cf(INV_LN2), x), half)));
  return v128.and(kf, f64x2.ge(f64x2.abs(x), cf(REDUCE_FROM)));
}

/** Lanes where vexp may differ from fdlibm (conservative): x <= -708 (k < -1021 below -708.05), x >= 709.4 (k = 1024 from 709.44), NaN. */
// @ts-ignore: decorator
@inline export function expRare(x: v128): v128 {
  return v128.not(v128.and(f64x2.gt(x, cf(EXP_SAFE_LO)), f64x2.lt(x, cf(EXP_SAFE_HI))));
}

/** e^x, equal to fdlibm's where expRare(x) is false */
// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  const t = reduceK(x);
  const hi = f64x2.sub(x, f64x2.mul(t, cf(LN2_HI)));
  const lo = f64x2.mul(t, cf(LN2_LO));
  const r = f64x2.sub(hi, lo);
  const rr = f64x2.mul(r, r);
  let p = f64x2.add(cf(P4), f64x2.mul(rr, cf(P5)));
  p = f64x2.add(cf(P3), f64x2.mul(rr, p));
  p = f64x2.add(cf(P2), f64x2.mul(rr, p));
  p = f64x2.add(cf(P1), f64x2.mul(rr, p));
  const c = f64x2.sub(r, f64x2.mul(rr, p));
  const q = f64x2.div(f64x2.mul(r, c), f64x2.sub(cf(TWO), c));
  let y = f64x2.sub(cf(ONE), f64x2.sub(f64x2.sub(lo, q), hi));
  y = f64x2.mul(y, pow2(t));
  y = v128.bitselect(f64x2.add(cf(ONE), x), y, f64x2.lt(f64x2.abs(x), cf(TWO_M28))); // 2^-28
  return v128.bitselect(cf(E), y, f64x2.eq(x, cf(ONE)));
}

/** the second result of vexp2 */
export let vexp2Second: v128 = i64x2.splat(0);

/**
 * vexp of two vectors, the two computations interleaved instruction by instruction: each alone is
 * one long dependency chain that fills V8's out-of-order window; two side by side run about a
 * quarter faster. Returns exp(x); exp(X) is left in vexp2Second.
 */
// @ts-ignore: decorator
@inline export function vexp2(x: v128, X: v128): v128 {
  const t = reduceK(x), T = reduceK(X);
  const hi = f64x2.sub(x, f64x2.mul(t, cf(LN2_HI))), HI = f64x2.sub(X, f64x2.mul(T, cf(LN2_HI)));
  const lo = f64x2.mul(t, cf(LN2_LO)), LO = f64x2.mul(T, cf(LN2_LO));
  const r = f64x2.sub(hi, lo), R = f64x2.sub(HI, LO);
  const rr = f64x2.mul(r, r), RR = f64x2.mul(R, R);
  let p = f64x2.add(cf(P4), f64x2.mul(rr, cf(P5))), P = f64x2.add(cf(P4), f64x2.mul(RR, cf(P5)));
  p = f64x2.add(cf(P3), f64x2.mul(rr, p)); P = f64x2.add(cf(P3), f64x2.mul(RR, P));
  p = f64x2.add(cf(P2), f64x2.mul(rr, p)); P = f64x2.add(cf(P2), f64x2.mul(RR, P));
  p = f64x2.add(cf(P1), f64x2.mul(rr, p)); P = f64x2.add(cf(P1), f64x2.mul(RR, P));
  const c = f64x2.sub(r, f64x2.mul(rr, p)), C = f64x2.sub(R, f64x2.mul(RR, P));
  const q = f64x2.div(f64x2.mul(r, c), f64x2.sub(cf(TWO), c)), Q = f64x2.div(f64x2.mul(R, C), f64x2.sub(cf(TWO), C));
  let y = f64x2.sub(cf(ONE), f64x2.sub(f64x2.sub(lo, q), hi)), Y = f64x2.sub(cf(ONE), f64x2.sub(f64x2.sub(LO, Q), HI));
  y = f64x2.mul(y, pow2(t)); Y = f64x2.mul(Y, pow2(T));
  y = v128.bitselect(f64x2.add(cf(ONE), x), y, f64x2.lt(f64x2.abs(x), cf(TWO_M28)));
  Y = v128.bitselect(f64x2.add(cf(ONE), X), Y, f64x2.lt(f64x2.abs(X), cf(TWO_M28)));
  vexp2Second = v128.bitselect(cf(E), Y, f64x2.eq(X, cf(ONE)));
  return v128.bitselect(cf(E), y, f64x2.eq(x, cf(ONE)));
}

/** vexp with fdlibm's rare paths taken in place, pair by pair (for backward rules) */
// @ts-ignore: decorator
@inline export function vexpSafe(x: v128): v128 {
  let y = vexp(x);
  if (v128.any_true(expRare(x))) {
    y = f64x2.replace_lane(y, 0, exp(f64x2.extract_lane(x, 0)));
    y = f64x2.replace_lane(y, 1, exp(f64x2.extract_lane(x, 1)));
  }
  return y;
}


/** high word of u's mantissa after log1p's normalisation step, and k before it (i64 lanes) */
// @ts-ignore: decorator
@inline function log1pHu(u: v128): v128 {
  return v128.and(i64x2.shr_u(u, 32), ci(MANT_HI));
}
// @ts-ignore: decorator
@inline function log1pK0(x: v128): v128 {
  return v128.and(f64x2.lt(x, cf(K0_BELOW)), f64x2.gt(x, cf(K0_ABOVE)));
}

/**
 * Lanes where vlog1p may differ from fdlibm: x <= -1, x >= 2^53, NaN, and where the normalised
 * 1 + x has a zero (or, after halving, vanishing) mantissa high word (fdlibm's |f| < 2^-20 path).
 */
// @ts-ignore: decorator
@inline export function log1pRare(x: v128): v128 {
  const hu = log1pHu(f64x2.add(cf(ONE), x));
  const tinyF = v128.or(i64x2.eq(hu, ci(I_ZERO)), i64x2.gt_s(hu, ci(HU_VANISH)));
  const k1 = v128.not(log1pK0(x));
  const tiny = f64x2.lt(f64x2.abs(x), cf(TWO_M29)); // 2^-29: no normalisation there
  return v128.or(v128.not(v128.and(f64x2.gt(x, cf(MINUS_ONE)), f64x2.lt(x, cf(TWO53)))), v128.andnot(v128.and(k1, tinyF), tiny));
}

/** log(1 + x), equal to fdlibm's where log1pRare(x) is false */
// @ts-ignore: decorator
@inline export function vlog1p(x: v128): v128 {
  const k0 = log1pK0(x);
  // fdlibm's k != 0 path: u = 1 + x, k from u's exponent, the correction c, u normalised to [sqrt(2)/2, sqrt(2))
  let u = f64x2.add(cf(ONE), x);
  const hu0 = i64x2.shr_u(u, 32);
  let k = i64x2.sub(i64x2.shr_u(hu0, 20), ci(I_1023));
  let c = v128.bitselect(f64x2.sub(cf(ONE), f64x2.sub(u, x)), f64x2.sub(x, f64x2.sub(u, cf(ONE))), i64x2.gt_s(k, ci(I_ZERO)));
  c = f64x2.div(c, u);
  const hu = v128.and(hu0, ci(MANT_HI));
  const low = i64x2.lt_s(hu, ci(HU_SQRT2));
  const hiWord = v128.or(hu, v128.bitselect(ci(HI_ONE), ci(HI_HALF), low));
  u = v128.or(i64x2.shl(hiWord, 32), v128.and(u, ci(LOW_WORD)));
  k = i64x2.add(k, v128.andnot(ci(I_ONE), low));
  const f1 = f64x2.sub(u, cf(ONE));
  // k = 0 path: f = x
  const f = v128.bitselect(x, f1, k0);
  k = v128.andnot(k, k0);
  const hfsq = f64x2.mul(f64x2.mul(cf(HALF), f), f);
  const s = f64x2.div(f, f64x2.add(cf(TWO), f));
  const z = f64x2.mul(s, s);
  let R = f64x2.add(cf(LP6), f64x2.mul(z, cf(LP7)));
  R = f64x2.add(cf(LP5), f64x2.mul(z, R));
  R = f64x2.add(cf(LP4), f64x2.mul(z, R));
  R = f64x2.add(cf(LP3), f64x2.mul(z, R));
  R = f64x2.add(cf(LP2), f64x2.mul(z, R));
  R = f64x2.add(cf(LP1), f64x2.mul(z, R));
  R = f64x2.mul(z, R);
  const sh = f64x2.mul(s, f64x2.add(hfsq, R));
  const r0 = f64x2.sub(f, f64x2.sub(hfsq, sh));
  // k as f64 (|k| <= 1024): the bits of 2^52 + 1024 + k, minus that
  const dk = f64x2.sub(i64x2.add(k, ci(BIAS_K)), cf(BIAS_2P52_1024));
  const r1 = f64x2.sub(f64x2.mul(dk, cf(LN2_HI)),
    f64x2.sub(f64x2.sub(hfsq, f64x2.add(sh, f64x2.add(f64x2.mul(dk, cf(LN2_LO)), c))), f));
  let y = v128.bitselect(r0, r1, i64x2.eq(k, ci(I_ZERO)));
  const ax = f64x2.abs(x);
  y = v128.bitselect(f64x2.sub(x, f64x2.mul(f64x2.mul(x, x), cf(HALF))), y, f64x2.lt(ax, cf(TWO_M29))); // 2^-29
  return v128.bitselect(x, y, f64x2.lt(ax, cf(TWO_M54))); // 2^-54
}

/**
 * e^x - 1 as fdlibm computes it, for the arguments tanh passes: x in (-2, 0] or [2, 44). Lanes
 * outside give garbage that vtanh selects away (fdlibm's k = 1 path is not implemented: k = 1
 * needs 0.35 <= x < 1.04).
 */
// @ts-ignore: decorator
@inline function vexpm1ForTanh(x: v128): v128 {
  const t = reduceK(x);
  const hi = f64x2.sub(x, f64x2.mul(t, cf(LN2_HI)));
  const lo = f64x2.mul(t, cf(LN2_LO));
  const r = f64x2.sub(hi, lo);
  const c = f64x2.sub(f64x2.sub(hi, r), lo);
  const hfx = f64x2.mul(cf(HALF), r);
  const hxs = f64x2.mul(r, hfx);
  let r1 = f64x2.add(cf(Q4), f64x2.mul(hxs, cf(Q5)));
  r1 = f64x2.add(cf(Q3), f64x2.mul(hxs, r1));
  r1 = f64x2.add(cf(Q2), f64x2.mul(hxs, r1));
  r1 = f64x2.add(cf(Q1), f64x2.mul(hxs, r1));
  r1 = f64x2.add(cf(ONE), f64x2.mul(hxs, r1));
  const tt = f64x2.sub(cf(THREE), f64x2.mul(r1, hfx));
  let e = f64x2.mul(hxs, f64x2.div(f64x2.sub(r1, tt), f64x2.sub(cf(SIX), f64x2.mul(r, tt))));
  // k = 0
  const y0 = f64x2.sub(r, f64x2.sub(f64x2.mul(r, e), hxs));
  e = f64x2.sub(f64x2.sub(f64x2.mul(r, f64x2.sub(e, c)), c), hxs);
  const twopk = pow2(t);
  // k = -1
  const ym1 = f64x2.sub(f64x2.mul(cf(HALF), f64x2.sub(r, e)), cf(HALF));
  // k <= -2 or k > 56
  const yFar = f64x2.sub(f64x2.mul(f64x2.sub(cf(ONE), f64x2.sub(e, r)), twopk), cf(ONE));
  // 2 <= k < 20: (1 - 2^-k) - (e - x), scaled
  const y20 = f64x2.mul(f64x2.sub(f64x2.sub(cf(ONE), pow2(f64x2.neg(t))), f64x2.sub(e, r)), twopk);
  // 20 <= k <= 56: ((x - (e + 2^-k)) + 1), scaled
  const y56 = f64x2.mul(f64x2.add(f64x2.sub(r, f64x2.add(e, pow2(f64x2.neg(t)))), cf(ONE)), twopk);
  let y = v128.bitselect(y20, y56, f64x2.lt(t, cf(TWENTY)));
  y = v128.bitselect(yFar, y, v128.or(f64x2.le(t, cf(MINUS_TWO)), f64x2.gt(t, cf(FIFTY_SIX))));
  y = v128.bitselect(ym1, y, f64x2.eq(t, cf(MINUS_ONE)));
  return v128.bitselect(y0, y, f64x2.eq(t, cf(ZERO)));
}

/** tanh, equal to fdlibm's (FreeBSD form, as V8) for every input */
// @ts-ignore: decorator
@inline export function vtanh(x: v128): v128 {
  const ax = f64x2.abs(x);
  const big = f64x2.ge(ax, cf(ONE));
  const t = vexpm1ForTanh(v128.bitselect(f64x2.mul(cf(TWO), ax), f64x2.mul(cf(MINUS_TWO), ax), big));
  const t2 = f64x2.add(t, cf(TWO));
  let z = v128.bitselect(f64x2.sub(cf(ONE), f64x2.div(cf(TWO), t2)), f64x2.div(f64x2.neg(t), t2), big);
  z = v128.bitselect(cf(ONE), z, f64x2.ge(ax, cf(TWENTY_TWO))); // 1 - tiny, and +-Inf
  z = v128.bitselect(ax, z, f64x2.lt(ax, cf(TWO_M28))); // |x| < 2^-28: x
  z = v128.or(z, v128.and(x, cf(NEG_ZERO))); // the sign of x (z >= 0)
  return v128.bitselect(x, z, f64x2.ne(x, x)); // NaN
}
