// conv2d as im2col + the register-tiled gemm of k_matmul.h, one image (and group) at a time
// through the op's scratch region, and max/avg pooling. Params as in src/ops/opset.ts: conv2d
// [n, groups, cin, h, w, cout, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw, colAt] (cin and cout per
// group), pooling [planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw]. Included inside an
// instruction-set namespace after k_matmul.h and k_fast.h.
//
// The forward product sums each output in (ci, i, j) order from 0 with padded taps as zeros,
// unfused, exactly as the reference (src/backends/js/conv.ts); value() and reverse() may use the
// fused tiles where no product can overflow (as matmul_fast_f). Every input row and column is
// computed in 64 bits and checked against the plane before a load: the loader bounds the
// operands, not the relation between h and oh, so a crafted tape reads padding, never other memory.

struct ConvShape {
  int64_t n, groups, cin, h, w, cout, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw;
  int64_t K() const { return cin * kh * kw; }
  int64_t P() const { return oh * ow; }
  int64_t image() const { return cin * h * w; }
  explicit ConvShape(const int32_t* p)
      : n(p[0]),
        groups(p[1]),
        cin(p[2]),
        h(p[3]),
        w(p[4]),
        cout(p[5]),
        kh(p[6]),
        kw(p[7]),
        oh(p[8]),
        ow(p[9]),
        sh(p[10]),
        sw(p[11]),
        ph(p[12]),
        pw(p[13]),
        dh(p[14]),
        dw(p[15]) {}
  // the output columns xo whose input column xo*sw + x0 lies in [0, w): [lo, hi)
  void cols(int64_t x0, int64_t& lo, int64_t& hi) const {
    lo = x0 >= 0 ? 0 : (-x0 + sw - 1) / sw;
    hi = w - x0 <= 0 ? 0 : (w - x0 + sw - 1) / sw;
    if (hi > ow) hi = ow;
    if (lo > hi) lo = hi;
  }
};

// col[(ci, i, j), (y, xo)] = x[ci, y*sh - ph + i*dh, xo*sw - pw + j*dw], 0 outside the image
template <class T>
static void im2col(const ConvShape& s, const T* x, T* col) {
  for (int64_t ci = 0; ci < s.cin; ci++)
    for (int64_t i = 0; i < s.kh; i++)
      for (int64_t j = 0; j < s.kw; j++) {
        const int64_t x0 = j * s.dw - s.pw;
        int64_t lo, hi;
        s.cols(x0, lo, hi);
        for (int64_t y = 0; y < s.oh; y++, col += s.ow) {
          const int64_t iy = y * s.sh - s.ph + i * s.dh;
          if (iy < 0 || iy >= s.h || lo == hi) {
            std::memset(col, 0, s.ow * sizeof(T));
            continue;
          }
          const T* row = x + (ci * s.h + iy) * s.w + x0;
          for (int64_t xo = 0; xo < lo; xo++) col[xo] = 0;
          if (s.sw == 1)
            std::memcpy(col + lo, row + lo, (hi - lo) * sizeof(T));
          else
            for (int64_t xo = lo; xo < hi; xo++) col[xo] = row[xo * s.sw];
          for (int64_t xo = hi; xo < s.ow; xo++) col[xo] = 0;
        }
      }
}

// gx[ci, iy, ix] += dcol[(ci, i, j), (y, xo)] over the taps inside the image
template <class T>
static void col2im(const ConvShape& s, const T* col, T* gx) {
  for (int64_t ci = 0; ci < s.cin; ci++)
    for (int64_t i = 0; i < s.kh; i++)
      for (int64_t j = 0; j < s.kw; j++) {
        const int64_t x0 = j * s.dw - s.pw;
        int64_t lo, hi;
        s.cols(x0, lo, hi);
        for (int64_t y = 0; y < s.oh; y++, col += s.ow) {
          const int64_t iy = y * s.sh - s.ph + i * s.dh;
          if (iy < 0 || iy >= s.h) continue;
          T* row = gx + (ci * s.h + iy) * s.w + x0;
          for (int64_t xo = lo; xo < hi; xo++) row[xo * s.sw] += col[xo];
        }
      }
}

template <bool Fused, class T>
static void conv2d_fwd(const Fwd<T>& f) {
  const ConvShape s(f.p);
  const int64_t K = s.K(), P = s.P();
  for (int64_t b = 0; b < s.n; b++)
    for (int64_t g = 0; g < s.groups; g++) {
      const int64_t bg = b * s.groups + g;
      im2col(s, f.a + bg * s.image(), f.extra);
      gemm<false, Fused, Out::Set>(f.b + g * s.cout * K, f.extra, f.out + bg * s.cout * P, s.cout, K, P, K, P, P);
    }
}

template <class T>
static void conv2d_f(const Fwd<T>& f) {
  conv2d_fwd<false>(f);
}

