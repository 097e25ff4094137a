import type { FloatArray } from '../../api/dtype.js';
import type { ElementwiseName, OpName } from '../../ops/names.gen.js';
import { Flag } from '../../ops/opset.js';
import type { Kernel } from './kernel.js';
import { ELEMENTWISE_KERNELS } from './kernels.gen.js';
import { CONV_KERNELS } from './conv.js';
import { EXTREMUM_KERNELS } from './extremum.js';
import { STRUCTURE_KERNELS } from './structure.js';

export type { Kernel } from './kernel.js';

/**
 * The reference kernels: every op's forward rule and backward rule side by side, one loop each,
 * over the value arena `v` and the adjoint arena `g` (offsets as in the instruction). This file is
 * the living definition of what every backend computes; clarity before speed.
 * Backward rules accumulate with `+=`; `a` and `b` may be the same offset (x*x), so they are
 * updated one after the other.
 */
const A = Flag.gradA;
const B = Flag.gradB;

/** The hand-written kernels: every op that is not elementwise (a missing one fails typecheck). */
const HANDWRITTEN: Readonly<Record<Exclude<OpName, ElementwiseName>, Kernel>> = {
  ...CONV_KERNELS,
  ...EXTREMUM_KERNELS,
  broadcast: {
    fwd(v, o, a, _b, outer, rep, inner) {
      for (let s = 0; s < outer; s++)
        for (let r = 0; r < rep; r++)
          for (let i = 0; i < inner; i++) v[o + (s * rep + r) * inner + i] = v[a + s * inner + i];
    },
    bwd(_v, g, _f, o, a, _b, outer, rep, inner) {
      for (let s = 0; s < outer; s++)
        for (let r = 0; r < rep; r++)
          for (let i = 0; i < inner; i++) g[a + s * inner + i] += g[o + (s * rep + r) * inner + i];
    },
  },
  sum: {
    fwd(v, o, a, _b, outer, n, inner) {
      for (let s = 0; s < outer; s++) {
        for (let i = 0; i < inner; i++) v[o + s * inner + i] = 0;
        for (let j = 0; j < n; j++)
          for (let i = 0; i < inner; i++) v[o + s * inner + i] += v[a + (s * n + j) * inner + i];
      }
    },
    bwd(_v, g, _f, o, a, _b, outer, n, inner) {
      for (let s = 0; s < outer; s++)
        for (let j = 0; j < n; j++)
          for (let i = 0; i < inner; i++) g[a + (s * n + j) * inner + i] += g[o + s * inner + i];
    },
  },
  logsumexp: {
    fwd(v, o, a, _b, outer, n, inner) {
      for (let s = 0; s < outer; s++)
        for (let i = 0; i < inner; i++) {
          const [m, l] = lseParts(v, a + s * n * inner + i, n, inner);
          v[o + s * inner + i] = Number.isNaN(l) ? m : m + l;
        }
    },
    // d/da = exp(a - out), computed as exp((a - m) - l): a - out would carry out's rounding, an
    // ulp of |out| (1e-10 at 1e6), into every gradient. Non-finite outputs keep exp(a - out).
    bwd(v, g, _f, o, a, _b, outer, n, inner) {
      for (let s = 0; s < outer; s++)
        for (let i = 0; i < inner; i++) {
          const dy = g[o + s * inner + i];
          let [m, l] = lseParts(v, a + s * n * inner + i, n, inner);
          if (Number.isNaN(l)) [m, l] = [v[o + s * inner + i], 0];
          for (let j = 0; j < n; j++) {
            const at = a + (s * n + j) * inner + i;
            g[at] += dy * Math.exp(v[at] - m - l);
          }
        }
    },
  },
  argmax: { fwd: (v, o, a, _b, outer, n, inner) => argReduce(v, o, a, outer, n, inner, 1), bwd() {} },
  argmin: { fwd: (v, o, a, _b, outer, n, inner) => argReduce(v, o, a, outer, n, inner, -1), bwd() {} },
  one_hot: {
    fwd(v, o, a, _b, rows, classes) {
      for (let r = 0; r < rows; r++) {
        const y = v[a + r];
        const ok = Number.isInteger(y) && y >= 0 && y < classes;
        for (let c = 0; c < classes; c++) v[o + r * classes + c] = ok ? (c === y ? 1 : 0) : NaN;
      }
    },
    bwd() {},
  },
  matmul: {
    fwd(v, o, a, b, m, k, n) {
      for (let i = 0; i < m; i++) {
        if (n === 1) {
          let s = 0;
          for (let t = 0; t < k; t++) s += v[a + i * k + t] * v[b + t];
          v[o + i] = s;
          continue;
        }
        for (let j = 0; j < n; j++) v[o + i * n + j] = 0;
        for (let t = 0; t < k; t++) {
          const x = v[a + i * k + t];
          for (let j = 0; j < n; j++) v[o + i * n + j] += x * v[b + t * n + j];
        }
      }
    },
    bwd(v, g, f, o, a, b, m, k, n) {
      // dA += dC B^T: row i of dC against row t of B
      if (f & A)
        for (let i = 0; i < m; i++)
          for (let t = 0; t < k; t++) {
            let s = 0;
            for (let j = 0; j < n; j++) s += g[o + i * n + j] * v[b + t * n + j];
            g[a + i * k + t] += s;
          }
      // dB += A^T dC: row i of A, scaled by row i of dC, into the rows of dB (n = 1: one axpy per row)
      if (f & B)
        for (let i = 0; i < m; i++) {
          if (n === 1) {
            const d = g[o + i];
            for (let t = 0; t < k; t++) g[b + t] += v[a + i * k + t] * d;
            continue;
          }
          for (let t = 0; t < k; t++) {
            const x = v[a + i * k + t];
            for (let j = 0; j < n; j++) g[b + t * n + j] += x * g[o + i * n + j];
          }
        }
    },
  },
  softmax_xent: {
    fwd(v, o, a, b, rows, c, probs) {
      for (let r = 0; r < rows; r++) {
        const z = a + r * c,
          y = b + r * c,
          p = probs + r * c;
        let m = -Infinity;
        for (let j = 0; j < c; j++) if (v[z + j] > m) m = v[z + j];
        let s = 0;
        for (let j = 0; j < c; j++) {
          const e = Math.exp(v[z + j] - m);
          v[p + j] = e;
          s += e;
        }
        // lse - z_j as (m - z_j) + log(s): both terms >= 0, and m - z_j is exact for nearby
        // logits, where m + log(s) - z_j would carry lse's rounding (an ulp of |m|) into the loss
        const ls = Math.log(s);
        let loss = 0;
        for (let j = 0; j < c; j++) {
          v[p + j] /= s;
          loss += v[y + j] * (m - v[z + j] + ls);
        }
        v[o + r] = loss;
      }
    },
    bwd(v, g, f, o, a, b, rows, c, probs) {
      for (let r = 0; r < rows; r++) {
        const z = a + r * c,
          y = b + r * c,
          p = probs + r * c,
          dy = g[o + r];
        if (f & A) {
          let sy = 0;
          for (let j = 0; j < c; j++) sy += v[y + j];
          for (let j = 0; j < c; j++) g[z + j] += dy * (v[p + j] * sy - v[y + j]);
        }
        if (f & B) {
          let m = -Infinity;
          for (let j = 0; j < c; j++) if (v[z + j] > m) m = v[z + j];
          let s = 0;
          for (let j = 0; j < c; j++) s += Math.exp(v[z + j] - m);
          const ls = Math.log(s);
          for (let j = 0; j < c; j++) g[y + j] += dy * (m - v[z + j] + ls);
        }
      }
    },
  },
  ...STRUCTURE_KERNELS,
};

