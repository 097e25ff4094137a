// The thin Node-API layer over native/core: it checks every argument itself (typed-array type,
// length, the program still alive and not busy) and throws TypeError/RangeError/Error with its
// own message before any memory is touched, then calls the core with pointers straight into the
// caller's Float64Arrays (zero-copy), writing the gradient into the caller's buffer.
#include <napi.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../core/dispatch.h"
#include "../core/program.h"

// the fused optimizers (optim.cpp)
void RegisterOptimizers(Napi::Env env, Napi::Object exports);

namespace {

using tapegrad::CallBuffers;
using tapegrad::KernelTable;
using tapegrad::Program;
using tapegrad::TapeData;

struct Span {
  double* data;
  size_t length;
};

[[noreturn]] void throwType(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, "tapegrad native: " + msg); }
[[noreturn]] void throwRange(Napi::Env env, const std::string& msg) { throw Napi::RangeError::New(env, "tapegrad native: " + msg); }
[[noreturn]] void throwError(Napi::Env env, const std::string& msg) { throw Napi::Error::New(env, "tapegrad native: " + msg); }

// A Float64Array of exactly `length` elements; `what` (and `index`, for inputs) name it in the
// error message, which is only built on failure (this runs on every call).
Span f64(Napi::Env env, const Napi::Value& v, const char* what, size_t length, int index = -1) {
  auto name = [&] { return std::string(what) + (index >= 0 ? " " + std::to_string(index) : ""); };
  napi_typedarray_type type;
  size_t len;
  void* data;
  if (!v.IsTypedArray() || napi_get_typedarray_info(env, v, &type, &len, &data, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array)
    throwType(env, name() + " must be a Float64Array");
  if (len != length)
    throwRange(env, name() + " must have " + std::to_string(length) + " elements, got " + std::to_string(len));
  return {static_cast<double*>(data), length};
}

bool overlap(const Span& x, const Span& y) {
  if (x.length == 0 || y.length == 0) return false;
  return x.data < y.data + y.length && y.data < x.data + x.length;
}

template <class T>
std::vector<T> typedArray(Napi::Env env, const Napi::Object& tape, const char* key, napi_typedarray_type type) {
  Napi::Value v = tape.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    throwType(env, std::string("tape.") + key + (type == napi_int32_array ? " must be an Int32Array" : " must be a Float64Array"));
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

class NativeProgram : public Napi::ObjectWrap<NativeProgram> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeProgram",
                       {InstanceMethod<&NativeProgram::ValueCall>("value"),
                        InstanceMethod<&NativeProgram::Reverse>("reverse"),
                        InstanceMethod<&NativeProgram::Fd>("fd"),
                        InstanceMethod<&NativeProgram::ReverseAsync>("reverseAsync"),
                        InstanceMethod<&NativeProgram::FdAsync>("fdAsync"),
                        InstanceMethod<&NativeProgram::Dispose>("dispose"),
                        InstanceAccessor<&NativeProgram::Isa>("isa"),
                        InstanceAccessor<&NativeProgram::Busy>("busy")});
  }

  NativeProgram(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeProgram>(info) {}

  void Attach(std::unique_ptr<Program> p) { program_ = std::move(p); }
  void Finish() {
    busy_ = false;
    if (disposeRequested_) program_.reset();
  }
  Program* program() { return program_.get(); }

 private:
  friend class GradWorker;

  Program& live(Napi::Env env) {
    if (!program_ || disposeRequested_) throwError(env, "this compiled function was disposed");
    if (busy_) throwError(env, "this compiled function is busy with an asynchronous gradient; await it before calling it again");
    return *program_;
  }

  // theta and inputs (arguments 0 and 1), checked against the program's shapes
  void readArgs(const Napi::CallbackInfo& info, Program& p, Span* theta, std::vector<Span>* inputs) {
    Napi::Env env = info.Env();
    *theta = f64(env, info[0], "theta", static_cast<size_t>(p.paramCount()));
    if (!info[1].IsArray()) throwType(env, "inputs must be an array of Float64Array");
    auto arr = info[1].As<Napi::Array>();
    if (arr.Length() != static_cast<uint32_t>(p.inputCount()))
      throwRange(env, "expected " + std::to_string(p.inputCount()) + " inputs, got " + std::to_string(arr.Length()));
    inputs->clear();
    for (int32_t j = 0; j < p.inputCount(); j++)
      inputs->push_back(f64(env, arr.Get(static_cast<uint32_t>(j)), "input", static_cast<size_t>(p.inputSize(j)), j));
  }

  CallBuffers buffers(const Span& theta, const std::vector<Span>& inputs, const Span* grad) {
    ptrs_.resize(inputs.size());
    bool copy = false;
    for (size_t j = 0; j < inputs.size(); j++) {
      ptrs_[j] = inputs[j].data;
      if (grad && overlap(*grad, inputs[j])) copy = true;
    }
    if (grad && overlap(*grad, theta)) copy = true;
    return {theta.data, ptrs_.data(), grad ? grad->data : nullptr, copy};
  }

  // an optional buffer for the named outputs (argument `i`), checked like the others
  static Span outputs(const Napi::CallbackInfo& info, size_t i, Program& p) {
    if (info[i].IsUndefined()) return {nullptr, 0};
    return f64(info.Env(), info[i], "the outputs buffer", static_cast<size_t>(p.outputSize()));
  }

  Napi::Value ValueCall(const Napi::CallbackInfo& info) {
    Program& p = live(info.Env());
    Span theta;
    readArgs(info, p, &theta, &inputs_);
    const Span out = outputs(info, 2, p);
    const double f = p.value(buffers(theta, inputs_, nullptr));
    if (out.data) p.copyOutputs(out.data);
    return Napi::Number::New(info.Env(), f);
  }

  Napi::Value Reverse(const Napi::CallbackInfo& info) {
    Program& p = live(info.Env());
    Span theta;
    readArgs(info, p, &theta, &inputs_);
    const Span grad = f64(info.Env(), info[2], "the gradient buffer", static_cast<size_t>(p.paramCount()));
    const Span out = outputs(info, 3, p);
    const double f = p.reverse(buffers(theta, inputs_, &grad));
    if (out.data) p.copyOutputs(out.data);
    return Napi::Number::New(info.Env(), f);
  }

  struct FdOptions {
    bool central, reuse;
    double relStep;
  };
  static FdOptions fdOptions(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[3].IsBoolean()) throwType(env, "central must be a boolean");
    if (!info[4].IsNumber()) throwType(env, "relStep must be a number");
    if (!info[5].IsBoolean()) throwType(env, "reuse must be a boolean");
    const double step = info[4].As<Napi::Number>().DoubleValue();
    if (!(step > 0) || !std::isfinite(step)) throwRange(env, "relStep must be a positive finite number");
    return {info[3].As<Napi::Boolean>().Value(), info[5].As<Napi::Boolean>().Value(), step};
  }

  // argument 6: an optional FD plan replacing the tape's (a subset of coordinates)
  static std::vector<int32_t> fdPlan(const Napi::CallbackInfo& info, Program& p, bool* given) {
    Napi::Env env = info.Env();
    *given = !info[6].IsUndefined();
    if (!*given) return {};
    if (!info[6].IsTypedArray() || info[6].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      throwType(env, "the FD plan must be an Int32Array");
    auto a = info[6].As<Napi::Int32Array>();
    std::vector<int32_t> plan(a.Data(), a.Data() + a.ElementLength());
    std::string error;
    if (!p.checkPlan(plan.data(), plan.size(), &error)) throwRange(env, "invalid tape: " + error);
    return plan;
  }

  Napi::Value Fd(const Napi::CallbackInfo& info) {
    Program& p = live(info.Env());
    Span theta;
    readArgs(info, p, &theta, &inputs_);
    const Span grad = f64(info.Env(), info[2], "the gradient buffer", static_cast<size_t>(p.paramCount()));
    const FdOptions o = fdOptions(info);
    bool given;
    const std::vector<int32_t> plan = fdPlan(info, p, &given);
    return Napi::Number::New(info.Env(), p.fd(buffers(theta, inputs_, &grad), o.central, o.relStep, o.reuse,
                                              given ? plan.data() : nullptr, plan.size()));
  }

  Napi::Value ReverseAsync(const Napi::CallbackInfo& info) { return StartAsync(info, false); }
  Napi::Value FdAsync(const Napi::CallbackInfo& info) { return StartAsync(info, true); }
  Napi::Value StartAsync(const Napi::CallbackInfo& info, bool fd);

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    // an asynchronous call in flight keeps the arenas until it finishes
    if (busy_) disposeRequested_ = true;
    else program_.reset();
    return info.Env().Undefined();
  }

  Napi::Value Isa(const Napi::CallbackInfo& info) {
    return program_ ? Napi::String::New(info.Env(), program_->isa()) : info.Env().Undefined();
  }
  Napi::Value Busy(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), busy_); }

  std::unique_ptr<Program> program_;
  std::vector<Span> inputs_;
  std::vector<const double*> ptrs_;
  bool busy_ = false;
  bool disposeRequested_ = false;
};

