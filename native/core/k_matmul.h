// matmul C[m,n] = A[m,k] B[k,n] and its two backward products, dA += dC B^T and dB += A^T dC
// (B read transposed, its panels packed). Included inside an instruction-set namespace.
//
// Forward: every C[i,j] is the chain ((0 + A[i,0]B[0,j]) + A[i,1]B[1,j]) + ..., in t order with
// separate multiply and add, as the reference computes it: finite differences divide any change
// of rounding by h. Register tiles of MR rows x NV vectors of columns keep that chain per lane
// (t is the innermost loop), so the speed comes from tiling, not from reassociation.
// Backward products only need 1e-12 agreement: they use fused multiply-adds and any order.

// Every product below is a template over the element type T (double or float, k_vec.h's Vec<T>:
// the vector, its lanes L and the register tile MR x NV), with the same operations in each, but
// for the matrix-vector product (matvec_fwd), whose float64 chain must stay in t order.
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

// One register tile and its driver serve the forward product and both backward products:
// C(r, c) = sum_s X(r, s) Y[s, c], over `steps` values of s in order, with Y's rows loaded as
// vectors and X's entries broadcast. X(r, s) is X[r * ldx + s] (a row of X per r) or, with XT,
// X[s * ldx + r] (a column of X per r: the products with a transposed left operand, A^T dC).
// How the tile lands in C:
enum class Out {
  Set,   // C[r, c] = sum (the forward rule)
  Add,   // C[r, c] += sum
  AddT,  // C[c, r] += sum: the product computed transposed (the lanes run along C's rows)
};

// The last of the V vectors of columns holds `last` columns (Partial: last < L, its other lanes
// run on zeros and are not stored; otherwise last = L)
template <int R, int V, bool Partial, bool XT, bool Fused, Out O, class T>
TG_INLINE void tile(const T* X, const T* Y, T* C, int64_t steps, int64_t ldx, int64_t ldy, int64_t ldc, int64_t last) {
  using E = Vec<T>;
  using VT = typename E::V;
  constexpr int L = E::L;
  const typename E::Part part(Partial ? last : 0);
  VT acc[R][V];
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) acc[r][v] = E::all(T(0));
  for (int64_t s = 0; s < steps; s++) {
    VT y[V];
    for (int v = 0; v < V; v++)
      y[v] = Partial && v == V - 1 ? part.get(Y + s * ldy + v * L) : E::get(Y + s * ldy + v * L);
    for (int r = 0; r < R; r++) {
      const VT x = E::all(XT ? X[s * ldx + r] : X[r * ldx + s]);
      for (int v = 0; v < V; v++) acc[r][v] = Fused ? E::fma(x, y[v], acc[r][v]) : acc[r][v] + x * y[v];
    }
  }
  for (int r = 0; r < R; r++)
    for (int v = 0; v < V; v++) {
      const bool last_v = Partial && v == V - 1;
      if (O == Out::AddT) {  // R * V * L scalar updates against steps * R * V multiply-adds
        for (int l = 0; l < (last_v ? last : L); l++) C[(v * L + l) * ldc + r] += acc[r][v][l];
        continue;
      }
      T* c = C + r * ldc + v * L;
      // the fused forward chain starts at +0 and keeps the sign of a product that underflows:
      // fma(-1e-300, 1e-300, +0) = -0, where the reference adds the rounded product, +0 + -0 = +0
      // (so 1 / C was -Inf on native, +Inf on js; found by the fuzz test). Adding +0 turns -0
      // into +0 and leaves every other value as it is.
      const VT sum = O == Out::Add ? (last_v ? part.get(c) : E::get(c)) + acc[r][v]
                     : Fused       ? acc[r][v] + E::all(T(0))
                                   : acc[r][v];
      if (last_v)
        part.put(c, sum);
      else
        E::put(c, sum);
    }
}

