/**
 * broadcast, sum, logsumexp, argmax/argmin and one_hot, forward and backward. Operands are [outer, n, inner]
 * blocks (see src/ops/opset.ts). Forward sums add in the reference's order (j ascending, one
 * accumulator per output), so values are bit-identical; vectors run across `inner` where it is
 * contiguous. Backward rules may sum in any order.
 */
import { exp, log } from '../math';
import { expRare, vexp, vexpSafe } from '../vmath';
import { addInto } from './map';

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 3);
}

/** out[o, r, i] = a[o, i] */
export function broadcastFwd(o: usize, a: usize, outer: i32, rep: i32, inner: i32): void {
  const row = <usize>inner << 3;
  for (let s = 0; s < outer; s++) {
    const src = at(a, s * inner);
    let dst = at(o, s * rep * inner);
    if (inner == 1) {
      const x = load<f64>(src);
      const v = f64x2.splat(x);
      const end = dst + (<usize>rep << 3);
      for (; dst + 16 <= end; dst += 16) v128.store(dst, v);
      if (dst < end) store<f64>(dst, x);
    } else {
      for (let r = 0; r < rep; r++, dst += row) memory.copy(dst, src, row);
    }
  }
}

/** g[a][o, i] += sum_r g[out][o, r, i] */
export function broadcastBwd(go: usize, ga: usize, outer: i32, rep: i32, inner: i32): void {
  for (let s = 0; s < outer; s++) {
    const dst = at(ga, s * inner);
    const src = at(go, s * rep * inner);
    if (inner == 1) store<f64>(dst, load<f64>(dst) + sumOf(src, rep));
    else for (let r = 0; r < rep; r++) addInto(dst, at(src, r * inner), inner);
  }
}

/** sum of n contiguous elements, four lanes at a time (backward rules only: the order differs) */
function sumOf(p: usize, n: i32): f64 {
  const end = p + (<usize>n << 3);
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let q = p;
  for (; q + 32 <= end; q += 32) {
    s0 = f64x2.add(s0, v128.load(q));
    s1 = f64x2.add(s1, v128.load(q, 16));
  }
  s0 = f64x2.add(s0, s1);
  let s = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1);
  for (; q < end; q += 8) s += load<f64>(q);
  return s;
}

/** out[o, i] = sum_j a[o, j, i], j ascending from 0 (the reference's order) */
export function sumFwd(o: usize, a: usize, outer: i32, n: i32, inner: i32): void {
  if (inner == 1) {
    for (let s = 0; s < outer; s++) {
      let p = at(a, s * n);
      const end = p + (<usize>n << 3);
      let acc: f64 = 0;
      // sequential: rounding as in the reference; four loads per trip keep the adds back to back
      for (; p + 32 <= end; p += 32) {
        acc += load<f64>(p);
        acc += load<f64>(p, 8);
        acc += load<f64>(p, 16);
        acc += load<f64>(p, 24);
      }
      for (; p < end; p += 8) acc += load<f64>(p);
      store<f64>(at(o, s), acc);
    }
    return;
  }
  for (let s = 0; s < outer; s++) {
    const dst = at(o, s * inner);
    memory.fill(dst, 0, <usize>inner << 3);
    for (let j = 0; j < n; j++) addInto(dst, at(a, (s * n + j) * inner), inner);
  }
}

/** g[a][o, j, i] += g[out][o, i] */
export function sumBwd(go: usize, ga: usize, outer: i32, n: i32, inner: i32): void {
  for (let s = 0; s < outer; s++) {
    if (inner == 1) {
      const dy = load<f64>(at(go, s));
      const v = f64x2.splat(dy);
      let p = at(ga, s * n);
      const end = p + (<usize>n << 3);
      for (; p + 16 <= end; p += 16) v128.store(p, f64x2.add(v128.load(p), v));
      if (p < end) store<f64>(p, load<f64>(p) + dy);
    } else {
      for (let j = 0; j < n; j++) addInto(at(ga, (s * n + j) * inner), at(go, s * inner), inner);
    }
  }
}

/** the parts of lseParts: the max m (or the whole result) and l = log sum_j exp(a_j - m) */
export let lseM: f64 = 0;
export let lseL: f64 = 0;

/**
 * log sum_j exp(a_j) over n values from `first` at `inner` doubles apart, in two parts: lseM the
 * largest a_j, lseL = log(sum exp(a - lseM)) summed in order. Returns false, with lseM the whole
 * result, when some a_j is NaN (lseM = NaN) or the max is infinite (as the reference).
 */
