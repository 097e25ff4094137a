/** Tangent rules of the ops whose tangent mode is 'custom' (src/backends/js/tangent.ts, the reference). */
import { ld, st } from '../elem';
import { exp, log } from '../math';
import { FLAG_GRAD_A, FLAG_GRAD_B } from '../opcodes';
import { lseM, lseL, lseParts } from './reduce';

// @ts-ignore: decorator
@inline function f<T>(p: usize, i: i32): f64 {
  return ld<T>(p + (<usize>i << alignof<T>()));
}

/** out'[s,i] = sum_j exp(a[s,j,i] - out[s,i]) a'[s,j,i], exp(a - out) as exp((a - m) - l) as the backward rule */
export function logsumexpTan<T>(to: usize, ta: usize, vo: usize, va: usize, outer: i32, n: i32, inner: i32): void {
  for (let s = 0; s < outer; s++)
    for (let i = 0; i < inner; i++) {
      let m: f64, l: f64;
      if (lseParts<T>(va + (<usize>(s * n * inner + i) << alignof<T>()), n, inner)) {
        m = lseM;
        l = lseL;
      } else {
        m = f<T>(vo, s * inner + i);
        l = 0;
      }
      let d: f64 = 0;
      for (let j = 0; j < n; j++) {
        const k = (s * n + j) * inner + i;
        d += exp(f<T>(va, k) - m - l) * f<T>(ta, k);
      }
      st<T>(to + (<usize>(s * inner + i) << alignof<T>()), d);
    }
}

/** per row: (sum_c b)(sum_c p a') - sum_c b a' for a, and sum_c b' (lse - a) for b */
export function softmaxXentTan<T>(
  flags: i32, to: usize, ta: usize, tb: usize, va: usize, vb: usize, probs: usize, rows: i32, c: i32,
): void {
  for (let r = 0; r < rows; r++) {
    const z = r * c;
    let d: f64 = 0;
    if ((flags & FLAG_GRAD_A) != 0) {
      let sy: f64 = 0, pz: f64 = 0, yz: f64 = 0;
      for (let j = 0; j < c; j++) {
        sy += f<T>(vb, z + j);
        pz += f<T>(probs, z + j) * f<T>(ta, z + j);
        yz += f<T>(vb, z + j) * f<T>(ta, z + j);
      }
      d += sy * pz - yz;
    }
    if ((flags & FLAG_GRAD_B) != 0) {
      let m = -Infinity;
      for (let j = 0; j < c; j++) if (f<T>(va, z + j) > m) m = f<T>(va, z + j);
      let s: f64 = 0;
      for (let j = 0; j < c; j++) s += exp(f<T>(va, z + j) - m);
      const ls = log(s);
      for (let j = 0; j < c; j++) d += f<T>(tb, z + j) * (m - f<T>(va, z + j) + ls);
    }
    st<T>(to + (<usize>r << alignof<T>()), d);
  }
}
