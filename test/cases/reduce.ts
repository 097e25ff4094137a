import { define } from '../../src/index.js';
import { random } from '../harness.js';
import type { Case } from './case.js';

const X = random(60, 31, -2, 2); // shape [3,4,5]
const W3 = random(60, 32, 0.5, 1.5);
const at = (i: number, j: number, k: number) => X[(i * 4 + j) * 5 + k];

/** sum and mean along each axis, weighted so every output element has its own gradient */
function axisCase(kind: 'sum' | 'mean' | 'logSumExp', axis: number, keepDims: boolean): Case {
  const dims = [3, 4, 5];
  const a = axis < 0 ? axis + 3 : axis;
  const outSize = 60 / dims[a];
  const w = random(outSize, 40 + a, 0.5, 1.5);
  const outShape = keepDims ? dims.map((d, i) => (i === a ? 1 : d)) : dims.filter((_, i) => i !== a);
  return {
    name: `${kind} along axis ${axis}${keepDims ? ', keepDims' : ''} of [3,4,5]`,
    f: () =>
      define({ params: { x: [3, 4, 5] }, inputs: { w: outShape } }, (p, i) => p.x[kind](axis, keepDims).mul(i.w).sum()),
    params: { x: X },
    inputs: { w },
    oracle: (() => {
      let value = 0,
        o = 0;
      const grad = new Float64Array(60);
      // out index over the remaining axes, in order
      const idx = (i: number, j: number, k: number) => [i, j, k].filter((_, q) => q !== a);
      const strides = dims.filter((_, q) => q !== a);
      const flatOut = (i: number, j: number, k: number) => {
        const [u, v] = idx(i, j, k);
        return u * strides[1] + v;
      };
      const acc = new Float64Array(outSize),
        mx = new Float64Array(outSize).fill(-Infinity);
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 4; j++)
          for (let k = 0; k < 5; k++) {
            o = flatOut(i, j, k);
            mx[o] = Math.max(mx[o], at(i, j, k));
          }
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 4; j++)
          for (let k = 0; k < 5; k++) {
            o = flatOut(i, j, k);
            acc[o] += kind === 'logSumExp' ? Math.exp(at(i, j, k) - mx[o]) : at(i, j, k);
          }
      const out = acc.map((s, q) => (kind === 'logSumExp' ? mx[q] + Math.log(s) : kind === 'mean' ? s / dims[a] : s));
      out.forEach((y, q) => (value += w[q] * y));
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 4; j++)
          for (let k = 0; k < 5; k++) {
            o = flatOut(i, j, k);
            grad[(i * 4 + j) * 5 + k] =
              w[o] * (kind === 'logSumExp' ? Math.exp(at(i, j, k) - out[o]) : kind === 'mean' ? 1 / dims[a] : 1);
          }
      return { value, grad: { x: grad }, tol: 1e-11 };
    })(),
  };
}

/** argmax/argmin along `axis` of X (the first extremal index), weighted: sum(w * arg) + sum(x * v) keeps a gradient */
function argCase(kind: 'argmax' | 'argmin', axis: number | undefined): Case {
  const dims = [3, 4, 5];
  const outShape = axis === undefined ? [] : dims.filter((_, i) => i !== axis);
  const outSize = outShape.reduce((p, d) => p * d, 1);
  const w = random(outSize, 80, 0.5, 1.5);
  const better = (x: number, y: number) => (kind === 'argmax' ? x > y : x < y);
  const arg: number[] = [];
  if (axis === undefined) arg.push(X.reduce((b, x, q) => (better(x, X[b]) ? q : b), 0));
  else {
    const [outer, n, inner] = [
      dims.slice(0, axis).reduce((p, d) => p * d, 1),
      dims[axis],
      dims.slice(axis + 1).reduce((p, d) => p * d, 1),
    ];
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let b = 0;
        for (let j = 1; j < n; j++) if (better(X[(o * n + j) * inner + i], X[(o * n + b) * inner + i])) b = j;
        arg.push(b);
      }
  }
  return {
    name: `${kind} ${axis === undefined ? 'of all elements' : `along axis ${axis}`} of [3,4,5] (no gradient through it)`,
    f: () =>
      define({ params: { x: [3, 4, 5] }, inputs: { w: outShape, v: [3, 4, 5] } }, (p, i) =>
        p.x[kind](axis).mul(i.w).sum().add(p.x.mul(i.v).sum()),
      ),
    params: { x: X },
    inputs: { w, v: W3 },
    oracle: {
      value: arg.reduce((s, a, q) => s + a * w[q], 0) + X.reduce((s, x, q) => s + x * W3[q], 0),
      grad: { x: W3 },
    },
  };
}

