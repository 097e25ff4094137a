// matmul C[m,n] = A[m,k] B[k,n] and its two backward products, dA += dC B^T and dB += A^T dC,
// without materialising a transpose. Included inside an instruction-set namespace.
//
// Forward: every C[i,j] is the chain ((0 + A[i,0]B[0,j]) + A[i,1]B[1,j]) + ..., in t order with
// separate multiply and add, as the reference computes it: finite differences divide any change
// of rounding by h. Register tiles of MR rows x NV vectors of columns keep that chain per lane
// (t is the innermost loop), so the speed comes from tiling, not from reassociation.
// Backward products only need 1e-12 agreement: they use fused multiply-adds and any order.

// Tile: MR rows x NV vectors of columns (NV*W columns); per t, MR broadcasts of A feed MR*NV
// multiply-adds. With 32 vector registers (AVX-512) 8 x 3: the unfused forward rule needs a
// separate multiply and add per product, and 8 x 3 (fewer broadcasts per product than 8 x 2)
// made it 15% faster on Zen 4 (fused: 3%). With 16 registers, 4 x 2.
constexpr int MR = TG_MR;
constexpr int NV = TG_NV;

// cols < W: one vector of columns (V = 1) with only its first cols lanes in the matrix; the
// other lanes run on zeros and are not stored
template <int R, int V, bool Fused>
TG_INLINE void tile_fwd(const double* A, const double* B, double* C, int64_t k, int64_t lda, int64_t ldb, int64_t ldc, int64_t cols) {
  vd acc[R][V];
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) acc[r][v] = splat(0.0);
  for (int64_t t = 0; t < k; t++) {
    vd b[V];
    for (int v = 0; v < V; v++) b[v] = cols < W ? load_partial(B + t * ldb, cols) : load(B + t * ldb + v * W);
    for (int r = 0; r < R; r++) {
      const vd a = splat(A[r * lda + t]);
      for (int v = 0; v < V; v++) acc[r][v] = Fused ? fmadd(a, b[v], acc[r][v]) : acc[r][v] + a * b[v];
    }
  }
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++)
      if (cols < W) store_partial(C + r * ldc, acc[r][v], cols);
      else store(C + r * ldc + v * W, acc[r][v]);
}

template <int V, bool Fused>
TG_INLINE void rows_fwd(const double* A, const double* B, double* C, int64_t m, int64_t k, int64_t n, int64_t j0, int64_t cols = W) {
  int64_t i = 0;
  for (; i + MR <= m; i += MR) tile_fwd<MR, V, Fused>(A + i * k, B + j0, C + i * n + j0, k, k, n, n, cols);
  // the last m % MR rows: tiles of 4, 2, 1 rows
  if (i + 4 <= m && MR > 4) { tile_fwd<4, V, Fused>(A + i * k, B + j0, C + i * n + j0, k, k, n, n, cols); i += 4; }
  if (i + 2 <= m) { tile_fwd<2, V, Fused>(A + i * k, B + j0, C + i * n + j0, k, k, n, n, cols); i += 2; }
  if (i + 2 <= m) { tile_fwd<2, V, Fused>(A + i * k, B + j0, C + i * n + j0, k, k, n, n, cols); i += 2; }
  if (i < m) tile_fwd<1, V, Fused>(A + i * k, B + j0, C + i * n + j0, k, k, n, n, cols);
}

// n = 1: C[i] = dot(A[i,:], b) in t order. W rows go down the W lanes: a W x W block of A is
// transposed in registers so that lane r steps through row r; two blocks interleave to hide the
// latency of the add chain.
TG_INLINE void transpose_block(vd* x) {
#if TG_VBYTES == 16
  const vd a = x[0], b = x[1];
  x[0] = __builtin_shuffle(a, b, vi{0, 2});
  x[1] = __builtin_shuffle(a, b, vi{1, 3});
#elif TG_VBYTES == 32
  const vd t0 = __builtin_shuffle(x[0], x[1], vi{0, 4, 2, 6}), t1 = __builtin_shuffle(x[0], x[1], vi{1, 5, 3, 7});
  const vd t2 = __builtin_shuffle(x[2], x[3], vi{0, 4, 2, 6}), t3 = __builtin_shuffle(x[2], x[3], vi{1, 5, 3, 7});
  x[0] = __builtin_shuffle(t0, t2, vi{0, 1, 4, 5});
  x[1] = __builtin_shuffle(t1, t3, vi{0, 1, 4, 5});
  x[2] = __builtin_shuffle(t0, t2, vi{2, 3, 6, 7});
  x[3] = __builtin_shuffle(t1, t3, vi{2, 3, 6, 7});
#else
  vd t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shuffle(x[i], x[i + 1], vi{0, 8, 2, 10, 4, 12, 6, 14});
    t[i + 1] = __builtin_shuffle(x[i], x[i + 1], vi{1, 9, 3, 11, 5, 13, 7, 15});
  }
  for (int i = 0; i < 8; i += 4)
    for (int j = 0; j < 2; j++) {
      u[i + j] = __builtin_shuffle(t[i + j], t[i + j + 2], vi{0, 1, 8, 9, 4, 5, 12, 13});
      u[i + j + 2] = __builtin_shuffle(t[i + j], t[i + j + 2], vi{2, 3, 10, 11, 6, 7, 14, 15});
    }
  for (int j = 0; j < 4; j++) {
    x[j] = __builtin_shuffle(u[j], u[j + 4], vi{0, 1, 2, 3, 8, 9, 10, 11});
    x[j + 4] = __builtin_shuffle(u[j], u[j + 4], vi{4, 5, 6, 7, 12, 13, 14, 15});
  }
