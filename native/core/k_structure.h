// The structure ops (src/ops/opset.ts): slice, concat, gather, transpose and the batched matmul.
// Included inside an instruction-set namespace after k_matmul.h and k_fast.h. Copies forward
// (exact, so bit for bit the reference), adds backward.

// g[i] += d[i]: an adjoint added into another (never the same memory: the loader refuses an
// output that overlaps its operand)
template <class T>
TG_INLINE void acc_into(T* g, const T* d, int64_t n) {
  int64_t i = 0;
  for (; i + W <= n; i += W) store(g + i, load(g + i) + load(d + i));
  for (; i < n; i++) g[i] += d[i];
}

// slice: params [dims, begins, sizes] over SLICE_RANK axes (leading ones padded with dim 1)
constexpr int SLICE_RANK = 6;
static_assert(OP_PARAM_COUNT[OP_SLICE] == 3 * SLICE_RANK && P_SLICE_BEGIN0 == SLICE_RANK &&
                  P_SLICE_SIZE0 == 2 * SLICE_RANK,
              "slice params: dims, begins, sizes");

// row(from, to, len) for every contiguous row (the last axis) of the slice: from in a, to in out
template <class Row>
TG_INLINE void slice_rows(const int32_t* p, Row row) {
  constexpr int R = SLICE_RANK;
  int64_t stride[R];
  const int32_t *dim = p + P_SLICE_DIM0, *begin = p + P_SLICE_BEGIN0, *size = p + P_SLICE_SIZE0;
  stride[R - 1] = 1;
  for (int q = R - 2; q >= 0; q--) stride[q] = stride[q + 1] * dim[q + 1];
  int64_t base = 0;
  for (int q = 0; q < R; q++) base += begin[q] * stride[q];
  const int64_t len = size[R - 1];
  int64_t to = 0;
  for (int64_t i0 = 0; i0 < size[0]; i0++)
    for (int64_t i1 = 0; i1 < size[1]; i1++)
      for (int64_t i2 = 0; i2 < size[2]; i2++)
        for (int64_t i3 = 0; i3 < size[3]; i3++)
          for (int64_t i4 = 0; i4 < size[4]; i4++, to += len)
            row(base + i0 * stride[0] + i1 * stride[1] + i2 * stride[2] + i3 * stride[3] + i4 * stride[4], to, len);
}
static_assert(SLICE_RANK == 6, "slice_rows has SLICE_RANK - 1 loops");

template <class T>
static void slice_f(const Fwd<T>& k) {
  slice_rows(k.p, [&](int64_t from, int64_t to, int64_t len) {
    std::memcpy(k.out + to, k.a + from, sizeof(T) * static_cast<size_t>(len));
  });
}
template <class T>
static void slice_b(const Bwd<T>& k) {
  slice_rows(k.p, [&](int64_t from, int64_t to, int64_t len) { acc_into(k.ga + from, k.gout + to, len); });
}

// concat: [outer, na, nb, n, inner]; out rows of n: a's na then b's nb (then zeros up to n)
template <class T>
static void concat_f(const Fwd<T>& k) {
  const int64_t outer = k.p[P_CONCAT_OUTER], inner = k.p[P_CONCAT_INNER];
  const int64_t na = k.p[P_CONCAT_NA] * inner, nb = k.p[P_CONCAT_NB] * inner, n = k.p[P_CONCAT_N] * inner;
  for (int64_t s = 0; s < outer; s++) {
    T* o = k.out + s * n;
    std::memcpy(o, k.a + s * na, sizeof(T) * static_cast<size_t>(na));
    std::memcpy(o + na, k.b + s * nb, sizeof(T) * static_cast<size_t>(nb));
    for (int64_t i = na + nb; i < n; i++) o[i] = 0.0;
  }
}
template <class T>
static void concat_b(const Bwd<T>& k) {
  const int64_t outer = k.p[P_CONCAT_OUTER], inner = k.p[P_CONCAT_INNER];
  const int64_t na = k.p[P_CONCAT_NA] * inner, nb = k.p[P_CONCAT_NB] * inner, n = k.p[P_CONCAT_N] * inner;
  for (int64_t s = 0; s < outer; s++) {
    if (k.flags & FLAG_GRAD_A) acc_into(k.ga + s * na, k.gout + s * n, na);
    if (k.flags & FLAG_GRAD_B) acc_into(k.gb + s * nb, k.gout + s * n + na, nb);
  }
}

