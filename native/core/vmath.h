// Vector versions of jsmath.h, lane for lane the same IEEE operations as the scalar fdlibm code,
// so they return the same bits as Math.exp (test/native-math.test.ts checks every build).
// Branches become masks: every lane computes every path that can matter and selects.
// Included inside an instruction-set namespace after simd.h.
// (no include guard: included once per instruction-set namespace)

// F on each lane in turn: for vectors holding a lane that a vector path leaves to the scalar code
template <double (*F)(double)>
TG_INLINE vd each_lane(vd x) {
  double lanes[W];
  store(lanes, x);
  for (int i = 0; i < W; i++) lanes[i] = F(lanes[i]);
  return load(lanes);
}

TG_INLINE vd vabs(vd x) { return as_vd(as_vi(x) & 0x7FFFFFFFFFFFFFFFll); }
TG_INLINE vi sign_bit(vd x) { return as_vi(x) & (int64_t)0x8000000000000000ull; }

// 2^k for integral k in [-1022, 1023] (as a double): k + 2^52 + 1023 holds 1023 + k in its low
// mantissa bits, which the shift moves into the exponent field
TG_INLINE vd pow2(vd k) { return as_vd(as_vi(k + splat(4503599627371519.0)) << 52); }

// fdlibm's reduction x = k ln2 + (hi - lo) for exp and expm1, |x| < 709.4: k = trunc(x/ln2 +- 1/2)
// from |x| >= reduce_from, else 0 (then hi = x, lo = 0: fdlibm's unreduced path; the formula
// alone would give k = 1 from ln2/2 on). Where fdlibm takes k = +-1 directly (|x| < 1.5 ln2) the
// formula gives the same k, hi and lo, since k * ln2_hi and k * ln2_lo are exact.
struct Reduced {
  vd k, hi, lo;
};
TG_INLINE Reduced reduce_ln2(vd x) {
  namespace c = jsmath::c;
  const vd half = as_vd(sign_bit(x) | as_vi(splat(0.5)));  // +-1/2
  const vd k = sel(vabs(x) >= splat(c::reduce_from), vtrunc(splat(c::inv_ln2) * x + half), splat(0.0));
  return {k, x - k * splat(c::ln2_hi), k * splat(c::ln2_lo)};
}

// exp, as jsmath::exp, for every input: all branches computed, selected per lane.
TG_INLINE vd vexp_general(vd x) {
  namespace c = jsmath::c;
  const vi ix = as_vi(x);
  const vi hx = (ix >> 32) & 0x7FFFFFFF;
  const vi neg = ix < 0;
  const vd zero = splat(0.0), one = splat(1.0);
  const vi isnan = x != x;
  const vi isinf = (ix & 0x7FFFFFFFFFFFFFFFll) == 0x7FF0000000000000ll;
  const vi over = x > splat(c::exp_over);
  const vi under = x < splat(c::exp_under);
  const vi special = isnan | isinf | over | under;
  const vd xs = sel(special, zero, x);
  const vi big = hx > 0x3FD62E42;          // |x| > ln2/2: reduce
  const vi mid = big & (hx < 0x3FF0A2B2);  // and |x| < 1.5 ln2: k = +-1
  const vi tiny = hx < 0x3E300000;         // |x| < 2^-28: 1 + x
  // k = +-1
  const vd hiA = sel(neg, xs + splat(c::ln2_hi), xs - splat(c::ln2_hi));
  const vd loA = sel(neg, splat(-c::ln2_lo), splat(c::ln2_lo));
  const vd kA = sel(neg, splat(-1.0), one);
  // k = trunc(x/ln2 +- 1/2)
  const vd kB = vtrunc(splat(c::inv_ln2) * xs + sel(neg, splat(-0.5), splat(0.5)));
  const vd hiB = xs - kB * splat(c::ln2_hi);
  const vd loB = kB * splat(c::ln2_lo);
  const vd kd = sel(mid, kA, sel(big, kB, zero));
  const vd hi = sel(mid, hiA, hiB), lo = sel(mid, loA, loB);
  const vd xr = sel(big, hi - lo, xs);
  const vd t = xr * xr;
  const vd cc =
      xr - t * (splat(c::P1) + t * (splat(c::P2) + t * (splat(c::P3) + t * (splat(c::P4) + t * splat(c::P5)))));
  // (x*c)/(c-2) = -((x*c)/(2-c)) exactly in round-to-nearest: one division serves both paths
  const vd q = (xr * cc) / (splat(2.0) - cc);
  const vd r0 = one - ((-q) - xr);
  const vd y = one - ((lo - q) - hi);
  const vd M = splat(6755399441055744.0);
  const vi k = as_vi(kd + M) - as_vi(M);  // kd as an integer (exact: |kd| <= 1075)
  const vi normal = k >= -1021;
  const vi kk = normal ? k : k + 1000;  // 2^k would be subnormal: scale by 2^-1000 after
  const vd twopk = as_vd((kk + 0x3FF) << 52);
  vd rk = y * twopk;
  rk = sel(normal, rk, rk * splat(c::twom1000));
  rk = sel(k == 1024, y * splat(2.0) * splat(c::two1023), rk);
  vd res = sel(big, rk, r0);
  res = sel(tiny, one + x, res);
  res = sel(mid & (x == one), splat(c::E), res);
  res = sel(isnan, x + x, res);
  res = sel(isinf, sel(neg, zero, x), res);
  res = sel(over, splat(HUGE_VAL), res);
  res = sel(under, zero, res);
  return res;
}

