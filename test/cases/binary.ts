import { define, where, type Tensor } from '../../src/index.js';
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

/**
 * maximum, minimum, the comparisons and pow with a tensor exponent: each with an oracle of value
 * and gradient (ties included), every broadcasting pattern against js, and IEEE edge pairs.
 */
interface Spec2 {
  readonly op: string;
  readonly apply: (a: Tensor, b: Tensor | number) => Tensor;
  readonly value: (a: number, b: number) => number;
  readonly da: (a: number, b: number) => number;
  readonly db: (a: number, b: number) => number;
  /** operands of the weighted case (a tie at index 2 for the selections) */
  readonly a: Float64Array;
  readonly b: Float64Array;
}
const nan2 = (a: number, b: number) => Number.isNaN(a) || Number.isNaN(b);
// written without the library's trees: tie -> b's value, half the gradient to each side
const larger = (a: number, b: number) => (nan2(a, b) ? NaN : a > b ? a : a < b ? b : b);
const smaller = (a: number, b: number) => (nan2(a, b) ? NaN : a < b ? a : a > b ? b : b);
const share = (wins: boolean, tie: boolean) => (wins ? 1 : tie ? 0.5 : 0);
const tied = (n: number, seed: number) => {
  const [a, b] = [positive(n, seed), positive(n, seed + 1)];
  b[2] = a[2];
  return [a, b] as const;
};
const [TA, TB] = tied(6, 51);
const SPECS2: readonly Spec2[] = [
  {
    op: 'maximum',
    apply: (a, b) => a.maximum(b),
    value: larger,
    da: (a, b) => share(a > b, a === b),
    db: (a, b) => share(b > a, a === b),
    a: TA,
    b: TB,
  },
  {
    op: 'minimum',
    apply: (a, b) => a.minimum(b),
    value: smaller,
    da: (a, b) => share(a < b, a === b),
    db: (a, b) => share(b < a, a === b),
    a: TA,
    b: TB,
  },
  { op: 'greater', apply: (a, b) => a.greater(b), value: (a, b) => +(a > b), da: () => 0, db: () => 0, a: TA, b: TB },
  { op: 'less', apply: (a, b) => a.less(b), value: (a, b) => +(a < b), da: () => 0, db: () => 0, a: TA, b: TB },
  { op: 'equal', apply: (a, b) => a.equal(b), value: (a, b) => +(a === b), da: () => 0, db: () => 0, a: TA, b: TB },
  {
    op: 'pow',
    apply: (a, b) => a.pow(b),
    value: Math.pow,
    da: (a, b) => (b === 0 ? 0 : b * Math.pow(a, b - 1)),
    db: (a, b) => (a === 0 && b >= 0 ? 0 : Math.pow(a, b) * Math.log(a)),
    a: random(6, 53, 0.2, 3),
    b: random(6, 54, -2, 3),
  },
];
const PAIRS: readonly [number, number][] = [
  [2, 2],
  [-0, 0],
  [0, -0],
  [1, NaN],
  [NaN, 1],
  [NaN, NaN],
  [Infinity, 1],
  [-Infinity, Infinity],
  [1e300, -1e300],
  [0, 2],
  [0, 0],
  [2, 0],
  [0, -1],
  [-8, 1 / 3],
  [-2, 3],
];
export const SELECTION: Case[] = SPECS2.flatMap((s): Case[] => {
  const w = random(6, 55);
  const positiveBase = s.op === 'pow';
  return [
    {
      name: `${s.op}: weighted, both parameters, with oracle`,
      f: () => define({ params: { a: [6], b: [6] }, inputs: { w: [6] } }, (p, i) => s.apply(p.a, p.b).mul(i.w).sum()),
      params: { a: s.a, b: s.b },
      inputs: { w },
      oracle: {
        value: Array.from(s.a).reduce((t, ai, i) => t + w[i] * s.value(ai, s.b[i]), 0),
        grad: {
          a: Array.from(s.a, (ai, i) => w[i] * s.da(ai, s.b[i])),
          b: Array.from(s.a, (ai, i) => w[i] * s.db(ai, s.b[i])),
        },
        // central differences straddle the tie at index 2: a kink or a jump there
        fdTol: s.op === 'pow' ? undefined : 0,
      },
    },
    ...SHAPES.map(([sa, sb], k): Case => ({
      name: `${s.op}: [${sa}] ${s.op} [${sb}], both parameters`,
      f: () => define({ params: { a: sa, b: sb } }, (p) => s.apply(p.a, p.b).sum()),
      params: {
        a: positiveBase ? random(size(sa), 61 + k, 0.2, 3) : positive(size(sa), 61 + k),
        b: positive(size(sb), 71 + k),
      },
    })),
    {
      name: `${s.op}: the same tensor on both sides (a tie everywhere)`,
      f: () => define({ params: { x: [7] } }, (p) => s.apply(p.x, p.x).sum()),
      params: { x: positiveBase ? random(7, 81, 0.2, 3) : positive(7, 81) },
      oracle: { fdTol: s.op === 'pow' ? undefined : 0 },
    },
    {
      name: `${s.op}: a number on the right`,
      f: () => define({ params: { x: [7] } }, (p) => s.apply(p.x, 1.5).sum()),
      params: { x: positiveBase ? random(7, 82, 0.2, 3) : positive(7, 82) },
    },
    ...PAIRS.map(([a, b]): Case => ({
      name: `${s.op}: edge ${Object.is(a, -0) ? '-0' : a}, ${Object.is(b, -0) ? '-0' : b}`,
      f: () => define({ params: { a: [], b: [] } }, (p) => s.apply(p.a, p.b)),
      params: { a, b },
      oracle: { value: s.value(a, b), grad: { a: [s.da(a, b)], b: [s.db(a, b)] }, fdTol: 0 },
    })),
  ];
});

