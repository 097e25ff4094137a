// An addon's own thread for long jobs (addon.cpp: asynchronous gradients; mpi/mpi.cpp: MPI
// collectives), so that they never occupy libuv's thread pool (file system, DNS, zlib). Jobs start
// in submission order, one at a time (the MPI collectives need that order), or up to n at a
// time once widen(n) has added threads on the same queue (asynchronous gradients of different
// compiled functions); each completes on the JS thread through a thread-safe function, which
// holds the event loop open only while jobs are pending. When the environment shuts down
// (process exit, a worker terminated or calling process.exit), Node.js finalizes the
// thread-safe function: the running jobs are cancelled, the threads joined and the queued jobs
// freed; no promise is settled and no JS runs then.
//
// A job type J provides
//   void run(const std::atomic<bool>* cancel);  // on the thread; *cancel turns true at shutdown
//   void complete(napi_env env);                // on the JS thread: settles its promise with raw
//                                               // Node-API calls, statuses checked, nothing thrown
// and a destructor that makes no Node-API call (it may run on the thread or during teardown).
#pragma once
#include <node_api.h>
#if defined(__linux__)
#include <pthread.h>
#endif

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tapegrad {

template <class J>
class JobThread {
 public:
  // nullptr when the thread-safe function cannot be created. onFinalize(hint) runs on the JS
  // thread when the environment shuts down, after the thread is joined, just before this is freed.
  static JobThread* start(napi_env env, const char* name, void (*onFinalize)(void*) = nullptr, void* hint = nullptr) {
    auto* t = new JobThread();
    t->name_ = name;
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
    t->threads_.emplace_back([t] { t->loop(); });
    return t;
  }

  // JS thread: at least n threads take jobs from the queue (never fewer than before), so that up
  // to n jobs run at once; they may then complete in any order
  void widen(size_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    while (!stop_ && threads_.size() < n) threads_.emplace_back([this] { loop(); });
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

  // JS thread: cancels the jobs in progress (where they look), stops after them, joins the
  // threads and frees the queued jobs. Later submissions never run.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cancel_ = true;
    wake_.notify_all();
    for (std::thread& t : threads_)
      if (t.joinable()) t.join();
    for (J* job : queue_) delete job;
    queue_.clear();
  }

 private:
  void loop() {
#if defined(__linux__)
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());  // as top -H shows it
#endif
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

  std::vector<std::thread> threads_;  // grown under mutex_ (widen), joined by stop()
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<J*> queue_;
  bool stop_ = false;
  std::atomic<bool> cancel_{false};
  napi_threadsafe_function tsfn_ = nullptr;
  size_t pending_ = 0;  // JS thread only
  std::string name_;
  void (*onFinalize_)(void*) = nullptr;
  void* hint_ = nullptr;
};

}  // namespace tapegrad
