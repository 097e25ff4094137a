/**
 * sin and cos on two lanes (f64x2), bit-identical to trig.ts (and so to V8's Math.sin/Math.cos)
 * where trigRare is clear: the same operations as native/core/vmath_trig.h, which explains the
 * method. Each call sets trigRare to the lanes it leaves to the scalar code (|x| > 2^19 pi/2,
 * the high word of pi/2, a second reduction step below n = 32 or a third step, Inf, NaN); the
 * caller redoes those with sin/cos. test/wasm-math.test.ts checks the bits.
 *
 * fdlibm: Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at SunSoft,
 * a Sun Microsystems, Inc. business. Permission to use, copy, modify, and distribute this software
 * is freely granted, provided that this notice is preserved.
 */

// constants in linear memory, loaded where used (see vmath.ts for why)
const F = memory.data<f64>([
  823549.6645826427, // 0 BOUND: 2^19 pi/2
  6.36619772367581382433e-01, // 1 INVPIO2
  0.5, // 2 HALF
  1.57079632673412561417e+00, // 3 PIO2_1
  6.07710050650619224932e-11, // 4 PIO2_1T
  6.07710050630396597660e-11, // 5 PIO2_2
  2.02226624879595063154e-21, // 6 PIO2_2T
  32.0, // 7 THIRTY_TWO
  6755399441055744.0, // 8 M: 1.5 * 2^52
  8.33333333332248946124e-03, // 9 S2
  -1.98412698298579493134e-04, // 10 S3
  2.75573137070700676789e-06, // 11 S4
  -2.50507602534068634195e-08, // 12 S5
  1.58969099521155010221e-10, // 13 S6
  -1.66666666666666324348e-01, // 14 S1
  4.16666666666666019037e-02, // 15 C1
  -1.38888888888741095749e-03, // 16 C2
  2.48015872894767294178e-05, // 17 C3
  -2.75573143513906633035e-07, // 18 C4
  2.08757232129817482790e-09, // 19 C5
  -1.13596475577881948265e-11, // 20 C6
  1.0, // 21 ONE
  0.28125, // 22 QX_MAX
  0.0, // 23 ZERO
]);
const BOUND = 0, INVPIO2 = 1, HALF = 2, PIO2_1 = 3, PIO2_1T = 4, PIO2_2 = 5, PIO2_2T = 6, THIRTY_TWO = 7, M = 8,
  S2 = 9, S3 = 10, S4 = 11, S5 = 12, S6 = 13, S1 = 14, C1 = 15, C2 = 16, C3 = 17, C4 = 18, C5 = 19, C6 = 20,
  ONE = 21, QX_MAX = 22, ZERO = 23;
const I = memory.data<i64>([
  0x3ff921fb, // 0 HI_PIO2: the high word of pi/2
  0x3fe921fb, // 1 HI_PIO4: |x| <= pi/4 up to this high word
  0x7ff, // 2 EXP_MASK
  16, // 3 SIXTEEN
  49, // 4 FORTY_NINE
  0x7fffffff, // 5 HI_ABS
  0x3e400000, // 6 HI_TINY: 2^-27
  0x3fd33333, // 7 HI_03: 0.3
  0x3fe90000, // 8 HI_078: 0.78125
  0x00200000, // 9 HI_QUARTER: the high word of x/4 is ix minus this
  3, // 10 I_THREE
  1, // 11 I_ONE
  2, // 12 I_TWO
  0, // 13 I_ZERO
]);
const HI_PIO2 = 0, HI_PIO4 = 1, EXP_MASK = 2, SIXTEEN = 3, FORTY_NINE = 4, HI_ABS = 5, HI_TINY = 6, HI_03 = 7,
  HI_078 = 8, HI_QUARTER = 9, I_THREE = 10, I_ONE = 11, I_TWO = 12, I_ZERO = 13;

// @ts-ignore: decorator
@inline function cf(i: i32): v128 {
  return v128.load64_splat(F + (<usize>i << 3));
}
// @ts-ignore: decorator
@inline function ci(i: i32): v128 {
  return v128.load64_splat(I + (<usize>i << 3));
}
// @ts-ignore: decorator
@inline function add(a: v128, b: v128): v128 {
  return f64x2.add(a, b);
}
// @ts-ignore: decorator
@inline function sub(a: v128, b: v128): v128 {
  return f64x2.sub(a, b);
}
// @ts-ignore: decorator
@inline function mul(a: v128, b: v128): v128 {
  return f64x2.mul(a, b);
}

/** the lanes the last vsin/vcos left to the scalar code */
export let trigRare: v128 = i64x2.splat(0);

/** S2 + z (S3 + z (S4 + z (S5 + z S6))), sin's polynomial */
// @ts-ignore: decorator
@inline function sinPoly(z: v128): v128 {
  return add(cf(S2), mul(z, add(cf(S3), mul(z, add(cf(S4), mul(z, add(cf(S5), mul(z, cf(S6)))))))));
}

