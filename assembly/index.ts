/**
 * The exports of tapegrad.wasm (see src/backends/wasm/engine.ts for the JS side). JS holds program
 * ids, never pointers into the module: it asks for the addresses of a program's code, plan and
 * arenas, writes the tape and the inputs through views of exactly those regions, and every call
 * checks the id first. Calls return NaN (or a negative code) on error and lastError() says why.
 */
import { alloc, free, heapInUse as heapBytes } from './heap';
import { backward, finiteDifferences, forward } from './interpreter';
import { erf, erfc } from './erf';
import { tangentArena, tangentSweep } from './tangent';
import { exp, expm1, log, log1p, pow, tanh } from './math';
import { cos, sin } from './trig';
import { trigRare, vcos, vsin } from './vtrig';
import {
  create as createProgram, dispose as disposeProgram, E_BAD_PLAN, fail, lastError as last, errorWhere, lookup, planValid, Program,
  validate as validateProgram,
} from './program';
import { expRare, log1pRare, vexp, vexp2, vexp2Second, vlog1p, vtanh } from './vmath';
import { vtanhFast } from './vfast';
import { ld, st } from './elem';

/** elem: bytes of an arena element, 8 for a float64 program and 4 for a float32 one */
export function create(nInstr: i32, nPlan: i32, arenaSize: i32, nParams: i32, constStart: i32, tempStart: i32, output: i32, elem: i32): i32 {
  return createProgram(nInstr, nPlan, arenaSize, nParams, constStart, tempStart, output, elem);
}
export function validate(id: i32): i32 {
  return validateProgram(id);
}
export function dispose(id: i32): i32 {
  return disposeProgram(id);
}

/** byte addresses of a program's regions (0 for a bad id) */
export function codeAt(id: i32): usize {
  const p = lookup(id, false);
  return p == null ? 0 : p.code;
}
export function planAt(id: i32): usize {
  const p = lookup(id, false);
  return p == null ? 0 : p.plan;
}
export function valuesAt(id: i32): usize {
  const p = lookup(id, false);
  return p == null ? 0 : p.v;
}
export function adjointsAt(id: i32): usize {
  const p = lookup(id, false);
  return p == null ? 0 : p.g;
}

// Every call runs the kernels of the program's element type: T = f64 or f32 (elem.ts), one
// instantiation each, chosen here once per call.

/** element i of the arena at base, as f64 */
// @ts-ignore: decorator
@inline function read<T>(base: usize, i: i32): f64 {
  return ld<T>(base + (<usize>i << alignof<T>()));
}

function valueOf<T>(p: Program): f64 {
  forward<T>(p, 0, false);
  return read<T>(p.v, p.output);
}

/** f at the parameters and inputs already in the value arena */
export function value(id: i32): f64 {
  const p = lookup(id, true);
  if (p == null) return NaN;
  return p.elem == 4 ? valueOf<f32>(p) : valueOf<f64>(p);
}

function reverseOf<T>(p: Program): f64 {
  forward<T>(p, 0, false);
  const f = read<T>(p.v, p.output);
  backward<T>(p);
  return f;
}

/** f, and the gradient in adjoint[0, nParams) */
export function reverse(id: i32): f64 {
  const p = lookup(id, true);
  if (p == null) return NaN;
  return p.elem == 4 ? reverseOf<f32>(p) : reverseOf<f64>(p);
}

function fdOf(p: Program, plan: usize, nPlan: i32, central: bool, relStep: f64, reuse: bool): f64 {
  return p.elem == 4
    ? finiteDifferences<f32>(p, plan, nPlan, central, relStep, reuse)
    : finiteDifferences<f64>(p, plan, nPlan, central, relStep, reuse);
}

/** f, and the finite-difference gradient in adjoint[0, nParams) */
export function fd(id: i32, central: i32, relStep: f64, reuse: i32): f64 {
  const p = lookup(id, true);
  if (p == null) return NaN;
  return fdOf(p, p.plan, p.nPlan, central != 0, relStep, reuse != 0);
}

/**
 * Address of the program's tangent arena, zeroed (allocated on first use: this can grow memory,
 * so JS calls it before making views); 0 for a bad id or when memory cannot provide it.
 */
export function tangentsAt(id: i32): usize {
  const p = lookup(id, true);
  return p == null ? 0 : tangentArena(p);
}

/**
 * Forward mode: f at the parameters and inputs in the value arena, and its derivative along the
 * direction written into tangent[0, nParams) (tangentsAt first): returns the derivative; f is in
 * the value arena at the output.
 */
export function jvp(id: i32): f64 {
  const p = lookup(id, true);
  if (p == null || p.t == 0) return NaN;
  return p.elem == 4 ? jvpOf<f32>(p) : jvpOf<f64>(p);
}

