// The kernels for AVX2 + FMA (x86-64-v3), chosen at run time where the CPU has them.
#if defined(__x86_64__) || defined(__i386__)
#pragma GCC target("avx2,fma")
#define TG_ISA avx2
#define TG_ISA_NAME "avx2"
#define TG_VBYTES 32
#define TG_MR 4
#define TG_NV 2
#define TG_HAS_FMA 1
#include "kernels_impl.h"

namespace tapegrad {
const KernelTable& avx2_table() {
  static const KernelTable t = avx2::make_table();
  return t;
}
}  // namespace tapegrad
#else
#include "kernels.h"
namespace tapegrad {
// not an x86 CPU: dispatch never selects this build
const KernelTable& avx2_table() { return baseline_table(); }
}  // namespace tapegrad
#endif
