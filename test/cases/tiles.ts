/**
 * matmul shapes that cross the blocking of optimised kernels (the wasm gemm packs blocks of 64
 * rows of A and panels of 4 columns of B): an inner dimension longer than one
 * cache block (the wasm gemm cuts it at 256 and carries partial sums across blocks, forward and in
 * A^T dC; native cuts both backward products' at 256), and matrix-vector products whose rows do not fill the 8-row blocks, with an odd inner
 * dimension; and a narrow output layer (n = 10), whose A^T dC the native kernels compute transposed,
 * with the lanes along k, and whose dC B^T they compute from a packed B^T.
 */
import { define } from '../../src/index.js';
import type { Case } from './case.js';
import { random } from '../harness.js';

const weighted = (name: string, m: number, k: number, n: number, seed: number): Case => ({
  name,
  f: () =>
    define({ params: { A: [m, k], B: [k, n] }, inputs: { W: [m, n] } }, (p, i) => p.A.matmul(p.B).mul(i.W).sum()),
  params: { A: random(m * k, seed), B: random(k * n, seed + 1) },
  inputs: { W: random(m * n, seed + 2) },
});

export const TILES: Case[] = [
  weighted('inner dimension 517 (three K blocks): [2,517] x [517,3]', 2, 517, 3, 1),
  weighted('A^T dC over 300 rows (two blocks of 256 in native): [300,3] x [3,6]', 300, 3, 6, 2),
  weighted('dC B^T over 300 columns (two blocks of 256 in native): [3,5] x [5,300]', 3, 5, 300, 9),
  weighted('narrow output layer, k not a multiple of the lanes: [21,61] x [61,10]', 21, 61, 10, 8),
  // wasm packs blocks of 64 rows of A and panels of 4 columns of B. Forward: a block of rows with
  // 2 left over, two K blocks, a column left over. A^T dC: 260 rows (five blocks), 66 steps.
  {
    name: 'packed blocks: input [66,260] x parameter [260,5]',
    f: () =>
      define({ params: { B: [260, 5] }, inputs: { A: [66, 260], W: [66, 5] } }, (p, i) =>
        i.A.matmul(p.B).mul(i.W).sum(),
      ),
    params: { B: random(1300, 11) },
    inputs: { A: random(66 * 260, 12), W: random(330, 13) },
  },
  {
    name: 'matrix x vector, 37 rows (4 blocks of 8 and 5 more), odd inner dimension 11',
    f: () =>
      define({ params: { A: [37, 11], x: [11] }, inputs: { w: [37] } }, (p, i) => p.A.matmul(p.x).mul(i.w).sum()),
    params: { A: random(407, 3), x: random(11, 4) },
    inputs: { w: random(37, 5) },
  },
  {
    name: 'input matrix x parameter vector, 300 x 257 (the W2 layout, odd inner dimension)',
    f: () =>
      define({ params: { theta: [257] }, inputs: { X: [300, 257] } }, (p, i) => i.X.matmul(p.theta).softplus().sum()),
    params: { theta: random(257, 6, -0.1, 0.1) },
    inputs: { X: random(300 * 257, 7) },
  },
];
