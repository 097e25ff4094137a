import { define, type Tensor } from '../../src/index.js';
import { random } from '../harness.js';
import type { Case } from './case.js';

type Binary = (a: Tensor, b: Tensor | number) => Tensor;
const OPS: readonly { op: string; apply: Binary; value: (a: number, b: number) => number }[] = [
  { op: 'add', apply: (a, b) => a.add(b), value: (a, b) => a + b },
  { op: 'sub', apply: (a, b) => a.sub(b), value: (a, b) => a - b },
  { op: 'mul', apply: (a, b) => a.mul(b), value: (a, b) => a * b },
  { op: 'div', apply: (a, b) => a.div(b), value: (a, b) => a / b },
];

/** Operand shapes: same shape, and each broadcasting pattern (scalar, bias row, column, both sides). */
const SHAPES: readonly [number[], number[]][] = [
  [
    [3, 4],
    [3, 4],
  ],
  [[], [3, 4]],
  [[3, 4], []],
  [[4], [3, 4]],
  [[3, 4], [4]],
  [
    [3, 1],
    [3, 4],
  ],
  [
    [2, 1, 4],
    [3, 1],
  ],
  [[5], [5]],
];

const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
const positive = (n: number, seed: number) => random(n, seed, 0.5, 2).map((v, i) => (i % 2 ? v : -v));

export const BINARY: Case[] = OPS.flatMap(({ op, apply, value }): Case[] => [
  ...SHAPES.map(([sa, sb], k): Case => ({
    name: `${op}: [${sa}] ${op} [${sb}], both parameters`,
    f: () => define({ params: { a: sa, b: sb } }, (p) => apply(p.a, p.b).sum()),
    params: { a: positive(size(sa), 11 + k), b: positive(size(sb), 23 + k) },
  })),
  {
    name: `${op}: parameter ${op} input, weighted, with oracle`,
    f: () => define({ params: { a: [6] }, inputs: { b: [6], w: [6] } }, (p, i) => apply(p.a, i.b).mul(i.w).sum()),
    params: { a: positive(6, 3) },
    inputs: { b: positive(6, 4), w: random(6, 5) },
    oracle: (() => {
      const [a, b, w] = [positive(6, 3), positive(6, 4), random(6, 5)];
      return {
        value: a.reduce((s, ai, i) => s + w[i] * value(ai, b[i]), 0),
        // exact derivatives of the four ops, written out
        grad: {
          a: a.map((ai, i) => w[i] * ({ add: 1, sub: 1, mul: b[i], div: 1 / b[i] } as Record<string, number>)[op]),
        },
      };
    })(),
  },
  {
    name: `${op}: the same tensor on both sides (x ${op} x)`,
    f: () => define({ params: { x: [7] } }, (p) => apply(p.x, p.x).sum()),
    params: { x: positive(7, 9) },
  },
  {
    name: `${op}: a number on each side`,
    f: () => define({ params: { x: [7] } }, (p) => apply(apply(p.x, 2.5), -1.5).sum()),
    params: { x: positive(7, 10) },
  },
  {
    name: `${op}: input on the left, parameter on the right, rows broadcast`,
    f: () => define({ params: { b: [4] }, inputs: { a: [3, 4] } }, (p, i) => apply(i.a, p.b).square().sum()),
    params: { b: positive(4, 12) },
    inputs: { a: positive(12, 13) },
  },
]);

/** Division by zero and IEEE specials go through as IEEE says, gradients included (one scalar case each). */
const SPECIALS: readonly [number, number][] = [
  [1, 0],
  [-1, 0],
  [0, 0],
  [-0, 3],
  [Infinity, 2],
  [NaN, 1],
  [1e300, 1e-300],
  [0, Infinity],
  [Infinity, Infinity],
];
export const BINARY_EDGES: Case[] = OPS.flatMap(({ op, apply, value }) =>
  SPECIALS.map(([a, b]): Case => ({
    name: `${op}: ${Object.is(a, -0) ? '-0' : a} ${op} ${b}`,
    f: () => define({ params: { a: [], b: [] } }, (p) => apply(p.a, p.b)),
    params: { a, b },
    oracle: { value: value(a, b), fdTol: 0 },
  })),
);

/**
 * Adjoints that add and sub pass through unchanged (native reads them in place rather than adding
 * them into a zeroed copy, where the operand has no other reader): chains of adds, a temporary
 * read twice, the subtrahend (negated, not passed), a bias add, and an add that is the result.
 */
export const PASS_THROUGH: Case[] = [
  {
    name: 'pass-through: a chain of adds of temporaries',
    f: () =>
      define({ params: { x: [6], y: [6] } }, (p) =>
        p.x.exp().add(p.y.tanh()).add(p.x.square()).add(p.y.exp()).tanh().sum(),
      ),
    params: { x: random(6, 31), y: random(6, 32) },
  },
  {
    name: 'pass-through: a temporary read by the add and by a mul',
    f: () =>
      define({ params: { x: [6], y: [6] } }, (p) => {
        const t = p.x.exp();
        return t.add(p.y.tanh()).mul(t).sum();
      }),
    params: { x: random(6, 33), y: random(6, 34) },
  },
  {
    name: 'pass-through: sub passes the minuend, negates the subtrahend',
    f: () => define({ params: { x: [6], y: [6] } }, (p) => p.x.exp().sub(p.y.tanh()).square().sum()),
    params: { x: random(6, 35), y: random(6, 36) },
  },
  {
    name: 'pass-through: a bias add between two layers',
    f: () =>
      define({ params: { W: [5, 4], b: [4], V: [4, 3] }, inputs: { X: [7, 5] } }, (p, i) =>
        i.X.matmul(p.W).add(p.b).tanh().matmul(p.V).square().sum(),
      ),
    params: { W: random(20, 37), b: random(4, 38), V: random(12, 39) },
    inputs: { X: random(35, 40) },
  },
  {
    name: 'pass-through: the result is an add of two sums',
    f: () => define({ params: { x: [6], y: [6] } }, (p) => p.x.exp().sum().add(p.y.square().sum())),
    params: { x: random(6, 41), y: random(6, 42) },
  },
];
