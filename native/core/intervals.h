// Counting arena ranges that overlap a query range, for the load passes of program.cpp: each
// question ("who else touches these elements?") costs a binary search instead of a scan of the
// tape. Offsets are those of a validated tape: in [0, 2^31).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace tapegrad {

// Sorts by a 32-bit key (an arena offset) in three passes of 11 bits, stably: linear, where
// std::sort's comparisons dominated the load of a long tape.
template <class T, class Key>
void radixSort(std::vector<T>& v, Key key) {
  std::vector<T> tmp(v.size());
  for (int shift = 0; shift < 33; shift += 11) {
    std::vector<size_t> at(2049, 0);
    for (const T& x : v) at[((key(x) >> shift) & 2047) + 1]++;
    for (size_t b = 0; b < 2048; b++) at[b + 1] += at[b];
    for (const T& x : v) tmp[at[(key(x) >> shift) & 2047]++] = x;
    v.swap(tmp);
  }
}

// How many half-open ranges [s, e) (s <= e) overlap a query [lo, hi), as the scans it replaces
// count them: s < hi && lo < e. A range with e <= lo starts before hi, so the count is
// #(s < hi) - #(e <= lo), kept per threshold: the his and los that queries will use, given up
// front. The ranges given at construction are counted by one merge of sorted lists; ranges
// added or removed later (a folded operand that moves) go to two Fenwick trees.
class OverlapCounter {
 public:
  OverlapCounter(std::vector<int64_t> his, std::vector<int64_t> los, std::vector<uint32_t> starts,
                 std::vector<uint32_t> ends)
      : his_(sortedUnique(std::move(his))), los_(sortedUnique(std::move(los))) {
    auto id = [](uint32_t x) { return x; };
    radixSort(starts, id);
    radixSort(ends, id);
    baseStarts_.resize(his_.size());
    baseEnds_.resize(los_.size());
    size_t k = 0;
    for (size_t t = 0; t < his_.size(); t++) {
      while (k < starts.size() && starts[k] < his_[t]) k++;
      baseStarts_[t] = static_cast<int64_t>(k);
    }
    k = 0;
    for (size_t t = 0; t < los_.size(); t++) {
      while (k < ends.size() && ends[k] <= los_[t]) k++;
      baseEnds_[t] = static_cast<int64_t>(k);
    }
    starts_.assign(his_.size() + 1, 0);
    ends_.assign(los_.size() + 1, 0);
  }

  void add(int64_t s, int64_t e, int32_t delta) {
    // s counts for every threshold above it; e for every threshold at or above it
    bump(starts_, static_cast<size_t>(std::upper_bound(his_.begin(), his_.end(), s) - his_.begin()), delta);
    bump(ends_, static_cast<size_t>(std::lower_bound(los_.begin(), los_.end(), e) - los_.begin()), delta);
  }

  // lo must be one of the los given, hi one of the his
  int64_t count(int64_t lo, int64_t hi) const {
    const size_t h = static_cast<size_t>(std::lower_bound(his_.begin(), his_.end(), hi) - his_.begin());
    const size_t l = static_cast<size_t>(std::lower_bound(los_.begin(), los_.end(), lo) - los_.begin());
    if (h == his_.size() || l == los_.size()) return 0;  // not a threshold: a caller's bug, never read out of bounds
    return baseStarts_[h] + prefix(starts_, h) - baseEnds_[l] - prefix(ends_, l);
  }

 private:
  static std::vector<int64_t> sortedUnique(std::vector<int64_t> v) {
    radixSort(v, [](int64_t x) { return static_cast<uint32_t>(x); });
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }
  // tree over positions 0..n-1 (stored 1-based); position n (past every threshold) is not kept
  static void bump(std::vector<int64_t>& t, size_t at, int32_t delta) {
    for (size_t i = at + 1; i < t.size(); i += i & (~i + 1)) t[i] += delta;
  }
  // sum over positions 0..at
  static int64_t prefix(const std::vector<int64_t>& t, size_t at) {
    int64_t s = 0;
    for (size_t i = at + 1; i > 0; i -= i & (~i + 1)) s += t[i];
    return s;
  }

  std::vector<int64_t> his_, los_;
  std::vector<int64_t> baseStarts_, baseEnds_;  // the construction's ranges, per threshold
  std::vector<int64_t> starts_, ends_;          // Fenwick trees of the later changes
};

// The ranges that start at each offset, as a count and the sum of their ids: where exactly one
// starts at an offset, the sum is its id. Offsets are those of the ranges given at construction
// and `more` (where ranges may move later).
class StartIndex {
 public:
  // entries: (start, id) pairs
  StartIndex(std::vector<std::pair<uint32_t, uint32_t>> entries, const std::vector<uint32_t>& more) {
    constexpr uint32_t none = UINT32_MAX;
    for (uint32_t s : more) entries.emplace_back(s, none);
    radixSort(entries, [](const std::pair<uint32_t, uint32_t>& e) { return e.first; });
    for (const auto& [s, id] : entries) {
      if (starts_.empty() || starts_.back() != s) starts_.push_back(s), at_.push_back({});
      if (id != none) at_.back().count++, at_.back().ids += id;
    }
  }
  void add(int64_t start, int64_t id) {
    const size_t k = index(start);
    if (k != NONE) at_[k].count++, at_[k].ids += id;
  }
  void remove(int64_t start, int64_t id) {
    const size_t k = index(start);
    if (k != NONE) at_[k].count--, at_[k].ids -= id;
  }
  // the id of the only range that starts at `start`, or -1 (none, or several)
  int64_t only(int64_t start) const {
    const size_t k = index(start);
    return k != NONE && at_[k].count == 1 ? at_[k].ids : -1;
  }

 private:
  struct Entry {
    int64_t count = 0, ids = 0;
  };
  static constexpr size_t NONE = SIZE_MAX;
  size_t index(int64_t start) const {
    const auto it = std::lower_bound(starts_.begin(), starts_.end(), start);
    return it != starts_.end() && *it == start ? static_cast<size_t>(it - starts_.begin()) : NONE;
  }
  std::vector<int64_t> starts_;
  std::vector<Entry> at_;
};

}  // namespace tapegrad