// rows 0..rows-1 of C in tiles of MR rows, then 4, 2, 1, for the columns c0 .. c0 + (V-1)*L + last
template <int V, bool Partial, bool XT, bool Fused, Out O, class T>
TG_INLINE void tile_rows(const T* X, const T* Y, T* C, int64_t rows, int64_t steps, int64_t ldx, int64_t ldy,
                         int64_t ldc, int64_t c0, int64_t last) {
  constexpr int MR = Vec<T>::MR;
  auto at = [&](int64_t r) { return XT ? X + r : X + r * ldx; };
  auto out = [&](int64_t r) { return O == Out::AddT ? C + c0 * ldc + r : C + r * ldc + c0; };
  int64_t r = 0;
  for (; r + MR <= rows; r += MR) tile<MR, V, Partial, XT, Fused, O>(at(r), Y + c0, out(r), steps, ldx, ldy, ldc, last);
  if (r + 4 <= rows && MR > 4) {
    tile<4, V, Partial, XT, Fused, O>(at(r), Y + c0, out(r), steps, ldx, ldy, ldc, last);
    r += 4;
  }
  for (; r + 2 <= rows; r += 2) tile<2, V, Partial, XT, Fused, O>(at(r), Y + c0, out(r), steps, ldx, ldy, ldc, last);
  if (r < rows) tile<1, V, Partial, XT, Fused, O>(at(r), Y + c0, out(r), steps, ldx, ldy, ldc, last);
}

// the last cols (< NV * L) columns from c0 as one tile of V = ceil(cols / L) vectors, so that a
// narrow product (n = 10: a vector and a partial one) reads X once rather than once per vector
template <int V, bool XT, bool Fused, Out O, class T>
TG_INLINE void tail_cols(const T* X, const T* Y, T* C, int64_t rows, int64_t steps, int64_t ldx, int64_t ldy,
                         int64_t ldc, int64_t c0, int64_t cols) {
  constexpr int L = Vec<T>::L;
  if constexpr (V > 1)
    if (cols <= (V - 1) * L) return tail_cols<V - 1, XT, Fused, O>(X, Y, C, rows, steps, ldx, ldy, ldc, c0, cols);
  const int64_t last = cols - (V - 1) * L;
  if (last == L)
    tile_rows<V, false, XT, Fused, O>(X, Y, C, rows, steps, ldx, ldy, ldc, c0, last);
  else
    tile_rows<V, true, XT, Fused, O>(X, Y, C, rows, steps, ldx, ldy, ldc, c0, last);
}

// the whole product with Y read in place: blocks of NV vectors of columns, then one tile of the
// rest (its last vector partial)
template <bool XT, bool Fused, Out O, class T>
static void gemm_direct(const T* X, const T* Y, T* C, int64_t rows, int64_t steps, int64_t cols, int64_t ldx,
                        int64_t ldy, int64_t ldc) {
  constexpr int64_t NW = Vec<T>::NV * Vec<T>::L;
  int64_t c = 0;
  for (; c + NW <= cols; c += NW)
    tile_rows<Vec<T>::NV, false, XT, Fused, O>(X, Y, C, rows, steps, ldx, ldy, ldc, c, Vec<T>::L);
  if (c < cols) tail_cols<Vec<T>::NV, XT, Fused, O>(X, Y, C, rows, steps, ldx, ldy, ldc, c, cols - c);
}

// Scratch for packed operands, one buffer per thread and slot (0: Y's panels, 1: X transposed),
// grown as needed and kept: no allocation (and no fresh pages to fault in) per product. 64-byte
// aligned: a packed row of NV*L elements is whole cache lines, so no vector load splits a line.
template <int Slot, class T = double>
TG_INLINE T* scratch(int64_t n) {
  thread_local std::vector<T> buf;
  constexpr int64_t line = 64 / sizeof(T);
  if (static_cast<int64_t>(buf.size()) < n + line) buf.assign(static_cast<size_t>(n + line), T(0));
  const uintptr_t p = reinterpret_cast<uintptr_t>(buf.data());
  return reinterpret_cast<T*>((p + 63) & ~uintptr_t(63));
}

