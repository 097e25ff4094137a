// Tangent rules of the ops whose tangent mode is 'custom' (OpDef.tangent; the reference is
// src/backends/js/tangent.ts). The other ops' tangents come from their forward and backward
// rules (Program::tangentSweep). Included inside an instruction-set namespace.

// out'[s,i] = sum_j exp(a[s,j,i] - out[s,i]) a'[s,j,i], with exp(a - out) as exp((a - m) - l) as
// the backward rule computes it
template <class T>
static void logsumexp_t(const Tan<T>& k) {
  const int64_t outer = k.p[0], n = k.p[1], inner = k.p[2];
  for (int64_t s = 0; s < outer; s++)
    for (int64_t i = 0; i < inner; i++) {
      const T* a = k.a + s * n * inner + i;
      const T* ta = k.ta + s * n * inner + i;
      double m, l;
      if (!lse_parts(a, n, inner, m, l)) m = k.out[s * inner + i], l = 0;
      double d = 0;
      for (int64_t j = 0; j < n; j++) d += jsmath::exp(a[j * inner] - m - l) * ta[j * inner];
      k.tout[s * inner + i] = d;
    }
}

// per row: (sum_c b)(sum_c p a') - sum_c b a' for a, and sum_c b' (lse - a) for b
template <class T>
static void softmax_xent_t(const Tan<T>& k) {
  const int64_t rows = k.p[0], c = k.p[1];
  for (int64_t r = 0; r < rows; r++) {
    const T *z = k.a + r * c, *y = k.b + r * c, *p = k.extra + r * c;
    double d = 0;
    if (k.flags & FLAG_GRAD_A) {
      const T* tz = k.ta + r * c;
      double sy = 0, pz = 0, yz = 0;
      for (int64_t j = 0; j < c; j++) {
        sy += y[j];
        pz += p[j] * tz[j];
        yz += y[j] * tz[j];
      }
      d += sy * pz - yz;
    }
    if (k.flags & FLAG_GRAD_B) {
      double m;
      const double ls = lse_shifted(z, c, m);
      const T* ty = k.tb + r * c;
      for (int64_t j = 0; j < c; j++) d += ty[j] * ((m - z[j]) + ls);
    }
    k.tout[r] = d;
  }
}
