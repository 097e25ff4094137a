#include "program.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "intervals.h"
#include "thread-pool.h"

namespace tapegrad {

namespace {

// Elementwise instructions of at least kElemSplit elements run in pieces of kElemPiece on the
// pool: a multiple of every build's vector width, so each piece takes the vector steps the whole
// would (the same bits). Below that, handing work to another thread costs more than it saves.
constexpr int64_t kElemPiece = 8192;
constexpr int64_t kElemSplit = 2 * kElemPiece;
// The FD loop runs on the pool when the plan's work (Program::suffixWork_ units, about a
// nanosecond each) reaches this, and in pieces of at least kFdPiece.
constexpr double kFdSplit = 1 << 17;
constexpr double kFdPiece = 1 << 15;
// A broadcast of a row [n] to [rows, n] is folded into its reader (fuseScalarBroadcasts) from
// n = kRowFold: the reader then runs once per row (forEachRow), each call long enough to cost
// more than the call.
constexpr int32_t kRowFold = 64;

// Parallel::run (kernels.h) on the shared pool
void runOnPool(const Parallel& p, int64_t n, void (*task)(void*, int64_t), void* ctx) {
  ThreadPool::shared().run(n, p.width, [task, ctx](int64_t i, int) { task(ctx, i); });
}

bool fail(std::string* error, const std::string& msg) {
  *error = msg;
  return false;
}

std::string at(int32_t i) { return "instruction " + std::to_string(i); }

// the elements a folded operand (Instr::scalarSide) holds: a scalar, or a row
int64_t folded(const Instr& in) { return in.rowInner ? in.rowInner : 1; }

using Spans = std::vector<std::pair<int64_t, int64_t>>;

// the ranges of `from` not in `cut`, both sorted and disjoint (empty ranges dropped)
Spans minus(const Spans& from, const Spans& cut) {
  Spans out;
  size_t c = 0;
  for (auto [lo, hi] : from) {
    while (c < cut.size() && cut[c].second <= lo) c++;
    for (size_t q = c; q < cut.size() && cut[q].first < hi; q++) {
      if (cut[q].first > lo) out.emplace_back(lo, cut[q].first);
      lo = std::max(lo, cut[q].second);
    }
    if (lo < hi) out.emplace_back(lo, hi);
  }
  return out;
}

}  // namespace

template <class T>
Program<T>::Program(TapeData&& tape, const KernelTable* kernels) : tape_(std::move(tape)), kernels_(kernels) {}

template <class T>
std::unique_ptr<Program<T>> Program<T>::load(TapeData&& t, const KernelTable* kernels, std::string* error) {
  std::unique_ptr<Program> p(new Program(std::move(t), kernels));
  const TapeData& d = p->tape_;
  // the validation contract (src/trace/tape-rules.ts; RULE_* and RULE_TEXT are generated): the
  // same rules, in the same order and with the same messages, as the js and wasm checkers
  auto broken = [&](Rule r) { return fail(error, RULE_TEXT[r]); };
  auto check = [&]() -> bool {
    if (d.nInstr < 0 || d.nParams < 0 || d.nInputs < 0 || d.constStart < 0 || d.tempStart < 0 || d.arenaSize < 0 ||
        d.output < 0)
      return broken(RULE_LAYOUT_SIZES);
    if (d.code.size() != static_cast<size_t>(d.nInstr) * INSTR_WIDTH) return broken(RULE_LAYOUT_CODE);
    if (d.constStart != static_cast<int64_t>(d.nParams) + d.nInputs || d.tempStart > d.arenaSize ||
        static_cast<int64_t>(d.constInit.size()) != static_cast<int64_t>(d.tempStart) - d.constStart)
      return broken(RULE_LAYOUT_REGIONS);
    int64_t inputs = 0;
    for (int32_t s : d.inputSizes) {
      if (s < 0) return broken(RULE_LAYOUT_INPUTS);
      p->inputStart_.push_back(static_cast<int32_t>(d.nParams + inputs));
      inputs += s;
    }
    if (inputs != d.nInputs) return broken(RULE_LAYOUT_INPUTS);
    if (d.output >= d.arenaSize) return broken(RULE_LAYOUT_OUTPUT);
    if (d.outputs.size() % 2 != 0) return broken(RULE_LAYOUT_OUTPUTS);
    for (size_t k = 0; k < d.outputs.size(); k += 2) {
      const int64_t o = d.outputs[k], n = d.outputs[k + 1];
      if (o < d.tempStart || n < 0 || o + n > d.arenaSize) return broken(RULE_LAYOUT_OUTPUTS);
      p->outputSize_ += n;
    }

    const int32_t arenaRegion = static_cast<int32_t>(d.inputSizes.size()) + 1;
    // Where an operand lives: the parameters, one input (both read in place from the caller's
    // buffers) or the arena. One that spans two regions (never in a compiled tape) is read from
    // the arena, with theta and the inputs copied there on every call.
    auto locate = [&](int64_t off, double len, Ref* ref) -> bool {
      if (off < 0 || len < 0 || off + len > d.arenaSize) return false;
      const int64_t end = off + static_cast<int64_t>(len);
      *ref = {arenaRegion, static_cast<int32_t>(off)};
      if (off < d.nParams) {
        if (end <= d.nParams)
          *ref = {0, static_cast<int32_t>(off)};
        else
          p->alwaysCopy_ = true;
        return true;
      }
      // the last input starting at or before off is the only one that can hold it (inputs of
      // no elements hold nothing)
      const auto next = std::upper_bound(p->inputStart_.begin(), p->inputStart_.end(), off);
      if (next == p->inputStart_.begin()) return true;
      const size_t j = static_cast<size_t>(next - p->inputStart_.begin()) - 1;
      const int64_t s = p->inputStart_[j];
      if (off < s + d.inputSizes[j]) {
        if (end <= s + d.inputSizes[j])
          *ref = {static_cast<int32_t>(j + 1), static_cast<int32_t>(off - s)};
        else
          p->alwaysCopy_ = true;
      }
      return true;
    };
    if (!locate(d.output, 1, &p->outRef_)) return broken(RULE_LAYOUT_OUTPUT);

    auto overlaps = [](int64_t x, double lx, int64_t y, double ly) {
      return lx > 0 && ly > 0 && x < y + ly && y < x + lx;
    };
    for (int32_t i = 0; i < d.nInstr; i++) {
      const int32_t* w = &d.code[static_cast<size_t>(i) * INSTR_WIDTH];
      Instr in{};
      in.then = -1;
      in.op = w[F_OP];
      in.flags = w[F_FLAGS];
      in.p = w + F_P0;
      in.p0 = in.p[0];
      in.p1 = in.p[1];
      in.p2 = in.p[2];
      if (in.op < 0 || in.op >= OP_COUNT) return fail(error, at(i) + ": " + RULE_TEXT[RULE_OPCODE]);
      auto rule = [&](Rule r) { return fail(error, at(i) + " (" + OP_NAMES[in.op] + "): " + RULE_TEXT[r]); };
      const int32_t arity = OP_ARITY[in.op];
      if (in.flags & ~(FLAG_GRAD_A | FLAG_GRAD_B | FLAG_GRAD_C | FLAG_GRAD_OUT)) return rule(RULE_FLAGS);
      if ((arity < 2 && (in.flags & FLAG_GRAD_B)) || (arity < 3 && (in.flags & FLAG_GRAD_C)))
        return rule(RULE_GRAD_OPERAND);
      for (int q = 0; q < MAX_PARAMS; q++)
        if (in.p[q] < ((OP_SIZE_PARAMS[in.op] >> q) & 1) || (q >= OP_PARAM_COUNT[in.op] && in.p[q] != 0))
          return rule(RULE_SIZE);
      if (!op_limits_ok(in.op, in.p)) return rule(RULE_LIMIT);
      const double eOut = op_extent(in.op, 0, in.p);
      const double eX = op_extent(in.op, 4, in.p);
      const int32_t extraAt = OP_EXTRA_AT[in.op];
      // the output (and scratch) must be temporaries: never the caller's buffers or constants
      const int64_t out = w[F_OUT];
      if (out < d.tempStart || out + eOut > d.arenaSize) return rule(RULE_OUT);
      in.out = static_cast<int32_t>(out);
      in.scalarSide = 0;
      in.elided = false;
      in.gout = in.out;
      // operands a, b, c: located, or (absent) the arena's first element
      const int32_t fields[3] = {F_A, F_B, F_C};
      const Rule rules[3] = {RULE_A, RULE_B, RULE_C};
      Ref* refs[3] = {&in.a, &in.b, &in.c};
      int32_t* abs[3] = {&in.absA, &in.absB, &in.absC};
      double extent[3];
      for (int k = 0; k < 3; k++) {
        extent[k] = k < arity ? op_extent(in.op, k + 1, in.p) : 0;
        *abs[k] = k < arity ? w[fields[k]] : -1;
        *refs[k] = {arenaRegion, 0};
        if (k < arity && !locate(w[fields[k]], extent[k], refs[k])) return rule(rules[k]);
      }
      const int64_t x = extraAt >= 0 ? w[F_P0 + extraAt] : 0;
      if (extraAt >= 0 && (x < d.tempStart || x + eX > d.arenaSize)) return rule(RULE_EXTRA);
      for (int k = 0; k < arity; k++)
        if (overlaps(out, eOut, *abs[k], extent[k])) return rule(RULE_OUT_OVERLAP);
      if (extraAt >= 0) {
        bool bad = overlaps(x, eX, out, eOut);
        for (int k = 0; k < arity; k++) bad = bad || overlaps(x, eX, *abs[k], extent[k]);
        if (bad) return rule(RULE_EXTRA_OVERLAP);
      }
      in.extra = extraAt >= 0 ? static_cast<int32_t>(x) : -1;
      p->instrs_.push_back(in);
    }

    return p->checkPlan(d.fdPlan.data(), d.fdPlan.size(), error);
  };
  if (!check()) return nullptr;
  p->v_ = Arena<T>(static_cast<size_t>(d.arenaSize));
  p->g_ = Arena<T>(static_cast<size_t>(d.arenaSize));
  std::copy(d.constInit.begin(), d.constInit.end(), p->v_.data() + d.constStart);
  p->plain_ = p->instrs_;
  p->fuseScalarBroadcasts();
  p->passAdjoints();
  p->planPieces();
  // adjoints to zero before a reverse sweep: the outputs of the instructions that take part in
  // it (nothing else is read), merged into spans; an adjoint passed through lives in its reader's
  std::vector<std::pair<int64_t, int64_t>> spans;
  for (const Instr& in : p->instrs_)
    if ((in.flags & FLAG_GRAD_OUT) && !in.elided && in.gout == in.out)
      spans.emplace_back(in.out, in.out + static_cast<int64_t>(op_extent(in.op, 0, in.p)));
  if (d.output >= d.tempStart) spans.emplace_back(d.output, d.output + 1);
  std::sort(spans.begin(), spans.end());
  std::vector<std::pair<int64_t, int64_t>> merged;
  for (auto& sp : spans) {
    if (!merged.empty() && sp.first <= merged.back().second)
      merged.back().second = std::max(merged.back().second, sp.second);
    else
      merged.push_back(sp);
  }
  // minus what a rule stores (no zero is read there); the parameters' adjoints likewise
  std::vector<std::pair<int64_t, int64_t>> stored;
  p->fuseThen();
  p->planStores(&stored);
  p->zeroSpans_ = minus(merged, stored);
  p->paramZeroSpans_ = minus({{0, d.nParams}}, stored);
  p->vbase_.resize(d.inputSizes.size() + 2);
  p->gbase_.resize(d.inputSizes.size() + 2);
  return p;
}

// A broadcast of a scalar (outer = inner = 1) read by exactly one add/sub/mul/div, as one whole
// operand, is folded into that instruction: it reads the scalar itself (the _sa/_sb variants of
// k_elementwise.gen.h, for the ops marked fuseScalar in src/ops/elementwise.ts). The
// broadcast's n-element temporary is then never written, zeroed or summed back. A row repeated
// (outer = 1, inner >= kRowFold: a bias added to every row of X W) folds the same way: the
// reader runs its plain kernels row by row on the row itself (forEachRow), the same operations
// in the same order (a row's adjoint sums the rows in order, as the broadcast's rule does).
//
// Readers are counted over every instruction (elided ones too), through a, b and c at their
// full extent as the tape writes them (a read through c forbids the fold). A reader already
// folded counts at its scalar's offset with its full extent: a conservative count that the first
// version of this pass made (it scanned the tape per broadcast), kept so that the same
// broadcasts are folded. Linear in the tape (radix sorts and merges) but for a binary search per
// broadcast and per folded operand.
template <class T>
void Program<T>::fuseScalarBroadcasts() {
  const size_t count = instrs_.size();
  auto candidate = [](const Instr& bc) {
    return bc.op == OP_BROADCAST && bc.p0 == 1 && (bc.p2 == 1 || bc.p2 >= kRowFold) && bc.p1 >= 1;
  };
  // the broadcast's output extent
  auto repeated = [](const Instr& bc) { return static_cast<int64_t>(bc.p1) * bc.p2; };
  // extent of what o reads through operand a, b or c (side 1, 2, 3); <= 0 when nothing
  auto extent = [](const Instr& o, int side) -> int64_t {
    if (side > OP_ARITY[o.op]) return 0;
    return static_cast<int64_t>(op_extent(o.op, side, o.p));
  };
  auto start = [](const Instr& o, int side) -> int64_t { return side == 1 ? o.absA : side == 2 ? o.absB : o.absC; };
  std::vector<int64_t> his, los;
  std::vector<uint32_t> scalars;  // where a folded operand's range moves
  for (const Instr& bc : instrs_)
    if (candidate(bc)) his.push_back(bc.out + repeated(bc)), los.push_back(bc.out), scalars.push_back(bc.absA);
  if (his.empty()) return;
  // offsets and extents of a validated tape: inside the arena, below 2^31
  std::vector<uint32_t> starts, ends;
  std::vector<std::pair<uint32_t, uint32_t>> entries;  // (start, id = 3 q + side - 1)
  for (size_t q = 0; q < count; q++)
    for (int side = 1; side <= 3; side++) {
      const int64_t e = extent(instrs_[q], side), s0 = start(instrs_[q], side);
      if (e <= 0) continue;
      starts.push_back(static_cast<uint32_t>(s0));
      ends.push_back(static_cast<uint32_t>(s0 + e));
      entries.emplace_back(static_cast<uint32_t>(s0), static_cast<uint32_t>(q * 3 + side - 1));
    }
  OverlapCounter readers(his, los, std::move(starts), std::move(ends));
  StartIndex readerAt(std::move(entries), scalars);
  std::vector<uint32_t> oStarts, oEnds;  // a named output of no elements counts strictly inside
  for (size_t k = 0; k < tape_.outputs.size(); k += 2) {
    oStarts.push_back(static_cast<uint32_t>(tape_.outputs[k]));
    oEnds.push_back(static_cast<uint32_t>(tape_.outputs[k] + tape_.outputs[k + 1]));
  }
  const OverlapCounter outputs(his, los, std::move(oStarts), std::move(oEnds));

  for (size_t i = 0; i < count; i++) {
    Instr& bc = instrs_[i];
    if (!candidate(bc)) continue;
    const int64_t lo = bc.out, hi = bc.out + repeated(bc);
    if (tape_.output >= lo && tape_.output < hi) continue;
    if (outputs.count(lo, hi) > 0) continue;  // an elided broadcast's values are never written
    // exactly one range read in [lo, hi), starting at lo: one reader, through one whole operand
    if (readers.count(lo, hi) != 1) continue;
    const int64_t id = readerAt.only(lo);
    if (id < 0) continue;
    const size_t q = static_cast<size_t>(id / 3);
    if (id % 3 == 2) continue;  // read through c: only binary ops take a folded scalar
    const Instr& o = instrs_[q];
    const bool binary = K().scalarAFwd[o.op] != nullptr;
    if (q <= i || !binary || o.p0 != repeated(bc) || o.scalarSide != 0) continue;
    Instr& r = instrs_[q];
    // the reference sums the repeats back into the scalar only through the broadcast's own rule
    const int32_t side = r.absA == lo ? FLAG_GRAD_A : FLAG_GRAD_B;
    if ((r.flags & FLAG_GRAD_OUT) && (r.flags & side) && !(bc.flags & FLAG_GRAD_OUT)) continue;
    const int s = r.absA == lo ? 1 : 2;
    const int64_t e = extent(r, s);
    readers.add(lo, lo + e, -1);
    readerAt.remove(lo, static_cast<int64_t>(q) * 3 + s - 1);
    r.rowInner = bc.p2 > 1 ? bc.p2 : 0;
    if (s == 1) {
      r.scalarSide = 1;
      r.a = bc.a;
      r.absA = bc.absA;
    } else {
      r.scalarSide = 2;
      r.b = bc.a;
      r.absB = bc.absA;
    }
    readers.add(bc.absA, bc.absA + e, 1);
    readerAt.add(bc.absA, static_cast<int64_t>(q) * 3 + s - 1);
    bc.elided = true;
  }
}

// The backward rule of add (either operand) and of sub (operand a) is ga += gout. Where that
// operand is the whole output of one instruction P, read by nothing else, its adjoint receives
// nothing else: it is 0 + gout, gout itself (but for the sign of a zero). P's backward rule then
// reads the add's output adjoint in place, and P's adjoint is neither zeroed nor added to: at a
// bias add (X W + b) that saves zeroing two m x n adjoints and adding the add's into each.
// Readers and producers (instructions not elided) are counted once (radix sorts and merges);
// each candidate operand then costs a binary search.
template <class T>
void Program<T>::passAdjoints() {
  // [lo, hi) of what an instruction reads through operand a (side 1) or b (side 2); a folded
  // scalar reads one element
  auto read = [](const Instr& o, int side) -> std::pair<int64_t, int64_t> {
    if (side > OP_ARITY[o.op]) return {0, 0};
    const int64_t lo = side == 1 ? o.absA : side == 2 ? o.absB : o.absC;
    const int64_t len = o.scalarSide == side ? folded(o) : static_cast<int64_t>(op_extent(o.op, side, o.p));
    return {lo, lo + len};
  };
  auto written = [](const Instr& o) -> std::pair<int64_t, int64_t> {
    return {o.out, o.out + static_cast<int64_t>(op_extent(o.op, 0, o.p))};
  };
  auto candidate = [](const Instr& in) {
    return !in.elided && (in.flags & FLAG_GRAD_OUT) && (in.op == OP_ADD || in.op == OP_SUB);
  };
  std::vector<int64_t> his, los;
  for (const Instr& in : instrs_)
    if (candidate(in))
      for (int side = 1; side <= 2; side++) {
        const auto [lo, hi] = read(in, side);
        his.push_back(hi), los.push_back(lo);
      }
  if (his.empty()) return;
  // offsets and extents of a validated tape: inside the arena, below 2^31
  std::vector<uint32_t> rStarts, rEnds, pStarts, pEnds;
  std::vector<std::pair<uint32_t, uint32_t>> entries;  // (out, q)
  for (size_t q = 0; q < instrs_.size(); q++) {
    const Instr& o = instrs_[q];
    if (o.elided) continue;
    for (int side = 1; side <= 3; side++) {
      const auto [lo, hi] = read(o, side);
      if (lo < hi) rStarts.push_back(static_cast<uint32_t>(lo)), rEnds.push_back(static_cast<uint32_t>(hi));
    }
    const auto [lo, hi] = written(o);
    if (lo < hi) {
      pStarts.push_back(static_cast<uint32_t>(lo)), pEnds.push_back(static_cast<uint32_t>(hi));
      entries.emplace_back(static_cast<uint32_t>(lo), static_cast<uint32_t>(q));
    }
  }
  const OverlapCounter readers(his, los, std::move(rStarts), std::move(rEnds));
  const OverlapCounter producers(his, los, std::move(pStarts), std::move(pEnds));
  const StartIndex producerAt(std::move(entries), {});
  // readers before the instructions they read: a reader's own adjoint is settled when its
  // producer's is pointed at it (chains of adds)
  for (size_t i = instrs_.size(); i-- > 0;) {
    Instr& in = instrs_[i];
    if (!candidate(in)) continue;
    for (int side = 1; side <= (in.op == OP_ADD ? 2 : 1); side++) {
      const int32_t flag = side == 1 ? FLAG_GRAD_A : FLAG_GRAD_B;
      if (!(in.flags & flag) || in.scalarSide == side) continue;
      const auto [lo, hi] = read(in, side);
      if (lo < tape_.tempStart || (tape_.output >= lo && tape_.output < hi)) continue;
      // one producer, writing exactly [lo, hi) before i; one read of it (this one)
      if (producers.count(lo, hi) != 1 || readers.count(lo, hi) != 1) continue;
      const int64_t producer = producerAt.only(lo);
      if (producer < 0) continue;
      const Instr& o = instrs_[static_cast<size_t>(producer)];
      if (op_extent(o.op, 0, o.p) != hi - lo || static_cast<size_t>(producer) >= i || !(o.flags & FLAG_GRAD_OUT))
        continue;
      instrs_[static_cast<size_t>(producer)].gout = in.gout;
      in.flags &= ~flag;
    }
  }
}

// A reverse sweep adds every contribution to an adjoint zeroed beforehand. Where a rule is the
// first in the sweep to touch an operand's adjoint range (no earlier rule wrote into it or read
// it as its output's adjoint, and it is not the output's seed) and the rule can store
// (Kernels::setSides, never a folded scalar's sum), it stores 0 + its contribution: the same
// values, and the range is left out of the zeroing. Walks the sweep in its order, with every
// range touched so far merged in an ordered map (start -> end).
template <class T>
void Program<T>::planStores(std::vector<std::pair<int64_t, int64_t>>* stored) {
  std::map<int64_t, int64_t> touched;
  auto overlaps = [&](int64_t lo, int64_t hi) {
    auto it = touched.upper_bound(lo);
    if (it != touched.begin() && std::prev(it)->second > lo) return true;
    return it != touched.end() && it->first < hi;
  };
  auto touch = [&](int64_t lo, int64_t hi) {
    if (lo >= hi) return;
    auto it = touched.upper_bound(lo);
    if (it != touched.begin() && std::prev(it)->second >= lo) {
      --it;
      lo = it->first;
      hi = std::max(hi, it->second);
      it = touched.erase(it);
    }
    while (it != touched.end() && it->first <= hi) {
      hi = std::max(hi, it->second);
      it = touched.erase(it);
    }
    touched.emplace(lo, hi);
  };
  touch(tape_.output, tape_.output + 1);
  const int32_t grads[3] = {FLAG_GRAD_A, FLAG_GRAD_B, FLAG_GRAD_C}, sets[3] = {FLAG_SET_A, FLAG_SET_B, FLAG_SET_C};
  for (size_t i = instrs_.size(); i-- > 0;) {
    Instr& in = instrs_[i];
    if (!(in.flags & FLAG_GRAD_OUT) || in.elided) continue;
    touch(in.gout, in.gout + static_cast<int64_t>(op_extent(in.op, 0, in.p)));
    const int32_t abs[3] = {in.absA, in.absB, in.absC};
    for (int k = 0; k < 3 && k < OP_ARITY[in.op]; k++) {
      if (!(in.flags & grads[k])) continue;
      const bool scalar = in.scalarSide == k + 1;
      const int64_t lo = abs[k], hi = lo + (scalar ? folded(in) : static_cast<int64_t>(op_extent(in.op, k + 1, in.p)));
      // parameters' and temporaries' adjoints only: the zeroed ones
      const bool zeroed = hi <= tape_.nParams || lo >= tape_.tempStart;
      if (!scalar && (K().setSides[in.op] & grads[k]) && zeroed && lo < hi && !overlaps(lo, hi)) {
        in.stores |= sets[k];
        stored->emplace_back(lo, hi);
      }
      touch(lo, hi);
    }
  }
  std::sort(stored->begin(), stored->end());
}

// An elementwise op U (tanh, relu, ...) whose output is operand a of a matmul M and nothing
// else: M's dA is U's output adjoint, and U's rule only reads it. M then runs U's rule on each
// block of dA as it computes it (matmul_abt_then, k_matmul.h) and the sweep skips U: dA is never
// stored in the arena. U's input adjoint is written earlier in the sweep than it would be, so
// nothing else may touch it, nor U's output adjoint, nor U's output: each of those ranges has
// exactly one writer (or reader) in the tape, counted over every instruction that takes part.
template <class T>
void Program<T>::fuseThen() {
  const size_t count = instrs_.size();
  // the producer of each output offset (the one instruction, or -1 when several start there)
  std::vector<std::pair<uint32_t, uint32_t>> outAt;
  std::vector<int64_t> his, los;
  std::vector<std::pair<size_t, size_t>> pairs;  // (M, U) candidates
  std::vector<uint32_t> oStarts, oEnds, wStarts, wEnds, rStarts, rEnds;
  const int32_t grads[3] = {FLAG_GRAD_A, FLAG_GRAD_B, FLAG_GRAD_C};
  for (size_t q = 0; q < count; q++) {
    const Instr& o = instrs_[q];
    const int64_t e = static_cast<int64_t>(op_extent(o.op, 0, o.p));
    if (!o.elided) {
      oStarts.push_back(static_cast<uint32_t>(o.out)), oEnds.push_back(static_cast<uint32_t>(o.out + e));
      outAt.emplace_back(static_cast<uint32_t>(o.out), static_cast<uint32_t>(q));
    }
    if (o.elided || !(o.flags & FLAG_GRAD_OUT)) continue;
    rStarts.push_back(static_cast<uint32_t>(o.gout)), rEnds.push_back(static_cast<uint32_t>(o.gout + e));
    const int32_t abs[3] = {o.absA, o.absB, o.absC};
    for (int k = 0; k < 3 && k < OP_ARITY[o.op]; k++) {
      if (!(o.flags & grads[k])) continue;
      const int64_t len = o.scalarSide == k + 1 ? folded(o) : static_cast<int64_t>(op_extent(o.op, k + 1, o.p));
      wStarts.push_back(static_cast<uint32_t>(abs[k])), wEnds.push_back(static_cast<uint32_t>(abs[k] + len));
    }
  }
  // the seed of the output's adjoint is a write
  wStarts.push_back(static_cast<uint32_t>(tape_.output)), wEnds.push_back(static_cast<uint32_t>(tape_.output + 1));
  std::sort(outAt.begin(), outAt.end());
  auto producer = [&](int64_t at) -> int64_t {
    auto it = std::lower_bound(outAt.begin(), outAt.end(), std::make_pair(static_cast<uint32_t>(at), uint32_t(0)));
    if (it == outAt.end() || it->first != at) return -1;
    if (it + 1 != outAt.end() && (it + 1)->first == at) return -1;
    return it->second;
  };
  for (size_t q = 0; q < count; q++) {
    const Instr& m = instrs_[q];
    if (m.op != OP_MATMUL || m.elided || !(m.flags & FLAG_GRAD_OUT) || !(m.flags & FLAG_GRAD_A) ||
        m.absA < tape_.tempStart)
      continue;
    const int64_t u = producer(m.absA);
    if (u < 0 || static_cast<size_t>(u) >= q) continue;
    const Instr& U = instrs_[static_cast<size_t>(u)];
    const int64_t n = static_cast<int64_t>(op_extent(U.op, 0, U.p));
    if (!OP_ELEMENTWISE[U.op] || OP_ARITY[U.op] != 1 || U.elided || U.scalarSide || !(U.flags & FLAG_GRAD_OUT) ||
        !(U.flags & FLAG_GRAD_A) || !(K().setSides[U.op] & FLAG_GRAD_A) || U.gout != U.out ||
        n != static_cast<int64_t>(op_extent(m.op, 1, m.p)) || n == 0)
      continue;
    pairs.emplace_back(q, static_cast<size_t>(u));
    his.push_back(U.out + n), los.push_back(U.out);
    his.push_back(U.absA + n), los.push_back(U.absA);
  }
  if (pairs.empty()) return;
  const OverlapCounter outs(his, los, std::move(oStarts), std::move(oEnds));
  const OverlapCounter writes(his, los, std::move(wStarts), std::move(wEnds));
  const OverlapCounter reads(his, los, std::move(rStarts), std::move(rEnds));
  for (auto [q, u] : pairs) {
    Instr& U = instrs_[u];
    const int64_t n = static_cast<int64_t>(op_extent(U.op, 0, U.p));
    // U's values: U alone writes them; their adjoint: M writes it, U reads it; U's input
    // adjoint: U alone writes it
    if (outs.count(U.out, U.out + n) != 1 || writes.count(U.out, U.out + n) != 1 ||
        reads.count(U.out, U.out + n) != 1 || writes.count(U.absA, U.absA + n) != 1)
      continue;
    instrs_[q].then = static_cast<int32_t>(u);
    U.fused = true;
  }
}

template <class T>
std::vector<int32_t> Program<T>::passes() const {
  std::vector<int32_t> out;
  out.reserve(instrs_.size() * PASS_WORDS);
  for (const Instr& in : instrs_)
    out.insert(out.end(), {in.elided ? 1 : 0, in.scalarSide, in.gout, in.flags, in.absA, in.absB, in.absC});
  return out;
}

template <class T>
bool Program<T>::checkPlan(const int32_t* plan, size_t len, std::string* error) const {
  if (len % 3 != 0) return fail(error, "the FD plan is not a list of triples");
  for (size_t q = 0; q < len; q += 3) {
    const int32_t s = plan[q], e = plan[q + 1], first = plan[q + 2];
    if (!(s >= 0 && s <= e && e <= tape_.nParams && first >= 0 && first <= tape_.nInstr &&
          (q == 0 || first <= plan[q - 1])))
      return fail(error, "FD plan entry " + std::to_string(q / 3) + " (" + std::to_string(s) + ", " +
                             std::to_string(e) + ", " + std::to_string(first) + ") is out of range or out of order");
  }
  return true;
}

// Region base pointers for one call. Offsets in Ref are relative to the region: a region base
// is the caller's buffer itself, or the arena shifted to the region's start.
template <class T>
void Program<T>::bind(const Call& callIn, bool paramsInArena) {
  Call call = callIn;
  call.copy = call.copy || alwaysCopy_;
  const size_t n = tape_.inputSizes.size();
  T* v = v_.data();
  T* g = g_.data();
  if (call.copy || paramsInArena) {
    if (tape_.nParams) std::memcpy(v, call.theta, sizeof(T) * tape_.nParams);
    vbase_[0] = v;
  } else {
    vbase_[0] = call.theta;
  }
  for (size_t j = 0; j < n; j++) {
    T* slot = v + inputStart_[j];
    if (call.copy) {
      if (tape_.inputSizes[j]) std::memcpy(slot, call.inputs[j], sizeof(T) * tape_.inputSizes[j]);
      vbase_[j + 1] = slot;
    } else {
      vbase_[j + 1] = call.inputs[j];
    }
    gbase_[j + 1] = g + inputStart_[j];
  }
  vbase_[n + 1] = v;
  gbase_[n + 1] = g;
  gbase_[0] = (call.grad && !call.copy) ? call.grad : g;
}

// The large elementwise instructions (pieces of elements on the pool) and the work of every
// suffix of the tape (the FD loop's split).
template <class T>
void Program<T>::planPieces() {
  suffixWork_.assign(instrs_.size() + 1, 0.0);
  for (size_t i = instrs_.size(); i-- > 0;) {
    Instr& in = instrs_[i];
    const int32_t arity = OP_ARITY[in.op];
    const double eOut = op_extent(in.op, 0, in.p);
    double eMax = eOut;
    bool* slice[3] = {&in.sliceA, &in.sliceB, &in.sliceC};
    for (int k = 0; k < 3; k++) {
      const double e = k < arity ? op_extent(in.op, k + 1, in.p) : -1;
      *slice[k] = k < arity && in.scalarSide != k + 1 && e == eOut;
      eMax = std::max(eMax, e);
    }
    in.pieces = OP_ELEMENTWISE[in.op] && OP_EXTRA_AT[in.op] < 0 && in.p[0] >= kElemSplit && !in.elided;
    const double work = in.op == OP_MATMUL ? static_cast<double>(in.p[0]) * in.p[1] * in.p[2] : eMax;
    suffixWork_[i] = suffixWork_[i + 1] + (in.elided ? 0.0 : work + 1);
  }
}

// Runs piece(lo, params) over an elementwise instruction's elements in pieces of kElemPiece on
// up to `width` threads: params is the instruction's with p[0] (the element count) the piece's.
template <class F>
static void inPieces(const Instr& in, int width, F&& piece) {
  const int64_t n = in.p[0];
  ThreadPool::shared().run((n + kElemPiece - 1) / kElemPiece, width, [&](int64_t q, int) {
    const int64_t lo = q * kElemPiece;
    int32_t params[MAX_PARAMS];
    std::copy(in.p, in.p + MAX_PARAMS, params);
    params[0] = static_cast<int32_t>(std::min(kElemPiece, n - lo));
    piece(lo, params);
  });
}

// A folded row (Instr::rowInner): call(s, col, len) for the runs [s, s + len) of [0, n) that stay
// inside one row, col the column of s; `first` is element 0's index in the instruction (a piece
// may start inside a row).
template <class F>
static void forEachRow(const Instr& in, int64_t first, int64_t n, F&& call) {
  for (int64_t s = 0; s < n;) {
    const int64_t col = (first + s) % in.rowInner, len = std::min(n - s, in.rowInner - col);
    call(s, col, len);
    s += len;
  }
}

template <class T>
void Program<T>::setThreads(int n) {
  par_.width = std::max(1, std::min(n, ThreadPool::kMaxWidth));
  par_.run = runOnPool;
}

template <class T>
void Program<T>::forward(int32_t from, bool exact, const Sweep& s, const std::vector<Instr>* list) {
  T* v = s.v;
  const T* const* vbase = s.vbase;
  const auto& fwd = exact ? K().fwd : K().fast;
  const std::vector<Instr>& instrs = list ? *list : instrs_;
  for (size_t i = static_cast<size_t>(from); i < instrs.size(); i++) {
    const Instr& in = instrs[i];
    if (in.elided) continue;
    const Fwd<T> f{v + in.out,
                   vbase[in.a.region] + in.a.offset,
                   vbase[in.b.region] + in.b.offset,
                   in.extra >= 0 ? v + in.extra : nullptr,
                   in.p0,
                   in.p1,
                   in.p2,
                   vbase[in.c.region] + in.c.offset,
                   in.p,
                   s.par};
    const FwdFn<T> fn =
        in.scalarSide && !in.rowInner ? (in.scalarSide == 1 ? K().scalarAFwd : K().scalarBFwd)[in.op] : fwd[in.op];
    // the elements of f from the instruction's element lo
    auto run = [&](const Fwd<T>& f, int64_t lo) {
      if (!in.rowInner) return fn(f);
      int32_t params[MAX_PARAMS];
      std::copy(f.p, f.p + MAX_PARAMS, params);
      forEachRow(in, lo, f.p0, [&](int64_t at, int64_t col, int64_t len) {
        Fwd<T> r = f;
        params[0] = static_cast<int32_t>(len);
        r.p = params;
        r.p0 = params[0];
        r.out += at;
        r.a += in.scalarSide == 1 ? col : at;
        r.b += in.scalarSide == 2 ? col : at;
        fn(r);
      });
    };
    if (!in.pieces || !s.par) {
      run(f, 0);
      continue;
    }
    inPieces(in, s.par->width, [&](int64_t lo, const int32_t* params) {
      Fwd<T> p = f;
      p.p = params;
      p.p0 = params[0];
      p.out += lo;
      if (in.sliceA) p.a += lo;
      if (in.sliceB) p.b += lo;
      if (in.sliceC) p.c += lo;
      run(p, lo);
    });
  }
}

template <class T>
void Program<T>::copyOutputs(T* out) const {
  for (size_t k = 0; k < tape_.outputs.size(); k += 2) {
    const size_t n = static_cast<size_t>(tape_.outputs[k + 1]);
    if (n) std::memcpy(out, v_.data() + tape_.outputs[k], sizeof(T) * n);
    out += n;
  }
}

template <class T>
double Program<T>::value(const Call& call) {
  bind(call, false);
  forward(0, false, mainSweep());
  return outputValue();
}

template <class T>
double Program<T>::reverse(const Call& call) {
  bind(call, false);
  const Sweep sweep = mainSweep();
  forward(0, false, sweep);
  const double f = outputValue();
  T* g = g_.data();
  T* gp = gbase_[0];
  for (const auto& sp : paramZeroSpans_)
    std::memset(gp + sp.first, 0, sizeof(T) * static_cast<size_t>(sp.second - sp.first));
  for (const auto& sp : zeroSpans_) std::memset(g + sp.first, 0, sizeof(T) * static_cast<size_t>(sp.second - sp.first));
  gbase_[outRef_.region][outRef_.offset] = 1.0;
  const T* v = v_.data();
  const auto& bwd = K().bwd;
  Then<T> then;
  for (size_t i = instrs_.size(); i-- > 0;) {
    const Instr& in = instrs_[i];
    if (!(in.flags & FLAG_GRAD_OUT) || in.elided || in.fused) continue;
    Bwd<T> b{v + in.out,
             vbase_[in.a.region] + in.a.offset,
             vbase_[in.b.region] + in.b.offset,
             in.extra >= 0 ? v + in.extra : nullptr,
             g + in.gout,
             gbase_[in.a.region] + in.a.offset,
             gbase_[in.b.region] + in.b.offset,
             in.flags | in.stores,
             in.p0,
             in.p1,
             in.p2,
             vbase_[in.c.region] + in.c.offset,
             gbase_[in.c.region] + in.c.offset,
             in.p,
             sweep.par};
    if (in.then >= 0) {
      const Instr& u = instrs_[static_cast<size_t>(in.then)];
      then.fn = bwd[u.op];
      then.args = Bwd<T>{v + u.out,
                         vbase_[u.a.region] + u.a.offset,
                         vbase_[u.b.region] + u.b.offset,
                         u.extra >= 0 ? v + u.extra : nullptr,
                         nullptr,
                         gbase_[u.a.region] + u.a.offset,
                         gbase_[u.b.region] + u.b.offset,
                         u.flags | u.stores,
                         u.p0,
                         u.p1,
                         u.p2,
                         vbase_[u.c.region] + u.c.offset,
                         gbase_[u.c.region] + u.c.offset,
                         u.p,
                         nullptr};
      b.then = &then;
    }
    const BwdFn<T> fn =
        in.scalarSide && !in.rowInner ? (in.scalarSide == 1 ? K().scalarABwd : K().scalarBBwd)[in.op] : bwd[in.op];
    // the elements of b from the instruction's element lo (a folded row's adjoint: the rows
    // summed into it in order)
    auto run = [&](const Bwd<T>& b, int64_t lo) {
      if (!in.rowInner) return fn(b);
      int32_t params[MAX_PARAMS];
      std::copy(b.p, b.p + MAX_PARAMS, params);
      forEachRow(in, lo, b.p0, [&](int64_t at, int64_t col, int64_t len) {
        Bwd<T> r = b;
        params[0] = static_cast<int32_t>(len);
        r.p = params;
        r.p0 = params[0];
        r.out += at;
        r.gout += at;
        const int64_t da = in.scalarSide == 1 ? col : at, db = in.scalarSide == 2 ? col : at;
        r.a += da, r.ga += da;
        r.b += db, r.gb += db;
        fn(r);
      });
    };
    // an operand read whole whose adjoint is asked for sums over the elements: one piece
    const bool pieces = in.pieces && sweep.par && (in.sliceA || !(in.flags & FLAG_GRAD_A)) &&
                        (in.sliceB || !(in.flags & FLAG_GRAD_B)) && (in.sliceC || !(in.flags & FLAG_GRAD_C));
    if (!pieces) {
      run(b, 0);
      continue;
    }
    inPieces(in, sweep.par->width, [&](int64_t lo, const int32_t* params) {
      Bwd<T> p = b;
      p.p = params;
      p.p0 = params[0];
      p.out += lo;
      p.gout += lo;
      if (in.sliceA) p.a += lo, p.ga += lo;
      if (in.sliceB) p.b += lo, p.gb += lo;
      if (in.sliceC) p.c += lo, p.gc += lo;
      run(p, lo);
    });
  }
  if (gp != call.grad && tape_.nParams) std::memcpy(call.grad, g, sizeof(T) * tape_.nParams);
  return f;
}

template <class T>
void Program<T>::fdCoordinate(const Sweep& s, int32_t i, int32_t from, bool central, double relStep, double f0,
                              T* grad) {
  T* v = s.v;
  const double x = v[i];
  const double ax = std::fabs(x);
  const double scale = ax != ax ? ax : (ax > 1.0 ? ax : 1.0);  // Math.max(1, |x|), NaN kept
  // the step the arena can hold: the stored x + h minus x (exact in double); x - h is rounded
  // where it is stored, and grad[i] once
  const double h = static_cast<T>(x + relStep * scale) - x;
  v[i] = x + h;
  forward(from, true, s);
  const double fp = outputValue(s);
  if (central) {
    v[i] = x - h;
    forward(from, true, s);
    grad[i] = (fp - outputValue(s)) / (2 * h);
  } else {
    grad[i] = (fp - f0) / h;
  }
  v[i] = x;
}

// The reference's loop (src/backends/js/engine.ts), step for step: the same h, the same
// evaluations in the same order, so the same bits. Suffix reuse: a coordinate's evaluations
// rerun the tape from its plan entry's first instruction, reading the values before it from
// the arena, which hold the unperturbed ones since entries come in non-increasing order of
// their first instruction.
template <class T>
double Program<T>::fd(const Call& call, bool central, double relStep, bool reuse, const int32_t* planOverride,
                      size_t planLen) {
  bind(call, true);
  const Sweep sweep = mainSweep();
  forward(0, true, sweep);
  const double f0 = outputValue();
  const int32_t* plan = planOverride ? planOverride : tape_.fdPlan.data();
  const size_t len = planOverride ? planLen : tape_.fdPlan.size();
  if (par_.width > 1 && fdParallel(call, central, relStep, reuse, plan, len, f0)) return f0;
  for (size_t q = 0; q < len; q += 3) {
    const int32_t from = reuse ? plan[q + 2] : 0;
    for (int32_t i = plan[q]; i < plan[q + 1]; i++) {
      if (call.cancel && call.cancel->load(std::memory_order_relaxed)) return f0;
      fdCoordinate(sweep, i, from, central, relStep, f0, call.grad);
    }
  }
  return f0;
}

// Pieces of the plan (runs of coordinates inside one entry, in plan order) on the pool. Each
// participant copies the unperturbed arena once (the parameters, constants and temporaries;
// inputs are read where they are) and runs its pieces in increasing order, so the values before
// a piece's first instruction are the unperturbed ones, as in the loop on one thread: every
// coordinate is computed by the same operations, whichever thread runs it.
template <class T>
std::vector<typename Program<T>::Piece> Program<T>::splitPlan(const int32_t* plan, size_t len, bool reuse,
                                                              int64_t perParticipant) const {
  std::vector<Piece> pieces;
  double total = 0;
  int64_t coords = 0;
  for (size_t q = 0; q < len; q += 3) {
    coords += plan[q + 1] - plan[q];
    total += (plan[q + 1] - plan[q]) * suffixWork_[reuse ? plan[q + 2] : 0];
  }
  if (coords < 2 || total < kFdSplit || total < 8.0 * static_cast<double>(perParticipant) * par_.width) return pieces;
  // about 8 pieces a thread (pieces cost unevenly: a later entry reruns a shorter suffix)
  const double target = std::max(kFdPiece, total / (8.0 * par_.width));
  for (size_t q = 0; q < len; q += 3) {
    const int32_t from = reuse ? plan[q + 2] : 0;
    const double each = suffixWork_[from];
    const int64_t step = std::max<int64_t>(1, static_cast<int64_t>(target / std::max(each, 1.0)));
    for (int64_t i = plan[q]; i < plan[q + 1]; i += step)
      pieces.push_back({from, static_cast<int32_t>(i), static_cast<int32_t>(std::min<int64_t>(plan[q + 1], i + step))});
  }
  return pieces;
}

template <class T>
bool Program<T>::fdParallel(const Call& call, bool central, double relStep, bool reuse, const int32_t* plan, size_t len,
                            double f0) {
  const int64_t arena = tape_.arenaSize;
  const int64_t copied = alwaysCopy_ ? arena : tape_.nParams + (arena - tape_.constStart);
  const std::vector<Piece> pieces = splitPlan(plan, len, reuse, copied);
  if (pieces.empty()) return false;
  const int width = static_cast<int>(std::min<int64_t>(par_.width, static_cast<int64_t>(pieces.size())));
  if (static_cast<int>(fdArenas_.size()) < width) fdArenas_.resize(static_cast<size_t>(width));
  const T* base = v_.data();
  for (int w = 0; w < width; w++) {
    FdArena& a = fdArenas_[static_cast<size_t>(w)];
    if (!a.v) a.v.reset(new T[static_cast<size_t>(arena)]);  // untouched gaps stay unmapped
    // the parameters and the arena move to the copy; the inputs are read where they are (the
    // caller's buffers, or the program's arena, which nobody writes meanwhile), unless an operand
    // spanning two regions makes every read go through the arena, which is then copied whole
    a.vbase.assign(vbase_.begin(), vbase_.end());
    for (size_t r = 0; r < a.vbase.size(); r++)
      if (r == 0 || r + 1 == a.vbase.size() || alwaysCopy_) a.vbase[r] = a.v.get() + (vbase_[r] - base);
  }
  std::vector<char> fresh(static_cast<size_t>(width), 1);
  ThreadPool::shared().run(static_cast<int64_t>(pieces.size()), width, [&](int64_t k, int slot) {
    FdArena& a = fdArenas_[static_cast<size_t>(slot)];
    if (fresh[static_cast<size_t>(slot)]) {
      fresh[static_cast<size_t>(slot)] = 0;
      if (alwaysCopy_) {
        std::memcpy(a.v.get(), base, sizeof(T) * static_cast<size_t>(arena));
      } else {
        std::memcpy(a.v.get(), base, sizeof(T) * static_cast<size_t>(tape_.nParams));
        std::memcpy(a.v.get() + tape_.constStart, base + tape_.constStart,
                    sizeof(T) * static_cast<size_t>(arena - tape_.constStart));
      }
    }
    const Sweep s{a.v.get(), a.vbase.data(), nullptr};
    const Piece& p = pieces[static_cast<size_t>(k)];
    for (int32_t i = p.begin; i < p.end; i++) {
      if (call.cancel && call.cancel->load(std::memory_order_relaxed)) return;
      fdCoordinate(s, i, p.from, central, relStep, f0, call.grad);
    }
  });
  return true;
}

// ---- forward mode: the tangent sweep (src/backends/js/tangent.ts is the reference) ----

template <class T>
bool Program<T>::prepareTangents(std::string* error) {
  if (t_.empty()) {
    size_t scratch = 1;
    for (const Instr& in : plain_) {
      if (OP_TANGENT[in.op] == TANGENT_CUSTOM && !K().tan[in.op])
        return fail(error, std::string("no tangent rule for op ") + OP_NAMES[in.op]);
      if (OP_TANGENT[in.op] == TANGENT_BILINEAR)
        scratch = std::max(scratch, static_cast<size_t>(op_extent(in.op, 0, in.p)));
    }
    t_.assign(static_cast<size_t>(tape_.arenaSize), T(0));
    tscratch_.assign(scratch, T(0));
  } else {
    std::fill(t_.begin(), t_.end(), T(0));
  }
  return true;
}

// Each instruction with gradOut gets its output tangent by its op's tangent mode (OP_TANGENT):
// diagonal ops run their backward rule with an operand's tangent as the output adjoint,
// accumulating into the output tangent (J = J^T for an elementwise op); linear ops their forward
// rule on tangents; bilinear ops their forward rule once per operand with a gradient, that
// operand's tangent in place of its value; custom ops their own rule (k_tangent.h).
template <class T>
void Program<T>::tangentSweep(int32_t from, T* t, T* scratch, T* v) {
  const int32_t grads[3] = {FLAG_GRAD_A, FLAG_GRAD_B, FLAG_GRAD_C};
  for (size_t i = static_cast<size_t>(from); i < plain_.size(); i++) {
    const Instr& in = plain_[i];
    if (!(in.flags & FLAG_GRAD_OUT)) continue;
    const T* va = vbase_[in.a.region] + in.a.offset;
    const T* vb = vbase_[in.b.region] + in.b.offset;
    const T* vc = vbase_[in.c.region] + in.c.offset;
    T* to = t + in.out;
    // an absent operand's tangent: any valid address (never read)
    T* ta = t + in.absA;
    T* tb = in.absB >= 0 ? t + in.absB : t;
    T* tc = in.absC >= 0 ? t + in.absC : t;
    T* extra = in.extra >= 0 ? v + in.extra : nullptr;
    const int64_t n = static_cast<int64_t>(op_extent(in.op, 0, in.p));
    switch (OP_TANGENT[in.op]) {
      case TANGENT_LINEAR:
        K().fwd[in.op](Fwd<T>{to, ta, tb, extra, in.p0, in.p1, in.p2, tc, in.p, nullptr});
        break;
      case TANGENT_DIAGONAL: {
        std::memset(to, 0, sizeof(T) * static_cast<size_t>(n));
        T* tangents[3] = {ta, tb, tc};
        T* sink = scratch;  // adjoints of the other operands: never written
        for (int k = 0; k < 3; k++) {
          // an operand of another size (pow's scalar exponent) takes no gradient
          if (!(in.flags & grads[k]) || op_extent(in.op, k + 1, in.p) != static_cast<double>(n)) continue;
          K().bwd[in.op](Bwd<T>{v + in.out, va, vb, extra, tangents[k], k == 0 ? to : sink, k == 1 ? to : sink,
                                grads[k] | FLAG_GRAD_OUT, in.p0, in.p1, in.p2, vc, k == 2 ? to : sink, in.p, nullptr});
        }
        break;
      }
      case TANGENT_BILINEAR: {
        bool first = true;
        for (int k = 0; k < 3; k++) {
          if (!(in.flags & grads[k])) continue;
          T* dst = first ? to : scratch;
          K().fwd[in.op](Fwd<T>{dst, k == 0 ? ta : va, k == 1 ? tb : vb, extra, in.p0, in.p1, in.p2, k == 2 ? tc : vc,
                                in.p, nullptr});
          if (!first)
            for (int64_t j = 0; j < n; j++) to[j] += dst[j];
          first = false;
        }
        break;
      }
      case TANGENT_CUSTOM:
        K().tan[in.op](Tan<T>{v + in.out, va, vb, vc, extra, ta, tb, tc, to, in.flags, in.p});
        break;
      default:
        break;
    }
  }
}

template <class T>
bool Program<T>::jvp(const Call& call, const T* tangent, double* value, double* derivative, std::string* error) {
  if (!prepareTangents(error)) return false;
  bind(call, false);
  forward(0, false, mainSweep(), &plain_);  // every value, elided broadcasts' included: the tangent rules read them
  *value = outputValue();
  if (tape_.nParams) std::memcpy(t_.data(), tangent, sizeof(T) * tape_.nParams);
  tangentSweep(0, t_.data(), tscratch_.data(), v_.data());
  *derivative = t_[static_cast<size_t>(tape_.output)];
  return true;
}

template <class T>
bool Program<T>::forwardGrad(const Call& call, bool reuse, const int32_t* planOverride, size_t planLen, double* value,
                             std::string* error) {
  if (!prepareTangents(error)) return false;
  bind(call, false);
  forward(0, false, mainSweep(), &plain_);  // every value, elided broadcasts' included: the tangent rules read them
  *value = outputValue();
  const int32_t* plan = planOverride ? planOverride : tape_.fdPlan.data();
  const size_t len = planOverride ? planLen : tape_.fdPlan.size();
  if (par_.width > 1 && forwardGradParallel(call, reuse, plan, len)) return true;
  // the plan's order (first reader descending) keeps suffix sweeps correct, as for FD: tangents
  // before a parameter's first reader are still 0
  for (size_t q = 0; q < len; q += 3) {
    const int32_t from = reuse ? plan[q + 2] : 0;
    for (int32_t i = plan[q]; i < plan[q + 1]; i++) {
      if (call.cancel && call.cancel->load(std::memory_order_relaxed)) return true;
      t_[static_cast<size_t>(i)] = 1.0;
      tangentSweep(from, t_.data(), tscratch_.data(), v_.data());
      call.grad[i] = t_[static_cast<size_t>(tape_.output)];
      t_[static_cast<size_t>(i)] = 0.0;
    }
  }
  return true;
}

// As fdParallel: every participant runs its pieces in increasing order on its own tangent arena,
// zeroed before its first piece, so the tangents before a piece's first instruction are 0 as in
// the loop on one thread and each coordinate gets the same bits whichever thread runs it.
template <class T>
bool Program<T>::forwardGradParallel(const Call& call, bool reuse, const int32_t* plan, size_t len) {
  const std::vector<Piece> pieces = splitPlan(plan, len, reuse, tape_.arenaSize);
  if (pieces.empty()) return false;
  const int width = static_cast<int>(std::min<int64_t>(par_.width, static_cast<int64_t>(pieces.size())));
  if (static_cast<int>(tanArenas_.size()) < width) tanArenas_.resize(static_cast<size_t>(width));
  // a rule that writes scratch in the value arena (conv2d's tangent: im2col of a tangent into
  // `extra`) would race with the other participants': each then sweeps its own copy of the arena
  bool writesArena = false;
  for (const Instr& in : plain_) writesArena |= (in.flags & FLAG_GRAD_OUT) && in.extra >= 0;
  for (int w = 0; w < width; w++) {  // allocated here: a pool task must not throw
    TanArena& a = tanArenas_[static_cast<size_t>(w)];
    a.t.resize(t_.size());
    a.scratch.resize(tscratch_.size());
    if (writesArena && !a.v) a.v.reset(new T[static_cast<size_t>(tape_.arenaSize)]);
  }
  std::vector<char> fresh(static_cast<size_t>(width), 1);
  ThreadPool::shared().run(static_cast<int64_t>(pieces.size()), width, [&](int64_t k, int slot) {
    TanArena& a = tanArenas_[static_cast<size_t>(slot)];
    if (fresh[static_cast<size_t>(slot)]) {
      fresh[static_cast<size_t>(slot)] = 0;
      std::fill(a.t.begin(), a.t.end(), T(0));
      std::fill(a.scratch.begin(), a.scratch.end(), T(0));
      if (writesArena) std::memcpy(a.v.get(), v_.data(), sizeof(T) * static_cast<size_t>(tape_.arenaSize));
    }
    const Piece& p = pieces[static_cast<size_t>(k)];
    for (int32_t i = p.begin; i < p.end; i++) {
      if (call.cancel && call.cancel->load(std::memory_order_relaxed)) return;
      a.t[static_cast<size_t>(i)] = 1.0;
      tangentSweep(p.from, a.t.data(), a.scratch.data(), writesArena ? a.v.get() : v_.data());
      call.grad[i] = a.t[static_cast<size_t>(tape_.output)];
      a.t[static_cast<size_t>(i)] = 0.0;
    }
  });
  return true;
}

template class Program<double>;
template class Program<float>;

}  // namespace tapegrad
