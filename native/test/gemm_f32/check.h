// The float32 products (k_matmul.h over float) against a float64 reference, and their speed beside the
// float64 products (k_matmul.h). Included inside an instruction-set namespace (setup.h).
//
// Tolerance: a sum of n terms (products, and the initial value of C for the Out::Add modes)
// computed in float32, in any order and with or without fused multiply-adds, is within
// gamma_n * sum |terms| of the exact sum, gamma_n = n u / (1 - n u), u = 2^-24 (Higham,
// Accuracy and Stability of Numerical Algorithms, 2nd ed., section 3.1): each term passes
// through at most n roundings (its product's, and one per addition that joins it with another
// term; the partial sums' additions of zero lanes are exact). The reference sums the exact
// products of the float32 inputs in float64 (error n 2^-53 sum |terms|, negligible). The checks
// allow n 2^-23 sum |terms| = 2 n u sum |terms| >= gamma_n (for n u <= 1/2): every element must
// be within it, and exactly equal where every term is zero.

struct Rng {
  uint64_t s;
  uint32_t next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(s >> 32);
  }
  // in [-1, 1) times a power of two from 2^-3 to 2^3: relative errors at several scales
  float value() {
    const float u = static_cast<float>(next() & 0xFFFFFF) * (2.0f / 16777216.0f) - 1.0f;
    return std::ldexp(u, static_cast<int>(next() % 7) - 3);
  }
  int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(next() % (hi - lo + 1)); }
};

// n floats that end where an inaccessible page begins: a read or write past the end faults
struct Guarded {
  float* p = nullptr;
  void* base = nullptr;
  size_t bytes = 0;
  int64_t n;
  explicit Guarded(int64_t count) : n(count) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t data = (static_cast<size_t>(n) * 4 + page - 1) / page * page;
    bytes = data + page;
    base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) std::abort();
    mprotect(static_cast<char*>(base) + data, page, PROT_NONE);
    p = reinterpret_cast<float*>(static_cast<char*>(base) + data - static_cast<size_t>(n) * 4);
  }
  ~Guarded() { munmap(base, bytes); }
  Guarded(const Guarded&) = delete;
  Guarded& operator=(const Guarded&) = delete;
};

// an outer x inner matrix at stride ld (>= inner): its elements random, the padding between rows
// `pad` (NaN where the kernels read, to show if a padding lane reaches a result)
static void fill(Rng& g, float* p, int64_t outer, int64_t inner, int64_t ld, float pad) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < ld && o * ld + i < (outer - 1) * ld + inner; i++)
      p[o * ld + i] = i < inner ? g.value() : pad;
}

static int failures = 0;
static bool near(const char* what, double got, double ref, double mag, int64_t terms, int64_t at) {
  const double tol = static_cast<double>(terms) * 0x1p-23 * mag;
  if (std::fabs(got - ref) <= tol) return true;  // false for NaN
  if (failures++ < 10)
    std::printf("  FAIL %s: element %lld is %.9g, reference %.9g (tolerance %.3g)\n", what, static_cast<long long>(at),
                got, ref, tol);
  return false;
}

static const char* out_name(Out o) { return o == Out::Set ? "Set" : o == Out::Add ? "Add" : "AddT"; }

template <bool XT, bool Fused, Out O>
static bool check_gemm(Rng& g, int64_t rows, int64_t steps, int64_t cols) {
  const int64_t ldx = (XT ? rows : steps) + g.range(0, 1) * g.range(1, 9);
  const int64_t ldy = cols + g.range(0, 1) * g.range(1, 9);
  const int64_t inner = O == Out::AddT ? rows : cols, outer = O == Out::AddT ? cols : rows;
  const int64_t ldc = inner + g.range(0, 1) * g.range(1, 9);
  const float nan = std::nanf(""), sentinel = 12345.0f;
  Guarded X((XT ? steps - 1 : rows - 1) * ldx + (XT ? rows : steps)), Y((steps - 1) * ldy + cols),
      C((outer - 1) * ldc + inner);
  fill(g, X.p, XT ? steps : rows, XT ? rows : steps, ldx, nan);
  fill(g, Y.p, steps, cols, ldy, nan);
  fill(g, C.p, outer, inner, ldc, sentinel);
  if (O == Out::Set)
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < inner; i++) C.p[o * ldc + i] = nan;  // every one must be written
  const std::vector<float> C0(C.p, C.p + C.n);
  gemm<XT, Fused, O>(X.p, Y.p, C.p, rows, steps, cols, ldx, ldy, ldc);
  char what[160];
  std::snprintf(what, sizeof what, "gemm<XT=%d, Fused=%d, %s> rows %lld steps %lld cols %lld (ld %lld %lld %lld)", XT,
                Fused, out_name(O), static_cast<long long>(rows), static_cast<long long>(steps),
                static_cast<long long>(cols), static_cast<long long>(ldx), static_cast<long long>(ldy),
                static_cast<long long>(ldc));
  bool ok = true;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) {
      const int64_t at = O == Out::AddT ? c * ldc + r : r * ldc + c;
      double ref = O == Out::Set ? 0 : C0[at], mag = std::fabs(ref);
      for (int64_t s = 0; s < steps; s++) {
        const double t = static_cast<double>(XT ? X.p[s * ldx + r] : X.p[r * ldx + s]) * Y.p[s * ldy + c];
        ref += t;
        mag += std::fabs(t);
      }
      ok = near(what, C.p[at], ref, mag, steps + (O != Out::Set), at) && ok;
    }
  for (int64_t i = 0; i < C.n; i++)
    if (i % ldc >= inner && std::memcmp(&C.p[i], &sentinel, 4) != 0) {
      if (failures++ < 10) std::printf("  FAIL %s: padding element %lld written\n", what, static_cast<long long>(i));
      ok = false;
    }
  return ok;
}

