import { concat, constant, define, div, mul, add, sub, pow, stack, type Tensor } from '../../src/index.js';
import { random } from '../harness.js';
import type { Case } from './case.js';

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
/** the multi-index of flat index q in shape s */
function unravel(q: number, s: readonly number[]): number[] {
  const idx = new Array<number>(s.length);
  for (let i = s.length - 1; i >= 0; i--) {
    idx[i] = q % s[i];
    q = Math.floor(q / s[i]);
  }
  return idx;
}
const ravel = (idx: readonly number[], s: readonly number[]) => idx.reduce((q, x, i) => q * s[i] + x, 0);

type Params = Record<string, readonly number[]>;
/** where an output element comes from: a sum of parameter elements [name, flat index], or null for NaN */
type Source = (idx: number[]) => [string, number][] | null;

/**
 * f = sum(W * op(params)) for a copy `op` described by `src`, with W random weights of the
 * output's shape: the oracle value is sum_j W[j] * (sum of its sources), and each source gets
 * W[j] in its gradient (repeated sources accumulate).
 */
function copyCase(
  name: string,
  params: Params,
  out: readonly number[],
  op: (p: Record<string, Tensor>, i: Record<string, Tensor>) => Tensor,
  src: Source,
  extraInputs: { shapes: Params; values: Record<string, ArrayLike<number>> } = { shapes: {}, values: {} },
  seed = 1,
): Case {
  const values = Object.fromEntries(
    Object.entries(params).map(([k, s], q) => [k, random(size(s), seed * 10 + q, -2, 2)]),
  );
  const W = random(size(out), seed * 10 + 9, 0.5, 1.5);
  let value = 0;
  const grad = Object.fromEntries(Object.entries(params).map(([k, s]) => [k, new Float64Array(size(s))]));
  for (let j = 0; j < W.length; j++) {
    const from = src(unravel(j, out));
    if (!from) {
      value = NaN;
      continue;
    }
    for (const [k, q] of from) {
      value += W[j] * values[k][q];
      grad[k][q] += W[j];
    }
  }
  return {
    name,
    f: () =>
      define({ params, inputs: { ...extraInputs.shapes, W: out } }, (p, i) => {
        const y = op(p, i);
        if (y.shape.length !== out.length || y.shape.some((d, q) => d !== out[q]))
          throw new Error(`${name}: shape [${y.shape.join(',')}], expected [${out.join(',')}]`);
        return y.mul(i.W).sum();
      }),
    params: values,
    inputs: { ...extraInputs.values, W },
    oracle: { value, grad },
  };
}

const X3 = [3, 4, 5];
const at =
  (name: string, s: readonly number[]) =>
  (idx: readonly number[]): [string, number][] => [[name, ravel(idx, s)]];

const SLICES: Case[] = [
  copyCase(
    'slice [3,4,5] begin [1,0,2] size [2,-1,3]',
    { x: X3 },
    [2, 4, 3],
    (p) => p.x.slice([1, 0, 2], [2, -1, 3]),
    ([i, j, k]) => at('x', X3)([i + 1, j, k + 2]),
  ),
  copyCase(
    'slice [3,4,5] begin 2 (a number: the first axis, the rest whole)',
    { x: X3 },
    [1, 4, 5],
    (p) => p.x.slice(2),
    ([i, j, k]) => at('x', X3)([i + 2, j, k]),
  ),
  copyCase(
    'slice [3,4,5] the last element of axis 1 (begin = dim - 1)',
    { x: X3 },
    [3, 1, 5],
    (p) => p.x.slice([0, 3], [-1, 1]),
    ([i, j, k]) => at('x', X3)([i, j + 3, k]),
  ),
  copyCase(
    'slice [3,4,5] one element, the last',
    { x: X3 },
    [1, 1, 1],
    (p) => p.x.slice([2, 3, 4], [1, 1, 1]),
    ([i, j, k]) => at('x', X3)([i + 2, j + 3, k + 4]),
  ),
  copyCase(
    'slice [7] the first element',
    { x: [7] },
    [1],
    (p) => p.x.slice(0, 1),
    ([i]) => at('x', [7])([i]),
  ),
  (() => {
    const s = [2, 3, 2, 3, 2, 2, 3];
    const b = [1, 1, 0, 1, 1, 0, 1];
    const z = [1, 2, 1, 1, 1, 1, 2];
    return copyCase(
      'slice of rank 7, every axis cut (two instructions)',
      { x: s },
      z,
      (p) => p.x.slice(b, z),
      (idx) => at('x', s)(idx.map((x, q) => x + b[q])),
    );
  })(),
  copyCase(
    'two overlapping slices of one parameter, added (the gradients accumulate)',
    { x: X3 },
    [2, 4, 5],
    (p) => p.x.slice([0, 0, 0], [2, 4, 5]).add(p.x.slice([1, 0, 0], [2, 4, 5])),
    ([i, j, k]) => [...at('x', X3)([i, j, k]), ...at('x', X3)([i + 1, j, k])],
  ),
];