/** Every op's kernel: the table is exhaustive over the op names (src/ops/names.gen.ts). */
export const KERNELS: Readonly<Record<OpName, Kernel>> = { ...ELEMENTWISE_KERNELS, ...HANDWRITTEN };

/**
 * argmax (sign 1) or argmin (sign -1) along the middle axis: the first extremal index; the first
 * NaN wins over any number (NumPy and PyTorch treat NaN as the extreme).
 */
/**
 * log sum_j exp(x_j) over n values from `at`, `stride` apart, in two parts [m, l]: m the largest
 * x_j and l = log(sum exp(x - m)) summed in index order. l is NaN, m the whole result, when some
 * x_j is NaN (m = NaN) or m is infinite.
 */
export function lseParts(v: FloatArray, at: number, n: number, stride: number): [number, number] {
  let m = -Infinity;
  let nan = false;
  for (let j = 0; j < n; j++) {
    const x = v[at + j * stride];
    if (x > m) m = x;
    else if (x !== x) nan = true;
  }
  if (nan) return [NaN, NaN];
  if (m === Infinity || m === -Infinity) return [m, NaN];
  let e = 0;
  for (let j = 0; j < n; j++) e += Math.exp(v[at + j * stride] - m);
  return [m, Math.log(e)];
}

function argReduce(v: FloatArray, o: number, a: number, outer: number, n: number, inner: number, sign: 1 | -1): void {
  for (let s = 0; s < outer; s++)
    for (let i = 0; i < inner; i++) {
      const at = a + s * n * inner + i;
      let best = v[at],
        k = 0;
      for (let j = 1; j < n && best === best; j++) {
        const x = v[at + j * inner];
        if (x !== x || sign * x > sign * best) {
          best = x;
          k = j;
        }
      }
      v[o + s * inner + i] = k;
    }
}
