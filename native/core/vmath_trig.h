// Vector sin and cos, lane for lane the same IEEE operations as jsmath::sin/cos (jsmath_trig.h),
// so the same bits as Math.sin/Math.cos (test/native-math.test.ts). Included after vmath.h.
//
// The lanes take fdlibm's reduction y0 + y1 = |x| - n pi/2 for |x| <= 2^19 pi/2 in one step
// (pio2_1 + pio2_1t) or, where that loses more than 16 bits, two (+ pio2_2 + pio2_2t); then both
// kernels are evaluated and selected by quadrant. A vector with any lane beyond that goes to the
// scalar code: |x| > 2^19 pi/2 (k_rem_pio2), the high word of pi/2 (fdlibm always refines
// there), a second step below n = 32 or a third step (x within about 2^-30 |x| of a multiple
// of pi/2), Inf or NaN.
// (no include guard: included once per instruction-set namespace)

// kernel_sin(y0, y1, true) and kernel_cos(y0, y1) on every lane (|y0| >= 2^-27 assumed: the
// caller selects the tiny case)
struct SinCos {
  vd s, c;
};
TG_INLINE SinCos kernels_sin_cos(vd x, vd y) {
  const vd z = x * x;
  const vd v = z * x;
  const vd rs = splat(8.33333333332248946124e-03) +
                z * (splat(-1.98412698298579493134e-04) +
                     z * (splat(2.75573137070700676789e-06) +
                          z * (splat(-2.50507602534068634195e-08) + z * splat(1.58969099521155010221e-10))));
  const vd half = splat(0.5), one = splat(1.0);
  const vd s = x - ((z * (half * y - v * rs) - y) - v * splat(-1.66666666666666324348e-01));
  const vd rc =
      z * (splat(4.16666666666666019037e-02) +
           z * (splat(-1.38888888888741095749e-03) +
                z * (splat(2.48015872894767294178e-05) +
                     z * (splat(-2.75573143513906633035e-07) +
                          z * (splat(2.08757232129817482790e-09) + z * splat(-1.13596475577881948265e-11))))));
  const vi ix = (as_vi(x) >> 32) & 0x7FFFFFFF;
  const vd zr = z * rc - x * y;
  const vd c_small = one - (half * z - zr);  // |x| < 0.3
  const vd qx = sel(ix > 0x3FE90000, splat(0.28125), as_vd((ix - 0x00200000) << 32));
  const vd c_big = (one - qx) - ((half * z - qx) - zr);
  return {s, sel(ix < 0x3FD33333, c_small, c_big)};
}

// sin (Cos = false) or cos (Cos = true) as jsmath::sin/cos; F the scalar version for the rare
// vectors
template <bool Cos, double (*F)(double)>
TG_INLINE vd vsincos(vd x) {
  const vd ax = vabs(x);
  const vi ix = as_vi(ax) >> 32;
  // NaN fails the compare; the high word of pi/2 always takes fdlibm's refined reduction
  const vi plain = (ax <= splat(0x1p19 * 1.57079632679489655800e+00)) & (ix != 0x3FF921FB);
  // SSE2 lacks 64-bit compares and rounding: there the selects cost more than the scalar code
  if (TG_VBYTES == 16 || __builtin_expect(any(~plain), 0)) return each_lane<F>(x);
  const vd fn = vtrunc(ax * splat(6.36619772367581382433e-01) + splat(0.5));
  const vd r1 = ax - fn * splat(1.57079632673412561417e+00);
  const vd w1 = fn * splat(6.07710050650619224932e-11);
  const vd y0a = r1 - w1;
  // bits lost: the exponent of |x| minus that of the reduced argument; fdlibm takes a second step
  // from 17 on (where n >= 32 or x has the high word of n pi/2: lanes with n < 32 go to the
  // scalar code instead of looking that up) and a third from 50 on (scalar code too)
  const vi ex = as_vi(ax) >> 52;
  const vi lost1 = ex - ((as_vi(y0a) >> 52) & 0x7FF);
  const vi small = ix <= 0x3FE921FB;  // |x| <= pi/4: no reduction
  const vi step2 = ~small & (lost1 > 16);
  const vd w2a = fn * splat(6.07710050630396597660e-11);
  const vd r2 = r1 - w2a;
  const vd w2 = fn * splat(2.02226624879595063154e-21) - ((r1 - r2) - w2a);
  const vd y0b = r2 - w2;
  const vi lost2 = ex - ((as_vi(y0b) >> 52) & 0x7FF);
  if (__builtin_expect(any(step2 & ((fn < splat(32.0)) | (lost2 > 49))), 0)) return each_lane<F>(x);
  const vd r = sel(step2, r2, r1), w = sel(step2, w2, w1);
  const vd y0r = sel(step2, y0b, y0a);
  const vd y1a = (r - y0r) - w;
  const vi neg = sign_bit(x) != 0;
  const vd y0 = sel(small, x, sel(neg, -y0r, y0r));
  const vd y1 = sel(small, splat(0.0), sel(neg, -y1a, y1a));
  const vd M = splat(6755399441055744.0);
  const vi n0 = as_vi(fn + M) - as_vi(M);
  const vi n = small ? splati(0) : (neg ? -n0 : n0) & 3;  // fn may round to 1 at pi/4 itself
  const SinCos k = kernels_sin_cos(y0, y1);
  // sin's kernel without a tail (|x| <= pi/4), and both kernels' tiny case
  const vd z = x * x;
  const vd v = z * x;
  const vd r0 = splat(8.33333333332248946124e-03) +
                z * (splat(-1.98412698298579493134e-04) +
                     z * (splat(2.75573137070700676789e-06) +
                          z * (splat(-2.50507602534068634195e-08) + z * splat(1.58969099521155010221e-10))));
  const vd s0 = x + v * (splat(-1.66666666666666324348e-01) + z * r0);
  const vi tiny = ((as_vi(y0) >> 32) & 0x7FFFFFFF) < 0x3E400000;  // |y0| < 2^-27
  const vd S = sel(tiny, y0, sel(small, s0, k.s));
  const vd C = sel(tiny, splat(1.0), k.c);
  // quadrant: sin = S, C, -S, -C and cos = C, -S, -C, S for n = 0..3
  const vi q = Cos ? ((n + 1) & 3) : n;
  const vd base = sel((q & 1) != 0, C, S);
  return sel((q & 2) != 0, -base, base);
}
TG_INLINE vd vsin(vd x) { return vsincos<false, jsmath::sin>(x); }
TG_INLINE vd vcos(vd x) { return vsincos<true, jsmath::cos>(x); }
