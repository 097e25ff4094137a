/**
 * broadcast, sum, logsumexp, argmax/argmin and one_hot, forward and backward. Operands are [outer, n, inner]
 * blocks (see src/ops/opset.ts). Forward sums add in the reference's order (j ascending, one
 * accumulator per output), so values are bit-identical; vectors run across `inner` where it is
 * contiguous. Backward rules may sum in any order.
 */
import { ld, st, vld, vld1, vst } from '../elem';
import { exp, log } from '../math';
import { expRare, vexp, vexpSafe } from '../vmath';
import { addInto } from './map';

// @ts-ignore: decorator
@inline function at<T>(p: usize, i: i32): usize {
  return p + (<usize>i << alignof<T>());
}

/** out[o, r, i] = a[o, i] */
export function broadcastFwd<T>(o: usize, a: usize, outer: i32, rep: i32, inner: i32): void {
  const row = <usize>inner << alignof<T>();
  for (let s = 0; s < outer; s++) {
    const src = at<T>(a, s * inner);
    let dst = at<T>(o, s * rep * inner);
    if (inner == 1) {
      const x = ld<T>(src);
      const v = f64x2.splat(x);
      const end = dst + (<usize>rep << alignof<T>());
      for (; dst + (sizeof<T>() << 1) <= end; dst += (sizeof<T>() << 1)) vst<T>(dst, v);
      if (dst < end) st<T>(dst, x);
    } else {
      for (let r = 0; r < rep; r++, dst += row) memory.copy(dst, src, row);
    }
  }
}

/** g[a][o, i] += sum_r g[out][o, r, i] */
export function broadcastBwd<T>(go: usize, ga: usize, outer: i32, rep: i32, inner: i32): void {
  for (let s = 0; s < outer; s++) {
    const dst = at<T>(ga, s * inner);
    const src = at<T>(go, s * rep * inner);
    if (inner == 1) st<T>(dst, ld<T>(dst) + sumOf<T>(src, rep));
    else for (let r = 0; r < rep; r++) addInto<T>(dst, at<T>(src, r * inner), inner);
  }
}

/** sum of n contiguous elements, four lanes at a time (backward rules only: the order differs) */
function sumOf<T>(p: usize, n: i32): f64 {
  const end = p + (<usize>n << alignof<T>());
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let q = p;
  for (; q + (sizeof<T>() << 2) <= end; q += (sizeof<T>() << 2)) {
    s0 = f64x2.add(s0, vld<T>(q));
    s1 = f64x2.add(s1, vld1<T>(q));
  }
  s0 = f64x2.add(s0, s1);
  let s = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1);
  for (; q < end; q += sizeof<T>()) s += ld<T>(q);
  return s;
}

/** out[o, i] = sum_j a[o, j, i], j ascending from 0 (the reference's order) */
export function sumFwd<T>(o: usize, a: usize, outer: i32, n: i32, inner: i32): void {
  if (inner == 1) {
    for (let s = 0; s < outer; s++) {
      let p = at<T>(a, s * n);
      const end = p + (<usize>n << alignof<T>());
      let acc: f64 = 0;
      // sequential: rounding as in the reference; four loads per trip keep the adds back to back
      for (; p + (sizeof<T>() << 2) <= end; p += (sizeof<T>() << 2)) {
        acc += ld<T>(p);
        acc += ld<T>(p + sizeof<T>());
        acc += ld<T>(p + 2 * sizeof<T>());
        acc += ld<T>(p + 3 * sizeof<T>());
      }
      for (; p < end; p += sizeof<T>()) acc += ld<T>(p);
      st<T>(at<T>(o, s), acc);
    }
    return;
  }
  for (let s = 0; s < outer; s++) {
    const dst = at<T>(o, s * inner);
    memory.fill(dst, 0, <usize>inner << alignof<T>());
    for (let j = 0; j < n; j++) addInto<T>(dst, at<T>(a, (s * n + j) * inner), inner);
  }
}

