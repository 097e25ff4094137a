// Portable SIMD vocabulary, included INSIDE an instruction-set namespace by kernels_impl.h after
// TG_VBYTES (vector width in bytes: 16 SSE2, 32 AVX2, 64 AVX-512) and TG_HAS_FMA are defined.
// GCC vector extensions give one source for all widths; the same lane-wise IEEE operations in
// every build, so every build computes the same forward values.
// (no include guard: included once per instruction-set namespace)

constexpr int W = TG_VBYTES / 8;  // doubles per vector
typedef double vd __attribute__((vector_size(TG_VBYTES)));
typedef int64_t vi __attribute__((vector_size(TG_VBYTES)));

#define TG_INLINE static inline __attribute__((always_inline))
#define TG_MEMBER __attribute__((always_inline)) static

TG_INLINE vd load(const double* p) {
  vd v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
TG_INLINE void store(double* p, vd v) { __builtin_memcpy(p, &v, sizeof v); }
// x in every lane, by a shuffle: vd{} + x would be an addition the compiler must keep (0 + -0 is
// +0), an extra instruction before every broadcast in the matmul tiles
TG_INLINE vd splat(double x) { return __builtin_shuffle(vd{x}, vi{}); }
TG_INLINE vi splati(int64_t x) { return vi{} + x; }
TG_INLINE vd as_vd(vi x) { return (vd)x; }  // bit casts
TG_INLINE vi as_vi(vd x) { return (vi)x; }
// lane-wise m ? a : b, m a comparison result (all ones / all zeros)
TG_INLINE vd sel(vi m, vd a, vd b) { return m ? a : b; }
TG_INLINE double hsum(vd v) {
  double s = 0;
  for (int i = 0; i < W; i++) s += v[i];
  return s;
}

// the first n < W elements at p, zeros after them (never reads past p + n)
#if TG_VBYTES == 64
TG_INLINE vd load_partial(const double* p, int64_t n) {
  return (vd)_mm512_maskz_loadu_pd((__mmask8)((1u << n) - 1), p);
}
#elif TG_VBYTES == 32
TG_INLINE vd load_partial(const double* p, int64_t n) {
  const __m256i idx = _mm256_set_epi64x(3, 2, 1, 0);
  return (vd)_mm256_maskload_pd(p, _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), idx));
}
#else
TG_INLINE vd load_partial(const double* p, int64_t n) {
  vd v = vd{};
  for (int64_t i = 0; i < n; i++) v[i] = p[i];
  return v;
}
#endif

// the first n < W lanes of v to p (never writes past p + n)
#if TG_VBYTES == 64
TG_INLINE void store_partial(double* p, vd v, int64_t n) {
  _mm512_mask_storeu_pd(p, (__mmask8)((1u << n) - 1), (__m512d)v);
}
#elif TG_VBYTES == 32
TG_INLINE void store_partial(double* p, vd v, int64_t n) {
  const __m256i idx = _mm256_set_epi64x(3, 2, 1, 0);
  _mm256_maskstore_pd(p, _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), idx), (__m256d)v);
}
#else
TG_INLINE void store_partial(double* p, vd v, int64_t n) {
  for (int64_t i = 0; i < n; i++) p[i] = v[i];
}
#endif

// float32 arenas (kernels.h): W floats widened to a vector of W doubles, and back rounded (to
// nearest, once), so a kernel over T reads and writes its arena through the same vd code
typedef float vfw __attribute__((vector_size(TG_VBYTES / 2)));
TG_INLINE vd load(const float* p) {
  vfw v;
  __builtin_memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, vd);
}
TG_INLINE void store(float* p, vd v) {
  const vfw f = __builtin_convertvector(v, vfw);
  __builtin_memcpy(p, &f, sizeof f);
}
TG_INLINE vd load_partial(const float* p, int64_t n) {
  vd v = vd{};
  for (int64_t i = 0; i < n; i++) v[i] = p[i];
  return v;
}
TG_INLINE void store_partial(float* p, vd v, int64_t n) {
  for (int64_t i = 0; i < n; i++) p[i] = static_cast<float>(v[i]);
}

// true if any lane of the mask is set
#if TG_VBYTES == 64
TG_INLINE bool any(vi m) { return _mm512_test_epi64_mask((__m512i)m, (__m512i)m) != 0; }
#elif TG_VBYTES == 32
TG_INLINE bool any(vi m) { return _mm256_movemask_pd((__m256d)m) != 0; }
#elif defined(__SSE2__)
TG_INLINE bool any(vi m) { return _mm_movemask_pd((__m128d)m) != 0; }
#else
TG_INLINE bool any(vi m) {
  int64_t r = 0;
  for (int i = 0; i < W; i++) r |= m[i];
  return r != 0;
}
#endif

// round toward zero, for |v| < 2^31 (the callers' |v| stay below 1100; other lanes give
// garbage): the hardware rounding where there is one, SSE2's truncating conversion to int32 and
// back, else round to nearest by the 1.5*2^52 trick and step back toward zero
#if TG_VBYTES == 64
TG_INLINE vd vtrunc(vd v) {
  return (vd)_mm512_maskz_roundscale_pd((__mmask8)0xFF, (__m512d)v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
}
#elif TG_VBYTES == 32
TG_INLINE vd vtrunc(vd v) { return (vd)_mm256_round_pd((__m256d)v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC); }
#elif defined(__SSE2__)
TG_INLINE vd vtrunc(vd v) { return (vd)_mm_cvtepi32_pd(_mm_cvttpd_epi32((__m128d)v)); }
#else
TG_INLINE vd vtrunc(vd v) {
  const vd M = vd{} + 6755399441055744.0;
  const vd r = (v + M) - M;
  const vd one = vd{} + 1.0, zero = vd{};
  const vd down = ((r > v) & (v >= zero)) ? one : zero;
  const vd up = ((r < v) & (v < zero)) ? one : zero;
  return (r - down) + up;
}
#endif

// a*b + c in one rounding where the hardware has it; only backward rules use it.
#if TG_VBYTES == 64
TG_INLINE vd fmadd(vd a, vd b, vd c) { return (vd)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c); }
#elif TG_HAS_FMA
TG_INLINE vd fmadd(vd a, vd b, vd c) { return (vd)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c); }
#else
TG_INLINE vd fmadd(vd a, vd b, vd c) { return a * b + c; }
#endif
#if TG_HAS_FMA
TG_INLINE double fmadd1(double a, double b, double c) { return __builtin_fma(a, b, c); }
#else
TG_INLINE double fmadd1(double a, double b, double c) { return a * b + c; }
#endif