// Xt[r * steps + s] = X[s * ldx + r]: the left operand of A^T dC as rows, L x L blocks at a time
template <class T>
static void transpose_x(const T* X, T* Xt, int64_t rows, int64_t steps, int64_t ldx) {
  using E = Vec<T>;
  constexpr int L = E::L;
  int64_t r = 0;
  for (; r + L <= rows; r += L) {
    int64_t s = 0;
    for (; s + L <= steps; s += L) {
      typename E::V x[L];
      for (int i = 0; i < L; i++) x[i] = E::get(X + (s + i) * ldx + r);
      E::transpose(x);
      for (int i = 0; i < L; i++) E::put(Xt + (r + i) * steps + s, x[i]);
    }
    for (; s < steps; s++)
      for (int i = 0; i < L; i++) Xt[(r + i) * steps + s] = X[s * ldx + r + i];
  }
  for (; r < rows; r++)
    for (int64_t s = 0; s < steps; s++) Xt[r * steps + s] = X[s * ldx + r];
}

// Y packed panel by panel. A tile reads one row of its Y panel per step: in place, at ldy
// doubles from the last, and once ldy * 8 passes a page (512 doubles) every step touches a new
// page, so the panel of a tile is spread over `steps` pages, more than the L1 TLB holds, and the
// prefetchers stop at page boundaries. Measured at 784-2048-10, batch 1,024 (AVX-512, Zen 5):
// the forward product ran at 64% of peak with B (n = 2048) in place and at 97% at n = 128.
// Copied into a panel of steps x NV*W contiguous doubles, it is read by every row tile of this
// piece. YT: Y is given transposed, Y(s, c) = Y[c * ldy + s] (dA = dC B^T packs B^T's panels
// straight from B). Padding columns past `cols` are zeros, computed and never stored.
// The copy does not change any operation, so the forward bits stay those of the reference.
template <bool XT, bool YT, bool Fused, Out O, class T>
static void gemm_packed(const T* X, const T* Y, T* C, int64_t rows, int64_t steps, int64_t cols, int64_t ldx,
                        int64_t ldy, int64_t ldc) {
  static_assert(O != Out::AddT, "packed panels hold columns of C");
  using E = Vec<T>;
  constexpr int64_t NW = E::NV * E::L;
  T* P = scratch<0, T>(steps * NW);
  for (int64_t c = 0; c < cols; c += NW) {
    const int64_t w = cols - c < NW ? cols - c : NW;
    if constexpr (YT) {  // L columns by L steps at a time through a register transpose, the rest by elements
      int64_t l = 0;
      for (; l + E::L <= w; l += E::L) {
        int64_t s = 0;
        for (; s + E::L <= steps; s += E::L) {
          typename E::V x[E::L];
          for (int i = 0; i < E::L; i++) x[i] = E::get(Y + (c + l + i) * ldy + s);
          E::transpose(x);
          for (int i = 0; i < E::L; i++) E::put(P + (s + i) * NW + l, x[i]);
        }
        for (; s < steps; s++)
          for (int i = 0; i < E::L; i++) P[s * NW + l + i] = Y[(c + l + i) * ldy + s];
      }
      for (; l < w; l++) {
        const T* y = Y + (c + l) * ldy;
        for (int64_t s = 0; s < steps; s++) P[s * NW + l] = y[s];
      }
      for (; l < NW; l++)
        for (int64_t s = 0; s < steps; s++) P[s * NW + l] = 0;
    } else if (w == NW) {
      for (int64_t s = 0; s < steps; s++)
        for (int v = 0; v < E::NV; v++) E::put(P + s * NW + v * E::L, E::get(Y + s * ldy + c + v * E::L));
    } else {
      for (int64_t s = 0; s < steps; s++)
        for (int64_t l = 0; l < NW; l++) P[s * NW + l] = l < w ? Y[s * ldy + c + l] : T(0);
    }
    gemm_direct<XT, Fused, O>(X, P, C + c, rows, steps, w, ldx, NW, ldc);
  }
}

