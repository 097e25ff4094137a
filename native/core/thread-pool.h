// The worker threads behind the native backend's parallel loops (program.cpp: finite
// differences over parameter chunks, rows of large matmuls and elementwise sweeps). Pure C++
// (std::thread, no Node-API). One pool serves the whole process: every compiled function, every
// Node.js environment (worker threads included) and every thread that calls into it (the JS
// thread, the asynchronous gradients' job threads) share its workers. It grows to the widest
// run asked for and is never destroyed: its idle threads simply end with the process, so no
// static destructor can race a task at exit.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace tapegrad {

class ThreadPool {
 public:
  // task(ctx, index, slot): slot in [0, width) names the participant that runs it (0 is the
  // caller), so that a task can use per-participant scratch (an FD worker's arena).
  using Task = void (*)(void* ctx, int64_t index, int slot);

  // The largest width run() accepts (a bad value is refused by the binding before it gets here).
  static constexpr int kMaxWidth = 1024;

  static ThreadPool& shared();

  // Runs task(ctx, i, slot) for every i in [0, count) on the calling thread and up to width - 1
  // workers, and returns when all have finished. Tasks are claimed in increasing order, so each
  // participant sees its own tasks in increasing order (the FD loop relies on it). A run from
  // inside a task (nested) or with width 1 runs every task on the calling thread, in order.
  // Tasks must not throw.
  void run(int64_t count, int width, Task task, void* ctx);

  // The same with a callable body(i, slot).
  template <class F>
  void run(int64_t count, int width, F&& body) {
    run(
        count, width, [](void* c, int64_t i, int slot) { (*static_cast<F*>(c))(i, slot); },
        const_cast<void*>(static_cast<const void*>(&body)));
  }

  // True on a thread that is running a pool task (a worker, or a caller inside run()).
  static bool inTask();

 private:
  struct Batch {
    Task task;
    void* ctx;
    int64_t count;
    int width;
    std::atomic<int64_t> next{0};
    std::atomic<int> active{0};  // workers inside the batch
    int joined = 1;              // participants so far, the caller included (under mutex_)
  };

  ThreadPool() = default;
  void workerLoop();
  Batch* openBatch();  // under mutex_: a batch with tasks left and room for one more participant
  static void work(Batch& b, int slot);

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  std::vector<Batch*> open_;         // batches workers may still join (under mutex_)
  std::atomic<uint64_t> posted_{0};  // bumped at every new batch: idle workers spin on it briefly
};

}  // namespace tapegrad
