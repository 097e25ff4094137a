/**
 * max (sign 1) and min (sign -1) along the middle axis of [outer, n, inner]: the value of the
 * element argmax/argmin picks (the first extremal one; the first NaN if any) and the gradient to
 * that element only.
 */

function pick(at: usize, n: i32, stride: usize, sign: f64): usize {
  let k = at;
  let best = load<f64>(at);
  for (let j = 1; j < n && best == best; j++) {
    const q = at + <usize>j * stride;
    const x = load<f64>(q);
    if (x != x || sign * x > sign * best) {
      best = x;
      k = q;
    }
  }
  return k;
}

function extremumFwd(o: usize, a: usize, outer: i32, n: i32, inner: i32, sign: f64): void {
  const stride = <usize>inner << 3;
  for (let s = 0; s < outer; s++)
    for (let i = 0; i < inner; i++) {
      const at = a + ((<usize>s * <usize>n * <usize>inner + <usize>i) << 3);
      store<f64>(o + ((<usize>s * <usize>inner + <usize>i) << 3), load<f64>(pick(at, n, stride, sign)));
    }
}

/** ga is found from va at the same offset: the adjoint arena has the value arena's layout. */
function extremumBwd(go: usize, ga: usize, va: usize, outer: i32, n: i32, inner: i32, sign: f64): void {
  const stride = <usize>inner << 3;
  for (let s = 0; s < outer; s++)
    for (let i = 0; i < inner; i++) {
      const rel = (<usize>s * <usize>n * <usize>inner + <usize>i) << 3;
      const t = ga + (pick(va + rel, n, stride, sign) - va);
      store<f64>(t, load<f64>(t) + load<f64>(go + ((<usize>s * <usize>inner + <usize>i) << 3)));
    }
}

export function maxFwd(o: usize, a: usize, outer: i32, n: i32, inner: i32): void {
  extremumFwd(o, a, outer, n, inner, 1);
}
export function minFwd(o: usize, a: usize, outer: i32, n: i32, inner: i32): void {
  extremumFwd(o, a, outer, n, inner, -1);
}
export function maxBwd(go: usize, ga: usize, va: usize, outer: i32, n: i32, inner: i32): void {
  extremumBwd(go, ga, va, outer, n, inner, 1);
}
export function minBwd(go: usize, ga: usize, va: usize, outer: i32, n: i32, inner: i32): void {
  extremumBwd(go, ga, va, outer, n, inner, -1);
}

/** out' = a' at the element the value picks (forward mode); sign 1 for max, -1 for min */
export function extremumTan(to: usize, ta: usize, va: usize, outer: i32, n: i32, inner: i32, sign: f64): void {
  const stride = <usize>inner << 3;
  for (let s = 0; s < outer; s++)
    for (let i = 0; i < inner; i++) {
      const rel = (<usize>s * <usize>n * <usize>inner + <usize>i) << 3;
      store<f64>(to + ((<usize>s * <usize>inner + <usize>i) << 3), load<f64>(ta + (pick(va + rel, n, stride, sign) - va)));
    }
}
