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
  const f = define({ params: { a: [], b: [] }, inputs: { x: [M] } }, ({ a, b }, { x }) =>
    b.mul(a.mul(x).sigmoid()).sum(),
  );
  return { name: `seed b*sigmoid(a*x), M=${M}`, f, params: { a: 0.7, b: -1.3 }, inputs: { x: uniform(M, 1, -3, 3) } };
}

/** Mean logistic loss softplus(-s (X w + b)) with s = ±1 (N = features + 1). */
export function logistic(d: Dataset): Model {
  const { rows: m, features: k } = d;
  const f = define({ params: { w: [k], b: [] }, inputs: { X: [m, k], s: [m] } }, ({ w, b }, { X, s }) =>
    X.matmul(w).add(b).mul(s).neg().softplus().mean(),
  );
  const s = Float64Array.from(d.labels, (c) => (c === 1 ? 1 : -1));
  return {
    name: `logistic regression, ${d.name}`,
    f,
    params: { w: uniform(k, 11, -0.1, 0.1), b: 0 },
    inputs: { X: d.X, s },
  };
}

/** Mean softmax cross-entropy of X W + b (N = (features + 1) * classes). */
export function softmaxRegression(d: Dataset): Model {
  const { rows: m, features: k, classes: c } = d;
  const f = define({ params: { W: [k, c], b: [c] }, inputs: { X: [m, k], Y: [m, c] } }, ({ W, b }, { X, Y }) =>
    softmaxCrossEntropy(X.matmul(W).add(b), Y).mean(),
  );
  return {
    name: `softmax regression, ${d.name}`,
    f,
    params: { W: uniform(k * c, 12, -0.1, 0.1), b: new Float64Array(c) },
    inputs: { X: d.X, Y: oneHot(d.labels, c) },
  };
}

/** One hidden tanh layer of width `hidden`, softmax cross-entropy (N = (k+1) h + (h+1) c). */
export function mlp(d: Dataset, hidden: number): Model {
  const { rows: m, features: k, classes: c } = d;
  const f = define(
    { params: { W1: [k, hidden], b1: [hidden], W2: [hidden, c], b2: [c] }, inputs: { X: [m, k], Y: [m, c] } },
    ({ W1, b1, W2, b2 }, { X, Y }) => softmaxCrossEntropy(X.matmul(W1).add(b1).tanh().matmul(W2).add(b2), Y).mean(),
  );
  const s1 = 1 / Math.sqrt(k),
    s2 = 1 / Math.sqrt(hidden);
  return {
    name: `MLP ${k}-${hidden}-${c}, ${d.name}`,
    f,
    params: {
      W1: uniform(k * hidden, 13, -s1, s1),
      b1: new Float64Array(hidden),
      W2: uniform(hidden * c, 14, -s2, s2),
      b2: new Float64Array(c),
    },
    inputs: { X: d.X, Y: oneHot(d.labels, c) },
  };
}

/**
 * L2-regularised logistic regression, the `minimize` bar: mean softplus(-s (X w + b)) +
 * (lambda / 2) ||w||^2, bias unregularised, starting at 0 (N = features + 1).
 */
export function regularisedLogistic(d: Dataset, lambda = 1e-3): Model {
  const { rows: m, features: k } = d;
  const f = define({ params: { w: [k], b: [] }, inputs: { X: [m, k], s: [m] } }, ({ w, b }, { X, s }) =>
    X.matmul(w)
      .add(b)
      .mul(s)
      .neg()
      .softplus()
      .mean()
      .add(
        w
          .square()
          .sum()
          .mul(lambda / 2),
      ),
  );
  const s = Float64Array.from(d.labels, (c) => (c === 1 ? 1 : -1));
  return {
    name: `L2-regularised logistic regression (lambda ${lambda}), ${d.name}`,
    f,
    params: { w: new Float64Array(k), b: 0 },
    inputs: { X: d.X, s },
  };
}

/**
 * L2-regularised softmax regression: mean softmax cross-entropy of X W + b + (lambda / 2) ||W||^2,
 * bias unregularised, starting at 0 (N = (features + 1) * classes). Without the penalty digits is
 * linearly separable: the loss has no minimiser (it tends to 0 as ||W|| grows).
 */
export function regularisedSoftmax(d: Dataset, lambda = 1e-3): Model {
  const { rows: m, features: k, classes: c } = d;
  const f = define({ params: { W: [k, c], b: [c] }, inputs: { X: [m, k], Y: [m, c] } }, ({ W, b }, { X, Y }) =>
    softmaxCrossEntropy(X.matmul(W).add(b), Y)
      .mean()
      .add(
        W.square()
          .sum()
          .mul(lambda / 2),
      ),
  );
  return {
    name: `L2-regularised softmax regression (lambda ${lambda}), ${d.name}`,
    f,
    params: { W: new Float64Array(k * c), b: new Float64Array(c) },
    inputs: { X: d.X, Y: oneHot(d.labels, c) },
  };
}

/**
 * The tanh MLP of `mlp` with weight decay (lambda / 2) (||W1||^2 + ||W2||^2) (biases unregularised),
 * from the same seeded start: a local minimiser exists, which the unregularised loss lacks.
 */
export function regularisedMlp(d: Dataset, hidden: number, lambda = 1e-3): Model {
  const { rows: m, features: k, classes: c } = d;
  const base = mlp(d, hidden);
  const f = define(
    { params: { W1: [k, hidden], b1: [hidden], W2: [hidden, c], b2: [c] }, inputs: { X: [m, k], Y: [m, c] } },
    ({ W1, b1, W2, b2 }, { X, Y }) =>
      softmaxCrossEntropy(X.matmul(W1).add(b1).tanh().matmul(W2).add(b2), Y)
        .mean()
        .add(
          W1.square()
            .sum()
            .add(W2.square().sum())
            .mul(lambda / 2),
        ),
  );
  return { ...base, name: `MLP ${k}-${hidden}-${c} with weight decay (lambda ${lambda}), ${d.name}`, f };
}

/**
 * The Rosenbrock function sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 (minimum 0 at all-ones), with
 * x_i and x_{i+1} picked by constant selection matrices; start (-1.2, 1) for n = 2, else 0.
 */
export function rosenbrock(n: number): Model {
  const A = new Float64Array((n - 1) * n),
    B = new Float64Array((n - 1) * n);
  for (let i = 0; i < n - 1; i++) {
    A[i * n + i] = 1;
    B[i * n + i + 1] = 1;
  }
  const f = define({ params: { x: [n] }, inputs: { A: [n - 1, n], B: [n - 1, n] } }, ({ x }, { A, B }) => {
    const u = A.matmul(x),
      v = B.matmul(x);
    return v.sub(u.square()).square().mul(100).sum().add(u.neg().add(1).square().sum());
  });
  return {
    name: `Rosenbrock ${n}-D`,
    f,
    params: { x: n === 2 ? Float64Array.of(-1.2, 1) : new Float64Array(n) },
    inputs: { A, B },
  };
}
