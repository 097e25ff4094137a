import { define } from '../../src/index.js';
import { random } from '../harness.js';
import type { Case } from './case.js';

/** Plain triple loop: the oracle for every layout. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) for (let t = 0; t < k; t++) c[i * n + j] += a[i * k + t] * b[t * n + j];
  return c;
}
const transpose = (a: ArrayLike<number>, m: number, n: number) =>
  Float64Array.from({ length: m * n }, (_, q) => a[(q % m) * n + Math.floor(q / m)]);
const dot = (x: ArrayLike<number>, y: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
};

/** f(A, B) = sum(W * (A B)): dA = W B^T, dB = A^T W. Sizes cross the SIMD widths and tile edges. */
function product(m: number, k: number, n: number, seed: number): Case {
  const [A, B, W] = [random(m * k, seed), random(k * n, seed + 1), random(m * n, seed + 2)];
  return {
    name: `matmul [${m},${k}] x [${k},${n}], both parameters`,
    f: () =>
      define({ params: { A: [m, k], B: [k, n] }, inputs: { W: [m, n] } }, (p, i) => p.A.matmul(p.B).mul(i.W).sum()),
    params: { A, B },
    inputs: { W },
    oracle: {
      value: dot(matmul(A, B, m, k, n), W),
      grad: { A: matmul(W, transpose(B, k, n), m, n, k), B: matmul(transpose(A, m, k), W, k, m, n) },
      tol: 1e-11,
    },
  };
}

const SIZES: readonly [number, number, number][] = [
  [1, 1, 1],
  [2, 3, 4],
  [3, 5, 2],
  [7, 9, 11],
  [16, 16, 16],
  [17, 33, 19],
  [64, 40, 10],
  [5, 70, 33],
  [33, 8, 1],
  [1, 9, 65],
];

export const MATMUL: Case[] = [
  ...SIZES.map(([m, k, n], q) => product(m, k, n, 100 + q)),
  {
    name: 'matmul matrix x vector [6,5] x [5]',
    f: () => define({ params: { A: [6, 5], x: [5] }, inputs: { w: [6] } }, (p, i) => p.A.matmul(p.x).mul(i.w).sum()),
    params: { A: random(30, 1), x: random(5, 2) },
    inputs: { w: random(6, 3) },
    oracle: { value: dot(matmul(random(30, 1), random(5, 2), 6, 5, 1), random(6, 3)) },
  },
  {
    name: 'matmul vector x matrix [5] x [5,4]',
    f: () => define({ params: { x: [5], B: [5, 4] }, inputs: { w: [4] } }, (p, i) => p.x.matmul(p.B).mul(i.w).sum()),
    params: { x: random(5, 4), B: random(20, 5) },
    inputs: { w: random(4, 6) },
    oracle: { value: dot(matmul(random(5, 4), random(20, 5), 1, 5, 4), random(4, 6)) },
  },
  {
    name: 'matmul vector x vector (dot) [9] x [9]',
    f: () => define({ params: { x: [9], y: [9] } }, (p) => p.x.matmul(p.y)),
    params: { x: random(9, 7), y: random(9, 8) },
    oracle: { value: dot(random(9, 7), random(9, 8)), grad: { x: random(9, 8), y: random(9, 7) } },
  },
  {
    name: 'matmul of a matrix with itself (A A, shared operand)',
    f: () => define({ params: { A: [6, 6] } }, (p) => p.A.matmul(p.A).sum()),
    params: { A: random(36, 9) },
  },
  {
    name: 'matmul with an input on the left (X theta, only the right operand has a gradient)',
    f: () => define({ params: { theta: [12] }, inputs: { X: [30, 12] } }, (p, i) => i.X.matmul(p.theta).square().sum()),
    params: { theta: random(12, 10) },
    inputs: { X: random(360, 11) },
  },
  {
    name: 'matmul with an input on the right (only the left operand has a gradient)',
    f: () => define({ params: { A: [4, 12] }, inputs: { X: [12, 30] } }, (p, i) => p.A.matmul(i.X).tanh().sum()),
    params: { A: random(48, 12) },
    inputs: { X: random(360, 13) },
  },
  // found by the fuzz test: products that underflow sum to +0 on js, and were -0 on native's fused
  // forward tiles (fma keeps the sign of the tiny product), so 1 / (A B) was -Inf there
  ...(
    [
      [2, 2, 2],
      [9, 3, 17],
    ] as const
  ).map(([m, k, n]): Case => ({
    name: `matmul [${m},${k}] x [${k},${n}] whose products underflow: +0, so 1 / (A B) is +Inf everywhere`,
    f: () => define({ params: { A: [m, k], B: [k, n], c: [] } }, (p) => p.c.div(p.A.matmul(p.B)).sum()),
    params: {
      A: Float64Array.from({ length: m * k }, (_, q) => (q % 2 ? -5e-324 : 1e-300)),
      B: new Float64Array(k * n).fill(1e-300),
      c: 1,
    },
    oracle: { value: Infinity, fdTol: 0 },
  })),
  // found by the fuzz test: where a product overflows, a fused multiply-add is not the
  // reference's multiply then add (native's fused forward tiles now run only where none can)
  {
    name: 'matmul whose product overflows after an opposite infinity: Infinity + -Infinity is NaN',
    f: () => define({ params: { A: [2, 2] } }, (p) => p.A.matmul(p.A).sum()),
    params: { A: [1.0000000000000018, 1.7976931348623127e308, 0, -1.5458150092069033e172] },
    oracle: { value: NaN, fdTol: 0 },
  },
  {
    name: 'matmul whose second product overflows: -MAX + Infinity is Infinity (a fused chain gives MAX/2)',
    f: () => define({ params: { A: [1, 2], B: [2, 2] } }, (p) => p.A.matmul(p.B).sum()),
    params: { A: [1, 1.5], B: [-Number.MAX_VALUE, 0, Number.MAX_VALUE, 0] },
    oracle: { value: Infinity, fdTol: 0 },
  },
  {
    name: 'transpose [3,5] weighted',
    f: () => define({ params: { x: [3, 5] }, inputs: { w: [5, 3] } }, (p, i) => p.x.transpose().mul(i.w).sum()),
    params: { x: random(15, 14) },
    inputs: { w: random(15, 15) },
    oracle: {
      value: dot(transpose(random(15, 14), 3, 5), random(15, 15)),
      grad: { x: transpose(random(15, 15), 5, 3) },
    },
  },
  {
    name: 'transpose feeding matmul (A^T B)',
    f: () => define({ params: { A: [7, 4], B: [7, 3] } }, (p) => p.A.transpose().matmul(p.B).square().sum()),
    params: { A: random(28, 16), B: random(21, 17) },
  },
];