function jvpOf<T>(p: Program): f64 {
  forward<T>(p, 0);
  tangentSweep<T>(p, 0);
  return read<T>(p.t, p.output);
}

/** Forward mode: f, and df/dθ_i in adjoint[i] for the plan's coordinates, one tangent sweep each. */
function forwardGradient(p: Program, plan: usize, nPlan: i32, reuse: bool): f64 {
  return p.elem == 4 ? forwardGradientOf<f32>(p, plan, nPlan, reuse) : forwardGradientOf<f64>(p, plan, nPlan, reuse);
}

function forwardGradientOf<T>(p: Program, plan: usize, nPlan: i32, reuse: bool): f64 {
  forward<T>(p, 0);
  const f = read<T>(p.v, p.output);
  const out = p.t + (<usize>p.output << alignof<T>());
  for (let k = 0; k < nPlan; k++) {
    const t = plan + <usize>k * 12;
    const start = load<i32>(t), end = load<i32>(t, 4);
    const from = reuse ? load<i32>(t, 8) : 0;
    for (let i = start; i < end; i++) {
      const ti = p.t + (<usize>i << alignof<T>());
      st<T>(ti, 1.0);
      tangentSweep<T>(p, from);
      st<T>(p.g + (<usize>i << alignof<T>()), ld<T>(out));
      st<T>(ti, 0.0);
    }
  }
  return f;
}

/** forwardGradient over the program's own plan (tangentsAt first) */
export function forwardGrad(id: i32, reuse: i32): f64 {
  const p = lookup(id, true);
  if (p == null || p.t == 0) return NaN;
  return forwardGradient(p, p.plan, p.nPlan, reuse != 0);
}

// ---- a caller's FD plan (a subset of coordinates), staged in a buffer the module owns ----
let staged: usize = 0;
let stagedCap: i32 = 0;

/** address of a buffer for n plan triples (int32 x 3n), 0 if memory cannot provide it */
export function planBuffer(n: i32): usize {
  if (n < 0 || n > (1 << 28)) return 0;
  if (n == 0) n = 1;
  if (n > stagedCap) {
    const fresh = alloc(<f64>n * 12);
    if (fresh == 0) return 0;
    if (staged != 0) free(staged);
    staged = fresh;
    stagedCap = n;
  }
  return staged;
}

/** fd() with the first n triples of the plan buffer, validated against the program first */
export function fdPlan(id: i32, central: i32, relStep: f64, reuse: i32, n: i32): f64 {
  const p = lookup(id, true);
  if (p == null) return NaN;
  if (n < 0 || n > stagedCap) {
    fail(E_BAD_PLAN, -1);
    return NaN;
  }
  if (!planValid(p, staged, n)) return NaN;
  return fdOf(p, staged, n, central != 0, relStep, reuse != 0);
}

/** forwardGrad() with the first n triples of the plan buffer, validated against the program first */
export function forwardGradPlan(id: i32, reuse: i32, n: i32): f64 {
  const p = lookup(id, true);
  if (p == null || p.t == 0) return NaN;
  if (n < 0 || n > stagedCap) {
    fail(E_BAD_PLAN, -1);
    return NaN;
  }
  if (!planValid(p, staged, n)) return NaN;
  return forwardGradient(p, staged, n, reuse != 0);
}

/** 1 in the module built with relaxed SIMD (dist/tapegrad-relaxed.wasm), whose fast paths fuse multiply-adds */
export function relaxedSimd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

export function lastError(): i32 {
  return last;
}
export function errorInstruction(): i32 {
  return errorWhere;
}
export function heapInUse(): usize {
  return heapBytes();
}

// ---- the math probe: lets the tests compare exp/log/... with Math.* element by element ----
const PROBE_CAP: i32 = 1 << 16;
let probe: usize = 0;

/** address of the probe buffer (PROBE_CAP float64), 0 if it cannot be allocated */
export function probeBuffer(): usize {
  if (probe == 0) probe = alloc(<f64>PROBE_CAP * 8);
  return probe;
}
export function probeCapacity(): i32 {
  return PROBE_CAP;
}

/**
 * Applies function fn in place to the first n probe elements: 0 exp, 1 exp (scalar), 2 log,
 * 3 log1p, 4 expm1, 5 tanh, 6 pow(x, y) (scalar), 7 log1p (two lanes), 8 tanh (two lanes),
 * 9 exp (two vectors interleaved, vexp2), 10 sin, 11 cos, 12 erf, 13 erfc, 14 the fast tanh of
 * value() and reverse() (vfast.ts, within 4 ulp), 15 sin (f64x2), 16 cos (f64x2); the vector
 * forms fall back to scalar for rare lanes as the kernels do. Returns 0, or -1 for a bad fn or n.
 */
