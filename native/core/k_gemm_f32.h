// The float32 products: float overloads of k_matmul.h's gemm, matvec_fwd, matmul_atb and
// matmul_abt for the float32 dtype, on vectors of float (twice the lanes of the float64 code).
// Included inside an instruction-set namespace right after k_matmul.h (Out, Parallel,
// par_pieces, piece_rows).
//
// The float32 contract (src/api/dtype.ts) lets sums accumulate in float32 where that is the
// speed-up: every element of a product here is one float32 chain per lane, acc = 0, then
// acc + X(r,s) Y[s,c] for s in order (fused where Fused is set, or in the backward products in
// blocks of KC steps). Its error is at most steps * 2^-24 * sum |terms| (to first order; the
// test allows twice that), against the reference's float64 sum rounded once. The forward
// rule honours Fused as the float64 one does, but float32 is compared with the reference by
// that tolerance, never bit for bit, so a float32 caller may pass Fused = true always: a fused
// chain differs from the unfused one only in rounding and where a product overflows.
// Each element's operations depend on the shapes only, not on the tile or piece that holds it,
// so any number of threads gives the same bits.

namespace f32gemm {

constexpr int WF = TG_VBYTES / 4;  // floats per vector
typedef float vf __attribute__((vector_size(TG_VBYTES)));
typedef int32_t vfi __attribute__((vector_size(TG_VBYTES)));

// Tile: MRF rows x NVF vectors of columns. AVX-512 (32 registers): 8 x 3, 24 accumulators, as
// the float64 tile; 6 x 4, 8 x 2 and 4 x 4 ran W3's first layer at 222, 226 and 175 GFLOP/s
// against 220, but 1024x784 . 784x2048 at 150, 142 and 103 against 182 (Zen 5, one thread's
// CPU time). AVX2 (16 registers): 6 x 2, 12 accumulators, 2 vectors of Y and a broadcast
// (BLIS's Haswell tile): 116 and 61 GFLOP/s there, 4 x 2 105 and 40, 4 x 3 107 and 61.
// SSE2: 4 x 2 (the unfused chain needs a register for the product).
#if TG_VBYTES == 64
constexpr int MRF = 8, NVF = 3;
#elif TG_VBYTES == 32
constexpr int MRF = 6, NVF = 2;
#else
constexpr int MRF = 4, NVF = 2;
#endif
// pieces of rows for the threads: whole tiles (and whole tiles of 4 for the 6-row tile)
constexpr int64_t kRowAlignF = MRF == 6 ? 48 : 16;

TG_INLINE vf load(const float* p) {
  vf v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
TG_INLINE void store(float* p, vf v) { __builtin_memcpy(p, &v, sizeof v); }
TG_INLINE vf splat(float x) { return __builtin_shuffle(vf{x}, vfi{}); }  // no addition (see simd.h)

// The first n (0 < n < WF) lanes of a vector: loads give zeros in the others, stores leave the
// memory after them alone (never touched, so never out of bounds).
#if TG_VBYTES == 64
struct Lanes {
  __mmask16 k;
  explicit Lanes(int64_t n) : k(static_cast<__mmask16>((1u << n) - 1)) {}
  __attribute__((always_inline)) vf load(const float* p) const { return (vf)_mm512_maskz_loadu_ps(k, p); }
  __attribute__((always_inline)) void store(float* p, vf v) const { _mm512_mask_storeu_ps(p, k, (__m512)v); }
};
#elif TG_VBYTES == 32
struct Lanes {
  __m256i m;
  explicit Lanes(int64_t n)
      : m(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0))) {}
  __attribute__((always_inline)) vf load(const float* p) const { return (vf)_mm256_maskload_ps(p, m); }
  __attribute__((always_inline)) void store(float* p, vf v) const { _mm256_maskstore_ps(p, m, (__m256)v); }
};
#elif defined(__SSE2__)
struct Lanes {  // SSE2: n is 1, 2 or 3; loads by one 4- or 8-byte move or both (an element-wise
  // load made the last layer of W3, 10 columns, half as fast as float64)
  int64_t n;
  explicit Lanes(int64_t n) : n(n) {}
  __attribute__((always_inline)) vf load(const float* p) const {
    if (n == 1) return (vf)_mm_load_ss(p);
    const __m128 lo = _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(p)));
    return (vf)(n == 2 ? lo : _mm_movelh_ps(lo, _mm_load_ss(p + 2)));
  }
  __attribute__((always_inline)) void store(float* p, vf v) const {
    for (int64_t i = 0; i < n; i++) p[i] = v[i];
  }
};
#else
struct Lanes {
  int64_t n;
  explicit Lanes(int64_t n) : n(n) {}
  __attribute__((always_inline)) vf load(const float* p) const {
    vf v = vf{};
    for (int64_t i = 0; i < n; i++) v[i] = p[i];
    return v;
  }
  __attribute__((always_inline)) void store(float* p, vf v) const {
    for (int64_t i = 0; i < n; i++) p[i] = v[i];
  }
};
#endif