const CONCATS: Case[] = [
  copyCase(
    'concat [2,3], [2,1], [2,4] along axis 1',
    { a: [2, 3], b: [2, 1], c: [2, 4] },
    [2, 8],
    (p) => concat([p.a, p.b, p.c], 1),
    ([i, j]) => (j < 3 ? at('a', [2, 3])([i, j]) : j < 4 ? at('b', [2, 1])([i, j - 3]) : at('c', [2, 4])([i, j - 4])),
  ),
  copyCase(
    'concat [1,3], [2,3] along axis 0 and [2,2,3] along axis -1',
    { a: [1, 3], b: [2, 3], c: [3, 2, 1] },
    [3, 3],
    (p) => concat([p.a, p.b], 0).add(concat([p.c, p.c.mul(2), p.c.mul(3)], -1).sum(1)),
    ([i, j]) => {
      const own = i < 1 ? at('a', [1, 3])([i, j]) : at('b', [2, 3])([i - 1, j]);
      // column j of concat(c, 2c, 3c) along the last axis, summed over axis 1: (j + 1) (c[i,0] + c[i,1])
      const cs: [string, number][] = [];
      for (let r = 0; r <= j; r++) cs.push(['c', i * 2], ['c', i * 2 + 1]);
      return [...own, ...cs];
    },
  ),
  copyCase(
    'concat of 9 tensors, one parameter repeated (a balanced tree of 8 instructions)',
    { x: [2], y: [3] },
    [21],
    (p) => concat([p.x, p.y, p.x, p.x, p.y, p.x, p.y, p.x, p.x], 0),
    ([q]) => {
      const parts = ['x', 'y', 'x', 'x', 'y', 'x', 'y', 'x', 'x'];
      for (const k of parts) {
        const n = k === 'x' ? 2 : 3;
        if (q < n) return [[k, q]];
        q -= n;
      }
      return null;
    },
  ),
  copyCase(
    'concat of a tensor with itself',
    { x: [2, 3] },
    [2, 6],
    (p) => concat([p.x, p.x], 1),
    ([i, j]) => at('x', [2, 3])([i, j % 3]),
  ),
  copyCase(
    'stack [2,3] x3 along a new axis 0',
    { x: [2, 3], y: [2, 3] },
    [3, 2, 3],
    (p) => stack([p.x, p.y, p.x]),
    ([s, i, j]) => at(s === 1 ? 'y' : 'x', [2, 3])([i, j]),
  ),
  copyCase(
    'stack [2,3] x2 along the last axis (-1)',
    { x: [2, 3], y: [2, 3] },
    [2, 3, 2],
    (p) => stack([p.x, p.y], -1),
    ([i, j, s]) => at(s === 1 ? 'y' : 'x', [2, 3])([i, j]),
  ),
];

