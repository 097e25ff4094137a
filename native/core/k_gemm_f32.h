// The float32 products that are not k_matmul.h's templates (which run float32 with twice the
// lanes, k_vec.h): the matrix-vector product, A^T dC and dC B^T (both with their own n = 1 paths,
// and dC B^T with B^T packed once through register transposes), as overloads of k_matmul.h's
// matvec_fwd, matmul_atb, matmul_abt and matmul_abt_then. Included inside an instruction-set
// namespace right after k_matmul.h.
//
// The float32 contract (src/api/dtype.ts) lets sums accumulate in float32 where that is the
// speed-up: every element of a product is one float32 chain per lane, acc = 0, then
// acc + X(r,s) Y[s,c] for s in order (fused where Fused is set, or in the backward products in
// blocks of KC steps). Its error is at most steps * 2^-24 * sum |terms| (to first order; the
// test allows twice that), against the reference's float64 sum rounded once. The forward
// rule honours Fused as the float64 one does, but float32 is compared with the reference by
// that tolerance, never bit for bit, so a float32 caller may pass Fused = true always: a fused
// chain differs from the unfused one only in rounding and where a product overflows.
// Each element's operations depend on the shapes only, not on the tile or piece that holds it,
// so any number of threads gives the same bits.

namespace f32gemm {

// n = 1 rows: one chain per lane over t in vectors (the last k % WF columns zero-padded), then
// the lanes' sum in halves; R rows side by side hide the chains' latency. Each row's operations
// are the same whatever R.
template <int R>
TG_INLINE void matvec_rows(const float* A, const float* b, float* c, int64_t k) {
  vf acc[R];
  for (int q = 0; q < R; q++) acc[q] = splat(0.0f);
  int64_t t = 0;
  for (; t + WF <= k; t += WF) {
    const vf bt = load(b + t);
    for (int q = 0; q < R; q++) acc[q] = fmadd(load(A + q * k + t), bt, acc[q]);
  }
  if (t < k) {
    const Lanes lanes(k - t);
    const vf bt = lanes.get(b + t);
    for (int q = 0; q < R; q++) acc[q] = fmadd(lanes.get(A + q * k + t), bt, acc[q]);
  }
  for (int q = 0; q < R; q++) {
    float h[WF];
    __builtin_memcpy(h, &acc[q], sizeof h);
    for (int w = WF / 2; w >= 1; w /= 2)
      for (int i = 0; i < w; i++) h[i] += h[i + w];
    c[q] = h[0];
  }
}

// B^T of a k x n matrix into Bt (n x k): WF x WF blocks through registers, the edges by
// elements (a scalar transposition takes about a cycle per element, as long as a third of
// dC B^T at W3's first layer)
TG_INLINE void transpose(const float* B, float* Bt, int64_t k, int64_t n) {
  const int64_t k0 = k / WF * WF, n0 = n / WF * WF;
  for (int64_t t = 0; t < k0; t += WF)
    for (int64_t j = 0; j < n0; j += WF) {
      vf x[WF];
      for (int r = 0; r < WF; r++) x[r] = load(B + (t + r) * n + j);
      transpose_block(x);
      for (int r = 0; r < WF; r++) store(Bt + (j + r) * k + t, x[r]);
    }
  for (int64_t t = 0; t < k; t++)
    for (int64_t j = t < k0 ? n0 : 0; j < n; j++) Bt[j * k + t] = B[t * n + j];
}

// n = 1: C[i] = dot(A[i, :], b), 8 rows at a time
static void matvec(const float* A, const float* b, float* c, int64_t m, int64_t k) {
  const int64_t m8 = m / 8 * 8;
  for (int64_t i = 0; i < m8; i += 8) matvec_rows<8>(A + i * k, b, c + i, k);
  for (int64_t i = m8; i < m; i++) matvec_rows<1>(A + i * k, b, c + i, k);
}

// dB[t, j] += sum_i A[i, t] dC[i, j] over the m rows, as k_matmul.h's matmul_atb (the lanes along
// dB's rows, or along its columns through dB^T = dC^T A where they fit k better than n). The
// pieces' `streamed` is in doubles (piece_rows counts 8 bytes per element).
// set: dB = A^T dC (FLAG_SET_B)
static void atb(const float* A, const float* D, float* G, int64_t m, int64_t k, int64_t n, const Parallel* par,
                bool set) {
  if (n == 1) {  // dB is a vector: four rows of A at a time, each scaled by its dC; the scalar
    // tail takes the vector body's operations, so the pieces' bounds change no bit
    return par_pieces(par, k, piece_rows(m, kRowAlign, (m + 1) / 2), [&](int64_t t0, int64_t t1) {
      zero_rows(G + t0, t1 - t0, set);
      int64_t i = 0;
      for (; i + 4 <= m; i += 4) {
        const float *a0 = A + i * k, *a1 = a0 + k, *a2 = a1 + k, *a3 = a2 + k;
        const vf d0 = splat(D[i]), d1 = splat(D[i + 1]), d2 = splat(D[i + 2]), d3 = splat(D[i + 3]);
        int64_t t = t0;
        for (; t + WF <= t1; t += WF)
          store(G + t, fmadd(d3, load(a3 + t),
                             fmadd(d2, load(a2 + t), fmadd(d1, load(a1 + t), fmadd(d0, load(a0 + t), load(G + t))))));
        for (; t < t1; t++)
          G[t] = fmadd1(D[i + 3], a3[t], fmadd1(D[i + 2], a2[t], fmadd1(D[i + 1], a1[t], fmadd1(D[i], a0[t], G[t]))));
      }
      for (; i < m; i++)
        for (int64_t t = t0; t < t1; t++) G[t] = fmadd1(D[i], A[i * k + t], G[t]);
    });
  }
  auto idle = [](int64_t x) { return (WF - x % WF) % WF; };  // lanes idle in the last vector
  if (idle(k) * n < idle(n) * k)
    par_pieces(par, k, piece_rows(m * n, NVF * WF, (m * n + 1) / 2), [&](int64_t t0, int64_t t1) {
      zero_rows(G + t0 * n, (t1 - t0) * n, set);
      gemm<true, true, Out::AddT>(D, A + t0, G + t0 * n, n, m, t1 - t0, n, k, n);
    });
  else
    par_pieces(par, k, piece_rows(m * n, Vec<float>::RowAlign, (m * n + 1) / 2), [&](int64_t t0, int64_t t1) {
      gemm_into<true, false>(A + t0, D, G + t0 * n, t1 - t0, m, n, k, n, n, set);
    });
}

// B^T (n x k) of a k x n matrix, packed into a buffer of this thread that grows and stays (a
// fresh one per call would fault in its pages again on every call; the largest B^T a thread has
// packed stays allocated). The pieces on other threads only read it, and this thread runs no
// other batch's task while it waits for them (thread-pool.h), so no other call packs into it
// meanwhile. A column (n = 1) is its own transpose.
static const float* packed_bt(const float* B, int64_t k, int64_t n) {
  if (n == 1) return B;
  static thread_local std::vector<float> packed;
  if (packed.size() < static_cast<size_t>(n * k)) packed.resize(static_cast<size_t>(n * k));
  transpose(B, packed.data(), k, n);
  return packed.data();
}

// dA[i, t] += sum_j dC[i, j] B[t, j]: dC B^T with B^T packed. set: dA = dC B^T (FLAG_SET_A)
static void abt(const float* D, const float* B, float* G, int64_t m, int64_t k, int64_t n, const Parallel* par,
                bool set) {
  if (n == 1)  // each row of dA gets B scaled by one dC
    return par_pieces(par, m, piece_rows(k, kRowAlign, (k + 1) / 2), [&](int64_t lo, int64_t hi) {
      zero_rows(G + lo * k, (hi - lo) * k, set);
      for (int64_t i = lo; i < hi; i++) {
        const vf d = splat(D[i]);
        float* g = G + i * k;
        int64_t t = 0;
        for (; t + WF <= k; t += WF) store(g + t, fmadd(d, load(B + t), load(g + t)));
        for (; t < k; t++) g[t] = fmadd1(D[i], B[t], g[t]);
      }
    });
  const float* Bt = packed_bt(B, k, n);
  par_pieces(par, m, piece_rows(n * k, Vec<float>::RowAlign, (n * k + 1) / 2), [&](int64_t lo, int64_t hi) {
    gemm_into<false, false>(D + lo * n, Bt, G + lo * k, hi - lo, n, k, n, k, k, set);
  });
}

}  // namespace f32gemm

