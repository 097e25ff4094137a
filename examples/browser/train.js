// The digits MLP (64-32-10, tanh) and its training by minibatch SGD: plain JS over tapegrad's
// public API, run by the demo's worker (and by test/browser, in Node, for the reference numbers).
// TODO(fit): switch to tapegrad's fit()/adam() once they land.

export const HIDDEN = 32;

export function digitsModel(define) {
  return define(
    { params: { w1: [64, HIDDEN], b1: [HIDDEN], w2: [HIDDEN, 10], b2: [10] }, inputs: { x: ['batch', 64], y: ['batch'] } },
    ({ w1, b1, w2, b2 }, { x, y }) => {
      const logits = x.matmul(w1).add(b1).tanh().matmul(w2).add(b2);
      return { loss: logits.softmaxCrossEntropy(y).mean(), pred: logits.argmax(1), probs: logits.sub(logits.logSumExp(1, true)).exp() };
    });
}

/** digits.csv (1797 rows: 64 pixels 0..16, then the label) -> scaled pixels and labels. */
export function parseDigits(text) {
  const rows = text.trim().split('\n').map((l) => l.split(',').map(Number));
  const x = new Float64Array(rows.length * 64), y = new Float64Array(rows.length);
  rows.forEach((r, i) => { for (let j = 0; j < 64; j++) x[i * 64 + j] = r[j] / 16; y[i] = r[64]; });
  return { x, y, n: rows.length };
}

/** A seeded generator in [0, 1) (mulberry32). */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Glorot-uniform weights, zero biases, in the flat layout (definition order). */
export function init(seed = 1) {
  const r = rng(seed), theta = new Float64Array(64 * HIDDEN + HIDDEN + HIDDEN * 10 + 10);
  const fill = (at, n, fanIn, fanOut) => { const a = Math.sqrt(6 / (fanIn + fanOut)); for (let i = 0; i < n; i++) theta[at + i] = (2 * r() - 1) * a; };
  fill(0, 64 * HIDDEN, 64, HIDDEN);
  fill(64 * HIDDEN + HIDDEN, HIDDEN * 10, HIDDEN, 10);
  return theta;
}

function rows(d, idx) {
  const x = new Float64Array(idx.length * 64), y = new Float64Array(idx.length);
  idx.forEach((k, i) => { x.set(d.x.subarray(k * 64, k * 64 + 64), i * 64); y[i] = d.y[k]; });
  return { x, y };
}

export function accuracy(c, theta, set) {
  const pred = c.run(theta, set).pred;
  let ok = 0;
  for (let i = 0; i < pred.length; i++) ok += pred[i] === set.y[i] ? 1 : 0;
  return ok / pred.length;
}

/**
 * Minibatch SGD with momentum 0.9 on 1,500 digits drawn at random; accuracy on the other 297. Calls
 * onEpoch({ epoch, loss, train, test }) after each epoch; returns theta.
 */
function shuffle(a, r) {
  for (let i = a.length - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [a[i], a[j]] = [a[j], a[i]]; }
  return a;
}

export function train(c, digits, { epochs = 5, batch = 32, lr = 0.05, seed = 1, onEpoch = () => {} } = {}) {
  const theta = init(seed), g = new Float64Array(theta.length), v = new Float64Array(theta.length);
  const r = rng(seed + 1);
  const all = shuffle(Array.from({ length: digits.n }, (_, i) => i), r);
  const order = all.slice(0, 1500);
  const trainSet = rows(digits, order), testSet = rows(digits, all.slice(1500));
  for (let epoch = 1; epoch <= epochs; epoch++) {
    shuffle(order, r);
    let sum = 0, steps = 0;
    for (let s = 0; s + batch <= order.length; s += batch) {
      sum += c.gradFlat(theta, rows(digits, order.slice(s, s + batch)), g);
      for (let k = 0; k < theta.length; k++) { v[k] = 0.9 * v[k] + g[k]; theta[k] -= lr * v[k]; }
      steps++;
    }
    onEpoch({ epoch, loss: sum / steps, train: accuracy(c, theta, trainSet), test: accuracy(c, theta, testSet) });
  }
  return theta;
}
