// The float32 products of native/core/k_matmul.h, checked against a float64 reference in every
// kernel build this CPU runs (baseline, avx2, avx512), or timed beside the float64 products.
//   gemm_f32 [check|bench] [isa]     (scripts/gemm-f32.mjs builds and runs it)
#include <cstdio>
#include <cstring>
#include <string>

int gemm_f32_baseline(const char* mode);
int gemm_f32_avx2(const char* mode);
int gemm_f32_avx512(const char* mode);

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "check";
  const std::string only = argc > 2 ? argv[2] : "";
  if (std::strcmp(mode, "check") != 0 && std::strcmp(mode, "bench") != 0) {
    std::fprintf(stderr, "usage: gemm_f32 [check|bench] [baseline|avx2|avx512]\n");
    return 2;
  }
  bool avx2 = false, avx512 = false;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();  // as native/core/dispatch.cpp
  avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
#endif
  int failed = 0, ran = 0;
  auto run = [&](const char* name, bool ok, int (*f)(const char*)) {
    if (!ok || (!only.empty() && only != name)) return;
    ran++;
    failed += f(mode) != 0;
  };
  run("baseline", true, gemm_f32_baseline);
  run("avx2", avx2, gemm_f32_avx2);
  run("avx512", avx512, gemm_f32_avx512);
  if (!ran) {
    std::fprintf(stderr, "no kernel build ran (%s)\n", only.c_str());
    return 2;
  }
  return failed ? 1 : 0;
}