// gather: [outer, n, inner, m]; row j of each outer block is a's row b[j], a NaN row for an index
// that is not an integer in [0, n): never a read outside a
TG_INLINE bool gather_index(double r, int64_t n) { return r >= 0 && r < static_cast<double>(n) && std::floor(r) == r; }
template <class T>
static void gather_f(const Fwd<T>& k) {
  const int64_t outer = k.p[P_GATHER_OUTER], n = k.p[P_GATHER_N], inner = k.p[P_GATHER_INNER], m = k.p[P_GATHER_M];
  for (int64_t s = 0; s < outer; s++)
    for (int64_t j = 0; j < m; j++) {
      const double r = k.b[j];
      T* o = k.out + (s * m + j) * inner;
      if (gather_index(r, n))
        std::memcpy(o, k.a + (s * n + static_cast<int64_t>(r)) * inner, sizeof(T) * static_cast<size_t>(inner));
      else
        for (int64_t i = 0; i < inner; i++) o[i] = NAN;
    }
}
template <class T>
static void gather_b(const Bwd<T>& k) {
  if (!(k.flags & FLAG_GRAD_A)) return;  // the indices take no gradient
  const int64_t outer = k.p[P_GATHER_OUTER], n = k.p[P_GATHER_N], inner = k.p[P_GATHER_INNER], m = k.p[P_GATHER_M];
  for (int64_t s = 0; s < outer; s++)
    for (int64_t j = 0; j < m; j++) {
      const double r = k.b[j];
      if (gather_index(r, n))
        acc_into(k.ga + (s * n + static_cast<int64_t>(r)) * inner, k.gout + (s * m + j) * inner, inner);
    }
}

// transpose: [outer, m, n, inner] -> [outer, n, m, inner]. inner = 1: 8x8 blocks of each matrix
// so that both sides stay in cache; else whole rows of inner elements.
template <bool Add, class T>
TG_INLINE void transpose_blocks(const T* src, T* dst, int64_t outer, int64_t m, int64_t n, int64_t inner) {
  // Add: dst[o, i, j, r] += src[o, j, i, r] (the backward rule); else dst[o, j, i, r] = src[o, i, j, r]
  for (int64_t s = 0; s < outer; s++) {
    const T* a = src + s * m * n * inner;
    T* o = dst + s * m * n * inner;
    if (inner == 1) {
      for (int64_t i0 = 0; i0 < m; i0 += 8)
        for (int64_t j0 = 0; j0 < n; j0 += 8)
          for (int64_t i = i0; i < i0 + 8 && i < m; i++)
            for (int64_t j = j0; j < j0 + 8 && j < n; j++)
              if (Add)
                o[i * n + j] += a[j * m + i];
              else
                o[j * m + i] = a[i * n + j];
      continue;
    }
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++)
        if (Add)
          acc_into(o + (i * n + j) * inner, a + (j * m + i) * inner, inner);
        else
          std::memcpy(o + (j * m + i) * inner, a + (i * n + j) * inner, sizeof(T) * static_cast<size_t>(inner));
  }
}
template <class T>
static void transpose_f(const Fwd<T>& k) {
  transpose_blocks<false>(k.a, k.out, k.p[P_TRANSPOSE_OUTER], k.p[P_TRANSPOSE_M], k.p[P_TRANSPOSE_N],
                          k.p[P_TRANSPOSE_INNER]);
}
template <class T>
static void transpose_b(const Bwd<T>& k) {
  transpose_blocks<true>(k.gout, k.ga, k.p[P_TRANSPOSE_OUTER], k.p[P_TRANSPOSE_M], k.p[P_TRANSPOSE_N],
                         k.p[P_TRANSPOSE_INNER]);
}

// batch_matmul: [batch, m, k, n, batchA, batchB]; product s reads a's matrix s when batchA =
// batch, else its matrix 0 (a shared operand), likewise b. Each product is the matmul kernel's.
struct BatchMatmul {
  int64_t batch, m, k, n, strideA, strideB;
  explicit BatchMatmul(const int32_t* p)
      : batch(p[P_BATCH_MATMUL_BATCH]),
        m(p[P_BATCH_MATMUL_M]),
        k(p[P_BATCH_MATMUL_K]),
        n(p[P_BATCH_MATMUL_N]),
        strideA(p[P_BATCH_MATMUL_BATCH_A] == batch ? m * k : 0),
        strideB(p[P_BATCH_MATMUL_BATCH_B] == batch ? k * n : 0) {}
};
template <class T, void (*Product)(const Fwd<T>&)>
TG_INLINE void batch_matmul_each(const Fwd<T>& f) {
  const BatchMatmul d(f.p);
  for (int64_t s = 0; s < d.batch; s++) {
    // the 2-D kernel's view: p0, p1, p2 = m, k, n
    const Fwd<T> one{f.out + s * d.m * d.n,
                     f.a + s * d.strideA,
                     f.b + s * d.strideB,
                     nullptr,
                     static_cast<int32_t>(d.m),
                     static_cast<int32_t>(d.k),
                     static_cast<int32_t>(d.n),
                     f.c,
                     f.p,
                     f.par};
    Product(one);
  }
}
template <class T>
static void batch_matmul_f(const Fwd<T>& f) {
  batch_matmul_each<T, matmul_f<T>>(f);
}
template <class T>
static void batch_matmul_fast_f(const Fwd<T>& f) {
  batch_matmul_each<T, matmul_fast_f<T>>(f);
}
template <class T>
static void batch_matmul_b(const Bwd<T>& g) {
  const BatchMatmul d(g.p);
  for (int64_t s = 0; s < d.batch; s++) {
    const T* gout = g.gout + s * d.m * d.n;
    if (g.flags & FLAG_GRAD_A) matmul_abt(gout, g.b + s * d.strideB, g.ga + s * d.strideA, d.m, d.k, d.n, g.par, false);
    if (g.flags & FLAG_GRAD_B) matmul_atb(g.a + s * d.strideA, gout, g.gb + s * d.strideB, d.m, d.k, d.n, g.par, false);
  }
}
