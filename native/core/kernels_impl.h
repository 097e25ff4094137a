// One build of every kernel for the instruction set chosen by the including isa_*.cpp, which
// defines TG_ISA (namespace name), TG_ISA_NAME, TG_VBYTES, TG_HAS_FMA and the matmul tile
// TG_MR x TG_NV (k_matmul.h) and sets the target with #pragma GCC target before including
// this file.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "jsmath.h"
#include "kernels.h"

namespace tapegrad {
namespace TG_ISA {
#include "simd.h"
#include "vmath.h"
#include "k_elementwise.h"
#include "k_reduce.h"
#include "k_matmul.h"
#include "k_loss.h"
#include "k_fast.h"
#include "k_scalar.h"
#include "k_structure.h"
#include "k_tangent.h"
#include "optim.h"

// The math of this build over arrays, for the accuracy tests: "exp" (vector), "log", "log1p",
// "expm1", "tanh" and "pow:<exponent>" (the scalar ports); "log1p_vec", "expm1_vec" and
// "tanh_vec" (the vector versions, vmath.h); "exp_fast" and "tanh_fast" (the faster versions
// value() and reverse() use, k_fast.h). The vector ones run as the kernels do: vector body,
// scalar tail.
struct Expm1F {  // no kernel calls expm1: only the tests (through tanh_vec's code)
  TG_MEMBER vd v(vd x) { return vexpm1(x); }
  TG_MEMBER double s(double x) { return jsmath::expm1(x); }
};
static bool vmath_array(const char* name, const double* x, double* y, int64_t n) {
  static const struct {
    const char* name;
    void (*run)(int64_t, const double*, double*);
  } vec[] = {{"exp", map1<ExpF>},       {"log1p_vec", map1<Log1pF>},  {"expm1_vec", map1<Expm1F>},
             {"tanh_vec", map1<TanhF>}, {"exp_fast", map1<ExpFastF>}, {"tanh_fast", map1<TanhFastF>}};
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
  if (!f) return false;
  for (int64_t i = 0; i < n; i++) y[i] = f(x[i]);
  return true;
}

static KernelTable make_table() {
  KernelTable t{};
  t.isa = TG_ISA_NAME;
  // clang-format off
#define TG_OP(NAME, name) t.fwd[OP_##NAME] = name##_f; t.bwd[OP_##NAME] = name##_b;
  TG_OP(ADD, add) TG_OP(SUB, sub) TG_OP(MUL, mul) TG_OP(DIV, div) TG_OP(NEG, neg) TG_OP(EXP, exp)
  TG_OP(LOG, log) TG_OP(LOG1P, log1p) TG_OP(SQRT, sqrt) TG_OP(SQUARE, square) TG_OP(ABS, abs)
  TG_OP(SIGMOID, sigmoid) TG_OP(TANH, tanh) TG_OP(RELU, relu) TG_OP(SOFTPLUS, softplus) TG_OP(POW, pow)
  TG_OP(BROADCAST, broadcast) TG_OP(SUM, sum) TG_OP(LOGSUMEXP, logsumexp) TG_OP(MATMUL, matmul)
  TG_OP(TRANSPOSE, transpose) TG_OP(SOFTMAX_XENT, softmax_xent) TG_OP(ARGMAX, argmax) TG_OP(ARGMIN, argmin)
  TG_OP(ONE_HOT, one_hot)
  TG_OP(SLICE, slice) TG_OP(CONCAT, concat) TG_OP(GATHER, gather) TG_OP(BATCH_MATMUL, batch_matmul)
#undef TG_OP
      // clang-format on
      for (int op = 0; op < OP_COUNT; op++) t.fast[op] = t.fwd[op];
  t.fast[OP_SUM] = sum_fast_f;
  t.fast[OP_EXP] = exp_fast_f;
  t.fast[OP_SIGMOID] = sigmoid_fast_f;
  t.fast[OP_SOFTPLUS] = softplus_fast_f;
  t.fast[OP_TANH] = tanh_fast_f;
  t.tan[OP_LOGSUMEXP] = logsumexp_t;
  t.tan[OP_SOFTMAX_XENT] = softmax_xent_t;
  if (TG_HAS_FMA) t.fast[OP_MATMUL] = matmul_fast_f;
  if (TG_HAS_FMA) t.fast[OP_BATCH_MATMUL] = batch_matmul_fast_f;
    // clang-format off
#define TG_SCALAR(NAME, S)                                                           \
  t.scalarAFwd[OP_##NAME] = scalar_a_f<S>; t.scalarABwd[OP_##NAME] = scalar_a_b<S>; \
  t.scalarBFwd[OP_##NAME] = scalar_b_f<S>; t.scalarBBwd[OP_##NAME] = scalar_b_b<S>;
  TG_SCALAR(ADD, AddS) TG_SCALAR(SUB, SubS) TG_SCALAR(MUL, MulS) TG_SCALAR(DIV, DivS)
#undef TG_SCALAR
      // clang-format on
      t.sgd = sgd_step;
  t.adam = adam_step;
  t.vmath = vmath_array;
  return t;
}

}  // namespace TG_ISA
}  // namespace tapegrad