#endif
}

template <int NB>
TG_INLINE void matvec_rows(const double* A, const double* b, double* c, int64_t k) {
  vd acc[NB];
  for (int q = 0; q < NB; q++) acc[q] = splat(0.0);
  int64_t t = 0;
  for (; t + W <= k; t += W) {
    vd x[NB][W];
    for (int q = 0; q < NB; q++) {
      for (int r = 0; r < W; r++) x[q][r] = load(A + (q * W + r) * k + t);
      transpose_block(x[q]);
    }
    for (int s = 0; s < W; s++) {
      const vd bs = splat(b[t + s]);
      for (int q = 0; q < NB; q++) acc[q] = acc[q] + x[q][s] * bs;
    }
  }
  if (t < k) {  // the last k % W columns: the rows' tails, zero-padded, through the same transpose
    const int64_t rest = k - t;
    for (int q = 0; q < NB; q++) {
      vd x[W];
      for (int r = 0; r < W; r++) x[r] = load_partial(A + (q * W + r) * k + t, rest);
      transpose_block(x);
      for (int64_t s = 0; s < rest; s++) acc[q] = acc[q] + x[s] * splat(b[t + s]);
    }
  }
  for (int q = 0; q < NB; q++) store(c + q * W, acc[q]);
}

static void matvec_fwd(const double* A, const double* b, double* c, int64_t m, int64_t k) {
  int64_t i = 0;
  for (; i + 2 * W <= m; i += 2 * W) matvec_rows<2>(A + i * k, b, c + i, k);
  for (; i + W <= m; i += W) matvec_rows<1>(A + i * k, b, c + i, k);
  for (; i < m; i++) {
    double s = 0;
    for (int64_t t = 0; t < k; t++) s += A[i * k + t] * b[t];
    c[i] = s;
  }
}

template <bool Fused>
static void matmul_fwd(const Fwd& f) {
  const int64_t m = f.p0, k = f.p1, n = f.p2;
  const double *A = f.a, *B = f.b;
  double* C = f.out;
  if (n == 1) return matvec_fwd(A, B, C, m, k);
  int64_t j = 0;
  for (; j + NV * W <= n; j += NV * W) rows_fwd<NV, Fused>(A, B, C, m, k, n, j);
  for (; j + W <= n; j += W) rows_fwd<1, Fused>(A, B, C, m, k, n, j);
  if (j < n) rows_fwd<1, Fused>(A, B, C, m, k, n, j, n - j);  // the last n % W columns
}

// dB[t, j] += sum_i A[i, t] dC[i, j]: a register tile of R rows of dB (columns t of A, read as
// broadcasts from row i of A) times V vectors of dC's row i.
template <int R, int V>
TG_INLINE void tile_atb(const double* A, const double* D, double* G, int64_t m, int64_t lda, int64_t ldd, int64_t ldg) {
  vd acc[R][V];
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) acc[r][v] = splat(0.0);
  for (int64_t i = 0; i < m; i++) {
    vd d[V];
    for (int v = 0; v < V; v++) d[v] = load(D + i * ldd + v * W);
    for (int r = 0; r < R; r++) {
      const vd a = splat(A[i * lda + r]);
      for (int v = 0; v < V; v++) acc[r][v] = fmadd(a, d[v], acc[r][v]);
    }
  }
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) store(G + r * ldg + v * W, load(G + r * ldg + v * W) + acc[r][v]);
}