export const REDUCE: Case[] = [
  ...(['argmax', 'argmin'] as const).flatMap((k) => [undefined, 0, 1, 2].map((ax) => argCase(k, ax))),
  ...(
    [
      ['ties: the first', [2, 5, 5, 1], 1, 3],
      ['a NaN wins (the first NaN)', [2, NaN, 9, NaN], 1, 1],
      ['-Inf and +Inf', [-Infinity, 0, Infinity, -Infinity], 2, 0],
      ['-0 and 0 tie', [-0, 0, -1, 1], 3, 2],
    ] as const
  ).map(([what, x, max, min]): Case => ({
    name: `argmax/argmin edge: ${what}`,
    f: () => define({ params: { x: [4] } }, (p) => p.x.argmax().mul(10).add(p.x.argmin())),
    params: { x: [...x] },
    oracle: { value: max * 10 + min, fdTol: 0 },
  })),
  {
    name: 'sum of all elements of [3,4,5]',
    f: () => define({ params: { x: [3, 4, 5] }, inputs: { w: [3, 4, 5] } }, (p, i) => p.x.mul(i.w).sum()),
    params: { x: X },
    inputs: { w: W3 },
    oracle: { value: X.reduce((s, v, q) => s + v * W3[q], 0), grad: { x: W3 } },
  },
  {
    name: 'mean of all elements, keepDims',
    f: () => define({ params: { x: [3, 4, 5] } }, (p) => p.x.mean(undefined, true).sum()),
    params: { x: X },
    oracle: { value: X.reduce((s, v) => s + v, 0) / 60, grad: { x: new Float64Array(60).fill(1 / 60) } },
  },
  ...(['sum', 'mean', 'logSumExp'] as const).flatMap((k) => [0, 1, 2, -1].map((ax) => axisCase(k, ax, false))),
  ...(['sum', 'logSumExp'] as const).map((k) => axisCase(k, 1, true)),
  {
    name: 'logSumExp of all elements with large values (no overflow)',
    f: () => define({ params: { x: [6] } }, (p) => p.x.logSumExp()),
    params: { x: [1000, 999, 1001, -1000, 998, 1000.5] },
    oracle: (() => {
      const x = [1000, 999, 1001, -1000, 998, 1000.5];
      const m = 1001,
        s = x.reduce((t, v) => t + Math.exp(v - m), 0),
        y = m + Math.log(s);
      // the default central step scales with |x| = 1000 (h ~ 6e-3), so FD itself is only good to ~1e-6
      return { value: y, grad: { x: x.map((v) => Math.exp(v - y)) }, fdTol: 1e-5 };
    })(),
  },
  ...(
    [
      ['all -Inf', [-Infinity, -Infinity, -Infinity], -Infinity],
      ['a +Inf', [1, Infinity, 2], Infinity],
      ['a NaN', [1, NaN, 2], NaN],
      ['NaN and +Inf', [Infinity, NaN, 2], NaN],
      ['-Inf among finite', [-Infinity, 0, Math.log(3)], Math.log(4)],
    ] as const
  ).map(([what, x, value]): Case => ({
    name: `logSumExp edge: ${what}`,
    f: () => define({ params: { x: [3] } }, (p) => p.x.logSumExp()),
    params: { x: [...x] },
    oracle: { value, fdTol: 0 },
  })),
  {
    name: 'reshape views (with -1) carry values and gradients',
    f: () =>
      define({ params: { x: [3, 4] }, inputs: { w: [2, 6] } }, (p, i) =>
        p.x.reshape([2, -1]).mul(i.w).reshape([12]).sum(),
      ),
    params: { x: random(12, 50) },
    inputs: { w: random(12, 51) },
    oracle: { value: random(12, 50).reduce((s, v, q) => s + v * random(12, 51)[q], 0), grad: { x: random(12, 51) } },
  },
];