// @ts-ignore: decorator
@inline function vsincos(x: v128, isCos: bool): v128 {
  const ax = f64x2.abs(x);
  const ix = i64x2.shr_s(ax, 32);
  const plain = v128.and(f64x2.le(ax, cf(BOUND)), i64x2.ne(ix, ci(HI_PIO2)));
  const fn = f64x2.trunc(add(mul(ax, cf(INVPIO2)), cf(HALF)));
  const r1 = sub(ax, mul(fn, cf(PIO2_1)));
  const w1 = mul(fn, cf(PIO2_1T));
  const y0a = sub(r1, w1);
  const ex = i64x2.shr_s(ax, 52);
  const lost1 = i64x2.sub(ex, v128.and(i64x2.shr_s(y0a, 52), ci(EXP_MASK)));
  const small = i64x2.le_s(ix, ci(HI_PIO4));
  const step2 = v128.andnot(i64x2.gt_s(lost1, ci(SIXTEEN)), small);
  const w2a = mul(fn, cf(PIO2_2));
  const r2 = sub(r1, w2a);
  const w2 = sub(mul(fn, cf(PIO2_2T)), sub(sub(r1, r2), w2a));
  const y0b = sub(r2, w2);
  const lost2 = i64x2.sub(ex, v128.and(i64x2.shr_s(y0b, 52), ci(EXP_MASK)));
  trigRare = v128.or(
    v128.not(plain),
    v128.and(step2, v128.or(f64x2.lt(fn, cf(THIRTY_TWO)), i64x2.gt_s(lost2, ci(FORTY_NINE)))),
  );
  const r = v128.bitselect(r2, r1, step2);
  const w = v128.bitselect(w2, w1, step2);
  const y0r = v128.bitselect(y0b, y0a, step2);
  const y1a = sub(sub(r, y0r), w);
  const neg = i64x2.lt_s(x, ci(I_ZERO));
  const y0 = v128.bitselect(x, v128.bitselect(f64x2.neg(y0r), y0r, neg), small);
  const y1 = v128.bitselect(cf(ZERO), v128.bitselect(f64x2.neg(y1a), y1a, neg), small);
  const n0 = i64x2.sub(add(fn, cf(M)), cf(M));
  const n = v128.andnot(v128.and(v128.bitselect(i64x2.neg(n0), n0, neg), ci(I_THREE)), small);
  // the kernels on y0 + y1
  const z = mul(y0, y0);
  const v = mul(z, y0);
  const rs = sinPoly(z);
  const s = sub(y0, sub(sub(mul(z, sub(mul(cf(HALF), y1), mul(v, rs))), y1), mul(v, cf(S1))));
  const rc = mul(z, add(cf(C1), mul(z, add(cf(C2), mul(z, add(cf(C3), mul(z, add(cf(C4), mul(z, add(cf(C5), mul(z, cf(C6))))))))))));
  const iy = v128.and(i64x2.shr_s(y0, 32), ci(HI_ABS));
  const zr = sub(mul(z, rc), mul(y0, y1));
  const cSmall = sub(cf(ONE), sub(mul(cf(HALF), z), zr));
  const qx = v128.bitselect(cf(QX_MAX), i64x2.shl(i64x2.sub(iy, ci(HI_QUARTER)), 32), i64x2.gt_s(iy, ci(HI_078)));
  const cBig = sub(sub(cf(ONE), qx), sub(sub(mul(cf(HALF), z), qx), zr));
  const c = v128.bitselect(cSmall, cBig, i64x2.lt_s(iy, ci(HI_03)));
  // sin's kernel without a tail (|x| <= pi/4), and both kernels' tiny case
  const zx = mul(x, x);
  const s0 = add(x, mul(mul(zx, x), add(cf(S1), mul(zx, sinPoly(zx)))));
  const tiny = i64x2.lt_s(iy, ci(HI_TINY));
  const S = v128.bitselect(y0, v128.bitselect(s0, s, small), tiny);
  const C = v128.bitselect(cf(ONE), c, tiny);
  // quadrant: sin = S, C, -S, -C and cos = C, -S, -C, S for n = 0..3
  const q = isCos ? v128.and(i64x2.add(n, ci(I_ONE)), ci(I_THREE)) : n;
  const base = v128.bitselect(C, S, i64x2.ne(v128.and(q, ci(I_ONE)), ci(I_ZERO)));
  return v128.bitselect(f64x2.neg(base), base, i64x2.ne(v128.and(q, ci(I_TWO)), ci(I_ZERO)));
}

/** Math.sin on both lanes where trigRare (set by this call) is clear */
// @ts-ignore: decorator
@inline export function vsin(x: v128): v128 {
  return vsincos(x, false);
}
/** Math.cos on both lanes where trigRare (set by this call) is clear */
// @ts-ignore: decorator
@inline export function vcos(x: v128): v128 {
  return vsincos(x, true);
}
