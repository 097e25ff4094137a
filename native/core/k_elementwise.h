// Elementwise ops: forward and backward rules side by side, the formulas of the js reference
// (src/backends/js/kernels.ts) in the same operation order. Each element is independent, so
// vectorising changes nothing in the result. Included inside an instruction-set namespace.

// out[i] = F(a[i]) with a vector body and a scalar tail computing the same bits; F has
// static v(vd) and s(double) (functors rather than lambdas, so the target attribute applies)
template <class F>
TG_INLINE void map1(int64_t n, const double* a, double* o) {
  int64_t i = 0;
  for (; i + W <= n; i += W) store(o + i, F::v(load(a + i)));
  for (; i < n; i++) o[i] = F::s(a[i]);
}
struct ExpF {
  TG_MEMBER vd v(vd x) { return vexp(x); }
  TG_MEMBER double s(double x) { return jsmath::exp(x); }
};
// sigmoid over an exp E: ExpF here (exact), ExpFastF in k_fast.h
template <class E>
struct SigmoidOf {
  TG_MEMBER vd v(vd x) { return splat(1.0) / (splat(1.0) + E::v(-x)); }
  TG_MEMBER double s(double x) { return 1.0 / (1.0 + E::s(-x)); }
};
struct Log1pF {
  TG_MEMBER vd v(vd x) { return vlog1p(x); }
  TG_MEMBER double s(double x) { return jsmath::log1p(x); }
};
struct TanhF {
  TG_MEMBER vd v(vd x) { return vtanh(x); }
  TG_MEMBER double s(double x) { return jsmath::tanh(x); }
};

static void add_f(const Fwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.out[i] = k.a[i] + k.b[i];
}
static void add_b(const Bwd& k) {
  if (k.flags & FLAG_GRAD_A)
    for (int64_t i = 0; i < k.p0; i++) k.ga[i] += k.gout[i];
  if (k.flags & FLAG_GRAD_B)
    for (int64_t i = 0; i < k.p0; i++) k.gb[i] += k.gout[i];
}
static void sub_f(const Fwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.out[i] = k.a[i] - k.b[i];
}
static void sub_b(const Bwd& k) {
  if (k.flags & FLAG_GRAD_A)
    for (int64_t i = 0; i < k.p0; i++) k.ga[i] += k.gout[i];
  if (k.flags & FLAG_GRAD_B)
    for (int64_t i = 0; i < k.p0; i++) k.gb[i] -= k.gout[i];
}
static void mul_f(const Fwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.out[i] = k.a[i] * k.b[i];
}
static void mul_b(const Bwd& k) {
  if (k.flags & FLAG_GRAD_A)
    for (int64_t i = 0; i < k.p0; i++) k.ga[i] += k.gout[i] * k.b[i];
  if (k.flags & FLAG_GRAD_B)
    for (int64_t i = 0; i < k.p0; i++) k.gb[i] += k.gout[i] * k.a[i];
}
static void div_f(const Fwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.out[i] = k.a[i] / k.b[i];
}
static void div_b(const Bwd& k) {
  if (k.flags & FLAG_GRAD_A)
    for (int64_t i = 0; i < k.p0; i++) k.ga[i] += k.gout[i] / k.b[i];
  if (k.flags & FLAG_GRAD_B)
    for (int64_t i = 0; i < k.p0; i++) k.gb[i] -= (k.gout[i] * k.out[i]) / k.b[i];
}
static void neg_f(const Fwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.out[i] = -k.a[i];
}
static void neg_b(const Bwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.ga[i] -= k.gout[i];
}

