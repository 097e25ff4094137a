/**
 * The built-in models: the seed example, logistic regression, softmax regression and a
 * one-hidden-layer tanh MLP, each with its data and a seeded initial point. Used by the main job,
 * `tapegrad explain`, the tests and the benchmarks.
 */
import { define, softmaxCrossEntropy, type Defined } from '../trace/define.js';
import type { Values } from '../api/validate.js';
import { oneHot, type Dataset } from '../data/datasets.js';
import { uniform } from './random.js';

export interface Model {
  readonly name: string;
  readonly f: Defined;
  readonly params: Values;
  readonly inputs: Values;
}

/** sum_i b * sigmoid(a * x_i): the example the question starts from (N = 2). */
export function seed(M = 1000): Model {
  const f = define({ params: { a: [], b: [] }, inputs: { x: [M] } }, ({ a, b }, { x }) => b.mul(a.mul(x).sigmoid()).sum());
  return { name: `seed b*sigmoid(a*x), M=${M}`, f, params: { a: 0.7, b: -1.3 }, inputs: { x: uniform(M, 1, -3, 3) } };
}

/** Mean logistic loss softplus(-s (X w + b)) with s = ±1 (N = features + 1). */
export function logistic(d: Dataset): Model {
  const { rows: m, features: k } = d;
  const f = define({ params: { w: [k], b: [] }, inputs: { X: [m, k], s: [m] } }, ({ w, b }, { X, s }) =>
    X.matmul(w).add(b).mul(s).neg().softplus().mean());
  const s = Float64Array.from(d.labels, (c) => (c === 1 ? 1 : -1));
  return { name: `logistic regression, ${d.name}`, f, params: { w: uniform(k, 11, -0.1, 0.1), b: 0 }, inputs: { X: d.X, s } };
}

/** Mean softmax cross-entropy of X W + b (N = (features + 1) * classes). */
export function softmaxRegression(d: Dataset): Model {
  const { rows: m, features: k, classes: c } = d;
  const f = define({ params: { W: [k, c], b: [c] }, inputs: { X: [m, k], Y: [m, c] } }, ({ W, b }, { X, Y }) =>
    softmaxCrossEntropy(X.matmul(W).add(b), Y).mean());
  return {
    name: `softmax regression, ${d.name}`, f,
    params: { W: uniform(k * c, 12, -0.1, 0.1), b: new Float64Array(c) }, inputs: { X: d.X, Y: oneHot(d.labels, c) },
  };
}

/** One hidden tanh layer of width `hidden`, softmax cross-entropy (N = (k+1) h + (h+1) c). */
export function mlp(d: Dataset, hidden: number): Model {
  const { rows: m, features: k, classes: c } = d;
  const f = define(
    { params: { W1: [k, hidden], b1: [hidden], W2: [hidden, c], b2: [c] }, inputs: { X: [m, k], Y: [m, c] } },
    ({ W1, b1, W2, b2 }, { X, Y }) => softmaxCrossEntropy(X.matmul(W1).add(b1).tanh().matmul(W2).add(b2), Y).mean(),
  );
  const s1 = 1 / Math.sqrt(k), s2 = 1 / Math.sqrt(hidden);
  return {
    name: `MLP ${k}-${hidden}-${c}, ${d.name}`, f,
    params: { W1: uniform(k * hidden, 13, -s1, s1), b1: new Float64Array(hidden), W2: uniform(hidden * c, 14, -s2, s2), b2: new Float64Array(c) },
    inputs: { X: d.X, Y: oneHot(d.labels, c) },
  };
}
