// The thin Node-API layer over native/core: it reads every argument first (reading can run user
// code), then checks each itself (typed-array type, length, the program still alive and not busy)
// and throws TypeError/RangeError/Error with its own message before any memory is touched, then
// calls the core with pointers straight into the caller's Float64Arrays (zero-copy), writing the
// gradient into the caller's buffer. Asynchronous gradients run on the addon's own thread.
#include "napi-config.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "../core/dispatch.h"
#include "../core/program.h"
#include "../core/thread-pool.h"
#include "job-thread.h"

// the fused optimizers (optim.cpp)
void RegisterOptimizers(Napi::Env env, Napi::Object exports);

namespace {

using tapegrad::CallBuffers;
using tapegrad::KernelTable;
using tapegrad::Program;
using tapegrad::TapeData;

// the caller's array of one of a program's element types
template <class T>
struct Span {
  T* data;
  size_t length;
};

template <class T>
constexpr napi_typedarray_type kArrayType = sizeof(T) == 4 ? napi_float32_array : napi_float64_array;
template <class T>
constexpr const char* kArrayName = sizeof(T) == 4 ? "Float32Array" : "Float64Array";

[[noreturn]] void throwType(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, "tapegrad native: " + msg);
}
[[noreturn]] void throwRange(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, "tapegrad native: " + msg);
}
[[noreturn]] void throwError(Napi::Env env, const std::string& msg) {
  throw Napi::Error::New(env, "tapegrad native: " + msg);
}

// A Float64Array (T = double: a float64 program) or Float32Array (T = float: a float32 program)
// of exactly `length` elements; `what` (and `index`, for inputs) name it in the error message,
// which is only built on failure (this runs on every call). The other float array is refused by
// name: its elements are not the program's.
template <class T>
Span<T> floats(Napi::Env env, const Napi::Value& v, const char* what, size_t length, int index = -1) {
  auto name = [&] { return std::string(what) + (index >= 0 ? " " + std::to_string(index) : ""); };
  napi_typedarray_type type;
  size_t len;
  void* data;
  if (!v.IsTypedArray() || napi_get_typedarray_info(env, v, &type, &len, &data, nullptr, nullptr) != napi_ok)
    throwType(env, name() + " must be a " + kArrayName<T>);
  if (type != kArrayType<T>) {
    const bool other = type == napi_float64_array || type == napi_float32_array;
    throwType(env,
              name() + " must be a " + kArrayName<T> +
                  (other ? std::string(", got a ") + kArrayName<std::conditional_t<sizeof(T) == 4, double, float>> +
                               " (this function's dtype is " + (sizeof(T) == 4 ? "float32" : "float64") + ")"
                         : std::string()));
  }
  if (len != length)
    throwRange(env, name() + " must have " + std::to_string(length) + " elements, got " + std::to_string(len));
  return {static_cast<T*>(data), length};
}
Span<double> f64(Napi::Env env, const Napi::Value& v, const char* what, size_t length, int index = -1) {
  return floats<double>(env, v, what, length, index);
}

template <class T>
bool overlap(const Span<T>& x, const Span<T>& y) {
  if (x.length == 0 || y.length == 0) return false;
  return x.data < y.data + y.length && y.data < x.data + x.length;
}

template <class T>
std::vector<T> typedArray(Napi::Env env, const Napi::Object& tape, const char* key, napi_typedarray_type type) {
  Napi::Value v = tape.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    throwType(env, std::string("tape.") + key +
                       (type == napi_int32_array ? " must be an Int32Array" : " must be a Float64Array"));
  auto a = v.As<Napi::TypedArrayOf<T>>();
  return std::vector<T>(a.Data(), a.Data() + a.ElementLength());
}