#if TG_VBYTES == 64
TG_INLINE vf fmadd(vf a, vf b, vf c) { return (vf)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c); }
#elif TG_HAS_FMA
TG_INLINE vf fmadd(vf a, vf b, vf c) { return (vf)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c); }
#else
TG_INLINE vf fmadd(vf a, vf b, vf c) { return a * b + c; }
#endif
#if TG_HAS_FMA
TG_INLINE float fmadd1(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
#else
TG_INLINE float fmadd1(float a, float b, float c) { return a * b + c; }
#endif

// One register tile: R rows x V vectors of columns, the last vector holding `last` columns
// (Partial: last < WF, the other lanes run on zeros and are not stored). As k_matmul.h's tile.
template <int R, int V, bool Partial, bool XT, bool Fused, Out O>
TG_INLINE void tile(const float* X, const float* Y, float* C, int64_t steps, int64_t ldx, int64_t ldy, int64_t ldc,
                    int64_t last) {
  const Lanes lanes(Partial ? last : 0);
  vf acc[R][V];
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) acc[r][v] = splat(0.0f);
  for (int64_t s = 0; s < steps; s++) {
    vf y[V];
    for (int v = 0; v < V; v++)
      y[v] = Partial && v == V - 1 ? lanes.load(Y + s * ldy + v * WF) : load(Y + s * ldy + v * WF);
    for (int r = 0; r < R; r++) {
      const vf x = splat(XT ? X[s * ldx + r] : X[r * ldx + s]);
      for (int v = 0; v < V; v++) acc[r][v] = Fused ? fmadd(x, y[v], acc[r][v]) : acc[r][v] + x * y[v];
    }
  }
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) {
      const bool part = Partial && v == V - 1;
      if (O == Out::AddT) {  // R * V * WF scalar updates against steps * R * V multiply-adds
        for (int l = 0; l < (part ? last : WF); l++) C[(v * WF + l) * ldc + r] += acc[r][v][l];
        continue;
      }
      float* c = C + r * ldc + v * WF;
      // +0 turns the fused chain's -0 (a product that underflows) into the unfused chain's +0,
      // as in k_matmul.h
      const vf sum = O == Out::Add ? (part ? lanes.load(c) : load(c)) + acc[r][v]
                     : Fused       ? acc[r][v] + splat(0.0f)
                                   : acc[r][v];
      if (part)
        lanes.store(c, sum);
      else
        store(c, sum);
    }
}

// rows 0..rows-1 in tiles of MRF rows, then 4, 2, 1, for the columns c0 .. c0 + (V-1)*WF + last
template <int V, bool Partial, bool XT, bool Fused, Out O>
TG_INLINE void tile_rows(const float* X, const float* Y, float* C, int64_t rows, int64_t steps, int64_t ldx,
                         int64_t ldy, int64_t ldc, int64_t c0, int64_t last) {
  auto at = [&](int64_t r) { return XT ? X + r : X + r * ldx; };
  auto out = [&](int64_t r) { return O == Out::AddT ? C + c0 * ldc + r : C + r * ldc + c0; };
  int64_t r = 0;
  for (; r + MRF <= rows; r += MRF)
    tile<MRF, V, Partial, XT, Fused, O>(at(r), Y + c0, out(r), steps, ldx, ldy, ldc, last);
  if (MRF > 4 && r + 4 <= rows) {
    tile<4, V, Partial, XT, Fused, O>(at(r), Y + c0, out(r), steps, ldx, ldy, ldc, last);
    r += 4;
  }
  for (; r + 2 <= rows; r += 2) tile<2, V, Partial, XT, Fused, O>(at(r), Y + c0, out(r), steps, ldx, ldy, ldc, last);
  if (r < rows) tile<1, V, Partial, XT, Fused, O>(at(r), Y + c0, out(r), steps, ldx, ldy, ldc, last);
}

// the last cols (< NVF * WF) columns from c0, as one tile of V = ceil(cols / WF) vectors
template <int V, bool XT, bool Fused, Out O>
TG_INLINE void tail_cols(const float* X, const float* Y, float* C, int64_t rows, int64_t steps, int64_t ldx,
                         int64_t ldy, int64_t ldc, int64_t c0, int64_t cols) {
  if constexpr (V > 1)
    if (cols <= (V - 1) * WF) return tail_cols<V - 1, XT, Fused, O>(X, Y, C, rows, steps, ldx, ldy, ldc, c0, cols);
  const int64_t last = cols - (V - 1) * WF;
  if (last == WF)
    tile_rows<V, false, XT, Fused, O>(X, Y, C, rows, steps, ldx, ldy, ldc, c0, last);
  else
    tile_rows<V, true, XT, Fused, O>(X, Y, C, rows, steps, ldx, ldy, ldc, c0, last);
}

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
    const vf bt = lanes.load(b + t);
    for (int q = 0; q < R; q++) acc[q] = fmadd(lanes.load(A + q * k + t), bt, acc[q]);
  }
  for (int q = 0; q < R; q++) {
    float h[WF];
    __builtin_memcpy(h, &acc[q], sizeof h);
    for (int w = WF / 2; w >= 1; w /= 2)
      for (int i = 0; i < w; i++) h[i] += h[i + w];
    c[q] = h[0];
  }
}

