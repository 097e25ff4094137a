// Vector versions of jsmath.h, lane for lane the same IEEE operations as the scalar fdlibm code,
// so they return the same bits as Math.exp (test/native-math.test.ts checks every build).
// Branches become masks: every lane computes every path that can matter and selects.
// Included inside an instruction-set namespace after simd.h.
// (no include guard: included once per instruction-set namespace)

// trunc(v) for |v| < 2^51 with plain double arithmetic: round to nearest by the 1.5*2^52 trick,
// then step back toward zero where rounding went away from it.
TG_INLINE vd trunc_small(vd v) {
  const vd M = splat(6755399441055744.0);
  const vd r = (v + M) - M;
  const vd one = splat(1.0), zero = splat(0.0);
  const vd down = sel((r > v) & (v >= zero), one, zero);
  const vd up = sel((r < v) & (v < zero), one, zero);
  return (r - down) + up;
}

// exp, as jsmath::exp.
TG_INLINE vd vexp(vd x) {
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
  const vd kB = trunc_small(splat(c::inv_ln2) * xs + sel(neg, splat(-0.5), splat(0.5)));
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