// When an operand is read at a stride of a page or more (512 doubles), every step of a tile
// touches a new page: Y's panel (a tile's vectors) is then packed (gemm_packed), and X, when it is
// read transposed (A^T dC: one cache line per step, for every tile of every panel), is transposed
// once into rows where enough panels read it (cols >= kTransposeCols; at 128 columns, W3 at batch
// 256, the copy cost 2% more than it saved).
#ifndef TG_PACK_MIN_LDY
#define TG_PACK_MIN_LDY 512
#endif
#ifndef TG_TRANSPOSE_MIN_COLS
#define TG_TRANSPOSE_MIN_COLS 256
#endif
#ifndef TG_PACK_MIN_ROWS
#define TG_PACK_MIN_ROWS 32
#endif
#ifndef TG_KC
#define TG_KC 256
#endif
#ifndef TG_KC_PACKED
#define TG_KC_PACKED 1024
#endif
// (TG_PACK_MIN_LDY counts doubles: a page of 4 kB, 1,024 floats)
constexpr int64_t kPageBytes = TG_PACK_MIN_LDY * 8, kTransposeCols = TG_TRANSPOSE_MIN_COLS,
                  kPackRows = TG_PACK_MIN_ROWS;

// The backward products (any order of summation) in blocks of KC steps: the panels of X and Y
// that one tile streams through stay in cache for the next tile. In place, A^T dC over 1797
// rows ran 1.3x to 1.6x as fast with SSE2 and AVX2 at KC = 256, up to 5% faster with AVX-512.
// Packed, a block's panels are contiguous and each block adds a pass over C: at 784-2048-10,
// batch 1,024, A^T dC ran 10% faster at KC = 1024 than at 256 (AVX-512). The forward rule keeps
// every chain whole.
struct Layout {
  bool transposeX, packY;
  int64_t kc;
};
template <bool XT, bool YT, Out O, class T>
TG_INLINE Layout layout(int64_t rows, int64_t cols, int64_t ldx, int64_t ldy) {
  constexpr int64_t page = kPageBytes / int64_t(sizeof(T)), L = Vec<T>::L;
  const bool transposeX = XT && O != Out::AddT && ldx >= page && cols >= kTransposeCols && rows >= L;
  const bool packY = O != Out::AddT && (YT || (ldy >= page && rows >= kPackRows && cols >= L));
  return {transposeX, packY, packY || transposeX ? TG_KC_PACKED : TG_KC};
}

template <bool XT, bool YT, bool Fused, Out O, class T>
static void gemm_any(const T* X, const T* Y, T* C, int64_t rows, int64_t steps, int64_t cols, int64_t ldx, int64_t ldy,
                     int64_t ldc) {
  const Layout lay = layout<XT, YT, O, T>(rows, cols, ldx, ldy);
  if (O != Out::Set && steps > lay.kc) {
    for (int64_t s = 0; s < steps; s += lay.kc)
      gemm_any<XT, YT, Fused, O>(X + s * (XT ? ldx : 1), Y + s * (YT ? 1 : ldy), C, rows,
                                 steps - s < lay.kc ? steps - s : lay.kc, cols, ldx, ldy, ldc);
    return;
  }
  if constexpr (XT && O != Out::AddT)
    if (lay.transposeX) {
      T* Xt = scratch<1, T>(rows * steps);
      transpose_x(X, Xt, rows, steps, ldx);
      return gemm_any<false, YT, Fused, O>(Xt, Y, C, rows, steps, cols, steps, ldy, ldc);
    }
  if constexpr (O == Out::AddT) {
    static_assert(!YT, "AddT reads Y in place");
    gemm_direct<XT, Fused, O>(X, Y, C, rows, steps, cols, ldx, ldy, ldc);
  } else if (lay.packY) {
    gemm_packed<XT, YT, Fused, O>(X, Y, C, rows, steps, cols, ldx, ldy, ldc);
  } else {
    gemm_direct<XT, Fused, O>(X, Y, C, rows, steps, cols, ldx, ldy, ldc);
  }
}

