// The float32 products' checks in the baseline (SSE2) build, as native/core/isa_baseline.cpp.
#define TG_ISA baseline
#define TG_VBYTES 16
#define TG_MR 4
#define TG_NV 2
#define TG_HAS_FMA 0
#include "setup.h"

int gemm_f32_baseline(const char* mode) { return tapegrad::baseline::gemm_f32_main("baseline", mode); }
