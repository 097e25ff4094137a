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
struct Fwd {
  double* out;
  const double* a;
  const double* b;
  double* extra;
  int32_t p0, p1, p2;
  const double* c;
  const int32_t* p;
  const Parallel* par;
};

// The backward rule's view: values (v*) and adjoints (g*). ga, gb and gc may be the same pointer,
// so rules update them one after the other, never through restrict pointers.
struct Bwd {
  const double* out;
  const double* a;
  const double* b;
  const double* extra;
  const double* gout;
  double* ga;
  double* gb;
  int32_t flags, p0, p1, p2;
  const double* c;
  double* gc;
  const int32_t* p;
  const Parallel* par;
};

// A custom tangent rule's view (forward mode, k_tangent.h): values, operand tangents (ta, tb, tc)
// and the output tangent it writes (tout).
struct Tan {
  const double* out;
  const double* a;
  const double* b;
  const double* c;
  const double* extra;
  const double* ta;
  const double* tb;
  const double* tc;
  double* tout;
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

using FwdFn = void (*)(const Fwd&);
using BwdFn = void (*)(const Bwd&);
using TanFn = void (*)(const Tan&);

// Forward rules reproduce the js reference bit for bit (same IEEE operations in the same order,
// fdlibm math): finite differences divide f's rounding by h, so any difference would show.
// Backward rules only need to agree to 1e-12 and may reorder sums and fuse multiply-adds.
struct KernelTable {
  const char* isa;
  FwdFn fwd[OP_COUNT];
  BwdFn bwd[OP_COUNT];
  // Forward rules for value() and reverse(), where the bar is agreement to 1e-12, not bits: the
  // same as fwd except where reassociating sums or a faster exp pays (k_fast.h). Finite
  // differences always use fwd.
  FwdFn fast[OP_COUNT];
  // Tangent rules of the ops whose tangent mode is custom (OP_TANGENT); null for the others.
  TanFn tan[OP_COUNT];
  // add/sub/mul/div with operand a (scalarA) or b (scalarB) a scalar repeated p0 times
  // (k_elementwise.gen.h); null for the other ops.
  FwdFn scalarAFwd[OP_COUNT], scalarBFwd[OP_COUNT];
  BwdFn scalarABwd[OP_COUNT], scalarBBwd[OP_COUNT];
  void (*sgd)(const SgdStep&);
  void (*adam)(const AdamStep&);
  // Vector math over arrays, for the accuracy tests: name in {exp}; false if unknown.
  bool (*vmath)(const char* name, const double* x, double* y, int64_t n);
  // Independent chains of vector multiply-adds (k_peak.h), for the measured peak `npm run bench`
  // reports: reps rounds in float64 (f32 false) or float32; returns the FLOPs, *sink their sum.
  double (*peak)(bool f32, int64_t reps, double* sink);
};

// The three builds of the kernels (isa_baseline.cpp, isa_avx2.cpp, isa_avx512.cpp).
const KernelTable& baseline_table();
const KernelTable& avx2_table();
const KernelTable& avx512_table();

}  // namespace tapegrad
