// A compiled tape inside the native backend: validation on load, the value and adjoint arenas,
// the forward and backward sweeps and the finite-difference loops. Pure C++ (no Node-API).
#pragma once
#include <atomic>
#include <cstdlib>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "kernels.h"

namespace tapegrad {

// The fields of src/trace/compile.ts's Tape that the backend needs, copied out of JS.
struct TapeData {
  std::vector<int32_t> code;
  int32_t nInstr = 0, arenaSize = 0, nParams = 0, nInputs = 0, constStart = 0, tempStart = 0, output = 0;
  std::vector<int32_t> inputSizes;  // one entry per input; they sum to nInputs elements
  std::vector<double> constInit;
  std::vector<int32_t> fdPlan;
  std::vector<int32_t> outputs;  // (arena offset, size) pairs of the named outputs, in the temporaries
};

// Where an operand's values live during a call: a region and an offset inside it.
// Region 0 is the parameters (the caller's theta or the arena), 1 + j input j (the caller's
// buffer or the arena), and `arena` everything else.
struct Ref {
  int32_t region;
  int32_t offset;
};

struct Instr {
  int32_t op, flags;
  int32_t out;  // arena offset (always in the temporaries)
  Ref a, b, c;
  int32_t extra;             // arena offset of the scratch region, or -1
  int32_t absA, absB, absC;  // arena offsets of a, b and c as the tape writes them (-1: no operand)
  // 1 (a) or 2 (b): that operand is a scalar broadcast whose instruction was elided, and a/b
  // refer to the scalar itself; 0 otherwise
  int32_t scalarSide;
  // with scalarSide: 0 for a folded scalar; for a folded row (a broadcast [n] -> [rows, n], n >=
  // kRowFold) its n, the operand then read at each element's column (forEachRow in program.cpp)
  int32_t rowInner;
  bool elided;  // a broadcast folded into its only reader
  // adjoint arena offset of the output: out, or that of the add/sub that passes this output's
  // adjoint through unchanged (passAdjoints)
  int32_t gout;
  int32_t p0, p1, p2;
  const int32_t* p;  // all MAX_PARAMS params: a view of the tape's code, which the Program owns
  // a large elementwise instruction: it runs in pieces of elements on the pool (program.cpp),
  // with the operands of the output's extent sliced along it (a folded scalar or pow's exponent
  // is read whole)
  bool pieces, sliceA, sliceB, sliceC;
  // FLAG_SET_A/B/C (kernels.h) the reverse sweep adds to flags: operands whose adjoint this
  // instruction's rule stores, as the first to touch it (planStores)
  int32_t stores;
  // on a matmul: the elementwise instruction whose backward rule runs inside this one's dA
  // (fuseThen), or -1; on that instruction: fused, skipped by the reverse sweep
  int32_t then;
  bool fused;
};

// Buffers of one call. With copy = true, theta and the inputs are copied into the arena and the
// gradient is accumulated there and copied out at the end (used when the gradient buffer
// overlaps theta or an input, and by asynchronous calls); otherwise reads are zero-copy.
// T: the program's element type (double, or float for a float32 program).
template <class T>
struct CallBuffers {
  const T* theta;
  const T* const* inputs;  // nInputCount pointers
  T* grad;                 // nParams elements, or nullptr for value()
  bool copy;
  // fd() stops between coordinates once this is set (an asynchronous call whose environment is
  // shutting down); the gradient is then incomplete and nobody reads it
  const std::atomic<bool>* cancel = nullptr;
};

// An arena of T (double or float) that starts at zero. calloc rather than a vector: a large block
// comes from the OS as zero pages, so load() writes nothing, and the pages a call never touches
// (the parameter and input regions, read in place from the caller's buffers) are never faulted in.
template <class T>
class Arena {
 public:
  explicit Arena(size_t n = 0) : p_(n ? static_cast<T*>(std::calloc(n, sizeof(T))) : nullptr) {
    if (n && !p_) throw std::bad_alloc();
  }
  T* data() const { return p_.get(); }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> p_;
};

// A program of one element type: Program<double> (float64) or Program<float> (float32, whose
// arenas, arguments and results are float32: src/api/dtype.ts). Both are instantiated in
// program.cpp; the kernels are the build's Kernels<T> (kernels.h).
template <class T>
class Program {
 public:
  using Elem = T;
  using Call = CallBuffers<T>;

