// The arithmetic peak of one core, measured: independent chains of vector fused multiply-adds
// (multiply-adds where the build has no FMA), enough of them to cover the FMA latency on every
// pipe. `npm run bench` reports kernels' GFLOP/s as a share of it. Included inside an
// instruction-set namespace.
//
// 24 chains: Zen 4/5 and recent Intel cores retire two FMAs a cycle at a latency of 4 to 5
// cycles, so 10 chains would do; 24 of the 32 AVX-512 registers leaves room for the operands
// (the SSE2 and AVX2 builds, with 16 registers, spill a few: their peak reads low).
// Each chain is x <- x * m + a with m just below 1: it converges to a / (1 - m), no overflow and
// no subnormals (which would slow some cores), and the compiler cannot fold it.
namespace peak {
constexpr int kChains = 24;

template <class V, class S>
TG_INLINE V fma_v(V a, V b, V c) {
#if TG_VBYTES == 64
  if constexpr (sizeof(S) == 8)
    return (V)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
  else
    return (V)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#elif TG_HAS_FMA
  if constexpr (sizeof(S) == 8)
    return (V)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
  else
    return (V)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#else
  return a * b + c;
#endif
}

// reps rounds of kChains vector multiply-adds; returns a sum of the chains (the caller keeps it
// so that nothing is dead code). FLOPs: reps * kChains * lanes * 2.
template <class S>
static double chains(int64_t reps, S m, S a) {
  typedef S V __attribute__((vector_size(TG_VBYTES)));
  V acc[kChains], vm, va;
  for (int l = 0; l < TG_VBYTES / static_cast<int>(sizeof(S)); l++) vm[l] = m, va[l] = a;
  for (int c = 0; c < kChains; c++) acc[c] = va * static_cast<S>(c);
  for (int64_t r = 0; r < reps; r++) {
#pragma GCC unroll 32
    for (int c = 0; c < kChains; c++) acc[c] = fma_v<V, S>(acc[c], vm, va);
  }
  double s = 0;
  for (int c = 0; c < kChains; c++)
    for (int l = 0; l < TG_VBYTES / static_cast<int>(sizeof(S)); l++) s += acc[c][l];
  return s;
}
}  // namespace peak

// FLOPs of `reps` rounds in float64 (f32 false) or float32, and the chains' sum in *sink
static double peak_fma(bool f32, int64_t reps, double* sink) {
  // volatile: the compiler must not know m and a
  volatile double m = 0.999999, a = 1e-3;
  *sink =
      f32 ? peak::chains<float>(reps, static_cast<float>(m), static_cast<float>(a)) : peak::chains<double>(reps, m, a);
  return 2.0 * static_cast<double>(reps) * peak::kChains * (TG_VBYTES / (f32 ? 4 : 8));
}
