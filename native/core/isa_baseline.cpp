// The kernels for baseline x86-64 (SSE2): the fallback on any CPU.
#define TG_ISA baseline
#define TG_ISA_NAME "baseline"
#define TG_VBYTES 16
#define TG_MR 4
#define TG_NV 2
#define TG_HAS_FMA 0
#include "kernels_impl.h"

namespace tapegrad {
const KernelTable& baseline_table() {
  static const KernelTable t = baseline::make_table();
  return t;
}
}  // namespace tapegrad