static void exp_f(const Fwd& k) { map1<ExpF>(k.p0, k.a, k.out); }
static void exp_b(const Bwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.ga[i] += k.gout[i] * k.out[i];
}
static void log_f(const Fwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.out[i] = jsmath::log(k.a[i]);
}
static void log_b(const Bwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.ga[i] += k.gout[i] / k.a[i];
}
static void log1p_f(const Fwd& k) { map1<Log1pF>(k.p0, k.a, k.out); }
static void log1p_b(const Bwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.ga[i] += k.gout[i] / (1.0 + k.a[i]);
}
// IEEE sqrt is correctly rounded everywhere (Math.sqrt too); -fno-math-errno lets it vectorise
static void sqrt_f(const Fwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.out[i] = __builtin_sqrt(k.a[i]);
}
static void sqrt_b(const Bwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.ga[i] += k.gout[i] / (2.0 * k.out[i]);
}
static void square_f(const Fwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.out[i] = k.a[i] * k.a[i];
}
static void square_b(const Bwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.ga[i] += 2.0 * k.a[i] * k.gout[i];
}
static void abs_f(const Fwd& k) {
  for (int64_t i = 0; i < k.p0; i++) k.out[i] = __builtin_fabs(k.a[i]);
}
// sign(0) = 0 and sign(NaN) = NaN, as Math.sign
static void abs_b(const Bwd& k) {
  for (int64_t i = 0; i < k.p0; i++) {
    const double x = k.a[i];
    k.ga[i] += k.gout[i] * (x > 0 ? 1.0 : x < 0 ? -1.0 : x);
  }
}
static void sigmoid_f(const Fwd& k) { map1<SigmoidOf<ExpF>>(k.p0, k.a, k.out); }
static void sigmoid_b(const Bwd& k) {
  for (int64_t i = 0; i < k.p0; i++) {
    const double y = k.out[i];
    k.ga[i] += k.gout[i] * y * (1.0 - y);
  }
}
// vtanh computes all of fdlibm's paths and selects: 2.6x (AVX2) and 4.4x (AVX-512) as fast as
// jsmath::tanh, but with SSE2's two lanes and no blend or rounding instruction slower than the
// scalar code's one path (12.3 against 11.5 ns an element on the EPYC): the baseline build
// keeps jsmath::tanh.
static void tanh_f(const Fwd& k) {
  if (TG_VBYTES == 16)
    for (int64_t i = 0; i < k.p0; i++) k.out[i] = jsmath::tanh(k.a[i]);
  else
    map1<TanhF>(k.p0, k.a, k.out);
}
static void tanh_b(const Bwd& k) {
  for (int64_t i = 0; i < k.p0; i++) {
    const double y = k.out[i];
    k.ga[i] += k.gout[i] * (1.0 - y * y);
  }
}
// x < 0 ? 0 : x keeps NaN; the derivative is 1 only where x > 0 (0 at 0 and at NaN)
static void relu_f(const Fwd& k) {
  for (int64_t i = 0; i < k.p0; i++) {
    const double x = k.a[i];
    k.out[i] = x < 0 ? 0.0 : x;
  }
}
static void relu_b(const Bwd& k) {
  for (int64_t i = 0; i < k.p0; i++) {
    const double g = k.ga[i];
    k.ga[i] = k.a[i] > 0 ? g + k.gout[i] : g;
  }
}
// max(x, 0) + log1p(exp(-|x|)) over an exp E (exact here, fast in k_fast.h)
template <class E>
static void softplus_with(const Fwd& k) {
  int64_t i = 0;
  for (; i + W <= k.p0; i += W) {
    const vd x = load(k.a + i);
    store(k.out + i, sel(x > splat(0.0), x, splat(0.0)) + vlog1p(E::v(-vabs(x))));
  }
  for (; i < k.p0; i++) {
    const double x = k.a[i];
    k.out[i] = (x > 0 ? x : 0.0) + jsmath::log1p(E::s(-__builtin_fabs(x)));
  }
}
static void softplus_f(const Fwd& k) { softplus_with<ExpF>(k); }
static void softplus_b(const Bwd& k) {
  int64_t i = 0;
  for (; i + W <= k.p0; i += W)
    store(k.ga + i, load(k.ga + i) + load(k.gout + i) / (splat(1.0) + vexp(-load(k.a + i))));
  for (; i < k.p0; i++) k.ga[i] += k.gout[i] / (1.0 + jsmath::exp(-k.a[i]));
}
// b is a scalar constant exponent
static void pow_f(const Fwd& k) {
  const double p = k.b[0];
  for (int64_t i = 0; i < k.p0; i++) k.out[i] = jsmath::pow(k.a[i], p);
}
static void pow_b(const Bwd& k) {
  const double p = k.b[0];
  if (p != 0)
    for (int64_t i = 0; i < k.p0; i++) k.ga[i] += k.gout[i] * p * jsmath::pow(k.a[i], p - 1);
}
