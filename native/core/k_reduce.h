// broadcast, sum, logsumexp, argmax/argmin and one_hot. Shapes are [outer, n, inner] around the axis.
// Forward sums run in the reference's order (j ascending for each output element): the order
// fixes the rounding, and finite differences would see any change. Where inner > 1 the inner
// index is the vector lane, which keeps that order. Included inside an instruction-set namespace.

template <class T>
static void broadcast_f(const Fwd<T>& k) {
  const int64_t outer = k.p0, rep = k.p1, inner = k.p2;
  for (int64_t s = 0; s < outer; s++) {
    if (inner == 1) {  // a scalar repeated: a vector fill
      T* o = k.out + s * rep;
      const vd x = splat(k.a[s]);
      int64_t r = 0;
      for (; r + W <= rep; r += W) store(o + r, x);
      for (; r < rep; r++) o[r] = k.a[s];
      continue;
    }
    for (int64_t r = 0; r < rep; r++)
      __builtin_memcpy(k.out + (s * rep + r) * inner, k.a + s * inner, inner * sizeof(T));
  }
}
template <class T>
static void broadcast_b(const Bwd<T>& k) {
  const int64_t outer = k.p0, rep = k.p1, inner = k.p2;
  for (int64_t s = 0; s < outer; s++) {
    if (inner == 1) {  // a scalar repeated: a vector sum (backward sums may reorder)
      const T* g = k.gout + s * rep;
      vd acc = splat(0.0);
      int64_t r = 0;
      for (; r + W <= rep; r += W) acc += load(g + r);
      double t = hsum(acc);
      for (; r < rep; r++) t += g[r];
      k.ga[s] += t;
      continue;
    }
    T* ga = k.ga + s * inner;
    for (int64_t r = 0; r < rep; r++) {
      const T* g = k.gout + (s * rep + r) * inner;
      for (int64_t i = 0; i < inner; i++) ga[i] += g[i];
    }
  }
}

template <class T>
static void sum_f(const Fwd<T>& k) {
  const int64_t outer = k.p0, n = k.p1, inner = k.p2;
  for (int64_t s = 0; s < outer; s++) {
    const T* a = k.a + s * n * inner;
    T* o = k.out + s * inner;
    if (inner == 1) {  // one sequential chain, as the reference adds
      double t = 0;
      for (int64_t j = 0; j < n; j++) t += a[j];
      o[0] = t;
      continue;
    }
    for (int64_t i = 0; i < inner; i++) o[i] = 0;
    for (int64_t j = 0; j < n; j++)
      for (int64_t i = 0; i < inner; i++) o[i] += a[j * inner + i];
  }
}
template <class T>
static void sum_b(const Bwd<T>& k) {
  const int64_t outer = k.p0, n = k.p1, inner = k.p2;
  for (int64_t s = 0; s < outer; s++) {
    const T* g = k.gout + s * inner;
    T* ga = k.ga + s * n * inner;
    if (inner == 1) {
      const double d = g[0];
      for (int64_t j = 0; j < n; j++) ga[j] += d;
      continue;
    }
    for (int64_t j = 0; j < n; j++)
      for (int64_t i = 0; i < inner; i++) ga[j * inner + i] += g[i];
  }
}

// y[j] = exp(x[j] - m), vectorised, same bits as the scalar jsmath::exp (x and y of either
// element type: the exponentials are computed in double)
template <class S, class D>
TG_INLINE void exp_shifted(const S* x, double m, D* y, int64_t n) {
  int64_t j = 0;
  const vd mv = splat(m);
  for (; j + W <= n; j += W) store(y + j, vexp(load(x + j) - mv));
  for (; j < n; j++) y[j] = jsmath::exp(x[j] - m);
}

