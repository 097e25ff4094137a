// Vector versions of jsmath.h, lane for lane the same IEEE operations as the scalar fdlibm code,
// so they return the same bits as Math.exp (test/native-math.test.ts checks every build).
// Branches become masks: every lane computes every path that can matter and selects.
// Included inside an instruction-set namespace after simd.h.
// (no include guard: included once per instruction-set namespace)

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
  const vi big = hx > 0x3FD62E42;           // |x| > ln2/2: reduce
  const vi mid = big & (hx < 0x3FF0A2B2);   // and |x| < 1.5 ln2: k = +-1
  const vi tiny = hx < 0x3E300000;          // |x| < 2^-28: 1 + x
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
  const vd cc = xr - t * (splat(c::P1) + t * (splat(c::P2) + t * (splat(c::P3) + t * (splat(c::P4) + t * splat(c::P5)))));
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
// no special values: there k = trunc(x/ln2 +- 1/2) is also right for the lanes that fdlibm
// reduces by +-ln2 directly (the same k, hi and lo come out), and 0 for |x| <= ln2/2, where
// hi = x, lo = 0 reproduce the unreduced path. Other lanes go through vexp_general.
TG_INLINE vd vexp(vd x) {
  namespace c = jsmath::c;
  const vd ax = as_vd(as_vi(x) & 0x7FFFFFFFFFFFFFFFll);
  // NaN fails both comparisons, so it takes the general path too
  const vi plain = (ax >= splat(0x1p-28)) & (ax < splat(708.0)) & (x != splat(1.0));
  if (__builtin_expect(any(~plain), 0)) return vexp_general(x);
  const vd half = as_vd((as_vi(x) & (int64_t)0x8000000000000000ull) | as_vi(splat(0.5)));  // +-1/2
  const vd kd = vtrunc(splat(c::inv_ln2) * x + half);
  const vd hi = x - kd * splat(c::ln2_hi);
  const vd lo = kd * splat(c::ln2_lo);
  const vd xr = hi - lo;
  const vd t = xr * xr;
  const vd cc = xr - t * (splat(c::P1) + t * (splat(c::P2) + t * (splat(c::P3) + t * (splat(c::P4) + t * splat(c::P5)))));
  const vd q = (xr * cc) / (splat(2.0) - cc);
  const vd one = splat(1.0);
  const vd r0 = one - ((-q) - xr);
  const vd y = one - ((lo - q) - hi);
  const vd M = splat(6755399441055744.0);
  const vi k = as_vi(kd + M) - as_vi(M);
  const vd twopk = as_vd((k + 0x3FF) << 52);
  return sel(kd == splat(0.0), r0, y * twopk);
}

// log1p, as jsmath::log1p, bit for bit. Vector lanes take fdlibm's main paths: k = 0 with
// f = x (-0.2929 < x < 0.41422), or 1 + x split as 2^k (1 + f) with the rounding of 1 + x
// carried in c. A vector with any lane outside them (|x| < 2^-29, x <= -1, x >= 2^53, NaN, Inf,
// or |f| < 2^-20, where fdlibm switches formulas) is done by the scalar code.
TG_INLINE vd vlog1p(vd x) {
  namespace c = jsmath::c;
  const vd zero = splat(0.0), one = splat(1.0);
  const vd ax = as_vd(as_vi(x) & 0x7FFFFFFFFFFFFFFFll);
  const vi ok = (ax >= splat(0x1p-29)) & (x > splat(-1.0)) & (x < splat(0x1p53));  // NaN fails
  const vi kzero = ((x > zero) & (x < splat(0.41421353816986083984375))) |   // hx < 0x3FDA827A
                   ((x < zero) & (ax < splat(0.29289329051971435547)));     // ax <= 0x3FD2BEC4
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
  if (__builtin_expect(any(~ok | (~kzero & (hu == 0))), 0)) {
    double lanes[W];
    store(lanes, x);
    for (int i = 0; i < W; i++) lanes[i] = jsmath::log1p(lanes[i]);
    return load(lanes);
  }
  const vd M = splat(6755399441055744.0);
  const vd dk = as_vd(k + as_vi(M)) - M;  // k as a double (exact)
  const vd hfsq = splat(0.5) * f * f;
  const vd s = f / (splat(2.0) + f);
  const vd z = s * s;
  const vd R = z * (splat(c::L1) + z * (splat(c::L2) + z * (splat(c::L3) + z * (splat(c::L4) + z * (splat(c::L5) + z * (splat(c::L6) + z * splat(c::L7)))))));
  const vd r0 = f - (hfsq - s * (hfsq + R));
  const vd rk = dk * splat(c::ln2_hi) - ((hfsq - (s * (hfsq + R) + (dk * splat(c::ln2_lo) + cc))) - f);
  return sel(k == 0, r0, rk);
}
