// The float32 products' checks in the AVX-512 build, as native/core/isa_avx512.cpp.
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")
#define TG_ISA avx512
#define TG_VBYTES 64
#define TG_MR 8
#define TG_NV 3
#define TG_HAS_FMA 1
#include "setup.h"

int gemm_f32_avx512(const char* mode) { return tapegrad::avx512::gemm_f32_main("avx512", mode); }
