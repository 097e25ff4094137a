// The kernels for AVX-512 (F, DQ, VL, BW; x86-64-v4), chosen at run time where the CPU has them.
#if defined(__x86_64__) || defined(__i386__)
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")
#define TG_ISA avx512
#define TG_ISA_NAME "avx512"
#define TG_VBYTES 64
#define TG_MR 8
#define TG_NV 3
#define TG_HAS_FMA 1
#include "kernels_impl.h"

namespace tapegrad {
const KernelTable& avx512_table() {
  static const KernelTable t = avx512::make_table();
  return t;
}
}  // namespace tapegrad
#else
#include "kernels.h"
namespace tapegrad {
// not an x86 CPU: dispatch never selects this build
const KernelTable& avx512_table() { return baseline_table(); }
}  // namespace tapegrad
#endif
