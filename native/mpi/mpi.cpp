// tapegrad_mpi.node: the MPI collectives that data-parallel training needs (init, rank, size,
// allreduce, broadcast, barrier, abort), a separate addon built only by `npm run build:mpi`
// (scripts/build-mpi.mjs) so that the default install never needs MPI.
//
// Every argument is checked before anything is touched. A collective copies the caller's array,
// runs on the addon's own thread (the JS thread stays free: the pattern of the asynchronous
// gradients in native/binding/addon.cpp), and copies the result back into the caller's array on
// the JS thread just before its promise resolves. Collectives run one at a time in call order,
// which is also the order MPI requires every rank to call them in.
//
// MPI is initialised with MPI_THREAD_SERIALIZED: init and finalize on the JS thread, the
// collectives on the addon's thread, never two at once. MPI_Finalize runs at the environment's
// cleanup (after the thread is joined) unless finalize()/abort() ran first.
#include <mpi.h>
#include "../binding/napi-config.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "../binding/job-thread.h"

namespace {

[[noreturn]] void throwType(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, "tapegrad mpi: " + msg);
}
[[noreturn]] void throwRange(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, "tapegrad mpi: " + msg);
}
[[noreturn]] void throwError(Napi::Env env, const std::string& msg) {
  throw Napi::Error::New(env, "tapegrad mpi: " + msg);
}

enum class Kind { SumAllreduce, MeanAllreduce, Broadcast, Barrier };

// One collective. `data` is a private copy; the caller's array (arrayRef) receives it at the end.
struct Job {
  Kind kind;
  int root = 0;
  int size = 1;  // ranks, for the mean
  std::vector<double> data;
  int status = MPI_SUCCESS;
  napi_ref arrayRef = nullptr;
  napi_deferred deferred = nullptr;

  // an MPI call cannot be cancelled: `cancel` is not looked at
  void run(const std::atomic<bool>*) {
    // MPI counts are int: longer arrays go in chunks of at most 2^30 elements
    const size_t chunk = size_t(1) << 30;
    if (kind == Kind::Barrier) {
      status = MPI_Barrier(MPI_COMM_WORLD);
      return;
    }
    for (size_t at = 0; at < data.size() && status == MPI_SUCCESS; at += chunk) {
      const int n = static_cast<int>(std::min(chunk, data.size() - at));
      status = kind == Kind::Broadcast
                   ? MPI_Bcast(data.data() + at, n, MPI_DOUBLE, root, MPI_COMM_WORLD)
                   : MPI_Allreduce(MPI_IN_PLACE, data.data() + at, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    }
    if (status == MPI_SUCCESS && kind == Kind::MeanAllreduce)
      for (double& x : data) x /= size;
  }
  void complete(napi_env env);
};

// The addon's own thread for the collectives (native/binding/job-thread.h)
using Runner = tapegrad::JobThread<Job>;

struct State {
  bool initialized = false, finalized = false;
  int rank = 0, size = 1;
  Runner* runner = nullptr;
};

// JS thread: a collective is done; the result lands in the caller's array and the promise settles
void Job::complete(napi_env env) {
  napi_value array = nullptr;
  napi_typedarray_type type;
  size_t length = 0;
  void* out = nullptr;
  std::string error;
  if (status != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(status, text, &len);
    error = "the collective failed: " + std::string(text, len);
  } else if (arrayRef && (napi_get_reference_value(env, arrayRef, &array) != napi_ok ||
                          napi_get_typedarray_info(env, array, &type, &length, &out, nullptr, nullptr) != napi_ok ||
                          length != data.size())) {
    error = "the array was detached or resized during the collective";
  }
  if (error.empty()) {
    if (!data.empty()) std::memcpy(out, data.data(), data.size() * sizeof(double));
    napi_value result = array;
    if (!result) napi_get_undefined(env, &result);
    napi_resolve_deferred(env, deferred, result);
  } else {
    napi_value msg, e;
    if (napi_create_string_utf8(env, ("tapegrad mpi: " + error).c_str(), NAPI_AUTO_LENGTH, &msg) == napi_ok &&
        napi_create_error(env, nullptr, msg, &e) == napi_ok)
      napi_reject_deferred(env, deferred, e);
  }
  if (arrayRef) napi_delete_reference(env, arrayRef);
}

// one per process, as MPI is (the addon is meant for the main thread)
State theState;
State* state(Napi::Env) { return &theState; }

void requireReady(Napi::Env env, const char* what) {
  State* s = state(env);
  if (!s->initialized) throwError(env, std::string(what) + ": call init() first");
  if (s->finalized) throwError(env, std::string(what) + ": MPI was finalized");
}

// init(): MPI_Init_thread (idempotent); returns { rank, size }
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  State* s = state(env);
  if (s->finalized) throwError(env, "init: MPI was finalized and cannot be initialised again");
  if (!s->initialized) {
    int already = 0;
    MPI_Initialized(&already);
    if (already) throwError(env, "init: MPI is already initialised by another module of this process");
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
      throwError(env, "init: MPI_Init_thread failed");
    if (provided < MPI_THREAD_SERIALIZED) {
      MPI_Finalize();
      s->finalized = true;
      throwError(env,
                 "init: this MPI does not provide MPI_THREAD_SERIALIZED (collectives run on a thread of their own)");
    }
    // errors come back as codes (rejected promises), not as an abort of the whole job
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &s->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &s->size);
    s->initialized = true;
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("rank", s->rank);
  r.Set("size", s->size);
  return r;
}

