import { Flag } from '../../ops/opset.js';
import { STRUCTURE_KERNELS } from './structure.js';

/**
 * The reference kernels: every op's forward rule and backward rule side by side, one loop each,
 * over the value arena `v` and the adjoint arena `g` (offsets as in the instruction). This file is
 * the living definition of what every backend computes; clarity before speed.
 * Backward rules accumulate with `+=`; `a` and `b` may be the same offset (x*x), so they are
 * updated one after the other.
 */
export interface Kernel {
  /** p0..p2 are the first params; `p` holds all of them (p[q] = pq), `c` is the third operand */
  fwd(
    v: Float64Array,
    o: number,
    a: number,
    b: number,
    p0: number,
    p1: number,
    p2: number,
    c: number,
    p: Int32Array,
  ): void;
  bwd(
    v: Float64Array,
    g: Float64Array,
    flags: number,
    o: number,
    a: number,
    b: number,
    p0: number,
    p1: number,
    p2: number,
    c: number,
    p: Int32Array,
  ): void;
}

const A = Flag.gradA;
const B = Flag.gradB;

export const KERNELS: Readonly<Record<string, Kernel>> = {
  add: {
    fwd(v, o, a, b, n) {
      for (let i = 0; i < n; i++) v[o + i] = v[a + i] + v[b + i];
    },
    bwd(_v, g, f, o, a, b, n) {
      if (f & A) for (let i = 0; i < n; i++) g[a + i] += g[o + i];
      if (f & B) for (let i = 0; i < n; i++) g[b + i] += g[o + i];
    },
  },
  sub: {
    fwd(v, o, a, b, n) {
      for (let i = 0; i < n; i++) v[o + i] = v[a + i] - v[b + i];
    },
    bwd(_v, g, f, o, a, b, n) {
      if (f & A) for (let i = 0; i < n; i++) g[a + i] += g[o + i];
      if (f & B) for (let i = 0; i < n; i++) g[b + i] -= g[o + i];
    },
  },
  mul: {
    fwd(v, o, a, b, n) {
      for (let i = 0; i < n; i++) v[o + i] = v[a + i] * v[b + i];
    },
    bwd(v, g, f, o, a, b, n) {
      if (f & A) for (let i = 0; i < n; i++) g[a + i] += g[o + i] * v[b + i];
      if (f & B) for (let i = 0; i < n; i++) g[b + i] += g[o + i] * v[a + i];
    },
  },
  div: {
    fwd(v, o, a, b, n) {
      for (let i = 0; i < n; i++) v[o + i] = v[a + i] / v[b + i];
    },
    bwd(v, g, f, o, a, b, n) {
      if (f & A) for (let i = 0; i < n; i++) g[a + i] += g[o + i] / v[b + i];
      if (f & B) for (let i = 0; i < n; i++) g[b + i] -= (g[o + i] * v[o + i]) / v[b + i];
    },
  },
  neg: {
    fwd(v, o, a, _b, n) {
      for (let i = 0; i < n; i++) v[o + i] = -v[a + i];
    },
    bwd(_v, g, _f, o, a, _b, n) {
      for (let i = 0; i < n; i++) g[a + i] -= g[o + i];
    },
  },
  exp: {
    fwd(v, o, a, _b, n) {
      for (let i = 0; i < n; i++) v[o + i] = Math.exp(v[a + i]);
    },
    bwd(v, g, _f, o, a, _b, n) {
      for (let i = 0; i < n; i++) g[a + i] += g[o + i] * v[o + i];
    },
  },
  log: {
    fwd(v, o, a, _b, n) {
      for (let i = 0; i < n; i++) v[o + i] = Math.log(v[a + i]);
    },
    bwd(v, g, _f, o, a, _b, n) {
      for (let i = 0; i < n; i++) g[a + i] += g[o + i] / v[a + i];
    },
  },
  log1p: {
    fwd(v, o, a, _b, n) {
      for (let i = 0; i < n; i++) v[o + i] = Math.log1p(v[a + i]);
    },
    bwd(v, g, _f, o, a, _b, n) {
      for (let i = 0; i < n; i++) g[a + i] += g[o + i] / (1 + v[a + i]);
    },
  },
  sqrt: {
    fwd(v, o, a, _b, n) {
      for (let i = 0; i < n; i++) v[o + i] = Math.sqrt(v[a + i]);
    },
    bwd(v, g, _f, o, a, _b, n) {
      for (let i = 0; i < n; i++) g[a + i] += g[o + i] / (2 * v[o + i]);
    },
  },
  square: {
    fwd(v, o, a, _b, n) {
      for (let i = 0; i < n; i++) v[o + i] = v[a + i] * v[a + i];
    },
    bwd(v, g, _f, o, a, _b, n) {
      for (let i = 0; i < n; i++) g[a + i] += 2 * v[a + i] * g[o + i];
    },
  },
  abs: {
    fwd(v, o, a, _b, n) {
      for (let i = 0; i < n; i++) v[o + i] = Math.abs(v[a + i]);
    },
    bwd(v, g, _f, o, a, _b, n) {
      for (let i = 0; i < n; i++) g[a + i] += g[o + i] * Math.sign(v[a + i]);
    },
  },
  sigmoid: {
    fwd(v, o, a, _b, n) {
      for (let i = 0; i < n; i++) v[o + i] = 1 / (1 + Math.exp(-v[a + i]));
    },
    bwd(v, g, _f, o, a, _b, n) {
      for (let i = 0; i < n; i++) {
        const y = v[o + i];
        g[a + i] += g[o + i] * y * (1 - y);
      }
    },
  },
  tanh: {
    fwd(v, o, a, _b, n) {
      for (let i = 0; i < n; i++) v[o + i] = Math.tanh(v[a + i]);
    },
    bwd(v, g, _f, o, a, _b, n) {
      for (let i = 0; i < n; i++) {
        const y = v[o + i];
        g[a + i] += g[o + i] * (1 - y * y);
      }
    },
  },
  relu: {
    fwd(v, o, a, _b, n) {
      for (let i = 0; i < n; i++) {
        const x = v[a + i];
        v[o + i] = x < 0 ? 0 : x;
      }
    },
    bwd(v, g, _f, o, a, _b, n) {
      for (let i = 0; i < n; i++) if (v[a + i] > 0) g[a + i] += g[o + i];
    },
  },
  softplus: {
    fwd(v, o, a, _b, n) {
      for (let i = 0; i < n; i++) {
        const x = v[a + i];
        v[o + i] = (x > 0 ? x : 0) + Math.log1p(Math.exp(-Math.abs(x)));
      }
    },
    bwd(v, g, _f, o, a, _b, n) {
      for (let i = 0; i < n; i++) g[a + i] += g[o + i] / (1 + Math.exp(-v[a + i]));
    },
  },
  pow: {
    fwd(v, o, a, b, n) {
      const p = v[b];
      for (let i = 0; i < n; i++) v[o + i] = Math.pow(v[a + i], p);
    },
    bwd(v, g, _f, o, a, b, n) {
      const p = v[b];
      if (p !== 0) for (let i = 0; i < n; i++) g[a + i] += g[o + i] * p * Math.pow(v[a + i], p - 1);
    },
  },
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
      for (let s = 0; s < outer; s++) {
        for (let i = 0; i < inner; i++) {
          const at = a + s * n * inner + i;
          let m = -Infinity;
          let nan = false;
          for (let j = 0; j < n; j++) {
            const x = v[at + j * inner];
            if (x > m) m = x;
            else if (x !== x) nan = true;
          }
          let r = m;
          if (nan) r = NaN;
          else if (m !== Infinity && m !== -Infinity) {
            let e = 0;
            for (let j = 0; j < n; j++) e += Math.exp(v[at + j * inner] - m);
            r = m + Math.log(e);
          }
          v[o + s * inner + i] = r;
        }
      }
    },
    bwd(v, g, _f, o, a, _b, outer, n, inner) {
      for (let s = 0; s < outer; s++)
        for (let i = 0; i < inner; i++) {
          const y = v[o + s * inner + i];
          const dy = g[o + s * inner + i];
          for (let j = 0; j < n; j++) {
            const at = a + (s * n + j) * inner + i;
            g[at] += dy * Math.exp(v[at] - y);
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
        const lse = m + Math.log(s);
        let loss = 0;
        for (let j = 0; j < c; j++) {
          v[p + j] /= s;
          loss += v[y + j] * (lse - v[z + j]);
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
          const lse = m + Math.log(s);
          for (let j = 0; j < c; j++) g[y + j] += dy * (lse - v[z + j]);
        }
      }
    },
  },
  ...STRUCTURE_KERNELS,
};

/**
 * argmax (sign 1) or argmin (sign -1) along the middle axis: the first extremal index; the first
 * NaN wins over any number (NumPy and PyTorch treat NaN as the extreme).
 */
function argReduce(v: Float64Array, o: number, a: number, outer: number, n: number, inner: number, sign: 1 | -1): void {
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