/**
 * where(cond, x, y): cond nonzero (NaN included) picks x. The branch not taken holds NaN and Inf
 * (params and computed), and none of it reaches the value or where's gradient: the branch not
 * taken gets an adjoint of exactly 0. (An op upstream of it whose own rule turns 0 into NaN,
 * exp's 0 * exp(NaN) say, still does, as in PyTorch and JAX: mask its input instead.)
 */
const COND = Float64Array.of(1, 0, -2, NaN, 0, 3);
const picks = (i: number) => COND[i] !== 0;
export const WHERE: Case[] = [
  (() => {
    const [x, y, w] = [random(6, 91), random(6, 92), random(6, 93)];
    return {
      name: 'where: weighted, cond an input (NaN counts as nonzero), with oracle',
      f: () =>
        define({ params: { x: [6], y: [6] }, inputs: { c: [6], w: [6] } }, (p, i) =>
          where(i.c, p.x, p.y).mul(i.w).sum(),
        ),
      params: { x, y },
      inputs: { c: COND, w },
      oracle: {
        value: w.reduce((t, wi, i) => t + wi * (picks(i) ? x[i] : y[i]), 0),
        grad: { x: w.map((wi, i) => (picks(i) ? wi : 0)), y: w.map((wi, i) => (picks(i) ? 0 : wi)) },
      },
    };
  })(),
  (() => {
    const x = Float64Array.of(0.5, Infinity, 2, -1, NaN, 4);
    const y = Float64Array.of(NaN, 3, -Infinity, 1, 7, Infinity);
    const w = random(6, 94);
    return {
      name: 'where: NaN and Inf in the branch not taken reach neither value nor gradient',
      f: () =>
        define({ params: { x: [6], y: [6] }, inputs: { c: [6], w: [6] } }, (p, i) =>
          where(i.c, p.x.mul(2), p.y.mul(3)).mul(i.w).sum(),
        ),
      params: { x, y },
      inputs: { c: Float64Array.of(1, 0, 1, 1, 0, 1), w },
      oracle: {
        value: w.reduce((t, wi, i) => t + wi * ([1, 0, 1, 1, 0, 1][i] ? 2 * x[i] : 3 * y[i]), 0),
        grad: {
          x: w.map((wi, i) => ([1, 0, 1, 1, 0, 1][i] ? 2 * wi : 0)),
          y: w.map((wi, i) => ([1, 0, 1, 1, 0, 1][i] ? 0 : 3 * wi)),
        },
        fdTol: 0,
      },
    };
  })(),
  (() => {
    const x = Float64Array.of(2, -1, 0.5, -3, 4, -0.25);
    return {
      name: 'where: log of the negatives in the branch not taken (a computed NaN), cond from a comparison',
      f: () => define({ params: { x: [6] } }, (p) => where(p.x.greater(0), p.x.log(), p.x.neg()).sum()),
      params: { x },
      oracle: {
        value: x.reduce((t, v) => t + (v > 0 ? Math.log(v) : -v), 0),
        grad: { x: x.map((v) => (v > 0 ? 1 / v : -1)) },
      },
    };
  })(),
  {
    name: 'where: numbers for both branches, cond broadcast against a row',
    f: () => define({ params: { x: [3, 4] } }, (p) => where(p.x.less(0), p.x.square(), 0.5).sum()),
    params: { x: random(12, 95) },
  },
];