int32_t int32Field(Napi::Env env, const Napi::Object& tape, const char* key) {
  Napi::Value v = tape.Get(key);
  if (!v.IsNumber()) throwType(env, std::string("tape.") + key + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 2147483647.0) || d != std::floor(d))
    throwRange(env, std::string("tape.") + key + " must be an integer in [0, 2^31)");
  return static_cast<int32_t>(d);
}

struct FdOptions {
  bool central, reuse;
  double relStep;
};

// An FD plan given by the caller (a subset of coordinates), or none (the tape's own plan).
// A given plan with no triples computes no coordinate: it must not reach the core as nullptr,
// which means "the tape's plan" (an empty vector's data() may be null).
struct FdPlan {
  bool given = false;
  std::vector<int32_t> triples;
  const int32_t* data() const {
    static const int32_t none = 0;
    return !given ? nullptr : triples.empty() ? &none : triples.data();
  }
};

class NativeProgram;

// One asynchronous gradient (the part that does not depend on the element type). Everything it
// reads is copied when the call is made (the caller may reuse its buffers at once); the
// gradient is computed into a private buffer and copied into the caller's on the JS thread just
// before the promise resolves. It holds the program, so a dispose() meanwhile frees the arenas
// only when the job is done. Destroying a job makes no Node-API call: that may happen on the
// addon's thread or during the environment's teardown.
struct Job {
  virtual ~Job() = default;
  virtual void run(const std::atomic<bool>* cancel) = 0;
  // JS thread: the owner is idle again; the gradient lands in the caller's buffer and the
  // promise settles
  void complete(napi_env env);

  // what the job computes: the reverse gradient, FD (opts) or the forward-mode gradient (opts.reuse)
  enum class Kind { Reverse, Fd, Forward } kind = Kind::Reverse;
  FdOptions opts{};
  FdPlan plan;
  double value = 0;
  std::string error;  // set when the computation threw
  // JS-thread handles: the owner (kept alive, marked idle at the end), the caller's gradient
  // buffer and the promise
  NativeProgram* owner = nullptr;
  napi_ref ownerRef = nullptr, gradRef = nullptr;
  napi_deferred deferred = nullptr;

 protected:
  virtual size_t gradLength() const = 0;
  virtual void copyGrad(void* out) const = 0;
};

template <class T>
struct JobOf : Job {
  std::shared_ptr<Program<T>> program;
  std::vector<T> theta, grad;
  std::vector<std::vector<T>> inputs;
  std::vector<const T*> ptrs;

  void run(const std::atomic<bool>* cancel) override {
    CallBuffers<T> call{theta.data(), ptrs.data(), grad.data(), false};
    call.cancel = cancel;
    try {
      if (kind == Kind::Fd)
        value = program->fd(call, opts.central, opts.relStep, opts.reuse, plan.data(), plan.triples.size());
      else if (kind == Kind::Forward)
        program->forwardGrad(call, opts.reuse, plan.data(), plan.triples.size(), &value, &error);
      else
        value = program->reverse(call);
    } catch (const std::exception& e) { error = e.what(); }
  }

 protected:
  size_t gradLength() const override { return grad.size(); }
  void copyGrad(void* out) const override { std::copy(grad.begin(), grad.end(), static_cast<T*>(out)); }
};