 public:
  // Validates every field and every instruction (opcodes, extents inside the arena, outputs only
  // in the temporaries, no output overlapping an operand, a consistent FD plan); nullptr and the
  // reason in *error when anything is wrong.
  static std::unique_ptr<Program> load(TapeData&& tape, const KernelTable* kernels, std::string* error);

  double value(const Call& call);
  double reverse(const Call& call);
  // plan: nullptr for the tape's own FD plan, else a replacement (a subset of coordinates,
  // checked with checkPlan first); only the plan's coordinates of grad are written.
  // In float32 the step is h = fl32(x + relStep max(1, |x|)) - x, as the js reference takes it.
  double fd(const Call& call, bool central, double relStep, bool reuse, const int32_t* plan = nullptr,
            size_t planLen = 0);

  // Forward mode (tangents): f in *value and its derivative along `tangent` (nParams elements)
  // in *derivative. false (and the reason in *error) when an op has no tangent rule.
  bool jvp(const Call& call, const T* tangent, double* value, double* derivative, std::string* error);
  // Forward-mode gradient: f in *value, and grad[i] = df/dθ_i from one tangent sweep per
  // coordinate of the plan (the tape's own when plan is nullptr), each from the coordinate's
  // first reader with reuse.
  bool forwardGrad(const Call& call, bool reuse, const int32_t* plan, size_t planLen, double* value,
                   std::string* error);

  // Triples (start, end, firstInstr) inside the parameters and the code, firstInstr not
  // increasing (the order that keeps suffix reuse correct); the reason in *error otherwise.
  bool checkPlan(const int32_t* plan, size_t len, std::string* error) const;

  // Copies the named outputs of the last forward sweep (value() or reverse()), one after another,
  // into out (outputSize() elements).
  void copyOutputs(T* out) const;
  int64_t outputSize() const { return outputSize_; }

  // How many threads this function's calls may use (1 by default): the FD loop over parameter
  // pieces, large matmuls and large elementwise instructions. The results are the same bits for
  // any count.
  void setThreads(int n);
  int threads() const { return par_.width; }
  // What the load passes decided, PASS_WORDS words per instruction: elided, scalarSide, gout,
  // flags, absA, absB, absC (tests compare them with a transcription of the passes' first version).
  static constexpr int PASS_WORDS = 7;
  std::vector<int32_t> passes() const;

  int32_t paramCount() const { return tape_.nParams; }
  int32_t inputCount() const { return static_cast<int32_t>(tape_.inputSizes.size()); }
  int32_t inputSize(int32_t j) const { return tape_.inputSizes[j]; }
  const char* isa() const { return kernels_->isa; }

 private:
  Program(TapeData&& tape, const KernelTable* kernels);
  void bind(const Call& call, bool paramsInArena);
  const Kernels<T>& K() const { return kernels_of<T>(*kernels_); }
  void fuseScalarBroadcasts();
  // the tangent arena zeroed (sized on first use); false when an op of the tape has no tangent
  // rule in this kernel table
  bool prepareTangents(std::string* error);
  // one tangent sweep from instruction `from` over tangent arena t (the value arena's layout) with
  // scratch for a bilinear rule's second term; operands are read through vbase_, outputs and
  // `extra` (which some rules write) in v: the program's value arena or a copy of it
  void tangentSweep(int32_t from, T* t, T* scratch, T* v);
  void passAdjoints();
  // Sets Instr::stores; the adjoint ranges (arena offsets) those stores cover, sorted, in *stored
  void planStores(std::vector<std::pair<int64_t, int64_t>>* stored);
  void fuseThen();
  void planPieces();