template <bool XT, bool Fused>
static bool check_gemm_all(Rng& g, int64_t rows, int64_t steps, int64_t cols) {
  bool ok = check_gemm<XT, Fused, Out::Set>(g, rows, steps, cols);
  ok = check_gemm<XT, Fused, Out::Add>(g, rows, steps, cols) && ok;
  return check_gemm<XT, Fused, Out::AddT>(g, rows, steps, cols) && ok;
}
static bool check_gemm_modes(Rng& g, int64_t rows, int64_t steps, int64_t cols) {
  bool ok = check_gemm_all<false, false>(g, rows, steps, cols);
  ok = check_gemm_all<false, true>(g, rows, steps, cols) && ok;
  ok = check_gemm_all<true, false>(g, rows, steps, cols) && ok;
  return check_gemm_all<true, true>(g, rows, steps, cols) && ok;
}

static bool check_matvec(Rng& g, int64_t m, int64_t k) {
  Guarded A(m * k), b(k), c(m);
  fill(g, A.p, m, k, k, 0);
  fill(g, b.p, 1, k, k, 0);
  for (int64_t i = 0; i < m; i++) c.p[i] = std::nanf("");
  matvec_fwd(A.p, b.p, c.p, m, k);
  char what[80];
  std::snprintf(what, sizeof what, "matvec_fwd m %lld k %lld", static_cast<long long>(m), static_cast<long long>(k));
  bool ok = true;
  for (int64_t i = 0; i < m; i++) {
    double ref = 0, mag = 0;
    for (int64_t t = 0; t < k; t++) {
      const double p = static_cast<double>(A.p[i * k + t]) * b.p[t];
      ref += p;
      mag += std::fabs(p);
    }
    ok = near(what, c.p[i], ref, mag, k, i) && ok;
  }
  return ok;
}

// Parallel runs like the thread pool's: three threads claiming tasks in turn, or one thread
// taking them in reverse order
static void run_threads(const Parallel& self, int64_t n, void (*task)(void*, int64_t), void* ctx) {
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t i; (i = next.fetch_add(1)) < n;) task(ctx, i);
  };
  std::vector<std::thread> threads;
  for (int w = 1; w < self.width; w++) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
}
static void run_reversed(const Parallel& self, int64_t n, void (*task)(void*, int64_t), void* ctx) {
  for (int64_t i = n; i-- > 0;) task(ctx, i);
}