class NativeProgram : public Napi::ObjectWrap<NativeProgram> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "NativeProgram",
        {InstanceMethod<&NativeProgram::ValueCall>("value"), InstanceMethod<&NativeProgram::Reverse>("reverse"),
         InstanceMethod<&NativeProgram::Fd>("fd"), InstanceMethod<&NativeProgram::ReverseAsync>("reverseAsync"),
         InstanceMethod<&NativeProgram::FdAsync>("fdAsync"), InstanceMethod<&NativeProgram::Dispose>("dispose"),
         InstanceMethod<&NativeProgram::Jvp>("jvp"), InstanceMethod<&NativeProgram::ForwardGrad>("forwardGrad"),
         InstanceMethod<&NativeProgram::ForwardGradAsync>("forwardGradAsync"),
         InstanceMethod<&NativeProgram::Passes>("passes"), InstanceAccessor<&NativeProgram::Isa>("isa"),
         InstanceAccessor<&NativeProgram::Busy>("busy"), InstanceAccessor<&NativeProgram::Threads>("threads"),
         InstanceAccessor<&NativeProgram::DType>("dtype")});
  }

  NativeProgram(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeProgram>(info) {}

  void Attach(std::unique_ptr<Program<double>> p) { p64_ = std::move(p); }
  void Attach(std::unique_ptr<Program<float>> p) { p32_ = std::move(p); }
  // on the JS thread, when an asynchronous call has completed
  void asyncDone() { state_ = State::Idle; }

 private:
  // Idle; Reading: a synchronous call (or the start of an asynchronous one) is in progress, and
  // reading its arguments can run user code; Async: a gradient runs on the addon's thread.
  enum class State { Idle, Reading, Async };

  bool alive() const { return p64_ || p32_; }
  // f(program) on the live program, whichever its element type
  template <class F>
  auto visit(F&& f) {
    return p32_ ? f(*p32_) : f(*p64_);
  }
  template <class T>
  std::shared_ptr<Program<T>>& program() {
    if constexpr (sizeof(T) == 4)
      return p32_;
    else
      return p64_;
  }
  // per element type: the inputs of the call in progress and their pointers
  template <class T>
  struct Scratch {
    std::vector<Span<T>> inputs;
    std::vector<const T*> ptrs;
  };
  template <class T>
  Scratch<T>& scratch() {
    return std::get<Scratch<T>>(scratch_);
  }

  // Marks the function busy from before the first user code of a call can run to the end of
  // the call, so that a getter can neither call it again on the same arenas nor start an
  // asynchronous call on them. dispose() stays possible: readArgs checks for it after reading.
  class Guard {
   public:
    Guard(NativeProgram& np, Napi::Env env) : np_(np) {
      if (!np.alive()) throwError(env, "this compiled function was disposed");
      if (np.state_ == State::Async)
        throwError(env,
                   "this compiled function is busy with an asynchronous gradient; await it before calling it again");
      if (np.state_ == State::Reading)
        throwError(env,
                   "this compiled function is busy: it was called again while a call on it reads its arguments (from a "
                   "getter?)");
      np.state_ = State::Reading;
    }
    ~Guard() {
      if (np_.state_ == State::Reading) np_.state_ = State::Idle;
    }

   private:
    NativeProgram& np_;
  };

  // theta (argument 0) and the inputs (argument 1). The inputs array's elements are read first:
  // reading one can run user code (a getter, an accessor on Array.prototype) that disposes this
  // function or detaches a buffer. Only then is every value checked and its data pointer taken;
  // no user code runs from there to the end of the call, so the pointers stay valid.
  // Returns the program, alive.
  template <class T>
  Program<T>& readArgs(const Napi::CallbackInfo& info, Span<T>* theta) {
    Napi::Env env = info.Env();
    if (!info[1].IsArray()) throwType(env, std::string("inputs must be an array of ") + kArrayName<T>);
    auto arr = info[1].As<Napi::Array>();
    const int32_t n = program<T>()->inputCount();
    if (arr.Length() != static_cast<uint32_t>(n))
      throwRange(env, "expected " + std::to_string(n) + " inputs, got " + std::to_string(arr.Length()));
    values_.resize(static_cast<size_t>(n));
    for (int32_t j = 0; j < n; j++) values_[j] = arr.Get(static_cast<uint32_t>(j));  // may run user code
    if (!program<T>()) throwError(env, "this compiled function was disposed");
    Program<T>& p = *program<T>();
    *theta = floats<T>(env, info[0], "theta", static_cast<size_t>(p.paramCount()));
    auto& inputs = scratch<T>().inputs;
    inputs.clear();
    for (int32_t j = 0; j < n; j++)
      inputs.push_back(floats<T>(env, values_[j], "input", static_cast<size_t>(p.inputSize(j)), j));
    return p;
  }

  template <class T>
  CallBuffers<T> buffers(const Span<T>& theta, const Span<T>* grad) {
    Scratch<T>& sc = scratch<T>();
    sc.ptrs.resize(sc.inputs.size());
    bool copy = false;
    for (size_t j = 0; j < sc.inputs.size(); j++) {
      sc.ptrs[j] = sc.inputs[j].data;
      if (grad && overlap(*grad, sc.inputs[j])) copy = true;
    }
    if (grad && overlap(*grad, theta)) copy = true;
    return {theta.data, sc.ptrs.data(), grad ? grad->data : nullptr, copy};
  }

  // an optional buffer for the named outputs (argument `i`), checked like the others
  template <class T>
  static Span<T> outputs(const Napi::CallbackInfo& info, size_t i, Program<T>& p) {
    if (info[i].IsUndefined()) return {nullptr, 0};
    return floats<T>(info.Env(), info[i], "the outputs buffer", static_cast<size_t>(p.outputSize()));
  }

  Napi::Value ValueCall(const Napi::CallbackInfo& info) {
    Guard busy(*this, info.Env());
    return visit([&](auto& prog) {
      using T = typename std::remove_reference_t<decltype(prog)>::Elem;
      Span<T> theta;
      Program<T>& p = readArgs<T>(info, &theta);
      const Span<T> out = outputs<T>(info, 2, p);
      const double f = p.value(buffers<T>(theta, nullptr));
      if (out.data) p.copyOutputs(out.data);
      return Napi::Number::New(info.Env(), f);
    });
  }

  Napi::Value Reverse(const Napi::CallbackInfo& info) {
    Guard busy(*this, info.Env());
    return visit([&](auto& prog) {
      using T = typename std::remove_reference_t<decltype(prog)>::Elem;
      Span<T> theta;
      Program<T>& p = readArgs<T>(info, &theta);
      const Span<T> grad = floats<T>(info.Env(), info[2], "the gradient buffer", static_cast<size_t>(p.paramCount()));
      const Span<T> out = outputs<T>(info, 3, p);
      const double f = p.reverse(buffers<T>(theta, &grad));
      if (out.data) p.copyOutputs(out.data);
      return Napi::Number::New(info.Env(), f);
    });
  }

  static FdOptions fdOptions(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[3].IsBoolean()) throwType(env, "central must be a boolean");
    if (!info[4].IsNumber()) throwType(env, "relStep must be a number");
    if (!info[5].IsBoolean()) throwType(env, "reuse must be a boolean");
    const double step = info[4].As<Napi::Number>().DoubleValue();
    if (!(step > 0) || !std::isfinite(step)) throwRange(env, "relStep must be a positive finite number");
    return {info[3].As<Napi::Boolean>().Value(), info[5].As<Napi::Boolean>().Value(), step};
  }

  // argument i (6 for fd): an optional FD plan replacing the tape's (a subset of coordinates), copied
  template <class T>
  static FdPlan fdPlan(const Napi::CallbackInfo& info, const Program<T>& p, size_t i = 6) {
    Napi::Env env = info.Env();
    FdPlan plan;
    plan.given = !info[i].IsUndefined();
    if (!plan.given) return plan;
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      throwType(env, "the FD plan must be an Int32Array");
    auto a = info[i].As<Napi::Int32Array>();
    plan.triples.assign(a.Data(), a.Data() + a.ElementLength());
    std::string error;
    if (!p.checkPlan(plan.triples.data(), plan.triples.size(), &error)) throwRange(env, "invalid tape: " + error);
    return plan;
  }

  Napi::Value Fd(const Napi::CallbackInfo& info) {
    Guard busy(*this, info.Env());
    return visit([&](auto& prog) {
      using T = typename std::remove_reference_t<decltype(prog)>::Elem;
      Span<T> theta;
      Program<T>& p = readArgs<T>(info, &theta);
      const Span<T> grad = floats<T>(info.Env(), info[2], "the gradient buffer", static_cast<size_t>(p.paramCount()));
      const FdOptions o = fdOptions(info);
      const FdPlan plan = fdPlan(info, p);
      return Napi::Number::New(
          info.Env(), p.fd(buffers<T>(theta, &grad), o.central, o.relStep, o.reuse, plan.data(), plan.triples.size()));
    });
  }

  // jvp(theta, inputs, tangent, result): result (a Float64Array for either dtype) = [f,
  // derivative along tangent]
  Napi::Value Jvp(const Napi::CallbackInfo& info) {
    Guard busy(*this, info.Env());
    return visit([&](auto& prog) {
      using T = typename std::remove_reference_t<decltype(prog)>::Elem;
      Span<T> theta;
      Program<T>& p = readArgs<T>(info, &theta);
      const Span<T> tangent = floats<T>(info.Env(), info[2], "the tangent", static_cast<size_t>(p.paramCount()));
      const Span<double> result = f64(info.Env(), info[3], "the result buffer", 2);
      double f = 0, d = 0;
      std::string error;
      if (!p.jvp(buffers<T>(theta, nullptr), tangent.data, &f, &d, &error)) throwError(info.Env(), error);
      result.data[0] = f;
      result.data[1] = d;
      return Napi::Number::New(info.Env(), f);
    });
  }

  // forwardGrad(theta, inputs, grad, reuse, plan?)
  Napi::Value ForwardGrad(const Napi::CallbackInfo& info) {
    Guard busy(*this, info.Env());
    return visit([&](auto& prog) {
      using T = typename std::remove_reference_t<decltype(prog)>::Elem;
      Span<T> theta;
      Program<T>& p = readArgs<T>(info, &theta);
      const Span<T> grad = floats<T>(info.Env(), info[2], "the gradient buffer", static_cast<size_t>(p.paramCount()));
      if (!info[3].IsBoolean()) throwType(info.Env(), "reuse must be a boolean");
      const FdPlan plan = fdPlan(info, p, 4);
      double f = 0;
      std::string error;
      if (!p.forwardGrad(buffers<T>(theta, &grad), info[3].As<Napi::Boolean>().Value(), plan.data(),
                         plan.triples.size(), &f, &error))
        throwError(info.Env(), error);
      return Napi::Number::New(info.Env(), f);
    });
  }

  Napi::Value ReverseAsync(const Napi::CallbackInfo& info) { return StartAsync(info, Job::Kind::Reverse); }
  Napi::Value FdAsync(const Napi::CallbackInfo& info) { return StartAsync(info, Job::Kind::Fd); }
  // forwardGradAsync(theta, inputs, grad, reuse, plan?)
  Napi::Value ForwardGradAsync(const Napi::CallbackInfo& info) { return StartAsync(info, Job::Kind::Forward); }
  Napi::Value StartAsync(const Napi::CallbackInfo& info, Job::Kind kind);

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    // an asynchronous call in flight holds the program (its arenas) until it is done
    p64_.reset();
    p32_.reset();
    return info.Env().Undefined();
  }

  // passes(): the load passes' decisions (Program::passes), an Int32Array (tests)
  Napi::Value Passes(const Napi::CallbackInfo& info) {
    if (!alive()) throwError(info.Env(), "this compiled function was disposed");
    const std::vector<int32_t> w = visit([](auto& p) { return p.passes(); });
    Napi::Int32Array out = Napi::Int32Array::New(info.Env(), w.size());
    if (!w.empty()) std::memcpy(out.Data(), w.data(), sizeof(int32_t) * w.size());
    return out;
  }

  Napi::Value Isa(const Napi::CallbackInfo& info) {
    return alive() ? Napi::String::New(info.Env(), visit([](auto& p) { return p.isa(); })) : info.Env().Undefined();
  }
  Napi::Value Busy(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), state_ != State::Idle); }
  Napi::Value Threads(const Napi::CallbackInfo& info) {
    return alive() ? Napi::Number::New(info.Env(), visit([](auto& p) { return p.threads(); })) : info.Env().Undefined();
  }
  Napi::Value DType(const Napi::CallbackInfo& info) {
    return alive() ? Napi::String::New(info.Env(), p32_ ? "float32" : "float64") : info.Env().Undefined();
  }

  template <class T>
  Napi::Value startAsync(const Napi::CallbackInfo& info, Job::Kind kind);

  // one of the two is set while the function is alive
  std::shared_ptr<Program<double>> p64_;
  std::shared_ptr<Program<float>> p32_;
  State state_ = State::Idle;
  // scratch of one call (calls never nest: see Guard)
  std::vector<Napi::Value> values_;
  std::tuple<Scratch<double>, Scratch<float>> scratch_;
};