  // What one forward sweep writes and reads: the value arena and each region's base (the
  // program's own, or an FD worker's copy), and the pool for the kernels (nullptr: one thread).
  struct Sweep {
    T* v;
    const T* const* vbase;
    const Parallel* par;
  };
  Sweep mainSweep() { return {v_.data(), vbase_.data(), par_.width > 1 ? &par_ : nullptr}; }
  // exact: the js reference's bits (finite differences need them); otherwise value() and
  // reverse() may use the faster kernels of KernelTable::fast (agreement 1e-12, not bits)
  // over instrs_, or over `list` (plain_: no instruction elided)
  void forward(int32_t from, bool exact, const Sweep& s, const std::vector<Instr>* list = nullptr);
  double outputValue(const Sweep& s) const { return s.vbase[outRef_.region][outRef_.offset]; }
  double outputValue() const { return vbase_[outRef_.region][outRef_.offset]; }

  // One FD coordinate i, its evaluations starting at instruction `from`, on a sweep whose values
  // before `from` are the unperturbed ones; the derivative goes to grad[i].
  void fdCoordinate(const Sweep& s, int32_t i, int32_t from, bool central, double relStep, double f0, T* grad);
  // The FD loop over pieces of the plan on the pool, each participant on its own copy of the
  // arena; false (nothing done) when the plan is too small to gain from it.
  bool fdParallel(const Call& call, bool central, double relStep, bool reuse, const int32_t* plan, size_t len,
                  double f0);
  // The forward-mode loop the same way: each participant sweeps its own tangent arena (zeroed
  // once), reading the one value arena nobody writes meanwhile.
  bool forwardGradParallel(const Call& call, bool reuse, const int32_t* plan, size_t len);
  // Runs of coordinates inside one plan entry (in plan order), about 8 per participant; none when
  // the plan's work does not pay for `perParticipant` elements of setup per participant.
  struct Piece {
    int32_t from, begin, end;
  };
  std::vector<Piece> splitPlan(const int32_t* plan, size_t len, bool reuse, int64_t perParticipant) const;

  TapeData tape_;
  const KernelTable* kernels_;
  std::vector<Instr> instrs_;
  std::vector<int32_t> inputStart_;
  Ref outRef_{};
  int64_t outputSize_ = 0;
  bool alwaysCopy_ = false;  // an operand spans two regions: read everything from the arena
  // adjoint ranges zeroed before a sweep: temporaries' (arena offsets), and the parameters'
  // (offsets into the gradient) but those a rule stores
  std::vector<std::pair<int64_t, int64_t>> zeroSpans_, paramZeroSpans_;
  Arena<T> v_, g_;  // value and adjoint arenas
  // forward mode: the instructions as the tape wrote them (before fuseScalarBroadcasts and
  // passAdjoints rewrote instrs_), the tangent arena (the value arena's layout) and scratch for
  // the second term of a bilinear rule
  std::vector<Instr> plain_;
  std::vector<T> t_, tscratch_;
  // base pointer of each region for the current call (values and adjoints)
  std::vector<const T*> vbase_;
  std::vector<T*> gbase_;
  Parallel par_{1, nullptr};
  // work of a forward sweep from instruction i to the end (about one unit per element touched,
  // one per multiply-add), for the FD loop's split
  std::vector<double> suffixWork_;
  // FD workers' arenas (one per participant of the pool, kept between calls) and region bases
  struct FdArena {
    std::unique_ptr<T[]> v;
    std::vector<const T*> vbase;
  };
  std::vector<FdArena> fdArenas_;
  // forward-mode workers' tangent arenas and scratch (one per participant, kept between calls)
  struct TanArena {
    std::vector<T> t, scratch;
    std::unique_ptr<T[]> v;  // a copy of the value arena, when a tangent rule writes `extra`
  };
  std::vector<TanArena> tanArenas_;
};

extern template class Program<double>;
extern template class Program<float>;

}  // namespace tapegrad
