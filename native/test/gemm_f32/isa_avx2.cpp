// The float32 products' checks in the AVX2 + FMA build, as native/core/isa_avx2.cpp.
#pragma GCC target("avx2,fma")
#define TG_ISA avx2
#define TG_VBYTES 32
#define TG_MR 4
#define TG_NV 2
#define TG_HAS_FMA 1
#include "setup.h"

int gemm_f32_avx2(const char* mode) { return tapegrad::avx2::gemm_f32_main("avx2", mode); }