export function lseParts(first: usize, n: i32, inner: i32): bool {
  const stride = <usize>inner << 3;
  let m = -Infinity;
  let nan = false;
  let p = first;
  for (let j = 0; j < n; j++, p += stride) {
    const x = load<f64>(p);
    if (x > m) m = x;
    else if (x != x) nan = true;
  }
  lseM = nan ? NaN : m;
  if (nan || m == Infinity || m == -Infinity) return false;
  let e: f64 = 0;
  p = first;
  if (inner == 1) {
    // exp two at a time, summed in order; redone in scalar if a lane was rare
    const mv = f64x2.splat(m);
    const end = p + (<usize>n << 3);
    let rare = i64x2.splat(0);
    for (; p + 16 <= end; p += 16) {
      const d = f64x2.sub(v128.load(p), mv);
      rare = v128.or(rare, expRare(d));
      const x = vexp(d);
      e += f64x2.extract_lane(x, 0);
      e += f64x2.extract_lane(x, 1);
    }
    if (v128.any_true(rare)) {
      e = 0;
      p = first;
    }
    for (; p < end; p += 8) e += exp(load<f64>(p) - m);
  } else {
    for (let j = 0; j < n; j++, p += stride) e += exp(load<f64>(p) - m);
  }
  lseL = log(e);
  return true;
}

/** out[o, i] = log sum_j exp(a[o, j, i]) = m + log sum_j exp(a[o, j, i] - m), m the max */
export function logsumexpFwd(o: usize, a: usize, outer: i32, n: i32, inner: i32): void {
  for (let s = 0; s < outer; s++)
    for (let i = 0; i < inner; i++) {
      const r = lseParts(at(a, s * n * inner + i), n, inner) ? lseM + lseL : lseM;
      store<f64>(at(o, s * inner + i), r);
    }
}

/**
 * g[a][o, j, i] += dy[o, i] * exp(a[o, j, i] - out[o, i]), computed as exp((a - m) - l) with the
 * parts of lseParts: a - out would carry out's rounding (an ulp of |out|) into every gradient.
 * Non-finite outputs keep exp(a - out).
 */
export function logsumexpBwd(go: usize, ga: usize, vo: usize, va: usize, outer: i32, n: i32, inner: i32): void {
  for (let s = 0; s < outer; s++) {
    for (let i = 0; i < inner; i++) {
      const dy = load<f64>(at(go, s * inner + i));
      let m = load<f64>(at(vo, s * inner + i));
      let l: f64 = 0;
      if (lseParts(at(va, s * n * inner + i), n, inner)) {
        m = lseM;
        l = lseL;
      }
      if (inner == 1) {
        const mv = f64x2.splat(m);
        const lv = f64x2.splat(l);
        const dv = f64x2.splat(dy);
        let off: usize = <usize>(s * n) << 3;
        const end = off + (<usize>n << 3);
        for (; off + 16 <= end; off += 16) {
          const e = vexpSafe(f64x2.sub(f64x2.sub(v128.load(va + off), mv), lv));
          v128.store(ga + off, f64x2.add(v128.load(ga + off), f64x2.mul(dv, e)));
        }
        if (off < end) store<f64>(ga + off, load<f64>(ga + off) + dy * exp((load<f64>(va + off) - m) - l));
      } else {
        for (let j = 0; j < n; j++) {
          const k = (s * n + j) * inner + i;
          store<f64>(at(ga, k), load<f64>(at(ga, k)) + dy * exp((load<f64>(at(va, k)) - m) - l));
        }
      }
    }
  }
}

/**
 * argmax (sign 1) or argmin (sign -1) along the middle axis: the first extremal index; the first
 * NaN wins over any number (NumPy and PyTorch treat NaN as the extreme). No backward rule.
 */
export function argReduceFwd(o: usize, a: usize, outer: i32, n: i32, inner: i32, sign: f64): void {
  for (let s = 0; s < outer; s++) {
    for (let i = 0; i < inner; i++) {
      const at = a + ((<usize>s * <usize>n * <usize>inner + <usize>i) << 3);
      const stride = <usize>inner << 3;
      let best = load<f64>(at);
      let k: i32 = 0;
      for (let j = 1; j < n && best == best; j++) {
        const x = load<f64>(at + <usize>j * stride);
        if (x != x || sign * x > sign * best) {
          best = x;
          k = j;
        }
      }
      store<f64>(o + ((<usize>s * <usize>inner + <usize>i) << 3), <f64>k);
    }
  }
}

/** Rows of one-hot: out[r, c] = (c == a[r]) for an integer a[r] in [0, classes), else a row of NaN. */
export function oneHotFwd(o: usize, a: usize, rows: i32, classes: i32): void {
  for (let r = 0; r < rows; r++) {
    const y = load<f64>(a + (<usize>r << 3));
    const ok = y >= 0 && y < <f64>classes && Math.floor(y) == y;
    const row = o + ((<usize>r * <usize>classes) << 3);
    for (let c = 0; c < classes; c++) store<f64>(row + (<usize>c << 3), ok ? (<f64>c == y ? 1.0 : 0.0) : NaN);
  }
}