export function probeRun(fn: i32, n: i32, y: f64): i32 {
  if (probe == 0 || n < 0 || n > PROBE_CAP || fn < 0 || fn > 16) return -1;
  const end = probe + (<usize>n << 3);
  if (fn == 14) {
    let q = probe;
    for (; q + 16 <= end; q += 16) v128.store(q, vtanhFast(v128.load(q)));
    if (q < end) v128.store64_lane(q, vtanhFast(v128.load64_zero(q)), 0);
    return 0;
  }
  if (fn == 9) {
    let q = probe;
    for (; q + 32 <= end; q += 32) {
      const x = v128.load(q), X = v128.load(q, 16);
      const e = vexp2(x, X);
      const E = vexp2Second;
      if (v128.any_true(v128.or(expRare(x), expRare(X)))) {
        for (let k: usize = 0; k < 32; k += 8) store<f64>(q + k, exp(load<f64>(q + k)));
      } else {
        v128.store(q, e);
        v128.store(q, E, 16);
      }
    }
    for (; q < end; q += 8) store<f64>(q, exp(load<f64>(q)));
    return 0;
  }
  if (fn == 0 || fn == 7 || fn == 8) {
    let q = probe;
    for (; q + 16 <= end; q += 16) {
      const x = v128.load(q);
      let r = fn == 0 ? vexp(x) : fn == 7 ? vlog1p(x) : vtanh(x);
      const rare = fn == 0 ? expRare(x) : fn == 7 ? log1pRare(x) : i64x2.splat(0);
      if (v128.any_true(rare)) {
        const x0 = f64x2.extract_lane(x, 0), x1 = f64x2.extract_lane(x, 1);
        r = f64x2.replace_lane(f64x2.splat(fn == 0 ? exp(x0) : log1p(x0)), 1, fn == 0 ? exp(x1) : log1p(x1));
      }
      v128.store(q, r);
    }
    if (q < end) {
      const x = load<f64>(q);
      store<f64>(q, fn == 0 ? exp(x) : fn == 7 ? log1p(x) : tanh(x));
    }
    return 0;
  }
  if (fn >= 15) {
    let q = probe;
    for (; q + 16 <= end; q += 16) {
      const x = v128.load(q);
      const r = fn == 15 ? vsin(x) : vcos(x);
      if (v128.any_true(trigRare)) {
        for (let k: usize = 0; k < 16; k += 8) store<f64>(q + k, fn == 15 ? sin(load<f64>(q + k)) : cos(load<f64>(q + k)));
      } else {
        v128.store(q, r);
      }
    }
    if (q < end) store<f64>(q, fn == 15 ? sin(load<f64>(q)) : cos(load<f64>(q)));
    return 0;
  }
  if (fn >= 10) {
    for (let q = probe; q < end; q += 8) {
      const x = load<f64>(q);
      store<f64>(q, fn == 10 ? sin(x) : fn == 11 ? cos(x) : fn == 12 ? erf(x) : erfc(x));
    }
    return 0;
  }
  for (let q = probe; q < end; q += 8) {
    const x = load<f64>(q);
    store<f64>(q, fn == 1 ? exp(x) : fn == 2 ? log(x) : fn == 3 ? log1p(x) : fn == 4 ? expm1(x) : fn == 5 ? tanh(x) : pow(x, y));
  }
  return 0;
}

// ---- the fused optimizer steps (optim.ts; src/backends/wasm/optim.ts is the JS side) ----
export { adamStep, optimCreate, optimFree, optimVector, sgdStep } from './optim';

// ---- the product probe: lets tests and bench/gemm-wasm.ts run one matrix-product kernel alone ----
import { gemm, gemmNT, matvec, outerAcc, rowsAcc } from './kernels/matmul';
import { gemm32, gemmNT32, matvec32, outerAcc32, rowsAcc32 } from './kernels/matmul32';
import { fusableOf } from './kernels/products';
let products: usize = 0;
let productsCap: i32 = 0;

/** address of a buffer of at least `bytes` bytes (16-aligned) for productProbe, 0 if memory cannot provide it */
export function productBuffer(bytes: i32): usize {
  if (bytes < 0) return 0;
  if (bytes > productsCap) {
    const fresh = alloc(<f64>bytes);
    if (fresh == 0) return 0;
    if (products != 0) free(products);
    products = fresh;
    productsCap = bytes;
  }
  return products;
}

