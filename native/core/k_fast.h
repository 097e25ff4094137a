// Faster forward rules for value() and reverse() (the elementwise ones are generated from
// vexp_fast and vtanh_fast below: k_elementwise.gen.h), where native must agree with the js reference
// to 1e-12 (normwise relative) rather than bit for bit. Finite differences never use these:
// they divide f's rounding by h, so fd() runs the exact rules. Included inside an ISA namespace.
//
// Accuracy (test/native-math.test.ts measures it on 300k inputs per kernel build):
//   vexp_fast: within 2 ulp of Math.exp for |x| < 708; the other inputs (overflow, underflow,
//              NaN, +-Inf) take the exact path, so special values are identical.
//   vtanh_fast: within 4 ulp of Math.tanh (3 on 4M points, AVX-512), and 1 - |tanh x| within a
//              few ulp of its own for |x| >= 1; |x| < 2^-28, |x| >= 22 and special values exact.
//   sum_fast:  reassociated in 4W partial sums, error bound (n/4W + log2(4W)) u sum|a_j|,
//              tighter than the sequential sum's (n - 1) u sum|a_j|.

// exp(x) = 2^k exp(r), x = k ln2 + r, |r| <= ln2/2, exp(r) by its Taylor series to degree 13
// (truncation < 5e-18 relative). No division, unlike fdlibm's rational form.
TG_INLINE vd vexp_fast(vd x) {
  namespace c = jsmath::c;
  const vd ax = vabs(x);
  if (__builtin_expect(any(~(ax < splat(708.0))), 0)) return vexp(x);  // NaN fails the compare too
  const vd M = splat(6755399441055744.0);
  const vd km = splat(c::inv_ln2) * x + M;
  const vd kd = km - M;  // round(x / ln2)
  const vi k = as_vi(km) - as_vi(M);
  // ln2_hi has 21 trailing zero bits: kd * ln2_hi is exact and so is x - kd * ln2_hi
  const vd r = (x - kd * splat(c::ln2_hi)) - kd * splat(c::ln2_lo);
  vd p = splat(1.0 / 6227020800.0);  // 1/13!
  const double inv[] = {1.0 / 479001600.0,
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
                        1.0,
                        1.0};
  for (double q : inv) p = fmadd(p, r, splat(q));
  return p * as_vd((k + 0x3FF) << 52);
}

// expm1(y) for |y| < 45 from one polynomial: y = k ln2 + r, |r| <= ln2/2, expm1(y) =
// 2^k expm1(r) + (2^k - 1) in one fused rounding, expm1(r) = r + r^2 Q(r) with Q its Taylor
// series to degree 11 (expm1's to degree 13; truncation below 1.3e-17 relative), evaluated by
// Estrin's scheme (a chain of 4 multiply-adds, not 12). For k = 0 that is the polynomial itself;
// elsewhere the sum cancels at most a factor 1.5 (k = 1, y near ln2/2). The previous version
// took the series for |y| <= ln2/2 and exp_fast(y) - 1 above, so both polynomials ran in every
// vector holding both kinds of lane: tanh at 1,024 x 2,048 ran at half the speed it does now.
TG_INLINE vd lin(vd r, double c0, double c1) { return fmadd(r, splat(c1), splat(c0)); }  // c0 + c1 r
TG_INLINE vd vexpm1_fast(vd y) {
  namespace c = jsmath::c;
  const vd M = splat(6755399441055744.0);
  const vd km = splat(c::inv_ln2) * y + M;
  const vd kd = km - M;  // round(y / ln2)
  const vi k = as_vi(km) - as_vi(M);
  const vd r = (y - kd * splat(c::ln2_hi)) - kd * splat(c::ln2_lo);
  const vd r2 = r * r, r4 = r2 * r2;
  const vd q03 = fmadd(lin(r, 1.0 / 24, 1.0 / 120), r2, lin(r, 1.0 / 2, 1.0 / 6));
  const vd q47 = fmadd(lin(r, 1.0 / 40320, 1.0 / 362880), r2, lin(r, 1.0 / 720, 1.0 / 5040));
  const vd q8b = fmadd(lin(r, 1.0 / 479001600, 1.0 / 6227020800.0), r2, lin(r, 1.0 / 3628800, 1.0 / 39916800));
  const vd q = fmadd(fmadd(q8b, r4, q47), r4, q03);
  const vd s = as_vd((k + 0x3FF) << 52);  // 2^k, |k| <= 65
  return fmadd(s, fmadd(r2, q, r), s - splat(1.0));
}