template <bool XT, bool Fused, Out O, class T>
static void gemm(const T* X, const T* Y, T* C, int64_t rows, int64_t steps, int64_t cols, int64_t ldx, int64_t ldy,
                 int64_t ldc) {
  gemm_any<XT, false, Fused, O>(X, Y, C, rows, steps, cols, ldx, ldy, ldc);
}

// A backward product C += X Y (fused, blocks of KC steps), or with `set` C = X Y: its first block
// stores (Out::Set) and the others add, so C is never read before it is written (FLAG_SET_*).
template <bool XT, bool YT, class T>
static void gemm_into(const T* X, const T* Y, T* C, int64_t rows, int64_t steps, int64_t cols, int64_t ldx, int64_t ldy,
                      int64_t ldc, bool set) {
  if (!set) return gemm_any<XT, YT, true, Out::Add>(X, Y, C, rows, steps, cols, ldx, ldy, ldc);
  const int64_t kc = layout<XT, YT, Out::Add, T>(rows, cols, ldx, ldy).kc;
  const int64_t first = steps < kc ? steps : kc;
  gemm_any<XT, YT, true, Out::Set>(X, Y, C, rows, first, cols, ldx, ldy, ldc);
  if (first < steps)
    gemm_any<XT, YT, true, Out::Add>(X + first * (XT ? ldx : 1), Y + first * (YT ? 1 : ldy), C, rows, steps - first,
                                     cols, ldx, ldy, ldc);
}

// C = 0 before a product that adds (the paths with no storing variant)
template <class T>
TG_INLINE void zero_rows(T* C, int64_t n, bool set) {
  if (set && n > 0) std::memset(C, 0, sizeof(T) * static_cast<size_t>(n));
}

// n = 1: C[i] = dot(A[i,:], b) in t order. W rows go down the W lanes: a W x W block of A is
// transposed in registers so that lane r steps through row r; two blocks interleave to hide the
// latency of the add chain.
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

// The float32 matrix-vector product: one chain per lane over t in vectors (the last k % L
// columns zero-padded), then the lanes' sum in halves; R rows side by side hide the chains'
// latency. Each row's operations are the same whatever R.
template <int R>
TG_INLINE void matvec_rows(const float* A, const float* b, float* c, int64_t k) {
  using E = Vec<float>;
  E::V acc[R];
  for (int q = 0; q < R; q++) acc[q] = E::all(0.0f);
  int64_t t = 0;
  for (; t + E::L <= k; t += E::L) {
    const E::V bt = E::get(b + t);
    for (int q = 0; q < R; q++) acc[q] = E::fma(E::get(A + q * k + t), bt, acc[q]);
  }
  if (t < k) {
    const E::Part lanes(k - t);
    const E::V bt = lanes.get(b + t);
    for (int q = 0; q < R; q++) acc[q] = E::fma(lanes.get(A + q * k + t), bt, acc[q]);
  }
  for (int q = 0; q < R; q++) {
    float h[E::L];
    __builtin_memcpy(h, &acc[q], sizeof h);
    for (int w = E::L / 2; w >= 1; w /= 2)
      for (int i = 0; i < w; i++) h[i] += h[i + w];
    c[q] = h[0];
  }
}

// n = 1 in float32: 8 rows at a time
static void matvec_fwd(const float* A, const float* b, float* c, int64_t m, int64_t k) {
  const int64_t m8 = m / 8 * 8;
  for (int64_t i = 0; i < m8; i += 8) matvec_rows<8>(A + i * k, b, c + i, k);
  for (int64_t i = m8; i < m; i++) matvec_rows<1>(A + i * k, b, c + i, k);
}

// Large products run in pieces of rows on several threads (k_parallel.h): every element of C
// is computed by the same operations whichever piece holds its row. Rows come in multiples of
// 16, whole register tiles (MR rows; 2W rows for the matrix-vector product) in every build.
constexpr int64_t kRowAlign = 16;

// n elements of T as piece_rows' `streamed` counts them, in doubles
template <class T>
TG_INLINE int64_t in_doubles(int64_t n) {
  return n * int64_t(sizeof(T)) / 8;
}