// A gradient on the libuv thread pool. theta and the inputs are copied when the call is made, so
// the caller may reuse them at once; the gradient is computed into a private buffer and copied
// into the caller's buffer on the main thread just before the promise resolves. Meanwhile the
// compiled function is busy: other calls on it throw (or reject) instead of racing on its arenas.
class GradWorker : public Napi::AsyncWorker {
 public:
  GradWorker(Napi::Env env, NativeProgram* owner, const Span& theta, const std::vector<Span>& inputs,
             const Napi::Float64Array& gradArray, bool fd, NativeProgram::FdOptions opts,
             std::vector<int32_t> plan, bool planGiven)
      : Napi::AsyncWorker(env, "tapegrad.grad"), deferred_(Napi::Promise::Deferred::New(env)), owner_(owner),
        fd_(fd), opts_(opts), plan_(std::move(plan)), planGiven_(planGiven) {
    ownerRef_ = Napi::Persistent(owner->Value());
    gradRef_ = Napi::Persistent(gradArray);
    theta_.assign(theta.data, theta.data + theta.length);
    for (const Span& s : inputs) inputs_.emplace_back(s.data, s.data + s.length);
    for (auto& x : inputs_) ptrs_.push_back(x.data());
    // from the caller's buffer: an FD plan over some coordinates leaves the others as they were
    grad_.assign(gradArray.Data(), gradArray.Data() + gradArray.ElementLength());
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    const CallBuffers call{theta_.data(), ptrs_.data(), grad_.data(), false};
    Program* p = owner_->program();
    value_ = fd_ ? p->fd(call, opts_.central, opts_.relStep, opts_.reuse, planGiven_ ? plan_.data() : nullptr, plan_.size())
                 : p->reverse(call);
  }

