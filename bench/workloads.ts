/**
 * The benchmark workloads (as defined in the wasm issue), with synthetic data of fixed seeds:
 * W1 the seed example sum_i b*sigmoid(a*x_i), M = 1000; W2 logistic regression
 * sum_i softplus(-y_i (X theta)_i), M = 1000, d = 10, 100, 1000; W3 a 784-128-10 tanh MLP with
 * softmax cross-entropy, batch 64; W4 a LeNet-5 style CNN on 28x28 images (src/models/lenet.ts), batch 64.
 */
import { define, softmaxCrossEntropy } from '../src/trace/define.js'; // not the entry: the browser bench bundles this file
import { uniform } from '../src/models/random.js';
import { seed, type Model } from '../src/models/models.js';
import type { DType } from '../src/api/dtype.js';
import type { Values } from '../src/api/validate.js';
import { lenetDefine, lenetParams } from '../src/models/lenet.js';

export type Workload = Model;

/**
 * A workload's inputs for a function of `dtype`, converted once: a Float64Array input to a
 * float32 function would be rounded into a copy on every call (1 M elements at W2).
 */
export function inputsIn(inputs: Values, dtype: DType): Values {
  if (dtype === 'float64') return inputs;
  return Object.fromEntries(
    Object.entries(inputs).map(([k, x]) => [k, x instanceof Float64Array ? Float32Array.from(x) : x]),
  );
}

export function w1(M = 1000): Workload {
  return { ...seed(M), name: `W1 seed M=${M}` };
}

export function w2(d: number, M = 1000): Workload {
  const f = define({ params: { theta: [d] }, inputs: { X: [M, d], y: [M] } }, ({ theta }, { X, y }) =>
    X.matmul(theta).mul(y).neg().softplus().sum(),
  );
  const y = uniform(M, 3).map((u) => (u < 0 ? -1 : 1));
  return {
    name: `W2 logistic d=${d}`,
    f,
    params: { theta: uniform(d, 2, -0.1, 0.1) },
    inputs: { X: uniform(M * d, 4), y },
  };
}

export function w3(batch = 64, hidden = 128): Workload {
  const f = define(
    {
      params: { W1: [784, hidden], b1: [hidden], W2: [hidden, 10], b2: [10] },
      inputs: { X: [batch, 784], Y: [batch, 10] },
    },
    ({ W1, b1, W2, b2 }, { X, Y }) => softmaxCrossEntropy(X.matmul(W1).add(b1).tanh().matmul(W2).add(b2), Y).mean(),
  );
  const Y = new Float64Array(batch * 10);
  for (let r = 0; r < batch; r++) Y[r * 10 + ((r * 7) % 10)] = 1;
  const s1 = 1 / Math.sqrt(784),
    s2 = 1 / Math.sqrt(hidden);
  return {
    name: `W3 MLP 784-${hidden}-10 batch ${batch}`,
    f,
    params: {
      W1: uniform(784 * hidden, 5, -s1, s1),
      b1: uniform(hidden, 6, -s1, s1),
      W2: uniform(hidden * 10, 7, -s2, s2),
      b2: uniform(10, 8, -s2, s2),
    },
    inputs: { X: uniform(batch * 784, 9, 0, 1), Y },
  };
}

/** W4: the LeNet-5 style CNN on synthetic 28x28 images in [0, 1] (seeded) with cyclic labels. */
export function w4(batch = 64): Workload {
  const Y = new Float64Array(batch * 10);
  for (let r = 0; r < batch; r++) Y[r * 10 + ((r * 7) % 10)] = 1;
  return {
    name: `W4 CNN LeNet-5 batch ${batch}`,
    f: lenetDefine(batch),
    params: lenetParams(),
    inputs: { X: uniform(batch * 784, 29, 0, 1), Y },
  };
}

/**
 * A one-instruction tape, f(a) = -a: its value() time is the cost of one call through the TS
 * validation layer and across into the backend (the Node-API crossing, for native).
 */
export function oneOp(): Workload {
  const f = define({ params: { a: [] } }, ({ a }) => a.neg());
  return { name: 'one-op value() a.neg()', f, params: { a: 1.5 }, inputs: {} };
}

/**
 * A deep narrow chain of about `instructions` instructions (4 per layer, and the sum):
 * h <- tanh(a h + w) on 16 elements, one scalar a and one bias w shared by every layer. Each
 * layer is a scalar broadcast folded into its mul and a bias add whose adjoint passes through to
 * the mul (native/core/program.cpp), so both load passes have work at every layer.
 */
export function chain(instructions: number): Workload {
  const layers = Math.max(1, Math.round((instructions - 1) / 4));
  const f = define({ params: { a: [], w: [16] }, inputs: { x: [16] } }, ({ a, w }, { x }) => {
    let h = x;
    for (let k = 0; k < layers; k++) h = h.mul(a).add(w).tanh();
    return h.sum();
  });
  return {
    name: `chain ${layers} layers`,
    f,
    params: { a: 0.5, w: uniform(16, 10, -0.5, 0.5) },
    inputs: { x: uniform(16, 11, -1, 1) },
  };
}

export const WORKLOADS = (): Workload[] => [oneOp(), w1(), w2(10), w2(100), w2(1000), w3(), w4()];