/** do elements [at + ((r-1) rs + (c-1) cs)] of an r x c operand lie in the product buffer? */
function inBuffer(at: i32, rs: i32, cs: i32, r: i32, c: i32, size: i32): bool {
  if (at < 0 || rs < 0 || cs < 0 || r < 0 || c < 0) return false;
  if (r == 0 || c == 0) return true;
  const last = <f64>at + <f64>(r - 1) * <f64>rs + <f64>(c - 1) * <f64>cs;
  return (last + 1) * <f64>size <= <f64>productsCap;
}

/**
 * Runs one kernel of matmul.ts (f32 = 0, float64 data) or matmul32.ts (f32 = 1, float32 data) on
 * operands in the product buffer, given as element offsets into it: kernel 0 gemm(c, ldc, a, ars,
 * acs, b, ldb, M, K, N, flags & 1 accumulate, flags & 2 fused); 1 matvec(o = c, a, b, m = M,
 * k = K, flags & 2); 2 outerAcc(ga = c, dc = a, b, M, K); 3 rowsAcc(gb = c, a, dc = b, M, K);
 * 4 gemmNT(ga = c, dc = a, b, M, K, N); 5 fusableOf (products.ts) of a [M, K] and b [K, N].
 * Returns 0 (kernel 5: 1 or 0, its answer), or -1 when an operand would leave the buffer.
 */
export function productProbe(kernel: i32, f32: i32, c: i32, ldc: i32, a: i32, ars: i32, acs: i32, b: i32, ldb: i32, M: i32, K: i32, N: i32, flags: i32): i32 {
  const size = f32 != 0 ? 4 : 8;
  let ok = M >= 0 && K >= 0 && N >= 0;
  if (kernel == 0) ok = ok && inBuffer(c, ldc, 1, M, N, size) && inBuffer(a, ars, acs, M, K, size) && inBuffer(b, ldb, 1, K, N, size);
  else if (kernel == 1) ok = ok && inBuffer(c, 1, 1, M, 1, size) && inBuffer(a, K, 1, M, K, size) && inBuffer(b, 1, 1, K, 1, size);
  else if (kernel == 2) ok = ok && inBuffer(c, K, 1, M, K, size) && inBuffer(a, 1, 1, M, 1, size) && inBuffer(b, 1, 1, K, 1, size);
  else if (kernel == 3) ok = ok && inBuffer(c, 1, 1, K, 1, size) && inBuffer(a, K, 1, M, K, size) && inBuffer(b, 1, 1, M, 1, size);
  else if (kernel == 4) ok = ok && inBuffer(c, K, 1, M, K, size) && inBuffer(a, N, 1, M, N, size) && inBuffer(b, N, 1, K, N, size);
  else if (kernel == 5) ok = ok && inBuffer(a, K, 1, M, K, size) && inBuffer(b, N, 1, K, N, size);
  else ok = false;
  if (!ok) return -1;
  const s = <usize>size;
  const C = products + <usize>c * s, A = products + <usize>a * s, B = products + <usize>b * s;
  const acc = (flags & 1) != 0, fused = (flags & 2) != 0;
  if (kernel == 5) return (f32 != 0 ? fusableOf<f32>(A, B, M, K, N) : fusableOf<f64>(A, B, M, K, N)) ? 1 : 0;
  if (f32 != 0) {
    if (kernel == 0) gemm32(C, ldc, A, ars, acs, B, ldb, M, K, N, acc, fused);
    else if (kernel == 1) matvec32(C, A, B, M, K, fused);
    else if (kernel == 2) outerAcc32(C, A, B, M, K);
    else if (kernel == 3) rowsAcc32(C, A, B, M, K);
    else gemmNT32(C, A, B, M, K, N);
  } else {
    if (kernel == 0) gemm(C, ldc, A, ars, acs, B, ldb, M, K, N, acc, fused);
    else if (kernel == 1) matvec(C, A, B, M, K, fused);
    else if (kernel == 2) outerAcc(C, A, B, M, K);
    else if (kernel == 3) rowsAcc(C, A, B, M, K);
    else gemmNT(C, A, B, M, K, N);
  }
  return 0;
}

// ---- the register-only multiply-add peak (kernels/peak.ts; src/backends/wasm/peak.ts times it) ----
import { peakChains as chains, peakSink as sink } from './kernels/peak';
/** reps rounds of the peak's chains (f32: f32x4 lanes, else f64x2; fused: the relaxed module's FMA); returns their FLOPs */
export function peakChains(f32: i32, fused: i32, reps: i32, m: f64, a: f64): f64 {
  return chains(f32 != 0, fused != 0, reps, m, a);
}
/** the chains' sum after the last peakChains call (read, so that the chains are not dead code) */
export function peakSink(): f64 {
  return sink;
}