const IDS = [0, 4, 4, 1, 0, 2];
const GATHERS: Case[] = [
  copyCase(
    'gather rows of a [5,3] table: repeated indices and both ends (embedding lookup)',
    { t: [5, 3] },
    [6, 3],
    (p, i) => p.t.gather(i.ids),
    ([j, c]) => at('t', [5, 3])([IDS[j], c]),
    { shapes: { ids: [6] }, values: { ids: IDS } },
  ),
  copyCase(
    'gather along axis 1 of [2,5,3] with indices [2,2] given as an Int32Array',
    { t: [2, 5, 3] },
    [2, 2, 2, 3],
    (p, i) => p.t.gather(i.ids, 1),
    ([s, a, b, c]) => at('t', [2, 5, 3])([s, [4, 0, 0, 3][a * 2 + b], c]),
    { shapes: { ids: [2, 2] }, values: { ids: Int32Array.of(4, 0, 0, 3) } },
  ),
  copyCase(
    'gather along axis -1 of [3,4] with indices fixed at trace time',
    { t: [3, 4] },
    [3, 3],
    (p) => p.t.gather([3, 0, 3], -1),
    ([r, j]) => at('t', [3, 4])([r, [3, 0, 3][j]]),
  ),
  copyCase(
    'gather by indices computed from a parameter (x * 0 + ids): no gradient flows into the indices',
    { t: [5, 3], x: [6] },
    [6, 3],
    (p, i) => p.t.gather(p.x.mul(0).add(i.ids)),
    ([j, c]) => at('t', [5, 3])([IDS[j], c]),
    { shapes: { ids: [6] }, values: { ids: IDS } },
  ),
  copyCase(
    'gather one row by a scalar index (shape [])',
    { t: [4, 2] },
    [2],
    (p, i) => p.t.gather(i.k),
    ([c]) => at('t', [4, 2])([3, c]),
    { shapes: { k: [] }, values: { k: [3] } },
  ),
];

/** out axis i = in axis perm[i] */
function permCase(s: readonly number[], perm: readonly number[] | undefined, seed: number): Case {
  const p = perm ?? s.map((_, i) => s.length - 1 - i);
  const out = p.map((q) => s[q]);
  return copyCase(
    `transpose [${s}] ${perm ? `perm [${perm}]` : '(axes reversed)'}`,
    { x: s },
    out,
    (t) => t.x.transpose(perm),
    (idx) => {
      const src = new Array<number>(s.length);
      p.forEach((q, i) => (src[q] = idx[i]));
      return at('x', s)(src);
    },
    undefined,
    seed,
  );
}
const TRANSPOSES: Case[] = [
  permCase([3, 4], undefined, 1),
  permCase([9, 17], undefined, 2),
  permCase([2, 3, 4], undefined, 3),
  permCase([2, 3, 4], [0, 2, 1], 4),
  permCase([2, 3, 4, 5], [0, 2, 3, 1], 5),
  permCase([2, 3, 4, 5], [3, 1, 0, 2], 6),
  permCase([1, 3, 1, 2], [2, 3, 0, 1], 7),
];

/** plain loops: C[s] = A[s or 0] B[s or 0] */
function bmm(
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  batch: number,
  m: number,
  k: number,
  n: number,
  sharedA: boolean,
  sharedB: boolean,
) {
  const C = new Float64Array(batch * m * n);
  for (let s = 0; s < batch; s++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++)
        for (let t = 0; t < k; t++)
          C[(s * m + i) * n + j] += A[(sharedA ? 0 : s * m * k) + i * k + t] * B[(sharedB ? 0 : s * k * n) + t * n + j];
  return C;
}
/** f = sum(W * (A matmul B)) for the shapes given; oracle by plain loops over the batch */
function bmmCase(
  sa: number[],
  sb: number[],
  out: number[],
  batch: number,
  m: number,
  k: number,
  n: number,
  seed: number,
): Case {
  const A = random(size(sa), seed, -1, 1),
    B = random(size(sb), seed + 1, -1, 1),
    W = random(size(out), seed + 2, 0.5, 1.5);
  const sharedA = size(sa) === m * k,
    sharedB = size(sb) === k * n;
  const C = bmm(A, B, batch, m, k, n, sharedA, sharedB);
  const value = C.reduce((s, c, q) => s + c * W[q], 0);
  // dA = W B^T, dB = A^T W per product, summed into a shared operand
  const gA = new Float64Array(A.length),
    gB = new Float64Array(B.length);
  for (let s = 0; s < batch; s++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++)
        for (let t = 0; t < k; t++) {
          const w = W[(s * m + i) * n + j];
          gA[(sharedA ? 0 : s * m * k) + i * k + t] += w * B[(sharedB ? 0 : s * k * n) + t * n + j];
          gB[(sharedB ? 0 : s * k * n) + t * n + j] += w * A[(sharedA ? 0 : s * m * k) + i * k + t];
        }
  return {
    name: `matmul [${sa}] x [${sb}] -> [${out}]`,
    f: () => define({ params: { A: sa, B: sb }, inputs: { W: out } }, (p, i) => p.A.matmul(p.B).mul(i.W).sum()),
    params: { A, B },
    inputs: { W },
    oracle: { value, grad: { A: gA, B: gB }, tol: 1e-11 },
  };
}
const BATCHED: Case[] = [
  bmmCase([2, 3, 4], [2, 4, 5], [2, 3, 5], 2, 3, 4, 5, 200),
  bmmCase([3, 4], [2, 4, 5], [2, 3, 5], 2, 3, 4, 5, 210),
  bmmCase([2, 3, 4], [4, 5], [2, 3, 5], 1, 6, 4, 5, 220),
  bmmCase([3, 3, 4], [3, 4, 1], [3, 3, 1], 3, 3, 4, 1, 230),
  bmmCase([4], [2, 4, 3], [2, 3], 2, 1, 4, 3, 240),
  bmmCase([2, 3, 4], [4], [2, 3], 1, 6, 4, 1, 250),
  bmmCase([2, 2, 3, 4], [2, 2, 4, 5], [2, 2, 3, 5], 4, 3, 4, 5, 260),
  bmmCase([3, 9, 17], [3, 17, 10], [3, 9, 10], 3, 9, 17, 10, 270),
  bmmCase([7, 5], [4, 5, 9], [4, 7, 9], 4, 7, 5, 9, 280),
];

