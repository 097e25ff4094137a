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

TG_INLINE vd load(const double* p) { vd v; __builtin_memcpy(&v, p, sizeof v); return v; }
TG_INLINE void store(double* p, vd v) { __builtin_memcpy(p, &v, sizeof v); }
TG_INLINE vd splat(double x) { return vd{} + x; }
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