template <bool Fused, class T>
static void matmul_fwd(const Fwd<T>& f) {
  const int64_t m = f.p0, k = f.p1, n = f.p2;
  if (n == 1)
    return par_pieces(f.par, m, piece_rows(k, kRowAlign, in_doubles<T>(k)),
                      [&](int64_t lo, int64_t hi) { matvec_fwd(f.a + lo * k, f.b, f.out + lo, hi - lo, k); });
  par_pieces(f.par, m, piece_rows(k * n, Vec<T>::RowAlign, in_doubles<T>(k * n)), [&](int64_t lo, int64_t hi) {
    gemm<false, Fused, Out::Set>(f.a + lo * k, f.b, f.out + lo * n, hi - lo, k, n, k, n, n);
  });
}

// dB[t, j] += sum_i A[i, t] dC[i, j] over the m rows. The vector lanes run along dB's rows (j)
// or, computing dB^T = dC^T A, along its columns (t): the latter where the lanes fit k better than
// n, as for a narrow output layer (n = 10 on 8 lanes would leave 6 lanes idle in every other
// vector), and it reads A in contiguous row pieces rather than columns at stride k.
// set: dB = A^T dC (FLAG_SET_B)
template <class T>
static void matmul_atb(const T* A, const T* D, T* G, int64_t m, int64_t k, int64_t n, const Parallel* par,
                       bool set = false) {
  using E = Vec<T>;
  if (n == 1) {  // dB is a vector: four rows of A at a time, each scaled by its dC, read in order;
    // in pieces of dB's elements, the scalar tail with the vector body's operations
    return par_pieces(par, k, piece_rows(m, kRowAlign, in_doubles<T>(m)), [&](int64_t t0, int64_t t1) {
      zero_rows(G + t0, t1 - t0, set);
      int64_t i = 0;
      for (; i + 4 <= m; i += 4) {
        const T *a0 = A + i * k, *a1 = a0 + k, *a2 = a1 + k, *a3 = a2 + k;
        const typename E::V d0 = E::all(D[i]), d1 = E::all(D[i + 1]), d2 = E::all(D[i + 2]), d3 = E::all(D[i + 3]);
        int64_t t = t0;
        for (; t + E::L <= t1; t += E::L)
          E::put(G + t, E::fma(d3, E::get(a3 + t),
                               E::fma(d2, E::get(a2 + t),
                                      E::fma(d1, E::get(a1 + t), E::fma(d0, E::get(a0 + t), E::get(G + t))))));
        for (; t < t1; t++)
          G[t] =
              E::fma1(D[i + 3], a3[t], E::fma1(D[i + 2], a2[t], E::fma1(D[i + 1], a1[t], E::fma1(D[i], a0[t], G[t]))));
      }
      for (; i < m; i++)
        for (int64_t t = t0; t < t1; t++) G[t] = E::fma1(D[i], A[i * k + t], G[t]);
    });
  }
  auto idle = [](int64_t x) { return (E::L - x % E::L) % E::L; };  // lanes idle in the last vector
  // pieces of dB's rows t (columns of A): as columns of the transposed product, in whole blocks
  // of NV vectors, or as rows of the direct one
  if (idle(k) * n < idle(n) * k)
    par_pieces(par, k, piece_rows(m * n, E::NV * E::L, in_doubles<T>(m * n)), [&](int64_t t0, int64_t t1) {
      zero_rows(G + t0 * n, (t1 - t0) * n, set);
      gemm<true, true, Out::AddT>(D, A + t0, G + t0 * n, n, m, t1 - t0, n, k, n);
    });
  else
    par_pieces(par, k, piece_rows(m * n, E::RowAlign, in_doubles<T>(m * n)), [&](int64_t t0, int64_t t1) {
      gemm_into<true, false>(A + t0, D, G + t0 * n, t1 - t0, m, n, k, n, n, set);
    });
}

