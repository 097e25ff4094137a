/**
 * Forward and backward rules of the elementwise ops (add ... pow), side by side. Forward formulas
 * are the reference's (src/backends/js/kernels.ts) operation for operation, so values are
 * bit-identical; backward rules accumulate with +=, a before b (a and b may be the same offset).
 */
import { exp, log, log1p, pow } from '../math';
import { expRare, log1pRare, vexp, vexp2, vexp2Second, vexpSafe, vlog1p, vtanh } from '../vmath';
import { accum, addInto, map1, map1r, map2, subInto } from './map';
import { vtanhFast } from '../vfast';

const ONE = f64x2.splat(1.0);
const ZERO = f64x2.splat(0.0);

// ---- binary: forward ----
@final @unmanaged class Add { @inline f(a: v128, b: v128): v128 { return f64x2.add(a, b); } }
@final @unmanaged class Sub { @inline f(a: v128, b: v128): v128 { return f64x2.sub(a, b); } }
@final @unmanaged class Mul { @inline f(a: v128, b: v128): v128 { return f64x2.mul(a, b); } }
@final @unmanaged class Div { @inline f(a: v128, b: v128): v128 { return f64x2.div(a, b); } }

export function addFwd(o: usize, a: usize, b: usize, n: i32): void { map2<Add>(o, a, b, n); }
export function subFwd(o: usize, a: usize, b: usize, n: i32): void { map2<Sub>(o, a, b, n); }
export function mulFwd(o: usize, a: usize, b: usize, n: i32): void { map2<Mul>(o, a, b, n); }
export function divFwd(o: usize, a: usize, b: usize, n: i32): void { map2<Div>(o, a, b, n); }

// ---- binary: backward (dy = adjoint of out; x, y, z = the operand values a rule reads) ----
/** dy * x */
@final @unmanaged class DyMul { @inline d(dy: v128, x: v128, _y: v128): v128 { return f64x2.mul(dy, x); } }
/** dy / x */
@final @unmanaged class DyDiv { @inline d(dy: v128, x: v128, _y: v128): v128 { return f64x2.div(dy, x); } }
/** -(dy * out) / b, as g -= (dy*out)/b */
@final @unmanaged class DivB {
  @inline d(dy: v128, out: v128, b: v128): v128 { return f64x2.neg(f64x2.div(f64x2.mul(dy, out), b)); }
}

export function addBwd(flags: i32, go: usize, ga: usize, gb: usize, n: i32): void {
  if (flags & 1) addInto(ga, go, n);
  if (flags & 2) addInto(gb, go, n);
}
export function subBwd(flags: i32, go: usize, ga: usize, gb: usize, n: i32): void {
  if (flags & 1) addInto(ga, go, n);
  if (flags & 2) subInto(gb, go, n);
}
export function mulBwd(flags: i32, go: usize, ga: usize, gb: usize, va: usize, vb: usize, n: i32): void {
  if (flags & 1) accum<DyMul>(ga, go, vb, vb, n);
  if (flags & 2) accum<DyMul>(gb, go, va, va, n);
}
export function divBwd(flags: i32, go: usize, ga: usize, gb: usize, vo: usize, vb: usize, n: i32): void {
  if (flags & 1) accum<DyDiv>(ga, go, vb, vb, n);
  if (flags & 2) accum<DivB>(gb, go, vo, vb, n);
}

// ---- unary: forward ----
@final @unmanaged class Neg { @inline f(x: v128): v128 { return f64x2.neg(x); } }
/**
 * out = op.post(exp(op.pre(x))), four elements per trip through vexp2 (two exps interleaved); if
 * any exp argument was rare, the block is redone with the scalar formula op.s.
 */
// @ts-ignore: decorator
@inline function mapExp<Op>(o: usize, a: usize, n: i32): void {
  const op = changetype<Op>(0);
  const end = <usize>n << 3;
  let rare = i64x2.splat(0);
  let i: usize = 0;
  for (; i + 32 <= end; i += 32) {
    const x = op.pre(v128.load(a + i)), X = op.pre(v128.load(a + i, 16));
    rare = v128.or(rare, v128.or(expRare(x), expRare(X)));
    const e = vexp2(x, X);
    const E = vexp2Second;
    v128.store(o + i, op.post(e));
    v128.store(o + i, op.post(E), 16);
  }
  if (v128.any_true(rare)) i = 0;
  for (; i < end; i += 8) store<f64>(o + i, op.s(load<f64>(a + i)));
}