// exp, as jsmath::exp. The common case, every lane with 2^-28 <= |x| < 708 and x != 1, needs
// no special values (reduce_ln2 covers all of fdlibm's reductions there). Other lanes go through
// vexp_general.
TG_INLINE vd vexp(vd x) {
  namespace c = jsmath::c;
  const vd ax = vabs(x);
  // NaN fails both comparisons, so it takes the general path too
  const vi plain = (ax >= splat(0x1p-28)) & (ax < splat(708.0)) & (x != splat(1.0));
  if (__builtin_expect(any(~plain), 0)) return vexp_general(x);
  const Reduced r = reduce_ln2(x);
  const vd xr = r.hi - r.lo;
  const vd t = xr * xr;
  const vd cc =
      xr - t * (splat(c::P1) + t * (splat(c::P2) + t * (splat(c::P3) + t * (splat(c::P4) + t * splat(c::P5)))));
  const vd q = (xr * cc) / (splat(2.0) - cc);
  const vd one = splat(1.0);
  const vd r0 = one - ((-q) - xr);
  const vd y = one - ((r.lo - q) - r.hi);
  return sel(r.k == splat(0.0), r0, y * pow2(r.k));
}

// log1p, as jsmath::log1p, bit for bit. Vector lanes take fdlibm's main paths: k = 0 with
// f = x (-0.2929 < x < 0.41422), or 1 + x split as 2^k (1 + f) with the rounding of 1 + x
// carried in c. A vector with any lane outside them (|x| < 2^-29, x <= -1, x >= 2^53, NaN, Inf,
// or |f| < 2^-20, where fdlibm switches formulas) is done by the scalar code.
TG_INLINE vd vlog1p(vd x) {
  namespace c = jsmath::c;
  const vd zero = splat(0.0), one = splat(1.0);
  const vd ax = vabs(x);
  const vi ok = (ax >= splat(0x1p-29)) & (x > splat(-1.0)) & (x < splat(0x1p53));  // NaN fails
  const vi kzero = (x > splat(c::log1p_k0_lo)) & (x < splat(c::log1p_k0_hi));
  // 1 + x = 2^k (1 + f), 1 + f in [sqrt(2)/2, sqrt(2)), c the rounding error of 1 + x over it
  const vd u = one + x;
  const vi hu0 = as_vi(u) >> 32;
  vi k = (hu0 >> 20) - 1023;
  const vd cc0 = sel(k > 0, one - (u - x), x - (u - one)) / u;
  vi hu = hu0 & 0x000FFFFF;
  const vi up = hu >= 0x6A09E;
  const vi low = as_vi(u) & 0xFFFFFFFFll;
  const vd u2 = as_vd(low | ((hu | (up ? splati(0x3FE00000) : splati(0x3FF00000))) << 32));
  k = k + (up & 1);
  hu = up ? ((0x00100000 - hu) >> 2) : hu;
  const vd f = sel(kzero, x, u2 - one);
  const vd cc = sel(kzero, zero, cc0);
  k = kzero ? splati(0) : k;
  if (__builtin_expect(any(~ok | (~kzero & (hu == 0))), 0)) return each_lane<jsmath::log1p>(x);
  const vd M = splat(6755399441055744.0);
  const vd dk = as_vd(k + as_vi(M)) - M;  // k as a double (exact)
  const vd hfsq = splat(0.5) * f * f;
  const vd s = f / (splat(2.0) + f);
  const vd z = s * s;
  const vd R =
      z * (splat(c::L1) +
           z * (splat(c::L2) +
                z * (splat(c::L3) + z * (splat(c::L4) + z * (splat(c::L5) + z * (splat(c::L6) + z * splat(c::L7)))))));
  const vd r0 = f - (hfsq - s * (hfsq + R));
  const vd rk = dk * splat(c::ln2_hi) - ((hfsq - (s * (hfsq + R) + (dk * splat(c::ln2_lo) + cc))) - f);
  return sel(k == 0, r0, rk);
}