// log sum_j exp(x_j) over n values at stride `stride`, in two parts: the largest x_j (m) and
// l = log(sum exp(x - m)) with the sum in index order. Returns false, with m the whole result,
// when some x is NaN (m = NaN) or m is infinite.
template <class S>
static bool lse_parts(const S* x, int64_t n, int64_t stride, double& m, double& l) {
  m = -HUGE_VAL;
  bool nan = false;
  for (int64_t j = 0; j < n; j++) {
    const double v = x[j * stride];
    if (v > m)
      m = v;
    else if (v != v)
      nan = true;
  }
  if (nan) m = NAN;
  if (nan || m == HUGE_VAL || m == -HUGE_VAL) return false;
  double e = 0;
  if (stride == 1) {
    double buf[256];
    for (int64_t j0 = 0; j0 < n; j0 += 256) {
      const int64_t len = n - j0 < 256 ? n - j0 : 256;
      exp_shifted(x + j0, m, buf, len);
      for (int64_t j = 0; j < len; j++) e += buf[j];
    }
  } else {
    for (int64_t j = 0; j < n; j++) e += jsmath::exp(x[j * stride] - m);
  }
  l = jsmath::log(e);
  return true;
}

template <class T>
static void logsumexp_f(const Fwd<T>& k) {
  const int64_t outer = k.p0, n = k.p1, inner = k.p2;
  for (int64_t s = 0; s < outer; s++)
    for (int64_t i = 0; i < inner; i++) {
      double m, l;
      const bool finite = lse_parts(k.a + s * n * inner + i, n, inner, m, l);
      k.out[s * inner + i] = finite ? m + l : m;
    }
}
// d/da = exp(a - out), computed as exp((a - m) - l): a - out would carry out's rounding, an ulp
// of |out| (1e-10 at 1e6), into every gradient. Non-finite outputs keep exp(a - out).
template <class T>
static void logsumexp_b(const Bwd<T>& k) {
  const int64_t outer = k.p0, n = k.p1, inner = k.p2;
  for (int64_t s = 0; s < outer; s++)
    for (int64_t i = 0; i < inner; i++) {
      const double dy = k.gout[s * inner + i];
      const T* a = k.a + s * n * inner + i;
      T* ga = k.ga + s * n * inner + i;
      double m, l;
      if (!lse_parts(a, n, inner, m, l)) {
        const double y = k.out[s * inner + i];
        for (int64_t j = 0; j < n; j++) ga[j * inner] += dy * jsmath::exp(a[j * inner] - y);
        continue;
      }
      if (inner == 1) {
        int64_t j = 0;
        for (; j + W <= n; j += W) store(ga + j, load(ga + j) + splat(dy) * vexp((load(a + j) - splat(m)) - splat(l)));
        for (; j < n; j++) ga[j] += dy * jsmath::exp((a[j] - m) - l);
      } else {
        for (int64_t j = 0; j < n; j++) ga[j * inner] += dy * jsmath::exp((a[j * inner] - m) - l);
      }
    }
}

// argmax (Sign = 1) or argmin (Sign = -1) along the middle axis: the first extremal index; the
// first NaN wins over any number (NumPy and PyTorch treat NaN as the extreme). No gradient.
template <int Sign, class T>
static void arg_reduce_f(const Fwd<T>& k) {
  const int64_t outer = k.p0, n = k.p1, inner = k.p2;
  for (int64_t s = 0; s < outer; s++)
    for (int64_t i = 0; i < inner; i++) {
      const T* a = k.a + s * n * inner + i;
      double best = a[0];
      int64_t idx = 0;
      for (int64_t j = 1; j < n && best == best; j++) {
        const double x = a[j * inner];
        if (x != x || Sign * x > Sign * best) best = x, idx = j;
      }
      k.out[s * inner + i] = static_cast<double>(idx);
    }
}
template <class T>
static void argmax_f(const Fwd<T>& k) {
  arg_reduce_f<1>(k);
}
template <class T>
static void argmin_f(const Fwd<T>& k) {
  arg_reduce_f<-1>(k);
}
template <class T>
static void argmax_b(const Bwd<T>&) {}
template <class T>
static void argmin_b(const Bwd<T>&) {}

// Rows of one-hot: out[r, c] = (c == a[r]) for an integer a[r] in [0, classes), else a row of NaN.
template <class T>
static void one_hot_f(const Fwd<T>& k) {
  const int64_t rows = k.p0, classes = k.p1;
  for (int64_t r = 0; r < rows; r++) {
    const double y = k.a[r];
    const bool ok = y >= 0 && y < static_cast<double>(classes) && std::floor(y) == y;
    T* o = k.out + r * classes;
    for (int64_t c = 0; c < classes; c++) o[c] = ok ? (static_cast<double>(c) == y ? 1.0 : 0.0) : NAN;
  }
}
template <class T>
static void one_hot_b(const Bwd<T>&) {}