// Raw Node-API calls with their statuses checked, nothing thrown: this runs outside any JS call.
void Job::complete(napi_env env) {
  owner->asyncDone();
  napi_value g, result;
  napi_typedarray_type type;
  size_t length = 0;
  void* out = nullptr;
  std::string why = error;
  if (why.empty() &&
      (napi_get_reference_value(env, gradRef, &g) != napi_ok ||
       napi_get_typedarray_info(env, g, &type, &length, &out, nullptr, nullptr) != napi_ok || length != gradLength()))
    why = "the gradient buffer was detached or resized during the asynchronous call";
  if (why.empty()) {
    copyGrad(out);
    if (napi_create_double(env, value, &result) == napi_ok) napi_resolve_deferred(env, deferred, result);
  } else {
    napi_value msg, e;
    if (napi_create_string_utf8(env, ("tapegrad native: " + why).c_str(), NAPI_AUTO_LENGTH, &msg) == napi_ok &&
        napi_create_error(env, nullptr, msg, &e) == napi_ok)
      napi_reject_deferred(env, deferred, e);
  }
  napi_delete_reference(env, gradRef);
  napi_delete_reference(env, ownerRef);
}

// The addon's own thread for asynchronous gradients (job-thread.h), one per Node.js
// environment, started at its first asynchronous call.
using Runner = tapegrad::JobThread<Job>;

