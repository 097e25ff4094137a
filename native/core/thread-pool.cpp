#include "thread-pool.h"

#include <algorithm>
#include <chrono>
#if defined(__linux__)
#include <pthread.h>
#endif

namespace tapegrad {

namespace {

thread_local bool t_inTask = false;

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// How long a thread polls before it sleeps on a condition variable: a sweep runs several
// parallel regions back to back (a matmul, then tanh, ...), and waking a sleeping thread costs
// 5-50 us, as much as a small region's work. Short, because the machine may be shared.
constexpr auto kSpin = std::chrono::microseconds(50);

template <class Ready>
bool spinUntil(Ready ready) {
  const auto end = std::chrono::steady_clock::now() + kSpin;
  for (int k = 0;; k++) {
    if (ready()) return true;
    cpuRelax();
    if ((k & 63) == 63 && std::chrono::steady_clock::now() > end) return false;
  }
}

}  // namespace

ThreadPool& ThreadPool::shared() {
  static ThreadPool* pool = new ThreadPool();  // never destroyed (see thread-pool.h)
  return *pool;
}

bool ThreadPool::inTask() { return t_inTask; }

void ThreadPool::work(Batch& b, int slot) {
  for (;;) {
    const int64_t i = b.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= b.count) return;
    b.task(b.ctx, i, slot);
  }
}

ThreadPool::Batch* ThreadPool::openBatch() {
  for (Batch* b : open_)
    if (b->joined < b->width && b->next.load(std::memory_order_relaxed) < b->count) return b;
  return nullptr;
}

void ThreadPool::run(int64_t count, int width, Task task, void* ctx) {
  if (count <= 0) return;
  width = std::min<int64_t>(std::min(width, kMaxWidth), count);
  if (width <= 1 || t_inTask) {
    for (int64_t i = 0; i < count; i++) task(ctx, i, 0);
    return;
  }
  Batch b;
  b.task = task;
  b.ctx = ctx;
  b.count = count;
  b.width = width;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    while (static_cast<int>(workers_.size()) < width - 1) workers_.emplace_back([this] { workerLoop(); });
    open_.push_back(&b);
    posted_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  t_inTask = true;
  work(b, 0);
  t_inTask = false;
  // every task is claimed; those claimed by workers are done once every worker has left
  {
    std::lock_guard<std::mutex> lock(mutex_);
    open_.erase(std::remove(open_.begin(), open_.end(), &b), open_.end());
  }
  if (spinUntil([&] { return b.active.load(std::memory_order_acquire) == 0; })) return;
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return b.active.load(std::memory_order_acquire) == 0; });
}

void ThreadPool::workerLoop() {
#if defined(__linux__)
  pthread_setname_np(pthread_self(), "tapegrad.pool");  // as top -H and /proc/<pid>/task show it
#endif
  t_inTask = true;
  uint64_t seen = 0;
  for (;;) {
    // poll for a new batch for a moment, then sleep until one is posted
    spinUntil([&] { return posted_.load(std::memory_order_acquire) != seen; });
    Batch* b;
    int slot;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return (b = openBatch()) != nullptr; });
      seen = posted_.load(std::memory_order_relaxed);
      slot = b->joined++;
      b->active.fetch_add(1, std::memory_order_relaxed);
    }
    work(*b, slot);
    // b may be freed as soon as active reaches 0: nothing of it is touched after
    if (b->active.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_all();
    }
  }
}

}  // namespace tapegrad
