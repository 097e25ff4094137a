import { Flag, SLICE_RANK } from '../../ops/opset.js';
import type { OpName } from '../../ops/names.gen.js';
import type { Kernel } from './kernel.js';

/**
 * The reference kernels of the structure ops (src/ops/opset.ts): slice, concat, gather,
 * transpose and the batched matmul. Copies forward, adds backward (`+=`: another reader of the
 * same operand accumulates into the same adjoint).
 */

const A = Flag.gradA;
const B = Flag.gradB;

/**
 * Calls `row(from, to, len)` for every contiguous row of a slice: `from` in a, `to` in the
 * output, len = the size along the last axis. p = [dims, begins, sizes] of SLICE_RANK each.
 */
function sliceRows(p: Int32Array, row: (from: number, to: number, len: number) => void): void {
  const R = SLICE_RANK;
  const idx = new Array<number>(R - 1).fill(0);
  const last = p[3 * R - 1];
  // strides of a (in elements) per axis
  const stride = new Array<number>(R).fill(1);
  for (let q = R - 2; q >= 0; q--) stride[q] = stride[q + 1] * p[q + 1];
  let base = 0;
  for (let q = 0; q < R; q++) base += p[R + q] * stride[q];
  const rows = idx.reduce((n, _, q) => n * p[2 * R + q], 1);
  for (let r = 0, to = 0; r < rows; r++, to += last) {
    let from = base;
    for (let q = 0; q < R - 1; q++) from += idx[q] * stride[q];
    row(from, to, last);
    for (let q = R - 2; q >= 0; q--) {
      if (++idx[q] < p[2 * R + q]) break;
      idx[q] = 0;
    }
  }
}

/** out[s] = a[s] b[s] (m x k times k x n), each product as the reference matmul computes it */
function batchProducts(
  batch: number,
  m: number,
  k: number,
  n: number,
  ba: number,
  bb: number,
  each: (ia: number, ib: number, s: number) => void,
): void {
  for (let s = 0; s < batch; s++) each(ba === batch ? s * m * k : 0, bb === batch ? s * k * n : 0, s * m * n);
}

export const STRUCTURE_KERNELS: Readonly<
  Record<Extract<OpName, 'slice' | 'concat' | 'gather' | 'transpose' | 'batch_matmul'>, Kernel>
> = {
  slice: {
    fwd(v, o, a, _b, _p0, _p1, _p2, _c, p) {
      sliceRows(p, (from, to, len) => {
        for (let i = 0; i < len; i++) v[o + to + i] = v[a + from + i];
      });
    },
    bwd(_v, g, _f, o, a, _b, _p0, _p1, _p2, _c, p) {
      sliceRows(p, (from, to, len) => {
        for (let i = 0; i < len; i++) g[a + from + i] += g[o + to + i];
      });
    },
  },
  concat: {
    fwd(v, o, a, b, outer, na, nb, _c, p) {
      const [n, inner] = [p[3], p[4]];
      for (let s = 0; s < outer; s++) {
        const to = o + s * n * inner;
        for (let i = 0; i < na * inner; i++) v[to + i] = v[a + s * na * inner + i];
        for (let i = 0; i < nb * inner; i++) v[to + na * inner + i] = v[b + s * nb * inner + i];
        for (let i = (na + nb) * inner; i < n * inner; i++) v[to + i] = 0;
      }
    },
    bwd(_v, g, f, o, a, b, outer, na, nb, _c, p) {
      const [n, inner] = [p[3], p[4]];
      for (let s = 0; s < outer; s++) {
        const from = o + s * n * inner;
        if (f & A) for (let i = 0; i < na * inner; i++) g[a + s * na * inner + i] += g[from + i];
        if (f & B) for (let i = 0; i < nb * inner; i++) g[b + s * nb * inner + i] += g[from + na * inner + i];
      }
    },
  },
  gather: {
    fwd(v, o, a, b, outer, n, inner, _c, p) {
      const m = p[3];
      for (let s = 0; s < outer; s++)
        for (let j = 0; j < m; j++) {
          const r = v[b + j];
          const ok = Number.isInteger(r) && r >= 0 && r < n;
          const to = o + (s * m + j) * inner;
          for (let i = 0; i < inner; i++) v[to + i] = ok ? v[a + (s * n + r) * inner + i] : NaN;
        }
    },
    bwd(v, g, f, o, a, b, outer, n, inner, _c, p) {
      if (!(f & A)) return;
      const m = p[3];
      for (let s = 0; s < outer; s++)
        for (let j = 0; j < m; j++) {
          const r = v[b + j];
          if (!(Number.isInteger(r) && r >= 0 && r < n)) continue;
          const from = o + (s * m + j) * inner;
          for (let i = 0; i < inner; i++) g[a + (s * n + r) * inner + i] += g[from + i];
        }
    },
  },
  transpose: {
    fwd(v, o, a, _b, outer, m, n, _c, p) {
      const inner = p[3];
      for (let s = 0; s < outer; s++)
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++)
            for (let r = 0; r < inner; r++)
              v[o + ((s * n + j) * m + i) * inner + r] = v[a + ((s * m + i) * n + j) * inner + r];
    },
    bwd(_v, g, _f, o, a, _b, outer, m, n, _c, p) {
      const inner = p[3];
      for (let s = 0; s < outer; s++)
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++)
            for (let r = 0; r < inner; r++)
              g[a + ((s * m + i) * n + j) * inner + r] += g[o + ((s * n + j) * m + i) * inner + r];
    },
  },
  batch_matmul: {
    // each product exactly as the matmul kernel: a sum over t in order from 0
    fwd(v, o, a, b, batch, m, k, _c, p) {
      const [n, ba, bb] = [p[3], p[4], p[5]];
      batchProducts(batch, m, k, n, ba, bb, (ia, ib, io) => {
        const [A0, B0, O0] = [a + ia, b + ib, o + io];
        for (let i = 0; i < m; i++) {
          if (n === 1) {
            let s = 0;
            for (let t = 0; t < k; t++) s += v[A0 + i * k + t] * v[B0 + t];
            v[O0 + i] = s;
            continue;
          }
          for (let j = 0; j < n; j++) v[O0 + i * n + j] = 0;
          for (let t = 0; t < k; t++) {
            const x = v[A0 + i * k + t];
            for (let j = 0; j < n; j++) v[O0 + i * n + j] += x * v[B0 + t * n + j];
          }
        }
      });
    },
    bwd(v, g, f, o, a, b, batch, m, k, _c, p) {
      const [n, ba, bb] = [p[3], p[4], p[5]];
      batchProducts(batch, m, k, n, ba, bb, (ia, ib, io) => {
        // dA[s] += dC[s] B[s]^T
        if (f & A)
          for (let i = 0; i < m; i++)
            for (let t = 0; t < k; t++) {
              let s = 0;
              for (let j = 0; j < n; j++) s += g[o + io + i * n + j] * v[b + ib + t * n + j];
              g[a + ia + i * k + t] += s;
            }
        // dB[s] += A[s]^T dC[s]
        if (f & B)
          for (let i = 0; i < m; i++)
            for (let t = 0; t < k; t++) {
              const x = v[a + ia + i * k + t];
              for (let j = 0; j < n; j++) g[b + ib + t * n + j] += x * g[o + io + i * n + j];
            }
      });
    },
  },
};