struct AddonData {
  Napi::FunctionReference programClass;
  const KernelTable* kernels = nullptr;
  std::string kernelError;
  Runner* runner = nullptr;  // started at the first asynchronous call; freed by its own finalizer
};

// reverse, FD or forward mode on the addon's thread: the same checks as the synchronous calls,
// and every argument copied before the call returns
Napi::Value NativeProgram::StartAsync(const Napi::CallbackInfo& info, Job::Kind kind) {
  Guard busy(*this, info.Env());
  return p32_ ? startAsync<float>(info, kind) : startAsync<double>(info, kind);
}

template <class T>
Napi::Value NativeProgram::startAsync(const Napi::CallbackInfo& info, Job::Kind kind) {
  Napi::Env env = info.Env();
  Span<T> theta;
  Program<T>& p = readArgs<T>(info, &theta);
  const Span<T> grad = floats<T>(env, info[2], "the gradient buffer", static_cast<size_t>(p.paramCount()));
  auto job = std::make_unique<JobOf<T>>();
  job->kind = kind;
  if (kind == Job::Kind::Fd) {
    job->opts = fdOptions(info);
    job->plan = fdPlan(info, p);
  } else if (kind == Job::Kind::Forward) {
    if (!info[3].IsBoolean()) throwType(env, "reuse must be a boolean");
    job->opts.reuse = info[3].As<Napi::Boolean>().Value();
    job->plan = fdPlan(info, p, 4);
  }
  AddonData* data = env.GetInstanceData<AddonData>();
  if (!data->runner && !(data->runner = Runner::start(env, "tapegrad.grad")))
    throwError(env, "cannot start the thread for asynchronous gradients");
  // as many gradients of different functions at once as this one may use threads (the same
  // function's calls never overlap: it is busy until its promise settles)
  data->runner->widen(static_cast<size_t>(p.threads()));
  job->program = program<T>();
  job->theta.assign(theta.data, theta.data + theta.length);
  for (const Span<T>& s : scratch<T>().inputs) job->inputs.emplace_back(s.data, s.data + s.length);
  for (auto& x : job->inputs) job->ptrs.push_back(x.data());
  // from the caller's buffer: an FD plan over some coordinates leaves the others as they were
  job->grad.assign(grad.data, grad.data + grad.length);
  job->owner = this;
  napi_value promise;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_reference(env, Value(), 1, &job->ownerRef) != napi_ok ||
      napi_create_reference(env, info[2], 1, &job->gradRef) != napi_ok)
    throwError(env, "cannot start an asynchronous call");
  state_ = State::Async;
  data->runner->submit(env, job.release());
  return Napi::Value(env, promise);
}