@final @unmanaged class Exp {
  @inline pre(x: v128): v128 { return x; }
  @inline post(e: v128): v128 { return e; }
  @inline s(x: f64): f64 { return exp(x); }
}
@final @unmanaged class Sqrt { @inline f(x: v128): v128 { return f64x2.sqrt(x); } }
@final @unmanaged class Square { @inline f(x: v128): v128 { return f64x2.mul(x, x); } }
@final @unmanaged class Abs { @inline f(x: v128): v128 { return f64x2.abs(x); } }
/** 1/(1 + exp(-x)) */
@final @unmanaged class Sigmoid {
  @inline pre(x: v128): v128 { return f64x2.neg(x); }
  @inline post(e: v128): v128 { return f64x2.div(ONE, f64x2.add(ONE, e)); }
  @inline s(x: f64): f64 { return 1 / (1 + exp(-x)); }
}
@final @unmanaged class Log1p {
  @inline f(x: v128): v128 { return vlog1p(x); }
  @inline rare(x: v128): v128 { return log1pRare(x); }
  @inline s(x: f64): f64 { return log1p(x); }
}
@final @unmanaged class Tanh { @inline f(x: v128): v128 { return vtanh(x); } }
/** x < 0 ? 0 : x, which is pmax(x, 0) (NaN and -0 pass through, as in the reference) */
@final @unmanaged class Relu { @inline f(x: v128): v128 { return f64x2.pmax(x, ZERO); } }

export function negFwd(o: usize, a: usize, n: i32): void { map1<Neg>(o, a, n); }
export function expFwd(o: usize, a: usize, n: i32): void { mapExp<Exp>(o, a, n); }
export function sqrtFwd(o: usize, a: usize, n: i32): void { map1<Sqrt>(o, a, n); }
export function squareFwd(o: usize, a: usize, n: i32): void { map1<Square>(o, a, n); }
export function absFwd(o: usize, a: usize, n: i32): void { map1<Abs>(o, a, n); }
export function sigmoidFwd(o: usize, a: usize, n: i32): void { mapExp<Sigmoid>(o, a, n); }
export function reluFwd(o: usize, a: usize, n: i32): void { map1<Relu>(o, a, n); }

export function logFwd(o: usize, a: usize, n: i32): void {
  const end = <usize>n << 3;
  for (let i: usize = 0; i < end; i += 8) store<f64>(o + i, log(load<f64>(a + i)));
}
export function log1pFwd(o: usize, a: usize, n: i32): void { map1r<Log1p>(o, a, n); }
export function tanhFwd(o: usize, a: usize, n: i32): void { map1<Tanh>(o, a, n); }
@final @unmanaged class TanhFast { @inline f(x: v128): v128 { return vtanhFast(x); } }
/** tanh within 4 ulp, for value() and reverse() (vfast.ts) */
export function tanhFastFwd(o: usize, a: usize, n: i32): void { map1<TanhFast>(o, a, n); }
/**
 * (x > 0 ? x : 0) + log1p(exp(-|x|)), with pmax(0, x) = (0 < x ? x : 0). Like map1r, but the rare
 * test needs exp(-|x|), so the loop is written out to compute it once.
 */
export function softplusFwd(o: usize, a: usize, n: i32): void {
  const end = <usize>n << 3;
  let rare = i64x2.splat(0);
  let i: usize = 0;
  for (; i + 16 <= end; i += 16) {
    const x = v128.load(a + i);
    const u = f64x2.neg(f64x2.abs(x));
    const e = vexp(u);
    rare = v128.or(rare, v128.or(expRare(u), log1pRare(e)));
    v128.store(o + i, f64x2.add(f64x2.pmax(ZERO, x), vlog1p(e)));
  }
  if (v128.any_true(rare)) i = 0;
  for (; i < end; i += 8) {
    const x = load<f64>(a + i);
    store<f64>(o + i, (x > 0 ? x : 0) + log1p(exp(-Math.abs(x))));
  }
}
/** Math.pow(x, p) for the scalar exponent p */
export function powFwd(o: usize, a: usize, p: f64, n: i32): void {
  const end = <usize>n << 3;
  for (let i: usize = 0; i < end; i += 8) store<f64>(o + i, pow(load<f64>(a + i), p));
}

