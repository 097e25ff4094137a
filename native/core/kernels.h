// The kernel interface between the tape interpreter (program.cpp) and the per-instruction-set
// kernel tables (isa_*.cpp). Pure C++: no Node-API types anywhere under native/core.
#pragma once
#include <cstdint>

#include "opcodes.h"

namespace tapegrad {

// How a kernel may spread independent pieces of its work over threads (program.cpp supplies
// it): run(self, n, task, ctx) calls task(ctx, i) for every i in [0, n) on up to `width`
// threads and returns when all are done. A kernel cuts its work into pieces chosen from the
// shapes alone, never from the width, and only where the cut changes no operation (rows of a
// product, never a sum's order): the result is the same bits on any number of threads, and
// the same as one piece. nullptr: one thread.
struct Parallel {
  int width;
  void (*run)(const Parallel& self, int64_t n, void (*task)(void* ctx, int64_t i), void* ctx);
};

// One instruction's operands for the forward rule, already resolved to pointers (the value of an
// input may live in the caller's buffer, a parameter in the caller's theta). Operands may be the
// same pointer (x*x); `out` and `extra` never overlap them (the loader checks). `b` and `c` point
// at a valid address even when the op has no such operand. p0..p2 repeat p[0..2]; `p` holds all
// MAX_PARAMS params of the instruction (unused ones are 0).
// T is the arena's element type (double, or float for a float32 program: src/api/dtype.ts); the
// kernels read T, compute in double (sums of products may accumulate in float, k_matmul.h)
// and round once on store.
template <class T>
struct Fwd {
  T* out;
  const T* a;
  const T* b;
  T* extra;
  int32_t p0, p1, p2;
  const T* c;
  const int32_t* p;
  const Parallel* par;
};

// Bits of Bwd::flags beside the tape's FLAG_GRAD_*: the rule stores that operand's adjoint,
// 0 + its contribution, rather than adding to it. The reverse sweep sets one where the rule is
// the sweep's first touch of that adjoint (nothing wrote or read it before) and the rule honours
// it (Kernels::setSides); that adjoint is then not zeroed before the sweep (program.cpp). The
// same values as adding to a zero, without writing the zeros first: at MLP 784-2048-10, batch
// 1,024 that was 45 MB of memset per gradient.
constexpr int32_t FLAG_SET_A = 16;
constexpr int32_t FLAG_SET_B = 32;
constexpr int32_t FLAG_SET_C = 64;

template <class T>
struct Then;

// The backward rule's view: values (v*) and adjoints (g*). ga, gb and gc may be the same pointer,
// so rules update them one after the other, never through restrict pointers.
template <class T>
struct Bwd {
  const T* out;
  const T* a;
  const T* b;
  const T* extra;
  const T* gout;
  T* ga;
  T* gb;
  int32_t flags, p0, p1, p2;
  const T* c;
  T* gc;
  const int32_t* p;
  const Parallel* par;
  // matmul only: the backward rule of the elementwise op whose output is operand a, run on each
  // block of rows of dA as it is computed, from a scratch block in cache (program.cpp, fuseThen);
  // dA itself is then never written to the arena. nullptr otherwise.
  const Then<T>* then = nullptr;
};

// That rule and its operands at element 0 (args.gout is replaced by the block of dA).
template <class T>
struct Then {
  void (*fn)(const Bwd<T>&);
  Bwd<T> args;
};

// A custom tangent rule's view (forward mode, k_tangent.h): values, operand tangents (ta, tb, tc)
// and the output tangent it writes (tout).
template <class T>
struct Tan {
  const T* out;
  const T* a;
  const T* b;
  const T* c;
  const T* extra;
  const T* ta;
  const T* tb;
  const T* tc;
  T* tout;
  int32_t flags;
  const int32_t* p;
};

// One fused optimizer step over n elements (optim.h), theta updated in place. The options are
// the optimizer's; lr (SGD) and stepSize, epsHat, decay (Adam) are this step's scalars,
// computed by the TS layer (src/train/optimizers.ts) so that every backend gets the same doubles.
struct SgdStep {
  double* theta;
  const double* grad;
  double* buf;  // the momentum buffer (unused when momentum is 0)
  int64_t n;
  double momentum, dampening, weightDecay, lr;
  bool nesterov, maximize, first;
};
struct AdamStep {
  double* theta;
  const double* grad;
  double *m, *v, *vmax;  // vmax only with amsgrad
  int64_t n;
  double beta1, beta2, weightDecay;
  // lr sqrt(1 - beta2^t) / (1 - beta1^t), eps sqrt(1 - beta2^t), 1 - lr weightDecay
  double stepSize, epsHat, decay;
  bool decoupled, amsgrad, maximize;
};

template <class T>
using FwdFn = void (*)(const Fwd<T>&);
template <class T>
using BwdFn = void (*)(const Bwd<T>&);
template <class T>
using TanFn = void (*)(const Tan<T>&);

// Forward rules reproduce the js reference bit for bit (same IEEE operations in the same order,
// fdlibm math): finite differences divide f's rounding by h, so any difference would show.
// Backward rules only need to agree to 1e-12 and may reorder sums and fuse multiply-adds.
// One element type's kernels (every build has both: Kernels<double> and Kernels<float>).
template <class T>
struct Kernels {
  FwdFn<T> fwd[OP_COUNT];
  BwdFn<T> bwd[OP_COUNT];
  // Forward rules for value() and reverse(), where the bar is agreement to 1e-12, not bits: the
  // same as fwd except where reassociating sums or a faster exp pays (k_fast.h). Finite
  // differences always use fwd.
  FwdFn<T> fast[OP_COUNT];
  // Tangent rules of the ops whose tangent mode is custom (OP_TANGENT); null for the others.
  TanFn<T> tan[OP_COUNT];
  // add/sub/mul/div with operand a (scalarA) or b (scalarB) a scalar repeated p0 times
  // (k_elementwise.gen.h); null for the other ops.
  FwdFn<T> scalarAFwd[OP_COUNT], scalarBFwd[OP_COUNT];
  BwdFn<T> scalarABwd[OP_COUNT], scalarBBwd[OP_COUNT];
  // FLAG_GRAD_A/B/C of the operands whose backward rule (bwd, and scalarABwd/scalarBBwd for the
  // operand that is not the scalar) honours FLAG_SET_A/B/C
  int32_t setSides[OP_COUNT];
};

struct KernelTable {
  const char* isa;
  Kernels<double> f64;
  Kernels<float> f32;
  // the optimizers run on float64 state only (training refuses float32 functions)
  void (*sgd)(const SgdStep&);
  void (*adam)(const AdamStep&);
  // Vector math over arrays, for the accuracy tests: name in {exp}; false if unknown.
  bool (*vmath)(const char* name, const double* x, double* y, int64_t n);
  // Independent chains of vector multiply-adds (k_peak.h), for the measured peak `npm run bench`
  // reports: reps rounds in float64 (f32 false) or float32; returns the FLOPs, *sink their sum.
  double (*peak)(bool f32, int64_t reps, double* sink);
};

template <class T>
const Kernels<T>& kernels_of(const KernelTable& t);
template <>
inline const Kernels<double>& kernels_of<double>(const KernelTable& t) {
  return t.f64;
}
template <>
inline const Kernels<float>& kernels_of<float>(const KernelTable& t) {
  return t.f32;
}

// The three builds of the kernels (isa_baseline.cpp, isa_avx2.cpp, isa_avx512.cpp).
const KernelTable& baseline_table();
const KernelTable& avx2_table();
const KernelTable& avx512_table();

}  // namespace tapegrad