// dA[i, t] += sum_j dC[i, j] B[t, j]: the product dC B^T, B read transposed (YT: its panels
// packed through register transposes), so that the lanes run along dA's rows as in the forward
// product. Dot products of rows of dC and B instead would end each of the m k outputs with a
// horizontal sum, slow for a small n. set: dA = dC B^T (FLAG_SET_A)
template <class T>
static void matmul_abt(const T* D, const T* B, T* G, int64_t m, int64_t k, int64_t n, const Parallel* par,
                       bool set = false) {
  using E = Vec<T>;
  if (n == 1)  // each row of dA gets B scaled by one dC; the tail with the body's operations
    return par_pieces(par, m, piece_rows(k, kRowAlign, in_doubles<T>(k)), [&](int64_t lo, int64_t hi) {
      zero_rows(G + lo * k, (hi - lo) * k, set);
      for (int64_t i = lo; i < hi; i++) {
        const typename E::V d = E::all(D[i]);
        T* g = G + i * k;
        int64_t t = 0;
        for (; t + E::L <= k; t += E::L) E::put(g + t, E::fma(d, E::get(B + t), E::get(g + t)));
        for (; t < k; t++) g[t] = E::fma1(D[i], B[t], g[t]);
      }
    });
  par_pieces(par, m, piece_rows(n * k, E::RowAlign, in_doubles<T>(n * k)), [&](int64_t lo, int64_t hi) {
    gemm_into<false, true>(D + lo * n, B, G + lo * k, hi - lo, n, k, n, n, k, set);
  });
}

// dA = dC B^T with the rule of the elementwise op U that produced A run on it block by block
// (Bwd::then): each block of rows of dA is stored into scratch of this thread (about 256 kB,
// in L2) and U's rule reads it there as its output adjoint, so dA never goes to memory and back
// (at 784-2048-10, batch 1,024: 16 MB written, then read, per gradient, in float64). Each element
// of dA is the same chain whatever rows a block holds, so the bits are those of matmul_abt then
// U's rule.
template <class T>
static void matmul_abt_then(const T* D, const T* B, int64_t m, int64_t k, int64_t n, const Parallel* par,
                            const Then<T>& then) {
  const int64_t block = k > 0 ? std::max<int64_t>(1, (int64_t(1) << 18) / (k * int64_t(sizeof(T)))) : 1;  // 256 kB
  par_pieces(par, m, piece_rows(n * k, Vec<T>::RowAlign, in_doubles<T>(n * k)), [&](int64_t lo, int64_t hi) {
    T* S = scratch<2, T>(std::min(block, hi - lo) * k);
    int32_t params[MAX_PARAMS];
    std::copy(then.args.p, then.args.p + MAX_PARAMS, params);
    for (int64_t r = lo; r < hi; r += block) {
      const int64_t rows = std::min(block, hi - r), at = r * k;
      gemm_into<false, true>(D + r * n, B, S, rows, n, k, n, n, k, true);
      Bwd<T> u = then.args;
      params[0] = static_cast<int32_t>(rows * k);
      u.p = params;
      u.p0 = params[0];
      u.gout = S;
      u.out += at;
      u.a += at;
      u.ga += at;
      u.par = nullptr;
      then.fn(u);
    }
  });
}

template <class T>
static void matmul_f(const Fwd<T>& f) {
  matmul_fwd<false>(f);
}

template <class T>
static void matmul_b(const Bwd<T>& g) {
  const int64_t m = g.p0, k = g.p1, n = g.p2;
  if ((g.flags & FLAG_GRAD_A) && g.then) {
    matmul_abt_then(g.gout, g.b, m, k, n, g.par, *g.then);
    if (g.flags & FLAG_GRAD_B) matmul_atb(g.a, g.gout, g.gb, m, k, n, g.par, (g.flags & FLAG_SET_B) != 0);
    return;
  }
  if (g.flags & FLAG_GRAD_A) matmul_abt(g.gout, g.b, g.ga, m, k, n, g.par, (g.flags & FLAG_SET_A) != 0);
  if (g.flags & FLAG_GRAD_B) matmul_atb(g.a, g.gout, g.gb, m, k, n, g.par, (g.flags & FLAG_SET_B) != 0);
}
