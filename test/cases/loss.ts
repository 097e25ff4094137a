import { define, softmaxCrossEntropy } from '../../src/index.js';
import { random } from '../harness.js';
import type { Case } from './case.js';

function oneHot(rows: number, classes: number, seed: number): Float64Array {
  const y = new Float64Array(rows * classes);
  random(rows, seed, 0, classes).forEach((u, r) => (y[r * classes + Math.floor(u)] = 1));
  return y;
}

/** Oracle: loss_r = sum_c y (lse - z), dz = p sum(y) - y, dy = lse - z. */
function xent(z: ArrayLike<number>, y: ArrayLike<number>, rows: number, c: number) {
  let value = 0;
  const dz = new Float64Array(rows * c),
    dy = new Float64Array(rows * c);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity,
      s = 0,
      sy = 0;
    for (let j = 0; j < c; j++) m = Math.max(m, z[r * c + j]);
    for (let j = 0; j < c; j++) {
      s += Math.exp(z[r * c + j] - m);
      sy += y[r * c + j];
    }
    const lse = m + Math.log(s);
    for (let j = 0; j < c; j++) {
      const q = r * c + j;
      value += y[q] * (lse - z[q]);
      dz[q] = Math.exp(z[q] - lse) * sy - y[q];
      dy[q] = lse - z[q];
    }
  }
  return { value, dz, dy };
}

/** Labels are an input, or (labelsToo) a parameter that receives its own gradient. */
function xentCase(name: string, rows: number, c: number, z: Float64Array, y: Float64Array, labelsToo = false): Case {
  const o = xent(z, y, rows, c);
  const grad: Record<string, Float64Array> = labelsToo ? { z: o.dz, y: o.dy } : { z: o.dz };
  const oracle = { value: o.value, grad, tol: 1e-11 };
  if (labelsToo)
    return {
      name,
      oracle,
      params: { z, y },
      f: () => define({ params: { z: [rows, c], y: [rows, c] } }, (p) => softmaxCrossEntropy(p.z, p.y).sum()),
    };
  return {
    name,
    oracle,
    params: { z },
    inputs: { y },
    f: () =>
      define({ params: { z: [rows, c] }, inputs: { y: [rows, c] } }, (p, i) => softmaxCrossEntropy(p.z, i.y).sum()),
  };
}

const soft = (rows: number, c: number, seed: number) => {
  const y = random(rows * c, seed, 0, 1);
  for (let r = 0; r < rows; r++) {
    const s = y.subarray(r * c, (r + 1) * c).reduce((t, v) => t + v, 0);
    for (let j = 0; j < c; j++) y[r * c + j] /= s;
  }
  return y;
};

/** Class indices of one-hot rows. */
const indices = (y: Float64Array, c: number) =>
  Float64Array.from({ length: y.length / c }, (_, r) => y.subarray(r * c, (r + 1) * c).indexOf(1));

export const LOSS: Case[] = [
  {
    name: 'softmaxCrossEntropy [8,10] with integer class labels [8] (one-hot inside)',
    f: () => define({ params: { z: [8, 10] }, inputs: { y: [8] } }, (p, i) => p.z.softmaxCrossEntropy(i.y).mean()),
    params: { z: random(80, 60, -3, 3) },
    inputs: { y: indices(oneHot(8, 10, 61), 10) },
    oracle: (() => {
      const o = xent(random(80, 60, -3, 3), oneHot(8, 10, 61), 8, 10);
      return { value: o.value / 8, grad: { z: o.dz.map((d) => d / 8) }, tol: 1e-11 };
    })(),
  },
  {
    name: 'softmaxCrossEntropy of 1-D logits with one class index (shape [])',
    f: () => define({ params: { z: [6] }, inputs: { y: [] } }, (p, i) => p.z.softmaxCrossEntropy(i.y)),
    params: { z: random(6, 68) },
    inputs: { y: 4 },
    oracle: {
      value: xent(random(6, 68), Float64Array.of(0, 0, 0, 0, 1, 0), 1, 6).value,
      grad: { z: xent(random(6, 68), Float64Array.of(0, 0, 0, 0, 1, 0), 1, 6).dz },
    },
  },
  xentCase('softmaxCrossEntropy [8,10] one-hot labels', 8, 10, random(80, 60, -3, 3), oneHot(8, 10, 61)),
  xentCase('softmaxCrossEntropy [5,3] soft labels', 5, 3, random(15, 62, -3, 3), soft(5, 3, 63)),
  xentCase(
    'softmaxCrossEntropy [4,7] labels not summing to 1, labels as parameters',
    4,
    7,
    random(28, 64, -2, 2),
    random(28, 65, 0, 1),
    true,
  ),
  xentCase('softmaxCrossEntropy [3,4] large logits (no overflow)', 3, 4, random(12, 66, 995, 1005), oneHot(3, 4, 67)),
  xentCase('softmaxCrossEntropy [1,1] single class', 1, 1, Float64Array.of(2.5), Float64Array.of(1)),
  {
    name: 'softmaxCrossEntropy of 1-D logits is a scalar',
    f: () => define({ params: { z: [6] }, inputs: { y: [6] } }, (p, i) => p.z.softmaxCrossEntropy(i.y)),
    params: { z: random(6, 68) },
    inputs: { y: oneHot(1, 6, 69) },
    oracle: {
      value: xent(random(6, 68), oneHot(1, 6, 69), 1, 6).value,
      grad: { z: xent(random(6, 68), oneHot(1, 6, 69), 1, 6).dz },
    },
  },
  {
    name: 'softmaxCrossEntropy mean over a batch after a bias layer',
    f: () =>
      define({ params: { W: [5, 4], b: [4] }, inputs: { X: [9, 5], Y: [9, 4] } }, (p, i) =>
        softmaxCrossEntropy(i.X.matmul(p.W).add(p.b), i.Y).mean(),
      ),
    params: { W: random(20, 70), b: random(4, 71) },
    inputs: { X: random(45, 72), Y: oneHot(9, 4, 73) },
  },
];