const KernelTable* kernelsFor(Napi::Env env, const Napi::Value& isa) {
  AddonData* data = env.GetInstanceData<AddonData>();
  if (isa.IsUndefined()) {
    if (!data->kernels) throwError(env, data->kernelError);
    return data->kernels;
  }
  if (!isa.IsString()) throwType(env, "isa must be a string");
  std::string error;
  const KernelTable* t = tapegrad::select_kernels(isa.As<Napi::String>().Utf8Value(), &error);
  if (!t) throwError(env, error);
  return t;
}

// load(tape, isa?, threads?, dtype?): validates the tape and returns a NativeProgram that may
// use `threads` threads (default 1), whose arenas and arrays hold dtype's elements ('float64',
// the default, or 'float32')
Napi::Value Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throwType(env, "load: expected a tape object");
  Napi::Object t = info[0].As<Napi::Object>();
  const KernelTable* kernels = kernelsFor(env, info[1]);
  int threads = 1;
  if (!info[2].IsUndefined()) {
    if (!info[2].IsNumber()) throwType(env, "load: threads must be a number");
    const double n = info[2].As<Napi::Number>().DoubleValue();
    if (!(n >= 1 && n <= tapegrad::ThreadPool::kMaxWidth) || n != std::floor(n))
      throwRange(env, "load: threads must be an integer from 1 to " + std::to_string(tapegrad::ThreadPool::kMaxWidth) +
                          ", got " + info[2].ToString().Utf8Value());
    threads = static_cast<int>(n);
  }
  bool f32 = false;
  if (!info[3].IsUndefined()) {
    const std::string dtype = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "";
    if (dtype != "float64" && dtype != "float32") throwType(env, "load: dtype must be 'float64' or 'float32'");
    f32 = dtype == "float32";
  }
  TapeData d;
  d.code = typedArray<int32_t>(env, t, "code", napi_int32_array);
  d.inputSizes = typedArray<int32_t>(env, t, "inputSizes", napi_int32_array);
  d.constInit = typedArray<double>(env, t, "constInit", napi_float64_array);
  d.fdPlan = typedArray<int32_t>(env, t, "fdPlan", napi_int32_array);
  d.outputs = typedArray<int32_t>(env, t, "outputs", napi_int32_array);
  d.nInstr = int32Field(env, t, "nInstr");
  d.arenaSize = int32Field(env, t, "arenaSize");
  d.nParams = int32Field(env, t, "nParams");
  d.nInputs = int32Field(env, t, "nInputs");
  d.constStart = int32Field(env, t, "constStart");
  d.tempStart = int32Field(env, t, "tempStart");
  d.output = int32Field(env, t, "output");
  auto make = [&](auto* type) {
    using T = std::remove_pointer_t<decltype(type)>;
    std::string error;
    std::unique_ptr<Program<T>> p;
    try {
      p = Program<T>::load(std::move(d), kernels, &error);
    } catch (const std::bad_alloc&) { throwRange(env, "the tape's arena is too large to allocate"); }
    if (!p) throwRange(env, "invalid tape: " + error);
    p->setThreads(threads);
    Napi::Object obj = env.GetInstanceData<AddonData>()->programClass.New({});
    NativeProgram::Unwrap(obj)->Attach(std::move(p));
    return obj;
  };
  return f32 ? make(static_cast<float*>(nullptr)) : make(static_cast<double*>(nullptr));
}