// ---- unary: backward, g[a] += rule(dy, x = v[a], y = v[out]) ----
/** exp: dy * out */
@final @unmanaged class ExpD { @inline d(dy: v128, _x: v128, y: v128): v128 { return f64x2.mul(dy, y); } }
/** log: dy / x */
@final @unmanaged class LogD { @inline d(dy: v128, x: v128, _y: v128): v128 { return f64x2.div(dy, x); } }
/** log1p: dy / (1 + x) */
@final @unmanaged class Log1pD {
  @inline d(dy: v128, x: v128, _y: v128): v128 { return f64x2.div(dy, f64x2.add(ONE, x)); }
}
/** sqrt: dy / (2 out) */
@final @unmanaged class SqrtD {
  @inline d(dy: v128, _x: v128, y: v128): v128 { return f64x2.div(dy, f64x2.mul(f64x2.splat(2.0), y)); }
}
/** square: 2 x dy */
@final @unmanaged class SquareD {
  @inline d(dy: v128, x: v128, _y: v128): v128 { return f64x2.mul(f64x2.mul(f64x2.splat(2.0), x), dy); }
}
/** abs: dy * sign(x), sign as Math.sign (+-0 and NaN pass through) */
@final @unmanaged class AbsD {
  @inline d(dy: v128, x: v128, _y: v128): v128 {
    let s = v128.bitselect(ONE, x, f64x2.gt(x, ZERO));
    s = v128.bitselect(f64x2.splat(-1.0), s, f64x2.lt(x, ZERO));
    return f64x2.mul(dy, s);
  }
}
/** sigmoid: dy * out * (1 - out) */
@final @unmanaged class SigmoidD {
  @inline d(dy: v128, _x: v128, y: v128): v128 { return f64x2.mul(f64x2.mul(dy, y), f64x2.sub(ONE, y)); }
}
/** tanh: dy * (1 - out^2) */
@final @unmanaged class TanhD {
  @inline d(dy: v128, _x: v128, y: v128): v128 { return f64x2.mul(dy, f64x2.sub(ONE, f64x2.mul(y, y))); }
}
/** relu: dy where x > 0, else nothing (a NaN dy included) */
@final @unmanaged class ReluD {
  @inline d(dy: v128, x: v128, _y: v128): v128 { return v128.and(dy, f64x2.gt(x, ZERO)); }
}
/** softplus: dy / (1 + exp(-x)) */
@final @unmanaged class SoftplusD {
  @inline d(dy: v128, x: v128, _y: v128): v128 { return f64x2.div(dy, f64x2.add(ONE, vexpSafe(f64x2.neg(x)))); }
}

export function negBwd(go: usize, ga: usize, n: i32): void { subInto(ga, go, n); }
export function expBwd(go: usize, ga: usize, va: usize, vo: usize, n: i32): void { accum<ExpD>(ga, go, va, vo, n); }
export function logBwd(go: usize, ga: usize, va: usize, vo: usize, n: i32): void { accum<LogD>(ga, go, va, vo, n); }
export function log1pBwd(go: usize, ga: usize, va: usize, vo: usize, n: i32): void { accum<Log1pD>(ga, go, va, vo, n); }
export function sqrtBwd(go: usize, ga: usize, va: usize, vo: usize, n: i32): void { accum<SqrtD>(ga, go, va, vo, n); }
export function squareBwd(go: usize, ga: usize, va: usize, vo: usize, n: i32): void { accum<SquareD>(ga, go, va, vo, n); }
export function absBwd(go: usize, ga: usize, va: usize, vo: usize, n: i32): void { accum<AbsD>(ga, go, va, vo, n); }
export function sigmoidBwd(go: usize, ga: usize, va: usize, vo: usize, n: i32): void { accum<SigmoidD>(ga, go, va, vo, n); }
export function tanhBwd(go: usize, ga: usize, va: usize, vo: usize, n: i32): void { accum<TanhD>(ga, go, va, vo, n); }
export function reluBwd(go: usize, ga: usize, va: usize, vo: usize, n: i32): void { accum<ReluD>(ga, go, va, vo, n); }
export function softplusBwd(go: usize, ga: usize, va: usize, vo: usize, n: i32): void { accum<SoftplusD>(ga, go, va, vo, n); }

/** pow: dy * p * x^(p-1), nothing when p = 0 */
export function powBwd(go: usize, ga: usize, va: usize, p: f64, n: i32): void {
  if (p == 0) return;
  const q = p - 1;
  const end = <usize>n << 3;
  for (let i: usize = 0; i < end; i += 8)
    store<f64>(ga + i, load<f64>(ga + i) + load<f64>(go + i) * p * pow(load<f64>(va + i), q));
}