// dB += A^T dC (atb) or dA += dC B^T (abt) for A m x k, B k x n, dC m x n, against the reference,
// then again on three threads and in reverse order: the same bits
static bool check_backward(Rng& g, bool atb, int64_t m, int64_t k, int64_t n) {
  const int64_t rows = atb ? k : m, cols = atb ? n : k;  // the gradient
  Guarded L(atb ? m * k : m * n), R(atb ? m * n : k * n), G(rows * cols);
  fill(g, L.p, 1, L.n, L.n, 0);
  fill(g, R.p, 1, R.n, R.n, 0);
  fill(g, G.p, 1, G.n, G.n, 0);
  const std::vector<float> G0(G.p, G.p + G.n);
  const Parallel threads{3, run_threads}, reversed{3, run_reversed};
  const Parallel* pars[] = {nullptr, &threads, &reversed};
  std::vector<float> first;
  char what[80];
  std::snprintf(what, sizeof what, "%s m %lld k %lld n %lld", atb ? "matmul_atb" : "matmul_abt",
                static_cast<long long>(m), static_cast<long long>(k), static_cast<long long>(n));
  bool ok = true;
  for (const Parallel* par : pars) {
    std::copy(G0.begin(), G0.end(), G.p);
    if (atb)
      matmul_atb(L.p, R.p, G.p, m, k, n, par);
    else
      matmul_abt(L.p, R.p, G.p, m, k, n, par);
    if (par) {
      if (std::memcmp(first.data(), G.p, G.n * 4) != 0) {
        if (failures++ < 10)
          std::printf("  FAIL %s: %s differs from one thread\n", what,
                      par == &threads ? "three threads" : "reversed pieces");
        ok = false;
      }
      continue;
    }
    first.assign(G.p, G.p + G.n);
    for (int64_t r = 0; r < rows; r++)
      for (int64_t c = 0; c < cols; c++) {
        double ref = G0[r * cols + c], mag = std::fabs(ref);
        const int64_t terms = atb ? m : n;
        for (int64_t s = 0; s < terms; s++) {
          // atb: dB[t = r, j = c] += A[s, r] dC[s, c]; abt: dA[i = r, t = c] += dC[r, s] B[c, s]
          const double p = atb ? static_cast<double>(L.p[s * k + r]) * R.p[s * n + c]
                               : static_cast<double>(L.p[r * n + s]) * R.p[c * n + s];
          ref += p;
          mag += std::fabs(p);
        }
        ok = near(what, G.p[r * cols + c], ref, mag, terms + 1, r * cols + c) && ok;
      }
  }
  return ok;
}

static int run_checks(const char* isa) {
  Rng g{0x5eed};
  int64_t cases = 0;
  failures = 0;
  // every remainder of rows, steps and columns in 1..70 (each with random others), random shapes
  // in the same range, and the shapes of the W3 MLP (784-128-10, batch 64)
  for (int64_t x = 1; x <= 70; x++) {
    check_gemm_modes(g, x, g.range(1, 70), g.range(1, 70));
    check_gemm_modes(g, g.range(1, 70), x, g.range(1, 70));
    check_gemm_modes(g, g.range(1, 70), g.range(1, 70), x);
    cases += 3 * 12;
  }
  for (int i = 0; i < 200; i++, cases += 12) check_gemm_modes(g, g.range(1, 70), g.range(1, 70), g.range(1, 70));
  const int64_t big[][3] = {{64, 784, 128}, {784, 64, 128}, {64, 128, 784}, {64, 128, 10}, {40, 600, 50}};
  for (const auto& s : big) check_gemm_modes(g, s[0], s[1], s[2]), cases += 12;
  for (int64_t m = 1; m <= 40; m++, cases++) check_matvec(g, m, g.range(1, 300));
  check_matvec(g, 64, 784), check_matvec(g, 3, 1000), cases += 2;
  for (int atb = 0; atb < 2; atb++) {
    for (int i = 0; i < 150; i++, cases++)
      check_backward(g, atb, g.range(1, 70), g.range(1, 70), i % 10 == 0 ? 1 : g.range(1, 70));
    // W3's products (many pieces), its last layer (atb computes it transposed), n = 1, and inner
    // dimensions across KC = 256 blocks
    const int64_t shapes[][3] = {{64, 784, 128}, {64, 128, 10}, {64, 784, 1}, {300, 3, 6}, {3, 5, 300}, {700, 90, 33}};
    for (const auto& s : shapes) check_backward(g, atb, s[0], s[1], s[2]), cases++;
  }
  std::printf("%s: %lld cases, %d failures\n", isa, static_cast<long long>(cases), failures);
  return failures ? 1 : 0;
}

// --- speed: GFLOP/s of the float32 products and of the float64 ones, samples interleaved ---

// this thread's CPU time: the machine is shared, and wall time would count the other processes'
// turns on the core (their cache traffic still shows)
static double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

template <class F>
static double seconds_per_call(F&& f) {
  int64_t calls = 1;
  for (;;) {  // enough calls for 20 ms
    const double t0 = cpu_seconds();
    for (int64_t i = 0; i < calls; i++) f();
    const double s = cpu_seconds() - t0;
    if (s > 0.02) return s / static_cast<double>(calls);
    calls *= s > 0.002 ? static_cast<int64_t>(0.025 / s) + 1 : 10;
  }
}