// fused tiles where max|x| max|w| K <= MAX/2 (see matmul_fast_f)
template <class T>
static void conv2d_fast_f(const Fwd<T>& f) {
  if (!TG_HAS_FMA) return conv2d_fwd<false>(f);
  if constexpr (sizeof(T) == 4) return conv2d_fwd<true>(f);  // float32: as matmul_fast_f
  const ConvShape s(f.p);
  const int64_t K = s.K();
  const double a = max_finite_abs(f.a, s.n * s.groups * s.image()), b = max_finite_abs(f.b, s.groups * s.cout * K);
  if (a == 0 || b == 0 || a <= 0x1p1023 / static_cast<double>(K) / b) return conv2d_fwd<true>(f);
  conv2d_fwd<false>(f);
}

// per image: dW += (col doutT)^T, the product computed transposed (Out::AddT: the lanes run
// along the output channels, the tile rows along the K = cin*kh*kw rows of the columns, which
// im2col writes contiguously); then dcol = W^T dout into the same scratch and col2im into dx.
// The scratch is the op's own region of the value arena (the forward rule's columns, no longer
// needed), hence the const_cast.
template <class T>
static void conv2d_b(const Bwd<T>& g) {
  const ConvShape s(g.p);
  const int64_t K = s.K(), P = s.P();
  T* col = const_cast<T*>(g.extra);
  std::vector<T> doutT(g.flags & FLAG_GRAD_B ? static_cast<size_t>(P * s.cout) : 0);
  for (int64_t b = 0; b < s.n; b++)
    for (int64_t gr = 0; gr < s.groups; gr++) {
      const int64_t bg = b * s.groups + gr;
      const T* dout = g.gout + bg * s.cout * P;
      if (g.flags & FLAG_GRAD_B) {
        im2col(s, g.a + bg * s.image(), col);
        for (int64_t co = 0; co < s.cout; co++)
          for (int64_t p = 0; p < P; p++) doutT[p * s.cout + co] = dout[co * P + p];
        gemm<false, true, Out::AddT>(col, doutT.data(), g.gb + gr * s.cout * K, K, P, s.cout, P, s.cout, K);
      }
      if (g.flags & FLAG_GRAD_A) {
        gemm<true, true, Out::Set>(g.b + gr * s.cout * K, dout, col, K, s.cout, P, K, P, P);
        col2im(s, col, g.ga + bg * s.image());
      }
    }
}

struct PoolShape {
  int64_t planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw;
  explicit PoolShape(const int32_t* p)
      : planes(p[0]),
        h(p[1]),
        w(p[2]),
        oh(p[3]),
        ow(p[4]),
        kh(p[5]),
        kw(p[6]),
        sh(p[7]),
        sw(p[8]),
        ph(p[9]),
        pw(p[10]) {}
  // the window of output (y, xo), clipped to the plane: rows [y0, y1), columns [x0, x1)
  void window(int64_t y, int64_t xo, int64_t& y0, int64_t& y1, int64_t& x0, int64_t& x1) const {
    y0 = y * sh - ph;
    x0 = xo * sw - pw;
    y1 = y0 + kh < h ? y0 + kh : h;
    x1 = x0 + kw < w ? x0 + kw : w;
    if (y0 < 0) y0 = 0;
    if (x0 < 0) x0 = 0;
  }
};

// offset in the plane of the window's largest element: the first on ties, the first NaN if
// any; -1 for a window of padding only (a crafted tape)
template <class T>
static int64_t window_max(const PoolShape& s, const T* plane, int64_t y, int64_t xo) {
  int64_t y0, y1, x0, x1, k = -1;
  s.window(y, xo, y0, y1, x0, x1);
  double best = -INFINITY;
  for (int64_t iy = y0; iy < y1; iy++)
    for (int64_t ix = x0; ix < x1; ix++) {
      const double x = plane[iy * s.w + ix];
      if (x != x) return iy * s.w + ix;
      if (k < 0 || x > best) {
        best = x;
        k = iy * s.w + ix;
      }
    }
  return k;
}

template <class T>
static void max_pool2d_f(const Fwd<T>& f) {
  const PoolShape s(f.p);
  T* o = f.out;
  for (int64_t p = 0; p < s.planes; p++) {
    const T* plane = f.a + p * s.h * s.w;
    for (int64_t y = 0; y < s.oh; y++)
      for (int64_t xo = 0; xo < s.ow; xo++) {
        const int64_t k = window_max(s, plane, y, xo);
        *o++ = k < 0 ? -INFINITY : plane[k];
      }
  }
}

template <class T>
static void max_pool2d_b(const Bwd<T>& g) {
  const PoolShape s(g.p);
  const T* d = g.gout;
  for (int64_t p = 0; p < s.planes; p++) {
    const T* plane = g.a + p * s.h * s.w;
    for (int64_t y = 0; y < s.oh; y++)
      for (int64_t xo = 0; xo < s.ow; xo++, d++) {
        const int64_t k = window_max(s, plane, y, xo);
        if (k >= 0) g.ga[p * s.h * s.w + k] += *d;
      }
  }
}

