/**
 * W4, a LeNet-5 style CNN on 28x28 single-channel images: conv 1->6 5x5 with padding 2 (as the
 * classic LeNet-5 on 28x28 MNIST, which padded to 32x32), relu, 2x2 max pool (28 -> 14), conv
 * 6->16 5x5 without padding (14 -> 10), relu, 2x2 max pool (10 -> 5), then 400-120-84-10 fully
 * connected with relu, softmax cross-entropy, mean over the batch. 61,706 parameters.
 */
import { define, softmaxCrossEntropy, type Defined } from '../trace/define.js';
import { oneHot, type Dataset } from '../data/datasets.js';
import type { Model } from './models.js';
import { uniform } from './random.js';

/** The parameter shapes, in definition order (tapegrad's flat order). */
export const LENET_PARAMS = {
  c1: [6, 1, 5, 5],
  cb1: [6],
  c2: [16, 6, 5, 5],
  cb2: [16],
  f1: [400, 120],
  fb1: [120],
  f2: [120, 84],
  fb2: [84],
  f3: [84, 10],
  fb3: [10],
} as const;

export function lenetDefine(batch: number): Defined {
  return define(
    { params: LENET_PARAMS, inputs: { X: [batch, 1, 28, 28], Y: [batch, 10] } },
    ({ c1, cb1, c2, cb2, f1, fb1, f2, fb2, f3, fb3 }, { X, Y }) => {
      const h1 = X.conv2d(c1, { padding: 2 })
        .add(cb1.reshape([6, 1, 1]))
        .relu()
        .maxPool2d(2);
      const h2 = h1
        .conv2d(c2)
        .add(cb2.reshape([16, 1, 1]))
        .relu()
        .maxPool2d(2);
      const z = h2.reshape([batch, 400]).matmul(f1).add(fb1).relu().matmul(f2).add(fb2).relu().matmul(f3).add(fb3);
      return softmaxCrossEntropy(z, Y).mean();
    },
  );
}

/** PyTorch's default initialisation: uniform in ±1/sqrt(fan in) for weights and biases. */
export function lenetParams(seed = 21): Record<keyof typeof LENET_PARAMS, Float64Array> {
  const fanIn: Record<string, number> = {
    c1: 25,
    cb1: 25,
    c2: 150,
    cb2: 150,
    f1: 400,
    fb1: 400,
    f2: 120,
    fb2: 120,
    f3: 84,
    fb3: 84,
  };
  return Object.fromEntries(
    Object.entries(LENET_PARAMS).map(([k, s], i) => {
      const b = 1 / Math.sqrt(fanIn[k]);
      return [
        k,
        uniform(
          s.reduce((p: number, d: number) => p * d, 1),
          seed + i,
          -b,
          b,
        ),
      ];
    }),
  ) as Record<keyof typeof LENET_PARAMS, Float64Array>;
}

/** The CNN on the first `batch` images of a 28x28 data set. */
export function lenet(d: Dataset, batch = 64): Model {
  if (d.features !== 784) throw new Error(`lenet: ${d.name} has ${d.features} features, expected 28x28 = 784`);
  const rows = Math.min(batch, d.rows);
  return {
    name: `CNN LeNet-5 (conv 1-6-16 5x5, 400-120-84-10) batch ${rows}, ${d.name}`,
    f: lenetDefine(rows),
    params: lenetParams(),
    inputs: { X: d.X.slice(0, rows * 784), Y: oneHot(d.labels.slice(0, rows), 10) },
  };
}
