/**
 * The conformance models the bundler apps run in Chromium and test/browser/run.ts runs in Node:
 * value and gradient by every method on each backend, as plain numbers (JSON keeps every bit).
 * Plain JavaScript over the public API only, so every bundler takes it without configuration.
 */

/** Deterministic data in [lo, hi): a 32-bit LCG, the same numbers in every engine. */
function data(n, seed, lo = -1, hi = 1) {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

function oneHot(rows, classes, seed) {
  const y = new Float64Array(rows * classes);
  const r = data(rows, seed, 0, classes);
  for (let i = 0; i < rows; i++) y[i * classes + Math.floor(r[i])] = 1;
  return y;
}

/** The models: the seed example, logistic regression, a tanh MLP with softmax cross-entropy, and a mix of other ops. */
export function models(define) {
  return [
    {
      name: 'seed',
      f: define({ params: { a: [], b: [] }, inputs: { x: [1000] } }, ({ a, b }, { x }) =>
        b.mul(a.mul(x).sigmoid()).sum(),
      ),
      params: { a: 0.7, b: -1.3 },
      inputs: { x: data(1000, 1, -3, 3) },
    },
    {
      name: 'logistic',
      f: define({ params: { w: [30], b: [] }, inputs: { X: [100, 30], s: [100] } }, ({ w, b }, { X, s }) =>
        X.matmul(w).add(b).mul(s).neg().softplus().mean(),
      ),
      params: { w: data(30, 2, -0.1, 0.1), b: 0.05 },
      inputs: { X: data(3000, 3), s: data(100, 4).map(Math.sign) },
    },
    {
      name: 'mlp',
      f: define(
        { params: { w1: [64, 16], b1: [16], w2: [16, 10], b2: [10] }, inputs: { x: [40, 64], y: [40, 10] } },
        ({ w1, b1, w2, b2 }, { x, y }) => x.matmul(w1).add(b1).tanh().matmul(w2).add(b2).softmaxCrossEntropy(y).mean(),
      ),
      params: {
        w1: data(1024, 5, -0.2, 0.2),
        b1: data(16, 6, -0.1, 0.1),
        w2: data(160, 7, -0.3, 0.3),
        b2: data(10, 8, -0.1, 0.1),
      },
      inputs: { x: data(2560, 9, 0, 1), y: oneHot(40, 10, 10) },
    },
    {
      name: 'mixed',
      f: define({ params: { p: [8, 5], q: [5] }, inputs: { z: [8, 5] } }, ({ p, q }, { z }) =>
        p
          .mul(z)
          .add(q)
          .square()
          .add(1)
          .sqrt()
          .log()
          .sum()
          .add(p.transpose().relu().logSumExp(1).sum())
          .add(p.abs().pow(1.5).div(q.exp().sum()).mean())
          .add(z.matmul(q).tanh().log1p().sum()),
      ),
      params: { p: data(40, 11), q: data(5, 12, 0.1, 0.9) },
      inputs: { z: data(40, 13) },
    },
  ];
}

/**
 * { best, backends, features: { [backend]: be.features }, results: { [backend]: { [model]:
 * { value, reverse, 'fd-forward', 'fd-central' } } } }
 */
export async function runConformance(t, names = ['wasm', 'js']) {
  const loaded = await t.backends();
  const results = {},
    features = {};
  for (const name of names.filter((n) => loaded.includes(n))) {
    const be = await t.backend(name);
    features[name] = be.features;
    results[name] = {};
    for (const m of models(t.define)) {
      const c = be.compile(m.f);
      const row = { value: c.value(m.params, m.inputs) };
      for (const method of ['reverse', 'fd-forward', 'fd-central'])
        row[method] = Array.from(c.flatten(c.grad(m.params, m.inputs, { method }).grad));
      results[name][m.name] = row;
      c.dispose();
    }
  }
  return { best: (await t.backend()).name, backends: loaded, features, results };
}
