// softmax_xent: per row r of logits z (a) and labels y (b), loss_r = sum_c y_c (lse - z_c) with
// lse = log sum_c exp(z_c); the probabilities p = softmax(z) are saved in the extra region for
// the backward rule. Sums in class order, as the reference. Included inside an ISA namespace.
// lse - z_c is computed as (m - z_c) + log(sum_j exp(z_j - m)), m the largest z: both terms are
// >= 0 and m - z_c is exact for nearby logits, where m + log(...) - z_c would carry the rounding
// of lse, an ulp of |m| (1e-10 at 1e6), into the loss.

// m (the largest z, NaN skipped) and log(sum_j exp(z_j - m)), sums in order: the plain formula
// of the reference, no special cases (an infinite m gives NaN, as IEEE says)
template <class S>
static double lse_shifted(const S* z, int64_t c, double& m) {
  m = -HUGE_VAL;
  for (int64_t j = 0; j < c; j++)
    if (z[j] > m) m = z[j];
  double s = 0, buf[256];
  for (int64_t j0 = 0; j0 < c; j0 += 256) {
    const int64_t len = c - j0 < 256 ? c - j0 : 256;
    exp_shifted(z + j0, m, buf, len);
    for (int64_t j = 0; j < len; j++) s += buf[j];
  }
  return jsmath::log(s);
}

template <class T>
static void softmax_xent_f(const Fwd<T>& k) {
  const int64_t rows = k.p0, c = k.p1;
  for (int64_t r = 0; r < rows; r++) {
    const T *z = k.a + r * c, *y = k.b + r * c;
    T* p = k.extra + r * c;
    double m = -HUGE_VAL;
    for (int64_t j = 0; j < c; j++)
      if (z[j] > m) m = z[j];
    exp_shifted(z, m, p, c);
    double s = 0;
    for (int64_t j = 0; j < c; j++) s += p[j];
    const double ls = jsmath::log(s);
    double loss = 0;
    for (int64_t j = 0; j < c; j++) {
      p[j] /= s;
      loss += y[j] * ((m - z[j]) + ls);
    }
    k.out[r] = loss;
  }
}

// d/dz = dy (p sum_c y_c - y), d/dy = dy (lse - z) with lse - z computed as in the forward rule
template <class T>
static void softmax_xent_b(const Bwd<T>& k) {
  const int64_t rows = k.p0, c = k.p1;
  for (int64_t r = 0; r < rows; r++) {
    const T *z = k.a + r * c, *y = k.b + r * c, *p = k.extra + r * c;
    const double dy = k.gout[r];
    if (k.flags & FLAG_GRAD_A) {
      double sy = 0;
      for (int64_t j = 0; j < c; j++) sy += y[j];
      T* gz = k.ga + r * c;
      for (int64_t j = 0; j < c; j++) gz[j] += dy * (p[j] * sy - y[j]);
    }
    if (k.flags & FLAG_GRAD_B) {
      double m;
      const double ls = lse_shifted(z, c, m);
      T* gy = k.gb + r * c;
      for (int64_t j = 0; j < c; j++) gy[j] += dy * ((m - z[j]) + ls);
    }
  }
}