/** g[a][o, j, i] += g[out][o, i] */
export function sumBwd<T>(go: usize, ga: usize, outer: i32, n: i32, inner: i32): void {
  for (let s = 0; s < outer; s++) {
    if (inner == 1) {
      const dy = ld<T>(at<T>(go, s));
      const v = f64x2.splat(dy);
      let p = at<T>(ga, s * n);
      const end = p + (<usize>n << alignof<T>());
      for (; p + (sizeof<T>() << 1) <= end; p += (sizeof<T>() << 1)) vst<T>(p, f64x2.add(vld<T>(p), v));
      if (p < end) st<T>(p, ld<T>(p) + dy);
    } else {
      for (let j = 0; j < n; j++) addInto<T>(at<T>(ga, (s * n + j) * inner), at<T>(go, s * inner), inner);
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
export function lseParts<T>(first: usize, n: i32, inner: i32): bool {
  const stride = <usize>inner << alignof<T>();
  let m = -Infinity;
  let nan = false;
  let p = first;
  for (let j = 0; j < n; j++, p += stride) {
    const x = ld<T>(p);
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
    const end = p + (<usize>n << alignof<T>());
    let rare = i64x2.splat(0);
    for (; p + (sizeof<T>() << 1) <= end; p += (sizeof<T>() << 1)) {
      const d = f64x2.sub(vld<T>(p), mv);
      rare = v128.or(rare, expRare(d));
      const x = vexp(d);
      e += f64x2.extract_lane(x, 0);
      e += f64x2.extract_lane(x, 1);
    }
    if (v128.any_true(rare)) {
      e = 0;
      p = first;
    }
    for (; p < end; p += sizeof<T>()) e += exp(ld<T>(p) - m);
  } else {
    for (let j = 0; j < n; j++, p += stride) e += exp(ld<T>(p) - m);
  }
  lseL = log(e);
  return true;
}

/** out[o, i] = log sum_j exp(a[o, j, i]) = m + log sum_j exp(a[o, j, i] - m), m the max */
export function logsumexpFwd<T>(o: usize, a: usize, outer: i32, n: i32, inner: i32): void {
  for (let s = 0; s < outer; s++)
    for (let i = 0; i < inner; i++) {
      const r = lseParts<T>(at<T>(a, s * n * inner + i), n, inner) ? lseM + lseL : lseM;
      st<T>(at<T>(o, s * inner + i), r);
    }
}

/**
 * g[a][o, j, i] += dy[o, i] * exp(a[o, j, i] - out[o, i]), computed as exp((a - m) - l) with the
 * parts of lseParts: a - out would carry out's rounding (an ulp of |out|) into every gradient.
 * Non-finite outputs keep exp(a - out).
 */
export function logsumexpBwd<T>(go: usize, ga: usize, vo: usize, va: usize, outer: i32, n: i32, inner: i32): void {
  for (let s = 0; s < outer; s++) {
    for (let i = 0; i < inner; i++) {
      const dy = ld<T>(at<T>(go, s * inner + i));
      let m = ld<T>(at<T>(vo, s * inner + i));
      let l: f64 = 0;
      if (lseParts<T>(at<T>(va, s * n * inner + i), n, inner)) {
        m = lseM;
        l = lseL;
      }
      if (inner == 1) {
        const mv = f64x2.splat(m);
        const lv = f64x2.splat(l);
        const dv = f64x2.splat(dy);
        let off: usize = <usize>(s * n) << alignof<T>();
        const end = off + (<usize>n << alignof<T>());
        for (; off + (sizeof<T>() << 1) <= end; off += (sizeof<T>() << 1)) {
          const e = vexpSafe(f64x2.sub(f64x2.sub(vld<T>(va + off), mv), lv));
          vst<T>(ga + off, f64x2.add(vld<T>(ga + off), f64x2.mul(dv, e)));
        }
        if (off < end) st<T>(ga + off, ld<T>(ga + off) + dy * exp((ld<T>(va + off) - m) - l));
      } else {
        for (let j = 0; j < n; j++) {
          const k = (s * n + j) * inner + i;
          st<T>(at<T>(ga, k), ld<T>(at<T>(ga, k)) + dy * exp((ld<T>(at<T>(va, k)) - m) - l));
        }
      }
    }
  }
}

/**
 * argmax (sign 1) or argmin (sign -1) along the middle axis: the first extremal index; the first
 * NaN wins over any number (NumPy and PyTorch treat NaN as the extreme). No backward rule.
 */
export function argReduceFwd<T>(o: usize, a: usize, outer: i32, n: i32, inner: i32, sign: f64): void {
  for (let s = 0; s < outer; s++) {
    for (let i = 0; i < inner; i++) {
      const at = a + ((<usize>s * <usize>n * <usize>inner + <usize>i) << alignof<T>());
      const stride = <usize>inner << alignof<T>();
      let best = ld<T>(at);
      let k: i32 = 0;
      for (let j = 1; j < n && best == best; j++) {
        const x = ld<T>(at + <usize>j * stride);
        if (x != x || sign * x > sign * best) {
          best = x;
          k = j;
        }
      }
      st<T>(o + ((<usize>s * <usize>inner + <usize>i) << alignof<T>()), <f64>k);
    }
  }
}

/** Rows of one-hot: out[r, c] = (c == a[r]) for an integer a[r] in [0, classes), else a row of NaN. */
export function oneHotFwd<T>(o: usize, a: usize, rows: i32, classes: i32): void {
  for (let r = 0; r < rows; r++) {
    const y = ld<T>(a + (<usize>r << alignof<T>()));
    const ok = y >= 0 && y < <f64>classes && Math.floor(y) == y;
    const row = o + ((<usize>r * <usize>classes) << alignof<T>());
    for (let c = 0; c < classes; c++) st<T>(row + (<usize>c << alignof<T>()), ok ? (<f64>c == y ? 1.0 : 0.0) : NaN);
  }
}
