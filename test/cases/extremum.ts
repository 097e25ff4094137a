import { define } from '../../src/index.js';
import { random } from '../harness.js';
import type { Case } from './case.js';

const X = random(60, 71, -2, 2); // [3, 4, 5]
const dims = [3, 4, 5];

/** the first extremal element of each slice along `axis`, found by scanning with an index */
function oracle(kind: 'max' | 'min', x: Float64Array, axis: number, w: Float64Array) {
  const grad = new Float64Array(60);
  let value = 0;
  const other = [0, 1, 2].filter((q) => q !== axis);
  let o = 0;
  for (let u = 0; u < dims[other[0]]; u++)
    for (let v = 0; v < dims[other[1]]; v++, o++) {
      let best = NaN,
        at = -1;
      for (let j = 0; j < dims[axis]; j++) {
        const idx = [0, 0, 0];
        idx[other[0]] = u;
        idx[other[1]] = v;
        idx[axis] = j;
        const k = (idx[0] * 4 + idx[1]) * 5 + idx[2];
        if (at < 0 || (kind === 'max' ? x[k] > best : x[k] < best)) [best, at] = [x[k], k];
      }
      value += w[o] * best;
      grad[at] += w[o];
    }
  return { value, grad: { x: grad }, tol: 1e-12 };
}

function axisCase(kind: 'max' | 'min', axis: number, ties: boolean): Case {
  const x = ties ? X.map((v) => Math.round(v)) : X;
  const outShape = dims.filter((_, i) => i !== axis);
  const w = random(outShape[0] * outShape[1], 80 + axis, 0.5, 1.5);
  return {
    name: `${kind} along axis ${axis} of [3,4,5]${ties ? ' with ties (the first takes the gradient)' : ''}`,
    f: () => define({ params: { x: [3, 4, 5] }, inputs: { w: outShape } }, (p, i) => p.x[kind](axis).mul(i.w).sum()),
    params: { x },
    inputs: { w },
    oracle: { ...oracle(kind, x, axis, w), fdTol: ties ? 0 : 1e-6 },
  };
}

export const EXTREMUM: Case[] = [
  ...(['max', 'min'] as const).flatMap((k) => [0, 1, 2].flatMap((a) => [axisCase(k, a, false), axisCase(k, a, true)])),
  {
    name: 'max of all elements, and min with keepDims along -1',
    f: () => define({ params: { x: [3, 4, 5] } }, (p) => p.x.max().add(p.x.min(-1, true).mul(p.x).sum().mul(0.25))),
    params: { x: X },
  },
  {
    name: 'max/min with NaN (propagates; the first NaN takes the gradient), ±Infinity and -0',
    f: () =>
      define({ params: { x: [4, 3] } }, (p) => {
        const hi = p.x.max(1),
          lo = p.x.min(0);
        return { loss: hi.sum().add(lo.sum()), hi, lo };
      }),
    params: { x: [1, NaN, NaN, -Infinity, -Infinity, -Infinity, -0, 0, -0, 2, Infinity, 3] },
    oracle: { fdTol: 0 },
  },
];