// a Float64Array argument (the array itself is written only when the collective resolves)
size_t f64Length(Napi::Env env, const Napi::Value& v, const char* what) {
  napi_typedarray_type type;
  size_t len;
  if (!v.IsTypedArray() || napi_get_typedarray_info(env, v, &type, &len, nullptr, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array)
    throwType(env, std::string(what) + ": the array must be a Float64Array");
  return len;
}

Napi::Value Submit(Napi::Env env, std::unique_ptr<Job> job, const Napi::Value* array) {
  State* s = state(env);
  // when the environment shuts down the thread is freed: forget it
  auto forget = [](void* state) { static_cast<State*>(state)->runner = nullptr; };
  if (!s->runner && !(s->runner = Runner::start(env, "tapegrad.mpi", forget, s)))
    throwError(env, "cannot start the thread for the collectives");
  job->size = s->size;
  if (array) {
    napi_typedarray_type type;
    size_t len;
    void* data;
    napi_get_typedarray_info(env, *array, &type, &len, &data, nullptr, nullptr);
    const double* p = static_cast<const double*>(data);
    job->data.assign(p, p + len);
  }
  napi_value promise;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      (array && napi_create_reference(env, *array, 1, &job->arrayRef) != napi_ok))
    throwError(env, "cannot start a collective");
  s->runner->submit(env, job.release());
  return Napi::Value(env, promise);
}

// allreduce(array, op): every rank's array summed (op 'sum') or averaged ('mean') elementwise,
// in place; resolves with the array
Napi::Value Allreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  f64Length(env, info[0], "allreduce");
  if (!info[1].IsString()) throwType(env, "allreduce: op must be 'sum' or 'mean'");
  const std::string op = info[1].As<Napi::String>().Utf8Value();
  if (op != "sum" && op != "mean") throwRange(env, "allreduce: op must be 'sum' or 'mean', got '" + op + "'");
  requireReady(env, "allreduce");
  auto job = std::make_unique<Job>();
  job->kind = op == "sum" ? Kind::SumAllreduce : Kind::MeanAllreduce;
  Napi::Value array = info[0];
  return Submit(env, std::move(job), &array);
}

// broadcast(array, root): root's array copied into every rank's, in place; resolves with the array
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  f64Length(env, info[0], "broadcast");
  requireReady(env, "broadcast");
  const int size = state(env)->size;
  if (!info[1].IsNumber())
    throwType(env, "broadcast: root must be a rank number (0.." + std::to_string(size - 1) + ")");
  const double root = info[1].As<Napi::Number>().DoubleValue();
  if (!(root >= 0 && root < size && root == static_cast<int>(root)))
    throwRange(env, "broadcast: root must be an integer rank in 0.." + std::to_string(size - 1) + ", got " +
                        info[1].ToString().Utf8Value());
  auto job = std::make_unique<Job>();
  job->kind = Kind::Broadcast;
  job->root = static_cast<int>(root);
  Napi::Value array = info[0];
  return Submit(env, std::move(job), &array);
}

// barrier(): resolves when every rank has called it
Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireReady(env, "barrier");
  auto job = std::make_unique<Job>();
  job->kind = Kind::Barrier;
  return Submit(env, std::move(job), nullptr);
}

void stopAndFinalize(State* s) {
  if (s->runner) s->runner->stop();
  if (s->initialized && !s->finalized) MPI_Finalize();
  s->finalized = true;
}

// finalize(): MPI_Finalize now (a clean exit; every rank must call it)
Napi::Value Finalize(const Napi::CallbackInfo& info) {
  stopAndFinalize(state(info.Env()));
  return info.Env().Undefined();
}

// abort(code): MPI_Abort: ends every rank of the job with this exit code (a rank that fails
// must not leave the others waiting in a collective forever)
Napi::Value Abort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throwType(env, "abort: code must be an integer");
  const int code = info[0].As<Napi::Number>().Int32Value();
  State* s = state(env);
  if (s->initialized && !s->finalized) MPI_Abort(MPI_COMM_WORLD, code);
  return env.Undefined();
}

Napi::Object Module(Napi::Env env, Napi::Object exports) {
  State* s = state(env);
  // the environment's teardown: the thread is joined first, then MPI finalized
  napi_add_env_cleanup_hook(
      env, [](void* p) { stopAndFinalize(static_cast<State*>(p)); }, s);
  exports.Set("init", Napi::Function::New<Init>(env, "init"));
  exports.Set("allreduce", Napi::Function::New<Allreduce>(env, "allreduce"));
  exports.Set("broadcast", Napi::Function::New<Broadcast>(env, "broadcast"));
  exports.Set("barrier", Napi::Function::New<Barrier>(env, "barrier"));
  exports.Set("finalize", Napi::Function::New<Finalize>(env, "finalize"));
  exports.Set("abort", Napi::Function::New<Abort>(env, "abort"));
  return exports;
}

}  // namespace

NODE_API_MODULE(tapegrad_mpi, Module)
