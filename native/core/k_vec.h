// The element types of the matrix products (k_matmul.h): for float64 and float32, the vector
// (simd.h's vd, and vf with twice the lanes), the register tile, the loads and stores of a
// tile's partial last vector, and a register transpose. Included inside an instruction-set
// namespace after simd.h.

// Float vectors in a namespace of their own: simd.h's load and store of float* widen W floats to
// W doubles (the elementwise kernels compute in double), these keep the floats.
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
  __attribute__((always_inline)) vf get(const float* p) const { return (vf)_mm512_maskz_loadu_ps(k, p); }
  __attribute__((always_inline)) void put(float* p, vf v) const { _mm512_mask_storeu_ps(p, k, (__m512)v); }
};
#elif TG_VBYTES == 32
struct Lanes {
  __m256i m;
  explicit Lanes(int64_t n)
      : m(_mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0))) {}
  __attribute__((always_inline)) vf get(const float* p) const { return (vf)_mm256_maskload_ps(p, m); }
  __attribute__((always_inline)) void put(float* p, vf v) const { _mm256_maskstore_ps(p, m, (__m256)v); }
};
#elif defined(__SSE2__)
struct Lanes {  // SSE2: n is 1, 2 or 3; loads by one 4- or 8-byte move or both (an element-wise
  // load made the last layer of W3, 10 columns, half as fast as float64)
  int64_t n;
  explicit Lanes(int64_t n) : n(n) {}
  __attribute__((always_inline)) vf get(const float* p) const {
    if (n == 1) return (vf)_mm_load_ss(p);
    const __m128 lo = _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(p)));
    return (vf)(n == 2 ? lo : _mm_movelh_ps(lo, _mm_load_ss(p + 2)));
  }
  __attribute__((always_inline)) void put(float* p, vf v) const {
    for (int64_t i = 0; i < n; i++) p[i] = v[i];
  }
};
#else
struct Lanes {
  int64_t n;
  explicit Lanes(int64_t n) : n(n) {}
  __attribute__((always_inline)) vf get(const float* p) const {
    vf v = vf{};
    for (int64_t i = 0; i < n; i++) v[i] = p[i];
    return v;
  }
  __attribute__((always_inline)) void put(float* p, vf v) const {
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

// the WF x WF block: the stages in turn
TG_INLINE void transpose_block(vf* x) {
  if constexpr (WF >= 2) transpose_stage<1>(x);
  if constexpr (WF >= 4) transpose_stage<2>(x);
  if constexpr (WF >= 8) transpose_stage<4>(x);
  if constexpr (WF >= 16) transpose_stage<8>(x);
}

}  // namespace f32gemm

// A W x W block of doubles transposed in registers, by shuffles written out per width
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

// Vec<T>: what k_matmul.h's tiles and drivers need of an element type. MR x NV is the register
// tile; RowAlign the rows of a piece for the threads (whole tiles, and whole tiles of 4 for the
// 6-row tile); Part(n) loads and stores the first n lanes of a vector (0 < n < L); fma1 is the
// scalar a b + c of a vector loop's tail, fused where the vector's fma is.
template <class T>
struct Vec;

// Tile: MR rows x NV vectors of columns (NV*W columns); per step, MR broadcasts of X feed MR*NV
// multiply-adds. With 32 vector registers (AVX-512) 8 x 3: the unfused forward rule needs a
// separate multiply and add per product, and 8 x 3 (fewer broadcasts per product than 8 x 2)
// made it 15% faster on Zen 4 (fused: 3%). With 16 registers, 4 x 2.
template <>
struct Vec<double> {
  using V = vd;
  static constexpr int L = W, MR = TG_MR, NV = TG_NV;
  static constexpr int64_t RowAlign = 16;
  TG_MEMBER V get(const double* p) { return load(p); }
  TG_MEMBER void put(double* p, V v) { store(p, v); }
  TG_MEMBER V all(double x) { return splat(x); }
  TG_MEMBER V fma(V a, V b, V c) { return fmadd(a, b, c); }
  TG_MEMBER double fma1(double a, double b, double c) { return fmadd1(a, b, c); }
  TG_MEMBER void transpose(V* x) { transpose_block(x); }
  struct Part {
    int64_t n;
    explicit Part(int64_t n) : n(n) {}
    __attribute__((always_inline)) V get(const double* p) const { return load_partial(p, n); }
    __attribute__((always_inline)) void put(double* p, V v) const { store_partial(p, v, n); }
  };
};

template <>
struct Vec<float> {
  using V = f32gemm::vf;
  static constexpr int L = f32gemm::WF, MR = f32gemm::MRF, NV = f32gemm::NVF;
  static constexpr int64_t RowAlign = MR == 6 ? 48 : 16;
  TG_MEMBER V get(const float* p) { return f32gemm::load(p); }
  TG_MEMBER void put(float* p, V v) { f32gemm::store(p, v); }
  TG_MEMBER V all(float x) { return f32gemm::splat(x); }
  TG_MEMBER V fma(V a, V b, V c) { return f32gemm::fmadd(a, b, c); }
  TG_MEMBER float fma1(float a, float b, float c) { return f32gemm::fmadd1(a, b, c); }
  TG_MEMBER void transpose(V* x) { f32gemm::transpose_block(x); }
  using Part = f32gemm::Lanes;
};
