// Counting arena ranges that overlap a query range, for the load passes of program.cpp: each
// question ("who else touches these elements?") costs O(log n) instead of a scan of the tape.
#pragma once
#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace tapegrad {

// How many half-open ranges [s, e) (s <= e) overlap a query [lo, hi), as the scans it replaces
// count them: s < hi && lo < e. A range with e <= lo starts before hi, so the count is
// #(s < hi) - #(e <= lo): two Fenwick trees, indexed by the thresholds the queries will use (the
// his and the los, given up front), so that ranges at any offset can be added and removed in any
// order. A query must use thresholds from those lists.
class OverlapCounter {
 public:
  OverlapCounter(std::vector<int64_t> his, std::vector<int64_t> los)
      : his_(sorted(std::move(his))), los_(sorted(std::move(los))) {
    starts_.assign(his_.size() + 1, 0);
    ends_.assign(los_.size() + 1, 0);
  }

  void add(int64_t s, int64_t e, int32_t delta) {
    // s counts for every threshold above it; e for every threshold at or above it
    bump(starts_, static_cast<size_t>(std::upper_bound(his_.begin(), his_.end(), s) - his_.begin()), delta);
    bump(ends_, static_cast<size_t>(std::lower_bound(los_.begin(), los_.end(), e) - los_.begin()), delta);
  }

  int64_t count(int64_t lo, int64_t hi) const {
    const size_t h = static_cast<size_t>(std::lower_bound(his_.begin(), his_.end(), hi) - his_.begin());
    const size_t l = static_cast<size_t>(std::lower_bound(los_.begin(), los_.end(), lo) - los_.begin());
    return prefix(starts_, h) - prefix(ends_, l);
  }

 private:
  static std::vector<int64_t> sorted(std::vector<int64_t> v) {
    std::sort(v.begin(), v.end());
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
    for (size_t i = std::min(at + 1, t.size() - 1); i > 0; i -= i & (~i + 1)) s += t[i];
    return s;
  }

  std::vector<int64_t> his_, los_;
  std::vector<int64_t> starts_, ends_;
};

// The ranges that start at each offset, as a count and the sum of their ids: where exactly one
// starts at an offset, the sum is its id (no list per offset to allocate).
class StartIndex {
 public:
  explicit StartIndex(size_t expected) { at_.reserve(expected); }
  void add(int64_t start, int64_t id) { at_[start].count++, at_[start].ids += id; }
  void remove(int64_t start, int64_t id) { at_[start].count--, at_[start].ids -= id; }
  // the id of the only range that starts at `start`, or -1 (none, or several)
  int64_t only(int64_t start) const {
    const auto it = at_.find(start);
    return it != at_.end() && it->second.count == 1 ? it->second.ids : -1;
  }

 private:
  struct Entry {
    int64_t count = 0, ids = 0;
  };
  std::unordered_map<int64_t, Entry> at_;
};

}  // namespace tapegrad
