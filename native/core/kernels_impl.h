// One build of every kernel for the instruction set chosen by the including isa_*.cpp, which
// defines TG_ISA (namespace name), TG_ISA_NAME, TG_VBYTES, TG_HAS_FMA and the matmul tile
// TG_MR x TG_NV (k_matmul.h) and sets the target with #pragma GCC target before including
// this file.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "jsmath.h"
#include "jsmath_erf.h"
#include "jsmath_trig.h"
#include "kernels.h"

namespace tapegrad {
namespace TG_ISA {
#include "simd.h"
#include "vmath.h"
#include "vmath_trig.h"
#include "k_parallel.h"
#include "k_elementwise.h"
#include "k_reduce.h"
#include "k_vec.h"
#include "k_matmul.h"
#include "k_loss.h"
#include "k_fast.h"
#include "k_conv.h"
#include "k_structure.h"
#include "k_tangent.h"
#include "optim.h"
#include "k_peak.h"
#include "k_elementwise.gen.h"

// The math of this build over arrays, for the accuracy tests: "exp" (vector), "log", "log1p",
// "expm1", "tanh", "sin", "cos", "erf", "erfc" and "pow:<exponent>" (the scalar ports); "log1p_vec", "expm1_vec" and
// "tanh_vec", "sin_vec" and "cos_vec" (the vector versions, vmath.h and vmath_trig.h); "exp_fast" and "tanh_fast" (the
// faster versions value() and reverse() use, k_fast.h). The vector ones run as the kernels do: vector body, scalar
// tail.
struct Expm1F {  // no kernel calls expm1: only the tests (through tanh_vec's code)
  TG_MEMBER vd v(vd x) { return vexpm1(x); }
  TG_MEMBER double s(double x) { return jsmath::expm1(x); }
};
struct SinF {  // for the elementwise generator's sin and cos (vmath_trig.h)
  TG_MEMBER vd v(vd x) { return vsin(x); }
  TG_MEMBER double s(double x) { return jsmath::sin(x); }
};
struct CosF {
  TG_MEMBER vd v(vd x) { return vcos(x); }
  TG_MEMBER double s(double x) { return jsmath::cos(x); }
};
static bool vmath_array(const char* name, const double* x, double* y, int64_t n) {
  static const struct {
    const char* name;
    void (*run)(int64_t, const double*, double*);
  } vec[] = {{"exp", map1<ExpF>},       {"log1p_vec", map1<Log1pF>},  {"expm1_vec", map1<Expm1F>},
             {"tanh_vec", map1<TanhF>}, {"exp_fast", map1<ExpFastF>}, {"tanh_fast", map1<TanhFastF>},
             {"sin_vec", map1<SinF>},   {"cos_vec", map1<CosF>}};
  for (const auto& v : vec)
    if (std::strcmp(name, v.name) == 0) {
      v.run(n, x, y);
      return true;
    }
  if (std::strncmp(name, "pow:", 4) == 0) {
    const double p = std::strtod(name + 4, nullptr);
    for (int64_t i = 0; i < n; i++) y[i] = jsmath::pow(x[i], p);
    return true;
  }
  double (*f)(double) = nullptr;
  if (std::strcmp(name, "log") == 0) f = jsmath::log;
  if (std::strcmp(name, "log1p") == 0) f = jsmath::log1p;
  if (std::strcmp(name, "expm1") == 0) f = jsmath::expm1;
  if (std::strcmp(name, "tanh") == 0) f = jsmath::tanh;
  if (std::strcmp(name, "sin") == 0) f = jsmath::sin;
  if (std::strcmp(name, "cos") == 0) f = jsmath::cos;
  if (std::strcmp(name, "erf") == 0) f = jsmath::erf;
  if (std::strcmp(name, "erfc") == 0) f = jsmath::erfc;
  if (!f) return false;
  for (int64_t i = 0; i < n; i++) y[i] = f(x[i]);
  return true;
}

// one element type's table: the generated ones, then the hand-written ops' faster
// value()/reverse() rules (k_fast.h) and custom tangent rules (k_tangent.h)
template <class T>
static Kernels<T> make_kernels() {
  Kernels<T> t{};
  for (int op = 0; op < OP_COUNT; op++) {
    t.fwd[op] = FWD_TABLE<T>[op];
    t.bwd[op] = BWD_TABLE<T>[op];
    t.fast[op] = FAST_TABLE<T>[op];
    t.scalarAFwd[op] = SCALAR_A_FWD<T>[op];
    t.scalarABwd[op] = SCALAR_A_BWD<T>[op];
    t.scalarBFwd[op] = SCALAR_B_FWD<T>[op];
    t.scalarBBwd[op] = SCALAR_B_BWD<T>[op];
    t.setSides[op] = SET_SIDES[op];
  }
  t.setSides[OP_MATMUL] = FLAG_GRAD_A | FLAG_GRAD_B;
  t.fast[OP_SUM] = sum_fast_f<T>;
  t.tan[OP_LOGSUMEXP] = logsumexp_t<T>;
  t.tan[OP_SOFTMAX_XENT] = softmax_xent_t<T>;
  t.tan[OP_MAX] = max_t<T>;
  t.tan[OP_MIN] = min_t<T>;
  t.tan[OP_MAX_POOL2D] = max_pool2d_t<T>;
  t.fast[OP_CONV2D] = conv2d_fast_f<T>;
  if (TG_HAS_FMA) t.fast[OP_MATMUL] = matmul_fast_f<T>;
  if (TG_HAS_FMA) t.fast[OP_BATCH_MATMUL] = batch_matmul_fast_f<T>;
  return t;
}

static KernelTable make_table() {
  KernelTable t{};
  t.isa = TG_ISA_NAME;
  t.f64 = make_kernels<double>();
  t.f32 = make_kernels<float>();
  t.sgd = sgd_step;
  t.adam = adam_step;
  t.vmath = vmath_array;
  t.peak = peak_fma;
  return t;
}

}  // namespace TG_ISA
}  // namespace tapegrad
