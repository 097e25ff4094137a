// The digits MLP (64-32-10, tanh) and its training with tapegrad's fit() and adam(): plain JS over
// the public API, run by the demo's worker.

export const HIDDEN = 32;

export function digitsModel(define) {
  return define(
    {
      params: { w1: [64, HIDDEN], b1: [HIDDEN], w2: [HIDDEN, 10], b2: [10] },
      inputs: { x: ['batch', 64], y: ['batch'] },
    },
    ({ w1, b1, w2, b2 }, { x, y }) => {
      const logits = x.matmul(w1).add(b1).tanh().matmul(w2).add(b2);
      return {
        loss: logits.softmaxCrossEntropy(y).mean(),
        pred: logits.argmax(1),
        probs: logits.sub(logits.logSumExp(1, true)).exp(),
      };
    },
  );
}

/** digits.csv (1797 rows: 64 pixels 0..16, then the label) -> pixels scaled to [0, 1] and labels. */
export function parseDigits(text) {
  const rows = text
    .trim()
    .split('\n')
    .map((l) => l.split(',').map(Number));
  const x = new Float64Array(rows.length * 64),
    y = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    for (let j = 0; j < 64; j++) x[i * 64 + j] = r[j] / 16;
    y[i] = r[64];
  });
  return { x, y, n: rows.length };
}

/** The rows `idx` of a data set. */
function rows(d, idx) {
  const x = new Float64Array(idx.length * 64),
    y = new Float64Array(idx.length);
  idx.forEach((k, i) => {
    x.set(d.x.subarray(k * 64, k * 64 + 64), i * 64);
    y[i] = d.y[k];
  });
  return { x, y };
}

/**
 * Adam (lr 0.01) in batches of 32 on 1,500 digits drawn at random (seeded); the other 297 are the
 * validation set. onEpoch gets fit()'s EpochInfo ({ epoch, loss, accuracy, valLoss, valAccuracy, ... }).
 */
export async function train(t, c, digits, { epochs = 5, seed = 1, onEpoch = () => {} } = {}) {
  const order = Array.from({ length: digits.n }, (_, i) => i);
  let s = seed >>> 0; // a seeded shuffle (LCG) for the split
  for (let i = order.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const theta = t.init(c, { seed });
  await t.fit(c, theta, rows(digits, order.slice(0, 1500)), {
    optimizer: t.adam({ lr: 0.01 }),
    epochs,
    batchSize: 32,
    shuffle: true,
    seed,
    validation: rows(digits, order.slice(1500)),
    onEpoch,
  });
  return theta;
}