// vmath(name, x, y, isa?): y = name(x) with the vector math of one kernel build (tests)
Napi::Value Vmath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throwType(env, "vmath: name must be a string");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throwType(env, "vmath: x must be a Float64Array");
  const size_t n = info[1].As<Napi::Float64Array>().ElementLength();
  const Span<double> x{info[1].As<Napi::Float64Array>().Data(), n};
  const Span<double> y = f64(env, info[2], "vmath: y", n);
  (void)x;
  const KernelTable* t = kernelsFor(env, info[3]);
  if (!t->vmath(info[0].As<Napi::String>().Utf8Value().c_str(), x.data, y.data, static_cast<int64_t>(n)))
    throwRange(env, "vmath: unknown function");
  return env.Undefined();
}

// peak(dtype, ms, isa?): one core's arithmetic peak in GFLOP/s, float64 or float32: the fastest
// of runs of about 2 ms of independent multiply-add chains (k_peak.h) over `ms` milliseconds.
// The fastest run, not the median: a run the scheduler did not interrupt is the core's speed.
Napi::Value Peak(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string dtype = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (dtype != "float64" && dtype != "float32") throwType(env, "peak: dtype must be 'float64' or 'float32'");
  if (!info[1].IsNumber()) throwType(env, "peak: ms must be a number");
  const double ms = info[1].As<Napi::Number>().DoubleValue();
  if (!(ms > 0 && ms <= 60000)) throwRange(env, "peak: ms must be in (0, 60000]");
  const KernelTable* t = kernelsFor(env, info[2]);
  using clock = std::chrono::steady_clock;
  const bool f32 = dtype == "float32";
  double sink = 0, best = 0;
  int64_t reps = 1000;
  const auto start = clock::now();
  // grow the run to about 2 ms, then repeat it until `ms` have passed (at least 5 runs)
  for (int runs = 0; runs < 5 || std::chrono::duration<double, std::milli>(clock::now() - start).count() < ms; runs++) {
    const auto t0 = clock::now();
    const double flops = t->peak(f32, reps, &sink);
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    if (s > 0 && flops / s > best) best = flops / s;
    if (s < 1e-3) reps *= 2;
  }
  if (!(sink == sink)) throwError(env, "peak: the chains gave NaN");  // keeps the sum observable
  return Napi::Number::New(env, best / 1e9);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->kernels = tapegrad::select_kernels("", &data->kernelError);
  data->programClass = Napi::Persistent(NativeProgram::Define(env));
  env.SetInstanceData(data);
  exports.Set("load", Napi::Function::New<Load>(env, "load"));
  exports.Set("vmath", Napi::Function::New<Vmath>(env, "vmath"));
  exports.Set("peak", Napi::Function::New<Peak>(env, "peak"));
  RegisterOptimizers(env, exports);
  Napi::Array isas = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& s : tapegrad::supported_isas()) isas.Set(i++, Napi::String::New(env, s));
  exports.Set("supportedIsas", isas);
  exports.Set("isa", data->kernels ? Napi::Value(Napi::String::New(env, data->kernels->isa)) : env.Null());
  exports.Set("isaError", Napi::String::New(env, data->kernelError));
  return exports;
}

}  // namespace

NODE_API_MODULE(tapegrad, Init)