  void OnOK() override {
    Napi::Env env = Env();
    owner_->Finish();
    Napi::Float64Array g = gradRef_.Value();
    if (g.ElementLength() != grad_.size()) {
      deferred_.Reject(Napi::Error::New(env, "tapegrad native: the gradient buffer was detached or resized during the asynchronous call").Value());
      return;
    }
    std::copy(grad_.begin(), grad_.end(), g.Data());
    deferred_.Resolve(Napi::Number::New(env, value_));
  }

  void OnError(const Napi::Error& e) override {
    owner_->Finish();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  NativeProgram* owner_;
  Napi::ObjectReference ownerRef_;
  Napi::Reference<Napi::Float64Array> gradRef_;
  bool fd_;
  NativeProgram::FdOptions opts_;
  std::vector<int32_t> plan_;
  bool planGiven_;
  std::vector<double> theta_, grad_;
  std::vector<std::vector<double>> inputs_;
  std::vector<const double*> ptrs_;
  double value_ = 0;
};

// reverse (fd = false) or FD (fd = true) on the thread pool: the same checks as the synchronous calls
Napi::Value NativeProgram::StartAsync(const Napi::CallbackInfo& info, bool fd) {
  Napi::Env env = info.Env();
  Program& p = live(env);
  Span theta;
  readArgs(info, p, &theta, &inputs_);
  f64(env, info[2], "the gradient buffer", static_cast<size_t>(p.paramCount()));
  const FdOptions o = fd ? fdOptions(info) : FdOptions{false, false, 0};
  bool given = false;
  std::vector<int32_t> plan = fd ? fdPlan(info, p, &given) : std::vector<int32_t>{};
  auto* w = new GradWorker(env, this, theta, inputs_, info[2].As<Napi::Float64Array>(), fd, o, std::move(plan), given);
  busy_ = true;
  Napi::Promise promise = w->Promise();
  w->Queue();
  return promise;
}

struct AddonData {
  Napi::FunctionReference programClass;
  const KernelTable* kernels = nullptr;
  std::string kernelError;
};

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

// load(tape, isa?): validates the tape and returns a NativeProgram
Napi::Value Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throwType(env, "load: expected a tape object");
  Napi::Object t = info[0].As<Napi::Object>();
  const KernelTable* kernels = kernelsFor(env, info[1]);
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
  std::string error;
  std::unique_ptr<Program> p;
  try {
    p = Program::load(std::move(d), kernels, &error);
  } catch (const std::bad_alloc&) {
    throwRange(env, "the tape's arena is too large to allocate");
  }
  if (!p) throwRange(env, "invalid tape: " + error);
  Napi::Object obj = env.GetInstanceData<AddonData>()->programClass.New({});
  NativeProgram::Unwrap(obj)->Attach(std::move(p));
  return obj;
}

// vmath(name, x, y, isa?): y = name(x) with the vector math of one kernel build (tests)
Napi::Value Vmath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throwType(env, "vmath: name must be a string");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throwType(env, "vmath: x must be a Float64Array");
  const size_t n = info[1].As<Napi::Float64Array>().ElementLength();
  const Span x{info[1].As<Napi::Float64Array>().Data(), n};
  const Span y = f64(env, info[2], "vmath: y", n);
  (void)x;
  const KernelTable* t = kernelsFor(env, info[3]);
  if (!t->vmath(info[0].As<Napi::String>().Utf8Value().c_str(), x.data, y.data, static_cast<int64_t>(n)))
    throwRange(env, "vmath: unknown function");
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->kernels = tapegrad::select_kernels("", &data->kernelError);
  data->programClass = Napi::Persistent(NativeProgram::Define(env));
  env.SetInstanceData(data);
  exports.Set("load", Napi::Function::New<Load>(env, "load"));
  exports.Set("vmath", Napi::Function::New<Vmath>(env, "vmath"));
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
