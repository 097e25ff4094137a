// The model families the demo times at a chosen size N (plain JS over tapegrad's public API).

function data(n, seed, lo = -1, hi = 1) {
  let s = seed >>> 0;
  return Float64Array.from(
    { length: n },
    () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), lo + ((hi - lo) * s) / 2 ** 32),
  );
}

export const FAMILIES = {
  logistic: {
    label: 'logistic regression, 200 rows (N = features + 1)',
    make(define, N) {
      const k = Math.max(1, N - 1);
      const f = define({ params: { w: [k], b: [] }, inputs: { X: [200, k], s: [200] } }, ({ w, b }, { X, s }) =>
        X.matmul(w).add(b).mul(s).neg().softplus().mean(),
      );
      return {
        f,
        N: k + 1,
        theta: data(k + 1, 1, -0.1, 0.1),
        inputs: { X: data(200 * k, 2), s: data(200, 3).map(Math.sign) },
      };
    },
  },
  mlp: {
    label: 'MLP 64-h-10 on 100 rows (N = 75h + 10)',
    make(define, N) {
      const h = Math.max(1, Math.round((N - 10) / 75));
      const f = define(
        { params: { w1: [64, h], b1: [h], w2: [h, 10], b2: [10] }, inputs: { x: [100, 64], y: [100] } },
        ({ w1, b1, w2, b2 }, { x, y }) => x.matmul(w1).add(b1).tanh().matmul(w2).add(b2).softmaxCrossEntropy(y).mean(),
      );
      return {
        f,
        N: 75 * h + 10,
        theta: data(75 * h + 10, 4, -0.2, 0.2),
        inputs: { x: data(6400, 5, 0, 1), y: data(100, 6, 0, 10).map(Math.floor) },
      };
    },
  },
};