template <int V>
TG_INLINE void rows_atb(const double* A, const double* D, double* G, int64_t m, int64_t k, int64_t n, int64_t j0) {
  int64_t t = 0;
  for (; t + MR <= k; t += MR) tile_atb<MR, V>(A + t, D + j0, G + t * n + j0, m, k, n, n);
  if (t + 4 <= k && MR > 4) { tile_atb<4, V>(A + t, D + j0, G + t * n + j0, m, k, n, n); t += 4; }
  if (t + 2 <= k) { tile_atb<2, V>(A + t, D + j0, G + t * n + j0, m, k, n, n); t += 2; }
  if (t + 2 <= k) { tile_atb<2, V>(A + t, D + j0, G + t * n + j0, m, k, n, n); t += 2; }
  if (t < k) tile_atb<1, V>(A + t, D + j0, G + t * n + j0, m, k, n, n);
}

static void matmul_atb(const double* A, const double* D, double* G, int64_t m, int64_t k, int64_t n) {
  if (n == 1) {  // dB is a vector: four rows of A at a time, each scaled by its dC
    int64_t i = 0;
    for (; i + 4 <= m; i += 4) {
      const double *a0 = A + i * k, *a1 = a0 + k, *a2 = a1 + k, *a3 = a2 + k;
      const vd d0 = splat(D[i]), d1 = splat(D[i + 1]), d2 = splat(D[i + 2]), d3 = splat(D[i + 3]);
      int64_t t = 0;
      for (; t + W <= k; t += W)
        store(G + t, fmadd(d3, load(a3 + t), fmadd(d2, load(a2 + t), fmadd(d1, load(a1 + t), fmadd(d0, load(a0 + t), load(G + t))))));
      for (; t < k; t++) G[t] += D[i] * a0[t] + D[i + 1] * a1[t] + D[i + 2] * a2[t] + D[i + 3] * a3[t];
    }
    for (; i < m; i++)
      for (int64_t t = 0; t < k; t++) G[t] += D[i] * A[i * k + t];
    return;
  }
  int64_t j = 0;
  for (; j + NV * W <= n; j += NV * W) rows_atb<NV>(A, D, G, m, k, n, j);
  for (; j + W <= n; j += W) rows_atb<1>(A, D, G, m, k, n, j);
  if (j < n)
    for (int64_t t = 0; t < k; t++)
      for (int64_t jj = j; jj < n; jj++) {
        double s = 0;
        for (int64_t i = 0; i < m; i++) s += A[i * k + t] * D[i * n + jj];
        G[t * n + jj] += s;
      }
}

// dA[i, t] += sum_j dC[i, j] B[t, j]: dot products of rows, four rows of B per pass over dC's row.
static void matmul_abt(const double* D, const double* B, double* G, int64_t m, int64_t k, int64_t n) {
  for (int64_t i = 0; i < m; i++) {
    const double* d = D + i * n;
    double* g = G + i * k;
    if (n == 1) {
      const vd di = splat(d[0]);
      int64_t t = 0;
      for (; t + W <= k; t += W) store(g + t, fmadd(di, load(B + t), load(g + t)));
      for (; t < k; t++) g[t] += d[0] * B[t];
      continue;
    }
    int64_t t = 0;
    for (; t + 4 <= k; t += 4) {
      const double *b0 = B + t * n, *b1 = b0 + n, *b2 = b1 + n, *b3 = b2 + n;
      vd s0 = splat(0.0), s1 = s0, s2 = s0, s3 = s0;
      int64_t j = 0;
      for (; j + W <= n; j += W) {
        const vd x = load(d + j);
        s0 = fmadd(x, load(b0 + j), s0);
        s1 = fmadd(x, load(b1 + j), s1);
        s2 = fmadd(x, load(b2 + j), s2);
        s3 = fmadd(x, load(b3 + j), s3);
      }
      double r0 = hsum(s0), r1 = hsum(s1), r2 = hsum(s2), r3 = hsum(s3);
      for (; j < n; j++) { r0 += d[j] * b0[j]; r1 += d[j] * b1[j]; r2 += d[j] * b2[j]; r3 += d[j] * b3[j]; }
      g[t] += r0; g[t + 1] += r1; g[t + 2] += r2; g[t + 3] += r3;
    }
    for (; t < k; t++) {
      double s = 0;
      for (int64_t j = 0; j < n; j++) s += d[j] * B[t * n + j];
      g[t] += s;
    }
  }
}

static void matmul_f(const Fwd& f) { matmul_fwd<false>(f); }

static void matmul_b(const Bwd& g) {
  const int64_t m = g.p0, k = g.p1, n = g.p2;
  if (g.flags & FLAG_GRAD_A) matmul_abt(g.gout, g.b, g.ga, m, k, n);
  if (g.flags & FLAG_GRAD_B) matmul_atb(g.a, g.gout, g.gb, m, k, n);
}
