import type { FloatArray } from '../../api/dtype.js';
import type { Kernel } from './kernel.js';

/**
 * max and min along the middle axis of [outer, n, inner]: the value of the element argmax/argmin
 * picks (the first extremal one, the first NaN if any, so NaN propagates as in NumPy and
 * PyTorch), and the gradient to that element only.
 */
function extremum(sign: 1 | -1): Kernel {
  return {
    fwd(v, o, a, _b, outer, n, inner) {
      for (let s = 0; s < outer; s++)
        for (let i = 0; i < inner; i++) v[o + s * inner + i] = v[pick(v, a + s * n * inner + i, n, inner, sign)];
    },
    bwd(v, g, _f, o, a, _b, outer, n, inner) {
      for (let s = 0; s < outer; s++)
        for (let i = 0; i < inner; i++) g[pick(v, a + s * n * inner + i, n, inner, sign)] += g[o + s * inner + i];
    },
  };
}

/** Offset of the first extremal element of the n at `at`, `inner` apart. */
export function pick(v: FloatArray, at: number, n: number, inner: number, sign: 1 | -1): number {
  let k = at,
    best = v[at];
  for (let j = 1; j < n && best === best; j++) {
    const x = v[at + j * inner];
    if (x !== x || sign * x > sign * best) {
      best = x;
      k = at + j * inner;
    }
  }
  return k;
}

export const EXTREMUM_KERNELS: Readonly<Record<'max' | 'min', Kernel>> = { max: extremum(1), min: extremum(-1) };