template <class T>
struct Operands {
  std::vector<T> a, b, c;
  Operands(int64_t na, int64_t nb, int64_t nc) : a(na), b(nb), c(nc) {
    Rng g{1};
    for (auto& x : a) x = g.value();
    for (auto& x : b) x = g.value();
    for (auto& x : c) x = g.value();
  }
};

// op: 0 forward C = A B (A m x k, B k x n; the fused forward rule where the build has FMA, as
// value() and reverse() run it), 1 dB += A^T dC, 2 dA += dC B^T
template <class T>
static void product(int op, Operands<T>& o, int64_t m, int64_t k, int64_t n) {
  if (op == 0 && n == 1) return matvec_fwd(o.a.data(), o.b.data(), o.c.data(), m, k);
  if (op == 0) return gemm<false, TG_HAS_FMA != 0, Out::Set>(o.a.data(), o.b.data(), o.c.data(), m, k, n, k, n, n);
  if (op == 1) return matmul_atb(o.a.data(), o.b.data(), o.c.data(), m, k, n, nullptr);
  matmul_abt(o.b.data(), o.a.data(), o.c.data(), m, k, n, nullptr);
}

// W3 (bench/workloads.ts) runs five of these: both forward products, dW1, dW2 and dH (its input X
// needs no gradient, so no dC B^T at the first layer)
static int run_bench(const char* isa) {
  struct Shape {
    const char* name;
    int op;
    int64_t m, k, n;
  } shapes[] = {
      {"W3 forward 64x784 . 784x128", 0, 64, 784, 128},
      {"W3 dW1 = A^T dC (784x64 . 64x128)", 1, 64, 784, 128},
      {"784-128 dA = dC B^T (64x128 . 128x784)", 2, 64, 784, 128},
      {"W3 last layer 64x128 . 128x10", 0, 64, 128, 10},
      {"W3 last dW2 (128x64 . 64x10)", 1, 64, 128, 10},
      {"W3 last dH (64x10 . 10x128)", 2, 64, 128, 10},
      {"large forward 1024x784 . 784x2048", 0, 1024, 784, 2048},
      {"large dW (784x1024 . 1024x2048)", 1, 1024, 784, 2048},
      {"large dA (1024x2048 . 2048x784)", 2, 1024, 784, 2048},
      {"W2 X theta (1000x1000 . 1000)", 0, 1000, 1000, 1},
      {"W2 X^T d (1000x1000 . 1000)", 1, 1000, 1000, 1},
  };
  std::printf(
      "%s: GFLOP/s (2 m k n / time, thread CPU time, median of 5 samples of >= 20 ms, f32 and f64 interleaved)\n", isa);
  std::printf("  %-38s %9s %9s %7s\n", "product", "f32", "f64", "f32/f64");
  double w3_32 = 0, w3_64 = 0;
  for (const Shape& s : shapes) {
    // operands: forward A (m k), B (k n), C (m n); atb A, dC, dB (k n); abt B, dC, dA (m k)
    const int64_t na = s.op == 2 ? s.k * s.n : s.m * s.k, nb = s.op == 0 ? s.k * s.n : s.m * s.n,
                  nc = s.op == 0   ? s.m * s.n
                       : s.op == 1 ? s.k * s.n
                                   : s.m * s.k;
    Operands<float> f(na, nb, nc);
    Operands<double> d(na, nb, nc);
    std::vector<double> t32, t64;
    for (int i = 0; i < 5; i++) {
      t32.push_back(seconds_per_call([&] { product(s.op, f, s.m, s.k, s.n); }));
      t64.push_back(seconds_per_call([&] { product(s.op, d, s.m, s.k, s.n); }));
    }
    std::sort(t32.begin(), t32.end());
    std::sort(t64.begin(), t64.end());
    const double flop = 2.0 * static_cast<double>(s.m * s.k * s.n);
    if (std::strncmp(s.name, "W3", 2) == 0) w3_32 += t32[2], w3_64 += t64[2];
    std::printf("  %-38s %9.1f %9.1f %7.2f\n", s.name, flop / t32[2] * 1e-9, flop / t64[2] * 1e-9, t64[2] / t32[2]);
  }
  std::printf("  W3's five products: f32 %.1f us, f64 %.1f us, f32 time / f64 time %.2f\n", w3_32 * 1e6, w3_64 * 1e6,
              w3_32 / w3_64);
  return 0;
}

static int gemm_f32_main(const char* isa, const char* mode) {
  return std::strcmp(mode, "bench") == 0 ? run_bench(isa) : run_checks(isa);
}