// padded elements add nothing: +0 added to a sum that starts at +0 changes no bit
template <class T>
static void avg_pool2d_f(const Fwd<T>& f) {
  const PoolShape s(f.p);
  const double count = static_cast<double>(s.kh * s.kw);
  T* o = f.out;
  for (int64_t p = 0; p < s.planes; p++) {
    const T* plane = f.a + p * s.h * s.w;
    for (int64_t y = 0; y < s.oh; y++)
      for (int64_t xo = 0; xo < s.ow; xo++) {
        int64_t y0, y1, x0, x1;
        s.window(y, xo, y0, y1, x0, x1);
        double acc = 0;
        for (int64_t iy = y0; iy < y1; iy++)
          for (int64_t ix = x0; ix < x1; ix++) acc += plane[iy * s.w + ix];
        *o++ = acc / count;
      }
  }
}

template <class T>
static void avg_pool2d_b(const Bwd<T>& g) {
  const PoolShape s(g.p);
  const double count = static_cast<double>(s.kh * s.kw);
  const T* dout = g.gout;
  for (int64_t p = 0; p < s.planes; p++) {
    T* plane = g.ga + p * s.h * s.w;
    for (int64_t y = 0; y < s.oh; y++)
      for (int64_t xo = 0; xo < s.ow; xo++) {
        int64_t y0, y1, x0, x1;
        s.window(y, xo, y0, y1, x0, x1);
        const double d = *dout++ / count;
        for (int64_t iy = y0; iy < y1; iy++)
          for (int64_t ix = x0; ix < x1; ix++) plane[iy * s.w + ix] += d;
      }
  }
}

// max and min along the middle axis of [outer, n, inner]: the element argmax/argmin picks (the
// first extremal one; the first NaN if any) gives the value and takes the gradient
template <int Sign, class S>
static int64_t extremum_at(const S* a, int64_t n, int64_t inner) {
  int64_t k = 0;
  double best = a[0];
  for (int64_t j = 1; j < n && best == best; j++) {
    const double x = a[j * inner];
    if (x != x || Sign * x > Sign * best) {
      best = x;
      k = j;
    }
  }
  return k * inner;
}
template <int Sign, class T>
static void extremum_f(const Fwd<T>& f) {
  const int64_t outer = f.p0, n = f.p1, inner = f.p2;
  for (int64_t s = 0; s < outer; s++)
    for (int64_t i = 0; i < inner; i++) {
      const T* a = f.a + s * n * inner + i;
      f.out[s * inner + i] = a[extremum_at<Sign>(a, n, inner)];
    }
}
template <int Sign, class T>
static void extremum_b(const Bwd<T>& g) {
  const int64_t outer = g.p0, n = g.p1, inner = g.p2;
  for (int64_t s = 0; s < outer; s++)
    for (int64_t i = 0; i < inner; i++) {
      const int64_t at = s * n * inner + i;
      g.ga[at + extremum_at<Sign>(g.a + at, n, inner)] += g.gout[s * inner + i];
    }
}
template <class T>
static void max_f(const Fwd<T>& f) {
  extremum_f<1>(f);
}
template <class T>
static void min_f(const Fwd<T>& f) {
  extremum_f<-1>(f);
}
template <class T>
static void max_b(const Bwd<T>& g) {
  extremum_b<1>(g);
}
template <class T>
static void min_b(const Bwd<T>& g) {
  extremum_b<-1>(g);
}

// Forward mode (custom tangent rules): out' = a' at the element the value picks
template <class T>
static void max_pool2d_t(const Tan<T>& k) {
  const PoolShape s(k.p);
  T* t = k.tout;
  for (int64_t p = 0; p < s.planes; p++) {
    const T* plane = k.a + p * s.h * s.w;
    for (int64_t y = 0; y < s.oh; y++)
      for (int64_t xo = 0; xo < s.ow; xo++) {
        const int64_t at = window_max(s, plane, y, xo);
        *t++ = at < 0 ? 0.0 : k.ta[p * s.h * s.w + at];
      }
  }
}
template <int Sign, class T>
static void extremum_t(const Tan<T>& k) {
  const int64_t outer = k.p[0], n = k.p[1], inner = k.p[2];
  for (int64_t s = 0; s < outer; s++)
    for (int64_t i = 0; i < inner; i++) {
      const int64_t at = s * n * inner + i;
      k.tout[s * inner + i] = k.ta[at + extremum_at<Sign>(k.a + at, n, inner)];
    }
}
template <class T>
static void max_t(const Tan<T>& k) {
  extremum_t<1>(k);
}
template <class T>
static void min_t(const Tan<T>& k) {
  extremum_t<-1>(k);
}
