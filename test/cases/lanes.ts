/**
 * IEEE specials and the inputs where the vectorised math of a backend must leave its fast path
 * (exp overflow and subnormal results, log1p near its branch points, tanh's cutoffs, a softmax row
 * whose exps underflow), placed in every position of vectors of odd and even length, mixed with
 * ordinary values. The conformance checks (values and every gradient method against the js
 * reference) then see each lane, not only the scalar edge cases of elementwise.ts.
 */
import { define, softmaxCrossEntropy, type Tensor } from '../../src/index.js';
import { random } from '../harness.js';
import type { Case } from './case.js';

interface LaneSpec {
  readonly op: string;
  readonly apply: (x: Tensor) => Tensor;
  readonly ref: (x: number) => number;
  /** finite results, many on the rare paths */
  readonly finite: readonly number[];
  /** NaN, infinities and overflow */
  readonly special: readonly number[];
}

const sig = (x: number) => 1 / (1 + Math.exp(-x));
const IEEE = [NaN, Infinity, -Infinity, 1e300, -1e300];
const SPECS: readonly LaneSpec[] = [
  {
    op: 'exp',
    apply: (x) => x.exp(),
    ref: Math.exp,
    finite: [
      -745.2, -744.9, -720, -708.5, -708.1, -708.04, -707.9, 709.43, 709.45, 709.7, 1, -1, 0, -0, 2e-9, -3e-9, 1e-300,
      0.3466, 0.3465, 1.0397, -1.0397, 5, -5,
    ],
    special: [...IEEE, 709.79, 710, 800, -746, -800],
  },
  {
    op: 'sigmoid',
    apply: (x) => x.sigmoid(),
    ref: sig,
    finite: [
      745.2, 744.9, 720, 708.5, 708.1, 708.04, 707.9, -709.43, -709.45, -709.7, -1, 1, 0, -0, 2e-9, -36, 36, 40, -40,
    ],
    special: [...IEEE, -710, -800, 800],
  },
  {
    op: 'softplus',
    apply: (x) => x.softplus(),
    ref: (x) => (x > 0 ? x : 0) + Math.log1p(Math.exp(-Math.abs(x))),
    finite: [
      0, -0, 1e-20, -1e-20, 2e-9, 708.1, -708.1, 745.2, -745.2, 800, -800, 36, -36, 40, 1e-5, 0.9, -0.9, 20, -20, 37.5,
      1e-300,
    ],
    special: IEEE,
  },
  {
    op: 'log1p',
    apply: (x) => x.log1p(),
    ref: Math.log1p,
    finite: [
      -0.9999999,
      -0.5,
      -0.2928932,
      -0.2929,
      0.4142135,
      0.4143,
      1,
      3,
      7,
      2 ** 53,
      2 ** 53 - 2,
      1e-30,
      -1e-30,
      2e-9,
      1e300,
      2 ** -54,
      1 + 2 ** -40,
      0.5,
      1e-300,
    ],
    special: [...IEEE, -1, -2],
  },
  {
    op: 'tanh',
    apply: (x) => x.tanh(),
    ref: Math.tanh,
    finite: [
      0,
      -0,
      1e-10,
      2 ** -28,
      -(2 ** -28),
      0.99,
      1,
      -1,
      1.0001,
      21.9,
      22,
      22.1,
      40,
      -40,
      1e300,
      -0.5,
      0.5,
      19.5,
      -19.5,
    ],
    special: IEEE,
  },
  {
    op: 'log',
    apply: (x) => x.log(),
    ref: Math.log,
    finite: [5e-324, 1e-310, 1, 1 + 2 ** -30, 2, 0.5, 1e300],
    special: [...IEEE, 0, -0, -1],
  },
];

/** the values spread over n positions, the gaps filled with ordinary values from [-2, 2] */
function spread(values: readonly number[], n: number, seed: number): Float64Array {
  const x = random(n, seed, -2, 2);
  values.forEach((v, k) => (x[(k * 7 + seed) % n] = v));
  return x;
}

export const LANES: Case[] = SPECS.flatMap((s): Case[] =>
  [s.finite.length + 6, s.finite.length + 11].flatMap((n): Case[] => {
    const x = spread(s.finite, n, n);
    // weights that make every term O(1), so no lane hides behind a larger one
    const w = Float64Array.from(x, (xi) => {
      const y = Math.abs(s.ref(xi));
      return Number.isFinite(y) && y > 1e-300 ? 1 / y : 1;
    });
    const xs = spread(s.special, n, n + 3);
    const f = () => define({ params: { x: [n] }, inputs: { w: [n] } }, (p, i) => s.apply(p.x).mul(i.w).sum());
    return [
      {
        name: `${s.op} over ${n} lanes, rare finite values in every position`,
        f,
        params: { x },
        inputs: { w },
        oracle: { fdTol: 0 },
      },
      {
        name: `${s.op} over ${n} lanes with NaN and infinities`,
        f,
        params: { x: xs },
        inputs: { w: new Float64Array(n).fill(1) },
        oracle: { fdTol: 0 },
      },
    ];
  }),
);

// logsumexp along rows that hold -Inf, +Inf, NaN, huge spreads and exps that underflow
const ROWS = [
  [0, -800, -1000, 5, 3, -708.5, 1, 2],
  [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
  [Infinity, 1, 2, 3, 4, 5, 6, 7],
  [NaN, 1, 2, 3, 4, 5, 6, 7],
  [1e300, -1e300, 0, 1, 2, 3, 4, 5],
  [-745, -746, -740, -709, -708, -707, 0, -1e5],
  [3, 3, 3, 3, 3, 3, 3, 3],
];
for (const c of [7, 8]) {
  const z = Float64Array.from(ROWS.flatMap((r) => r.slice(0, c)));
  const finite = Float64Array.from([ROWS[0], ROWS[4], ROWS[5], ROWS[6]].flatMap((r) => r.slice(0, c)));
  const w = random(ROWS.length, 5, 0.5, 1.5);
  LANES.push({
    name: `logSumExp along rows of ${c} with -Inf, +Inf, NaN and underflowing exps`,
    f: () =>
      define({ params: { z: [ROWS.length, c] }, inputs: { w: [ROWS.length] } }, (p, i) =>
        p.z.logSumExp(1).mul(i.w).sum(),
      ),
    params: { z },
    inputs: { w },
    oracle: { fdTol: 0 },
  });
  const labels = new Float64Array(4 * c).map((_, k) => (k % c === (k / c) % c ? 1 : 0));
  LANES.push({
    name: `softmaxCrossEntropy on rows of ${c} whose exps underflow or overflow the fast path`,
    f: () => define({ params: { z: [4, c] }, inputs: { y: [4, c] } }, (p, i) => softmaxCrossEntropy(p.z, i.y).sum()),
    params: { z: finite },
    inputs: { y: labels },
    oracle: { fdTol: 0 },
  });
}