// The entry points, beside k_matmul.h's float64 ones (the same names and arguments, in float).
static void matvec_fwd(const float* A, const float* b, float* c, int64_t m, int64_t k) {
  f32gemm::matvec(A, b, c, m, k);
}
static void matmul_atb(const float* A, const float* D, float* G, int64_t m, int64_t k, int64_t n, const Parallel* par,
                       bool set) {
  f32gemm::atb(A, D, G, m, k, n, par, set);
}
static void matmul_abt(const float* D, const float* B, float* G, int64_t m, int64_t k, int64_t n, const Parallel* par,
                       bool set) {
  f32gemm::abt(D, B, G, m, k, n, par, set);
}
// k_matmul.h's matmul_abt_then in float32: the blocks of dA computed as abt's (the same bits)
static void matmul_abt_then(const float* D, const float* B, int64_t m, int64_t k, int64_t n, const Parallel* par,
                            const Then<float>& then) {
  const float* Bt = f32gemm::packed_bt(B, k, n);
  abt_then_blocks(
      D, m, k, n, Vec<float>::RowAlign, (n * k + 1) / 2, par, then,
      [&](const float* Dr, float* S, int64_t rows) { gemm_into<false, false>(Dr, Bt, S, rows, n, k, n, k, k, true); });
}
