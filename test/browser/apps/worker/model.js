// A model whose naive fd-forward gradient takes about a second in wasm (N = 2,410: 2,411 evaluations).
export const spec = {
  params: { w1: [64, 32], b1: [32], w2: [32, 10], b2: [10] },
  inputs: { x: [100, 64], y: [100, 10] },
};
export const fn = ({ w1, b1, w2, b2 }, { x, y }) =>
  x.matmul(w1).add(b1).tanh().matmul(w2).add(b2).softmaxCrossEntropy(y).mean();

function data(n, seed) {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32 - 0.5));
}
export const params = { w1: data(2048, 1), b1: data(32, 2), w2: data(320, 3), b2: data(10, 4) };
export const inputs = {
  x: data(6400, 5),
  y: Float64Array.from({ length: 1000 }, (_, i) => (i % 10 === (Math.floor(i / 10) * 7) % 10 ? 1 : 0)),
};
export const options = { method: 'fd-forward', reuse: false };