// A WF x WF block in registers transposed: log2(WF) stages, stage b swapping bit b of the row
// and column indices where they differ (the b x b blocks off the diagonal of every 2b x 2b
// block), with two-source shuffles of constant masks.
template <int B>
TG_INLINE void transpose_stage(vf* x) {
  vfi lo, hi;
  for (int l = 0; l < WF; l++) {
    lo[l] = l & B ? WF + l - B : l;
    hi[l] = l & B ? WF + l : l + B;
  }
  for (int i = 0; i < WF; i++)
    if (!(i & B)) {
      const vf a = x[i], b = x[i + B];
      x[i] = __builtin_shuffle(a, b, lo);
      x[i + B] = __builtin_shuffle(a, b, hi);
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
      if constexpr (WF >= 2) transpose_stage<1>(x);
      if constexpr (WF >= 4) transpose_stage<2>(x);
      if constexpr (WF >= 8) transpose_stage<4>(x);
      if constexpr (WF >= 16) transpose_stage<8>(x);
      for (int r = 0; r < WF; r++) store(Bt + (j + r) * k + t, x[r]);
    }
  for (int64_t t = 0; t < k; t++)
    for (int64_t j = t < k0 ? n0 : 0; j < n; j++) Bt[j * k + t] = B[t * n + j];
}

// C(r, c) = sum_s X(r, s) Y[s, c] as k_matmul.h's gemm, in float32: blocks of NVF vectors of
// columns, then one tile of the rest (its last vector partial).
// the backward products run in blocks of KC steps, as k_matmul.h's (the panels stay in cache)
constexpr int64_t KC = 256;

template <bool XT, bool Fused, Out O>
static void gemm_f(const float* X, const float* Y, float* C, int64_t rows, int64_t steps, int64_t cols, int64_t ldx,
                   int64_t ldy, int64_t ldc) {
  if (O != Out::Set && steps > KC) {
    for (int64_t s = 0; s < steps; s += KC)
      gemm_f<XT, Fused, O>(X + s * (XT ? ldx : 1), Y + s * ldy, C, rows, steps - s < KC ? steps - s : KC, cols, ldx,
                           ldy, ldc);
    return;
  }
  int64_t c = 0;
  for (; c + NVF * WF <= cols; c += NVF * WF)
    tile_rows<NVF, false, XT, Fused, O>(X, Y, C, rows, steps, ldx, ldy, ldc, c, WF);
  if (c < cols) tail_cols<NVF, XT, Fused, O>(X, Y, C, rows, steps, ldx, ldy, ldc, c, cols - c);
}

// A backward product C += X Y, or with `set` C = X Y: its first block of KC steps stores and the
// others add (FLAG_SET_*), so C is never read before it is written. The bits of zeroing C and
// adding: the stored fused chain is acc + 0 (tile), and 0 + acc is the same value.
template <bool XT>
static void gemm_into_f(const float* X, const float* Y, float* C, int64_t rows, int64_t steps, int64_t cols,
                        int64_t ldx, int64_t ldy, int64_t ldc, bool set) {
  if (!set) return gemm_f<XT, true, Out::Add>(X, Y, C, rows, steps, cols, ldx, ldy, ldc);
  const int64_t first = steps < KC ? steps : KC;
  gemm_f<XT, true, Out::Set>(X, Y, C, rows, first, cols, ldx, ldy, ldc);
  if (first < steps)
    gemm_f<XT, true, Out::Add>(X + first * (XT ? ldx : 1), Y + first * ldy, C, rows, steps - first, cols, ldx, ldy,
                               ldc);
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
      gemm_f<true, true, Out::AddT>(D, A + t0, G + t0 * n, n, m, t1 - t0, n, k, n);
    });
  else
    par_pieces(par, k, piece_rows(m * n, kRowAlignF, (m * n + 1) / 2),
               [&](int64_t t0, int64_t t1) { gemm_into_f<true>(A + t0, D, G + t0 * n, t1 - t0, m, n, k, n, n, set); });
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
  par_pieces(par, m, piece_rows(n * k, kRowAlignF, (n * k + 1) / 2), [&](int64_t lo, int64_t hi) {
    gemm_into_f<false>(D + lo * n, Bt, G + lo * k, hi - lo, n, k, n, k, k, set);
  });
}

}  // namespace f32gemm

// The entry points, beside k_matmul.h's float64 ones (the same names and arguments, in float).
template <bool XT, bool Fused, Out O>
static void gemm(const float* X, const float* Y, float* C, int64_t rows, int64_t steps, int64_t cols, int64_t ldx,
                 int64_t ldy, int64_t ldc) {
  f32gemm::gemm_f<XT, Fused, O>(X, Y, C, rows, steps, cols, ldx, ldy, ldc);
}
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
  abt_then_blocks(D, m, k, n, f32gemm::kRowAlignF, (n * k + 1) / 2, par, then,
                  [&](const float* Dr, float* S, int64_t rows) {
                    f32gemm::gemm_into_f<false>(Dr, Bt, S, rows, n, k, n, k, k, true);
                  });
}
