// The float32 products: float overloads of k_matmul.h's gemm, matvec_fwd, matmul_atb and
// matmul_abt (declared there), which the op kernels over float arenas reach by overload.
// Included inside an instruction-set namespace right after k_matmul.h.
//
// PLACEHOLDER (branch f32native): plain loops, each sum accumulated in double in s order and
// rounded to float once, single-threaded (so the same bits for any thread count). The float32
// GEMM with float accumulation in twice the lanes replaces this file (helper gemm32); keep the
// four signatures exactly.

// C(r, c) = sum_s X(r, s) Y[s, c] with X(r, s) = X[r * ldx + s], or X[s * ldx + r] with XT; landing
// in C as O says (k_matmul.h's Out: Set, Add, or AddT into C[c, r])
template <bool XT, bool Fused, Out O>
static void gemm(const float* X, const float* Y, float* C, int64_t rows, int64_t steps, int64_t cols, int64_t ldx,
                 int64_t ldy, int64_t ldc) {
  std::vector<double> acc(static_cast<size_t>(cols > 0 ? cols : 0));
  for (int64_t r = 0; r < rows; r++) {
    for (int64_t c = 0; c < cols; c++) acc[c] = 0;
    for (int64_t s = 0; s < steps; s++) {
      const double x = XT ? X[s * ldx + r] : X[r * ldx + s];
      const float* y = Y + s * ldy;
      for (int64_t c = 0; c < cols; c++) acc[c] += x * y[c];
    }
    for (int64_t c = 0; c < cols; c++) {
      if (O == Out::Set)
        C[r * ldc + c] = static_cast<float>(acc[c]);
      else if (O == Out::Add)
        C[r * ldc + c] = static_cast<float>(C[r * ldc + c] + acc[c]);
      else
        C[c * ldc + r] = static_cast<float>(C[c * ldc + r] + acc[c]);
    }
  }
}

// c[i] = sum_t A[i, t] b[t]; eight rows' chains at a time (independent, so not latency-bound)
static void matvec_fwd(const float* A, const float* b, float* c, int64_t m, int64_t k) {
  int64_t i = 0;
  for (; i + 8 <= m; i += 8) {
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t t = 0; t < k; t++) {
      const double bt = b[t];
      for (int r = 0; r < 8; r++) s[r] += static_cast<double>(A[(i + r) * k + t]) * bt;
    }
    for (int r = 0; r < 8; r++) c[i + r] = static_cast<float>(s[r]);
  }
  for (; i < m; i++) {
    double s = 0;
    for (int64_t t = 0; t < k; t++) s += static_cast<double>(A[i * k + t]) * b[t];
    c[i] = static_cast<float>(s);
  }
}

// G[t, j] += sum_i A[i, t] D[i, j] (G is k x n)
static void matmul_atb(const float* A, const float* D, float* G, int64_t m, int64_t k, int64_t n, const Parallel*) {
  std::vector<double> acc(static_cast<size_t>(k * n), 0.0);
  if (n == 1) {  // the rows of A scaled by dC, added in row order (a vector loop over t)
    for (int64_t i = 0; i < m; i++) {
      const double d = D[i];
      const float* a = A + i * k;
      for (int64_t t = 0; t < k; t++) acc[t] += a[t] * d;
    }
    for (int64_t t = 0; t < k; t++) G[t] = static_cast<float>(G[t] + acc[t]);
    return;
  }
  for (int64_t i = 0; i < m; i++)
    for (int64_t t = 0; t < k; t++) {
      const double a = A[i * k + t];
      const float* d = D + i * n;
      double* g = acc.data() + t * n;
      for (int64_t j = 0; j < n; j++) g[j] += a * d[j];
    }
  for (int64_t q = 0; q < k * n; q++) G[q] = static_cast<float>(G[q] + acc[q]);
}

// G[i, t] += sum_j D[i, j] B[t, j] (G is m x k)
static void matmul_abt(const float* D, const float* B, float* G, int64_t m, int64_t k, int64_t n, const Parallel*) {
  if (n == 1) {  // each row of dA gets B scaled by one dC
    for (int64_t i = 0; i < m; i++) {
      const double d = D[i];
      float* g = G + i * k;
      for (int64_t t = 0; t < k; t++) g[t] = static_cast<float>(g[t] + d * B[t]);
    }
    return;
  }
  for (int64_t i = 0; i < m; i++)
    for (int64_t t = 0; t < k; t++) {
      double s = 0;
      for (int64_t j = 0; j < n; j++) s += static_cast<double>(D[i * n + j]) * B[t * n + j];
      G[i * k + t] = static_cast<float>(G[i * k + t] + s);
    }
}