// expm1, as jsmath::expm1, on lanes with 2^-54 <= |x|, x > -expm1_sat and x < 709.4 (other lanes
// give garbage): there fdlibm's paths differ only by k, so every lane computes the formula of
// each k range and selects (compares on k as a double: SSE2 has no 64-bit integer compare).
// KOne = false leaves out k = 1 (0.35 <= x < 1.04), which tanh's arguments never reach.
template <bool KOne = true>
TG_INLINE vd vexpm1_main(vd x) {
  namespace c = jsmath::c;
  const vd one = splat(1.0), half = splat(0.5);
  const Reduced rd = reduce_ln2(x);
  const vd k = rd.k;
  const vd r = rd.hi - rd.lo;         // the reduced x
  const vd cc = (rd.hi - r) - rd.lo;  // its rounding error (0 for k = 0)
  const vd hfx = half * r;
  const vd hxs = r * hfx;
  const vd r1 = one + hxs * (splat(c::Q1) +
                             hxs * (splat(c::Q2) + hxs * (splat(c::Q3) + hxs * (splat(c::Q4) + hxs * splat(c::Q5)))));
  const vd t = splat(3.0) - r1 * hfx;
  const vd e0 = hxs * ((r1 - t) / (splat(6.0) - r * t));
  const vd y0 = r - (r * e0 - hxs);  // k = 0
  const vd e = (r * (e0 - cc) - cc) - hxs;
  const vd ym1 = half * (r - e) - half;  // k = -1
  const vd twopk = pow2(k), twomk = pow2(-k);
  const vd yfar = (one - (e - r)) * twopk - one;       // k <= -2 or k > 56
  const vd ylow = ((one - twomk) - (e - r)) * twopk;   // 2 <= k < 20 (1 - 2^-k is exact)
  const vd yhigh = ((r - (e + twomk)) + one) * twopk;  // 20 <= k <= 56
  vd y = sel(k < splat(20.0), ylow, yhigh);
  y = sel((k <= splat(-2.0)) | (k > splat(56.0)), yfar, y);
  if (KOne) {  // k = 1
    const vd y1 = sel(r < splat(-0.25), splat(-2.0) * (e - (r + half)), one + splat(2.0) * (r - e));
    y = sel(k == one, y1, y);
  }
  y = sel(k == splat(-1.0), ym1, y);
  return sel(k == splat(0.0), y0, y);
}

// expm1, as jsmath::expm1, for every input: vectors with a lane outside vexpm1_main's range
// (|x| < 2^-54, x <= -56 ln2, x >= 709.4, NaN) are done by the scalar code
TG_INLINE vd vexpm1(vd x) {
  const vi plain = (vabs(x) >= splat(0x1p-54)) & (x > splat(-jsmath::c::expm1_sat)) & (x < splat(709.4));  // NaN fails
  if (__builtin_expect(any(~plain), 0)) return each_lane<jsmath::expm1>(x);
  return vexpm1_main(x);
}

// tanh, as jsmath::tanh, for every input, all by selects: sign(x) (1 - 2/(t + 2)) with
// t = expm1(2|x|) for 1 <= |x| < 22, sign(x) (-t/(t + 2)) with t = expm1(-2|x|) below; x itself
// for |x| < 2^-28, +-1 from 22 on (and for +-Inf). The expm1 arguments of the used lanes lie in
// (-2, -2^-27] and [2, 44), inside vexpm1_main's range.
TG_INLINE vd vtanh(vd x) {
  const vd one = splat(1.0), two = splat(2.0);
  const vd ax = vabs(x);
  const vi big = ax >= one;
  const vd t = vexpm1_main<false>(sel(big, two * ax, splat(-2.0) * ax));
  const vd q = sel(big, two, -t) / (t + two);  // one division serves both formulas
  vd z = sel(big, one - q, q);                 // z >= 0
  z = sel(ax >= splat(22.0), one, z);
  z = sel(ax < splat(0x1p-28), ax, z);
  z = as_vd(as_vi(z) | sign_bit(x));
  return sel(x != x, x + x, z);
}
