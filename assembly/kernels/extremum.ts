/**
 * max (sign 1) and min (sign -1) along the middle axis of [outer, n, inner]: the value of the
 * element argmax/argmin picks (the first extremal one; the first NaN if any) and the gradient to
 * that element only.
 */
import { ld, st } from '../elem';

function pick<T>(at: usize, n: i32, stride: usize, sign: f64): usize {
  let k = at;
  let best = ld<T>(at);
  for (let j = 1; j < n && best == best; j++) {
    const q = at + <usize>j * stride;
    const x = ld<T>(q);
    if (x != x || sign * x > sign * best) {
      best = x;
      k = q;
    }
  }
  return k;
}

function extremumFwd<T>(o: usize, a: usize, outer: i32, n: i32, inner: i32, sign: f64): void {
  const stride = <usize>inner << alignof<T>();
  for (let s = 0; s < outer; s++)
    for (let i = 0; i < inner; i++) {
      const at = a + ((<usize>s * <usize>n * <usize>inner + <usize>i) << alignof<T>());
      st<T>(o + ((<usize>s * <usize>inner + <usize>i) << alignof<T>()), ld<T>(pick<T>(at, n, stride, sign)));
    }
}

/** ga is found from va at the same offset: the adjoint arena has the value arena's layout. */
function extremumBwd<T>(go: usize, ga: usize, va: usize, outer: i32, n: i32, inner: i32, sign: f64): void {
  const stride = <usize>inner << alignof<T>();
  for (let s = 0; s < outer; s++)
    for (let i = 0; i < inner; i++) {
      const rel = (<usize>s * <usize>n * <usize>inner + <usize>i) << alignof<T>();
      const t = ga + (pick<T>(va + rel, n, stride, sign) - va);
      st<T>(t, ld<T>(t) + ld<T>(go + ((<usize>s * <usize>inner + <usize>i) << alignof<T>())));
    }
}

export function maxFwd<T>(o: usize, a: usize, outer: i32, n: i32, inner: i32): void {
  extremumFwd<T>(o, a, outer, n, inner, 1);
}
export function minFwd<T>(o: usize, a: usize, outer: i32, n: i32, inner: i32): void {
  extremumFwd<T>(o, a, outer, n, inner, -1);
}
export function maxBwd<T>(go: usize, ga: usize, va: usize, outer: i32, n: i32, inner: i32): void {
  extremumBwd<T>(go, ga, va, outer, n, inner, 1);
}
export function minBwd<T>(go: usize, ga: usize, va: usize, outer: i32, n: i32, inner: i32): void {
  extremumBwd<T>(go, ga, va, outer, n, inner, -1);
}

/** out' = a' at the element the value picks (forward mode); sign 1 for max, -1 for min */
export function extremumTan<T>(to: usize, ta: usize, va: usize, outer: i32, n: i32, inner: i32, sign: f64): void {
  const stride = <usize>inner << alignof<T>();
  for (let s = 0; s < outer; s++)
    for (let i = 0; i < inner; i++) {
      const rel = (<usize>s * <usize>n * <usize>inner + <usize>i) << alignof<T>();
      st<T>(to + ((<usize>s * <usize>inner + <usize>i) << alignof<T>()), ld<T>(ta + (pick<T>(va + rel, n, stride, sign) - va)));
    }
}
