// The elementwise kernels are generated (k_elementwise.gen.h, from src/ops/elementwise.ts); what
// stays here is map1 over the vector math, for the accuracy tests (vmath_array in kernels_impl.h).
// Included inside an instruction-set namespace.

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
struct Log1pF {
  TG_MEMBER vd v(vd x) { return vlog1p(x); }
  TG_MEMBER double s(double x) { return jsmath::log1p(x); }
};
struct TanhF {
  TG_MEMBER vd v(vd x) { return vtanh(x); }
  TG_MEMBER double s(double x) { return jsmath::tanh(x); }
};
