// The fused optimizer steps (SGD and Adam with PyTorch's update rules, documented in
// src/train/optimizers.ts): one pass over theta, the gradient and the state per step, in vectors
// of W doubles and a scalar tail. Each element sees the same IEEE operations in the same order
// as the js reference (src/backends/js/optim.ts) and the wasm kernels: no fused multiply-add
// (-ffp-contract=off), and sqrt and division are correctly rounded, so every build of every
// backend computes the same bits. The options that change the loop are template parameters, so
// each combination is its own branch-free loop.
// Included inside an instruction-set namespace by kernels_impl.h.

// one element (T = double) or W elements (T = vd) of an SGD step; buf is the momentum buffer
template <bool WD, bool MOMENTUM, bool NESTEROV, bool FIRST, class T>
TG_INLINE T sgd_rule(T theta, T grad, T* buf, T sign, T wd, T mu, T keep, T lr) {
  T g = grad * sign;
  if constexpr (WD) g = g + wd * theta;
  if constexpr (MOMENTUM) {
    T b;
    if constexpr (FIRST)
      b = g;
    else
      b = mu * *buf + keep * g;
    *buf = b;
    if constexpr (NESTEROV)
      g = g + mu * b;
    else
      g = b;
  }
  return theta - lr * g;
}

template <bool WD, bool MOMENTUM, bool NESTEROV, bool FIRST>
static void sgd_loop(const SgdStep& s) {
  const double sign = s.maximize ? -1.0 : 1.0, keep = 1.0 - s.dampening;
  const vd vsign = splat(sign), vwd = splat(s.weightDecay), vmu = splat(s.momentum), vkeep = splat(keep),
           vlr = splat(s.lr);
  int64_t i = 0;
  for (; i + W <= s.n; i += W) {
    vd b = MOMENTUM ? load(s.buf + i) : vd{};
    store(s.theta + i, sgd_rule<WD, MOMENTUM, NESTEROV, FIRST>(load(s.theta + i), load(s.grad + i), &b, vsign, vwd, vmu,
                                                               vkeep, vlr));
    if constexpr (MOMENTUM) store(s.buf + i, b);
  }
  for (; i < s.n; i++) {
    double b = MOMENTUM ? s.buf[i] : 0.0;
    s.theta[i] =
        sgd_rule<WD, MOMENTUM, NESTEROV, FIRST>(s.theta[i], s.grad[i], &b, sign, s.weightDecay, s.momentum, keep, s.lr);
    if constexpr (MOMENTUM) s.buf[i] = b;
  }
}

static void sgd_step(const SgdStep& s) {
  const bool wd = s.weightDecay != 0;
  if (s.momentum == 0) {
    if (wd)
      sgd_loop<true, false, false, false>(s);
    else
      sgd_loop<false, false, false, false>(s);
    return;
  }
  // with momentum: weight decay x nesterov x first step
#define TG_SGD(WD, NEST)                  \
  if (wd == WD && s.nesterov == NEST) {   \
    if (s.first)                          \
      sgd_loop<WD, true, NEST, true>(s);  \
    else                                  \
      sgd_loop<WD, true, NEST, false>(s); \
    return;                               \
  }
  TG_SGD(false, false) TG_SGD(false, true) TG_SGD(true, false) TG_SGD(true, true)
#undef TG_SGD
}

// the maximum of a and b, NaN if either is NaN (js: a > b || a !== a ? a : b)
TG_INLINE double max_nan(double a, double b) { return (a > b || a != a) ? a : b; }
TG_INLINE vd max_nan(vd a, vd b) { return sel((a > b) | (a != a), a, b); }

// the correctly rounded square root, one lane or a whole vector
TG_INLINE double sqrt_of(double x) { return __builtin_sqrt(x); }
#if TG_VBYTES == 64
// (masked form: GCC 12 warns about the unmasked one's undefined pass-through)
TG_INLINE vd sqrt_of(vd x) { return (vd)_mm512_mask_sqrt_pd((__m512d)x, 0xFF, (__m512d)x); }
#elif TG_VBYTES == 32
TG_INLINE vd sqrt_of(vd x) { return (vd)_mm256_sqrt_pd((__m256d)x); }
#elif defined(__SSE2__)
TG_INLINE vd sqrt_of(vd x) { return (vd)_mm_sqrt_pd((__m128d)x); }
#else
TG_INLINE vd sqrt_of(vd x) {
  for (int k = 0; k < W; k++) x[k] = __builtin_sqrt(x[k]);
  return x;
}
#endif

// one element or W elements of an Adam step; DECAY: 0 none, 1 L2 (Adam), 2 decoupled (AdamW)
template <int DECAY, bool AMSGRAD, class T>
TG_INLINE T adam_rule(T theta, T grad, T* m, T* v, T* vmax, T sign, T wd, T b1, T c1, T b2, T c2, T stepSize, T epsHat,
                      T decay) {
  T g = grad * sign;
  T t = theta;
  if constexpr (DECAY == 1) g = g + wd * t;
  if constexpr (DECAY == 2) t = t * decay;
  const T mi = b1 * *m + c1 * g;
  const T vi = b2 * *v + c2 * g * g;
  *m = mi;
  *v = vi;
  T s = vi;
  if constexpr (AMSGRAD) {
    s = max_nan(vi, *vmax);
    *vmax = s;
  }
  const T denom = sqrt_of(s) + epsHat;
  return t - (stepSize * mi) / denom;
}

template <int DECAY, bool AMSGRAD>
static void adam_loop(const AdamStep& s) {
  const double sign = s.maximize ? -1.0 : 1.0, c1 = 1.0 - s.beta1, c2 = 1.0 - s.beta2;
  const vd vsign = splat(sign), vwd = splat(s.weightDecay), vb1 = splat(s.beta1), vc1 = splat(c1), vb2 = splat(s.beta2),
           vc2 = splat(c2), vstep = splat(s.stepSize), veps = splat(s.epsHat), vdecay = splat(s.decay);
  int64_t i = 0;
  for (; i + W <= s.n; i += W) {
    vd m = load(s.m + i), v = load(s.v + i), vm = AMSGRAD ? load(s.vmax + i) : vd{};
    store(s.theta + i, adam_rule<DECAY, AMSGRAD>(load(s.theta + i), load(s.grad + i), &m, &v, &vm, vsign, vwd, vb1, vc1,
                                                 vb2, vc2, vstep, veps, vdecay));
    store(s.m + i, m);
    store(s.v + i, v);
    if constexpr (AMSGRAD) store(s.vmax + i, vm);
  }
  for (; i < s.n; i++) {
    double m = s.m[i], v = s.v[i], vm = AMSGRAD ? s.vmax[i] : 0.0;
    s.theta[i] = adam_rule<DECAY, AMSGRAD>(s.theta[i], s.grad[i], &m, &v, &vm, sign, s.weightDecay, s.beta1, c1,
                                           s.beta2, c2, s.stepSize, s.epsHat, s.decay);
    s.m[i] = m;
    s.v[i] = v;
    if constexpr (AMSGRAD) s.vmax[i] = vm;
  }
}

static void adam_step(const AdamStep& s) {
  const int decay = s.weightDecay == 0 ? 0 : s.decoupled ? 2 : 1;
#define TG_ADAM(D)            \
  if (decay == D) {           \
    if (s.amsgrad)            \
      adam_loop<D, true>(s);  \
    else                      \
      adam_loop<D, false>(s); \
    return;                   \
  }
  TG_ADAM(0) TG_ADAM(1) TG_ADAM(2)
#undef TG_ADAM
}
