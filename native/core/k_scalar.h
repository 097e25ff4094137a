// add, sub, mul and div with one operand a scalar repeated n times: the interpreter runs
// "broadcast a scalar, then combine" as one of these when the broadcast result has no other
// reader (program.cpp, fuseScalarBroadcasts), which saves writing, zeroing and summing back an
// n-element temporary. The forward values are the same bits: the same operation per element.
// Included inside an instruction-set namespace.

// Each op: f(a, b) and the contributions to the adjoints of a and b, exactly as the reference's
// rules write them (ga += ca, gb += cb).
struct AddS {
  TG_MEMBER double f(double a, double b) { return a + b; }
  template <class T>
  TG_MEMBER T ca(T g, T, T, T) {
    return g;
  }
  template <class T>
  TG_MEMBER T cb(T g, T, T, T) {
    return g;
  }
};
struct SubS {
  TG_MEMBER double f(double a, double b) { return a - b; }
  template <class T>
  TG_MEMBER T ca(T g, T, T, T) {
    return g;
  }
  template <class T>
  TG_MEMBER T cb(T g, T, T, T) {
    return -g;
  }
};
struct MulS {
  TG_MEMBER double f(double a, double b) { return a * b; }
  template <class T>
  TG_MEMBER T ca(T g, T, T b, T) {
    return g * b;
  }
  template <class T>
  TG_MEMBER T cb(T g, T a, T, T) {
    return g * a;
  }
};
struct DivS {
  TG_MEMBER double f(double a, double b) { return a / b; }
  template <class T>
  TG_MEMBER T ca(T g, T, T b, T) {
    return g / b;
  }
  template <class T>
  TG_MEMBER T cb(T g, T, T b, T out) {
    return -((g * out) / b);
  }
};

// a is the scalar a[0]
template <class Op>
static void scalar_a_f(const Fwd& k) {
  const double s = k.a[0];
  for (int64_t i = 0; i < k.p0; i++) k.out[i] = Op::f(s, k.b[i]);
}
template <class Op>
static void scalar_a_b(const Bwd& k) {
  const double s = k.a[0];
  if (k.flags & FLAG_GRAD_A) {
    // a sum over the repeats, in vector lanes (backward rules need 1e-12, not bits)
    const vd sv = splat(s);
    vd acc = splat(0.0);
    int64_t i = 0;
    for (; i + W <= k.p0; i += W) acc += Op::ca(load(k.gout + i), sv, load(k.b + i), load(k.out + i));
    double t = hsum(acc);
    for (; i < k.p0; i++) t += Op::ca(k.gout[i], s, k.b[i], k.out[i]);
    k.ga[0] += t;
  }
  if (k.flags & FLAG_GRAD_B)
    for (int64_t i = 0; i < k.p0; i++) k.gb[i] += Op::cb(k.gout[i], s, k.b[i], k.out[i]);
}
// b is the scalar b[0]
template <class Op>
static void scalar_b_f(const Fwd& k) {
  const double s = k.b[0];
  for (int64_t i = 0; i < k.p0; i++) k.out[i] = Op::f(k.a[i], s);
}
template <class Op>
static void scalar_b_b(const Bwd& k) {
  const double s = k.b[0];
  if (k.flags & FLAG_GRAD_A)
    for (int64_t i = 0; i < k.p0; i++) k.ga[i] += Op::ca(k.gout[i], k.a[i], s, k.out[i]);
  if (k.flags & FLAG_GRAD_B) {
    const vd sv = splat(s);
    vd acc = splat(0.0);
    int64_t i = 0;
    for (; i + W <= k.p0; i += W) acc += Op::cb(load(k.gout + i), load(k.a + i), sv, load(k.out + i));
    double t = hsum(acc);
    for (; i < k.p0; i++) t += Op::cb(k.gout[i], k.a[i], s, k.out[i]);
    k.gb[0] += t;
  }
}
