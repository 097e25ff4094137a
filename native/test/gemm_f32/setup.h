// One instruction set's context for the float32 products, as kernels_impl.h sets it up (the
// including isa_*.cpp defines TG_ISA, TG_VBYTES, TG_MR, TG_NV, TG_HAS_FMA and the target), with
// only what the products need: simd.h, k_parallel.h, k_vec.h, k_matmul.h (whose templates give
// the float32 products and the float64 ones the benchmark compares with), and the checks.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "../../core/kernels.h"

namespace tapegrad {
namespace TG_ISA {
#include "../../core/simd.h"
#include "../../core/k_parallel.h"
#include "../../core/k_vec.h"
#include "../../core/k_matmul.h"
#include "check.h"
}  // namespace TG_ISA
}  // namespace tapegrad