const C6 = [-0, 0, 5e-324, -1.5, 1e300, 2];
const X6 = random(6, 300, -1, 1);
const CONSTANTS: Case[] = [
  {
    name: 'a tensor constant with -0, a subnormal and 1e300, times a parameter',
    f: () => define({ params: { x: [2, 3] } }, (p) => constant(C6, [2, 3]).mul(p.x).sum()),
    params: { x: X6 },
    oracle: { value: C6.reduce((s, c, q) => s + c * X6[q], 0), grad: { x: C6 } },
  },
  {
    name: 'numbers on either side: sub(2, x), div(1, x), add(3, x), mul(2, x), pow(x, 3), pow(2, x)',
    f: () =>
      define({ params: { x: [4] } }, (p) =>
        add(sub(2, p.x).mul(div(1, p.x)), add(3, mul(2, p.x)).mul(pow(p.x, 3)))
          .add(sub(p.x, 1))
          .add(pow(2, p.x))
          .sum(),
      ),
    params: { x: [0.5, -1.25, 2, 3] },
    oracle: (() => {
      const x = [0.5, -1.25, 2, 3];
      const f = (v: number) => (2 - v) / v + (3 + 2 * v) * v ** 3 + v - 1 + 2 ** v;
      const df = (v: number) => -2 / (v * v) + 2 * v ** 3 + 3 * (3 + 2 * v) * v * v + 1 + Math.LN2 * 2 ** v;
      return { value: x.reduce((s, v) => s + f(v), 0), grad: { x: x.map(df) } };
    })(),
  },
  {
    name: 'a constant [3] broadcast against a parameter [2,3], and a constant matrix in a product',
    f: () =>
      define({ params: { x: [2, 3] } }, (p) =>
        sub(constant([1, 2, 3]), p.x)
          .square()
          .sum()
          .add(constant([1, -1, 2, 0.5, 0, 3], [3, 2]).matmul(p.x).sum()),
      ),
    params: { x: X6 },
    oracle: (() => {
      const c = [1, 2, 3],
        M = [1, -1, 2, 0.5, 0, 3];
      let value = 0;
      const grad = new Float64Array(6);
      for (let q = 0; q < 6; q++) {
        const d = c[q % 3] - X6[q];
        value += d * d;
        grad[q] += -2 * d;
      }
      // sum(M x) = sum_{i,t,j} M[i,t] x[t,j]: each x[t,j] weighted by the column sum of M
      for (let t = 0; t < 2; t++)
        for (let j = 0; j < 3; j++) {
          const w = M[t] + M[2 + t] + M[4 + t];
          value += w * X6[t * 3 + j];
          grad[t * 3 + j] += w;
        }
      return { value, grad: { x: grad }, tol: 1e-12 };
    })(),
  },
];

export const STRUCTURE: Case[] = [...SLICES, ...CONCATS, ...GATHERS, ...TRANSPOSES, ...BATCHED, ...CONSTANTS];
