// The fused optimizers' binding: `new Optimizer('sgd' | 'adam', n, config)` owns the state in
// C++ (SGD's momentum buffer; Adam's moments, and their maximum with amsgrad) and `step` runs one
// fused pass of the chosen kernel build (native/core/optim.h) over the caller's Float64Arrays,
// in place. Like addon.cpp it checks every argument (types, lengths, finite scalars) and throws
// TypeError/RangeError/Error with its own message before it touches memory.
#include "napi-config.h"

#include <cmath>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "../core/dispatch.h"

namespace {

using tapegrad::AdamStep;
using tapegrad::KernelTable;
using tapegrad::SgdStep;

[[noreturn]] void throwType(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, "tapegrad native: " + msg);
}
[[noreturn]] void throwRange(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, "tapegrad native: " + msg);
}
[[noreturn]] void throwError(Napi::Env env, const std::string& msg) {
  throw Napi::Error::New(env, "tapegrad native: " + msg);
}

// a Float64Array of exactly n elements (a detached one has length 0)
double* f64(Napi::Env env, const Napi::Value& v, const char* what, size_t n) {
  napi_typedarray_type type;
  size_t len;
  void* data;
  if (!v.IsTypedArray() || napi_get_typedarray_info(env, v, &type, &len, &data, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array)
    throwType(env, std::string("optimizer: ") + what + " must be a Float64Array");
  if (len != n)
    throwRange(env, std::string("optimizer: ") + what + " must have " + std::to_string(n) + " elements, got " +
                        std::to_string(len));
  return static_cast<double*>(data);
}

// a finite number in [lo, hi] (hiOpen: [lo, hi))
double number(Napi::Env env, const Napi::Value& v, const std::string& what, double lo = -HUGE_VAL, double hi = HUGE_VAL,
              bool hiOpen = false) {
  if (!v.IsNumber()) throwType(env, "optimizer: " + what + " must be a number");
  const double x = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(x) || x < lo || x > hi || (hiOpen && x == hi)) {
    std::ostringstream m;
    m << "optimizer: " << what << " must be a finite number";
    if (lo > -HUGE_VAL)
      m << " in [" << lo << ", " << (hi < HUGE_VAL ? std::to_string(static_cast<long long>(hi)) : "inf")
        << (hiOpen || hi == HUGE_VAL ? ")" : "]");
    m << ", got " << x;
    throwRange(env, m.str());
  }
  return x;
}

bool boolean(Napi::Env env, const Napi::Value& v, const std::string& what) {
  if (!v.IsBoolean()) throwType(env, "optimizer: " + what + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

class NativeOptimizer : public Napi::ObjectWrap<NativeOptimizer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Optimizer",
        {InstanceMethod<&NativeOptimizer::Step>("step"), InstanceMethod<&NativeOptimizer::Dispose>("dispose")});
  }

  // (kind, n, config): config holds SgdConfig or AdamConfig (src/backends/types.ts)
  NativeOptimizer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeOptimizer>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throwType(env, "optimizer: kind must be 'sgd' or 'adam'");
    const std::string kind = info[0].As<Napi::String>().Utf8Value();
    if (kind != "sgd" && kind != "adam") throwRange(env, "optimizer: kind must be 'sgd' or 'adam', got '" + kind + "'");
    adam_ = kind == "adam";
    const double n = number(env, info[1], "n", 0, 2147483647.0);
    if (n != std::floor(n)) throwRange(env, "optimizer: n must be an integer");
    n_ = static_cast<size_t>(n);
    if (!info[2].IsObject()) throwType(env, "optimizer: config must be an object");
    const Napi::Object c = info[2].As<Napi::Object>();
    std::string error;
    kernels_ = tapegrad::select_kernels("", &error);
    if (!kernels_) throwError(env, error);
    size_t vectors;
    if (adam_) {
      a_.beta1 = number(env, c.Get("beta1"), "beta1", 0, 1, true);
      a_.beta2 = number(env, c.Get("beta2"), "beta2", 0, 1, true);
      a_.weightDecay = number(env, c.Get("weightDecay"), "weightDecay", 0);
      a_.decoupled = boolean(env, c.Get("decoupled"), "decoupled");
      a_.amsgrad = boolean(env, c.Get("amsgrad"), "amsgrad");
      a_.maximize = boolean(env, c.Get("maximize"), "maximize");
      vectors = a_.amsgrad ? 3 : 2;
    } else {
      s_.momentum = number(env, c.Get("momentum"), "momentum", 0);
      s_.dampening = number(env, c.Get("dampening"), "dampening", 0, 1);
      s_.weightDecay = number(env, c.Get("weightDecay"), "weightDecay", 0);
      s_.nesterov = boolean(env, c.Get("nesterov"), "nesterov");
      s_.maximize = boolean(env, c.Get("maximize"), "maximize");
      if (s_.nesterov && (s_.momentum == 0 || s_.dampening != 0))
        throwRange(env, "optimizer: nesterov needs momentum > 0 and dampening 0");
      vectors = s_.momentum != 0 ? 1 : 0;
    }
    try {
      state_.assign(vectors * n_, 0.0);
    } catch (const std::bad_alloc&) {
      throwRange(env, "optimizer: the state of " + std::to_string(n_) + " parameters is too large to allocate");
    }
    live_ = true;
  }

 private:
  // sgd: (theta, grad, lr, first); adam: (theta, grad, stepSize, epsHat, decay)
  Napi::Value Step(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!live_) throwError(env, "this optimizer state was disposed");
    double* theta = f64(env, info[0], "theta", n_);
    const double* grad = f64(env, info[1], "grad", n_);
    if (n_ > 0 && theta < grad + n_ && grad < theta + n_)
      throwRange(env, "optimizer: theta and grad must not share memory");
    double* st = state_.data();
    if (adam_) {
      AdamStep s = a_;
      s.stepSize = number(env, info[2], "stepSize");
      s.epsHat = number(env, info[3], "epsHat");
      s.decay = number(env, info[4], "decay");
      s.theta = theta;
      s.grad = grad;
      s.m = st;
      s.v = st + n_;
      s.vmax = a_.amsgrad ? st + 2 * n_ : nullptr;
      s.n = static_cast<int64_t>(n_);
      kernels_->adam(s);
    } else {
      SgdStep s = s_;
      s.lr = number(env, info[2], "lr");
      s.first = boolean(env, info[3], "first");
      s.theta = theta;
      s.grad = grad;
      s.buf = st;
      s.n = static_cast<int64_t>(n_);
      kernels_->sgd(s);
    }
    return env.Undefined();
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    live_ = false;
    std::vector<double>().swap(state_);
    return info.Env().Undefined();
  }

  bool adam_ = false, live_ = false;
  size_t n_ = 0;
  const KernelTable* kernels_ = nullptr;
  SgdStep s_{};
  AdamStep a_{};
  std::vector<double> state_;
};

}  // namespace

// called from addon.cpp's Init
void RegisterOptimizers(Napi::Env env, Napi::Object exports) { exports.Set("Optimizer", NativeOptimizer::Define(env)); }
