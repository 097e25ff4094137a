// An addon's own thread for long jobs (addon.cpp: asynchronous gradients; mpi/mpi.cpp: MPI
// collectives), so that they never occupy libuv's thread pool (file system, DNS, zlib). Jobs run
// one at a time in submission order; each completes on the JS thread through a thread-safe
// function, which holds the event loop open only while jobs are pending. When the environment
// shuts down (process exit, a worker terminated or calling process.exit), Node.js finalizes the
// thread-safe function: the running job is cancelled, the thread joined and the queued jobs
// freed; no promise is settled and no JS runs then.
//
// A job type J provides
//   void run(const std::atomic<bool>* cancel);  // on the thread; *cancel turns true at shutdown
//   void complete(napi_env env);                // on the JS thread: settles its promise with raw
//                                               // Node-API calls, statuses checked, nothing thrown
// and a destructor that makes no Node-API call (it may run on the thread or during teardown).
#pragma once
#include <node_api.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace tapegrad {

template <class J>
class JobThread {
 public:
  // nullptr when the thread-safe function cannot be created. onFinalize(hint) runs on the JS
  // thread when the environment shuts down, after the thread is joined, just before this is freed.
  static JobThread* start(napi_env env, const char* name, void (*onFinalize)(void*) = nullptr, void* hint = nullptr) {
    auto* t = new JobThread();
    t->onFinalize_ = onFinalize;
    t->hint_ = hint;
    napi_value n;
    if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &n) != napi_ok ||
        napi_create_threadsafe_function(env, nullptr, nullptr, n, 0, 1, t, &JobThread::finalize, t,
                                        &JobThread::complete, &t->tsfn_) != napi_ok) {
      delete t;
      return nullptr;
    }
    napi_unref_threadsafe_function(env, t->tsfn_);
    t->thread_ = std::thread([t] { t->loop(); });
    return t;
  }

  // JS thread
  void submit(napi_env env, J* job) {
    if (pending_++ == 0) napi_ref_threadsafe_function(env, tsfn_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(job);
    }
    wake_.notify_one();
  }

  // JS thread: cancels the job in progress (where it looks), stops after it, joins the thread
  // and frees the queued jobs. Later submissions never run.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cancel_ = true;
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    for (J* job : queue_) delete job;
    queue_.clear();
  }

 private:
  void loop() {
    bool closing = false;
    for (;;) {
      J* job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        job = queue_.front();
        queue_.pop_front();
      }
      if (!closing) job->run(&cancel_);
      // napi_closing: the environment is shutting down, and the function must not be used again
      if (closing || napi_call_threadsafe_function(tsfn_, job, napi_tsfn_nonblocking) != napi_ok) {
        closing = true;
        delete job;
      }
    }
  }

  // JS thread: a job is done (env is null when the environment shuts down: free it only)
  static void complete(napi_env env, napi_value, void* context, void* data) {
    std::unique_ptr<J> job(static_cast<J*>(data));
    if (!env) return;
    auto* t = static_cast<JobThread*>(context);
    if (--t->pending_ == 0) napi_unref_threadsafe_function(env, t->tsfn_);
    job->complete(env);
  }

  // JS thread, when the environment shuts down: after this, no thread uses the function
  static void finalize(napi_env, void* data, void*) {
    auto* t = static_cast<JobThread*>(data);
    t->stop();
    if (t->onFinalize_) t->onFinalize_(t->hint_);
    delete t;
  }

  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<J*> queue_;
  bool stop_ = false;
  std::atomic<bool> cancel_{false};
  napi_threadsafe_function tsfn_ = nullptr;
  size_t pending_ = 0;  // JS thread only
  void (*onFinalize_)(void*) = nullptr;
  void* hint_ = nullptr;
};

}  // namespace tapegrad
