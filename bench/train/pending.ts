/**
 * TEMPORARY stand-ins, to be deleted when src/app/train.ts (the lead's `tapegrad train`) lands on
 * main: its `classifier` (the same model) and `loadSplit` (the same data split), copied.
 */
import type { Dataset } from '../../src/data/datasets.js';
import { digits } from '../../src/data/datasets.js';
import { fashionMnist } from '../../src/data/idx.js';
import { mulberry32 } from '../../src/models/random.js';
import { define, type Defined } from '../../src/trace/define.js';

/** The tanh MLP classifier of `tapegrad train`: loss, logits and predicted classes. */
export function classifier(features: number, classes: number, _model: 'mlp', hidden: number): Defined {
  return define(
    { params: { w1: [features, hidden], b1: [hidden], w2: [hidden, classes], b2: [classes] }, inputs: { x: ['batch', features], y: ['batch'] } },
    ({ w1, b1, w2, b2 }, { x, y }) => {
      const logits = x.matmul(w1).add(b1).tanh().matmul(w2).add(b2);
      return { loss: logits.softmaxCrossEntropy(y).mean(), logits, pred: logits.argmax(1) };
    });
}

/** Fashion-MNIST's train and test splits, or the digits split 80/20 by a seeded shuffle. */
export function loadSplit(o: { data: 'auto'; dataDir?: string; seed: number; rows?: number }): { name: string; train: Dataset; test: Dataset; note?: string } {
  const train = fashionMnist(o.rows ?? 60_000, o.dataDir, 'train');
  const test = fashionMnist(10_000, o.dataDir, 'test');
  if (train && test) return { name: 'Fashion-MNIST', train, test };
  const d = digits();
  const order = Int32Array.from({ length: d.rows }, (_, i) => i);
  const next = mulberry32(o.seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const take = (idx: Int32Array): Dataset => {
    const X = new Float64Array(idx.length * d.features);
    idx.forEach((r, k) => X.set(d.X.subarray(r * d.features, (r + 1) * d.features), k * d.features));
    return { ...d, rows: idx.length, X, labels: Int32Array.from(idx, (r) => d.labels[r]) };
  };
  const cut = Math.round(d.rows * 0.8);
  return {
    name: 'digits (8x8)', train: take(order.subarray(0, o.rows ? Math.min(o.rows, cut) : cut)), test: take(order.subarray(cut)),
    note: 'Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); training on the digits',
  };
}