// tanh(x) = sign(x) * -t/(t + 2), t = expm1(-2|x|), for |x| < 1 (no cancellation near 0), and
// sign(x) * (1 - 2/(t + 2)), t = expm1(2|x|), from 1 on, as fdlibm: there 2/(t + 2) = 1 - |tanh x|
// is small and keeps its few-ulp relative error, so the result rounds as Math.tanh's does. (The
// first formula there made 1 - |tanh x| wrong by an ulp of 1: log1p(tanh(-15)) came out 6e-4
// off, and 1 - tanh^2 likewise.) Lanes with |x| < 2^-28, |x| >= 22, NaN or +-Inf take jsmath::tanh.
TG_INLINE vd vtanh_fast(vd x) {
  const vd ax = vabs(x), one = splat(1.0), two = splat(2.0);
  if (__builtin_expect(any(~((ax >= splat(0x1p-28)) & (ax < splat(22.0)))), 0)) return each_lane<jsmath::tanh>(x);
  const vi big = ax >= one;
  const vd t = vexpm1_fast(sel(big, two * ax, splat(-2.0) * ax));
  const vd q = sel(big, two, -t) / (t + two);  // one division serves both formulas
  const vd z = sel(big, one - q, q);
  return as_vd(as_vi(z) | sign_bit(x));
}

struct TanhFastF {
  TG_MEMBER vd v(vd x) { return vtanh_fast(x); }
  TG_MEMBER double s(double x) { return jsmath::tanh(x); }
};

struct ExpFastF {
  TG_MEMBER vd v(vd x) { return vexp_fast(x); }
  TG_MEMBER double s(double x) { return jsmath::exp(x); }
};

// A whole-axis sum (inner == 1) in 4 vectors of partial sums; other layouts as the exact rule
// (their sums already run along the vector lanes).
template <class T>
static void sum_fast_f(const Fwd<T>& k) {
  const int64_t outer = k.p0, n = k.p1, inner = k.p2;
  if (inner != 1) return sum_f(k);
  for (int64_t s = 0; s < outer; s++) {
    const T* a = k.a + s * n;
    vd s0 = splat(0.0), s1 = s0, s2 = s0, s3 = s0;
    int64_t j = 0;
    for (; j + 4 * W <= n; j += 4 * W) {
      s0 += load(a + j);
      s1 += load(a + j + W);
      s2 += load(a + j + 2 * W);
      s3 += load(a + j + 3 * W);
    }
    for (; j + W <= n; j += W) s0 += load(a + j);
    double t = hsum((s0 + s1) + (s2 + s3));
    for (; j < n; j++) t += a[j];
    k.out[s] = t;
  }
}

// the largest finite |x_i| (NaN and +-Inf are skipped: they give the same results fused or not):
// one streaming pass over the operands, against the product's k, in four independent chains of
// W lanes (one chain ran at a third of the speed: each step waits for the compare before it)
template <class S>
static double max_finite_abs(const S* x, int64_t n) {
  const vd big = splat(1.7976931348623157e308), zero = splat(0.0);
  vd m[4] = {zero, zero, zero, zero};
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W)
    for (int q = 0; q < 4; q++) {
      const vd v = vabs(load(x + i + q * W));
      m[q] = sel(v > m[q], sel(v <= big, v, zero), m[q]);
    }
  double r = 0;
  for (int q = 0; q < 4; q++)
    for (int l = 0; l < W; l++) r = m[q][l] > r ? m[q][l] : r;
  for (; i < n; i++) {
    const double v = std::fabs(x[i]);
    r = v <= 1.7976931348623157e308 && v > r ? v : r;
  }
  return r;
}

// matmul with fused multiply-adds in the register tiles (where the CPU has them); same order.
// A fused chain differs from the reference's multiply-then-add in more than the last bit only
// where a product overflows: fma(b, d, +Inf) is +Inf where +Inf + b*d (b*d = -Inf) is NaN, and
// fma(1.5, MAX, -MAX) is MAX/2 where 1.5*MAX - MAX is +Inf (found by the fuzz test). So the fused
// tiles run where no product of finite entries, nor a sum of k of them, can overflow:
// max|A| max|B| k <= MAX/2, checked in O(mk + kn) against the product's O(mkn).
template <class T>
static void matmul_fast_f(const Fwd<T>& f) {
  // float32: the fused tiles always. The reference computes each product in double and rounds
  // once, so no float32 chain, fused or not, matches it where a float32 sum overflows; the
  // check would be a pass over A (W2: as long as the product itself) that buys nothing.
  if constexpr (sizeof(T) == 4) return matmul_fwd<true>(f);
  const int64_t m = f.p0, k = f.p1, n = f.p2;
  // A narrow product (an output layer of 10 classes; n = 1 takes the unfused matrix-vector
  // product anyway) does about n multiply-adds per element of A, and the check reads every
  // element of A: the unfused tiles cost less than the check. [1024,2048] x [2048,10] (AVX-512,
  // Zen 5, whose separate add pipes take the unfused adds): 0.83 ms unfused, 1.2 ms check and
  // fused tiles.
  if (n < 16) return matmul_fwd<false>(f);
  const double a = max_finite_abs(f.a, m * k), b = max_finite_abs(f.b, k * n);
  if (a == 0 || b == 0 || a <= 0x1p1023 / static_cast<double>(k) / b) return matmul_fwd<true>(f);
  matmul_fwd<false>(f);
}
