/**
 * Named outputs, symbolic dimensions and integer class labels: the model-facing side of define
 * and Compiled (run, grad's outputs, one compiled function for every batch size), on every backend.
 */
import { expect, it } from 'vitest';
import { define, type Defined } from '../src/index.js';
import { describeEachBackend, expectVector, random } from './harness.js';

const D = 5,
  H = 4,
  C = 3;
/** A small classifier with outputs, at a symbolic batch size or a fixed one. */
function classifier(batch: number | string): Defined {
  return define(
    { params: { w1: [D, H], b1: [H], w2: [H, C], b2: [C] }, inputs: { x: [batch, D], y: [batch] } },
    ({ w1, b1, w2, b2 }, { x, y }) => {
      const logits = x.matmul(w1).add(b1).tanh().matmul(w2).add(b2);
      return { loss: logits.softmaxCrossEntropy(y).mean(), logits, pred: logits.argmax(1), w2 };
    },
  );
}
const theta = random(D * H + H + H * C + C, 1, -1, 1);
const data = (n: number, seed: number) => ({
  x: random(n * D, seed, -2, 2),
  y: Float64Array.from(random(n, seed + 1, 0, C), Math.floor),
});

describeEachBackend('outputs, symbolic batch and class labels', (be, name) => {
  it('run gives every named output, row-major, and grad gives them with the loss and gradient', () => {
    const c = be().compile(classifier(7));
    const { x, y } = data(7, 10);
    const out = c.run(theta, { x, y });
    expect(Object.keys(out)).toEqual(['loss', 'logits', 'pred', 'w2']);
    expect(out.logits.length).toBe(7 * C);
    expect(out.w2).toEqual(theta.subarray(D * H + H, D * H + H + H * C)); // a parameter as an output is copied exactly
    for (let r = 0; r < 7; r++) {
      const row = Array.from(out.logits.subarray(r * C, (r + 1) * C));
      expect(out.pred[r]).toBe(row.indexOf(Math.max(...row)));
    }
    // the loss from the logits, independently
    let loss = 0;
    for (let r = 0; r < 7; r++) {
      const row = out.logits.subarray(r * C, (r + 1) * C);
      const m = Math.max(...row);
      loss += m + Math.log(row.reduce((s, z) => s + Math.exp(z - m), 0)) - row[y[r]];
    }
    expect(out.loss[0]).toBeCloseTo(loss / 7, 13);
    for (const method of ['reverse', 'fd-central'] as const) {
      const g = c.grad(theta, { x, y }, { method });
      expect(g.value).toBeCloseTo(out.loss[0], 12);
      expectVector(g.outputs.logits, out.logits, 1e-14, `logits from grad (${method})`);
      expect(Array.from(g.outputs.pred)).toEqual(Array.from(out.pred));
    }
    c.dispose();
  });

  it('one compiled function serves every batch size, with the results of a fixed-size trace', () => {
    const c = be().compile(classifier('batch'));
    expect(c.inputs.map((l) => l.shape)).toEqual([['batch', D], ['batch']]);
    for (const n of [1, 64, 7, 64, 300]) {
      const args = data(n, 20 + n);
      const fixed = be().compile(classifier(n));
      const [a, b] = [c.grad(theta, args), fixed.grad(theta, args)];
      expect(a.value).toBe(b.value);
      expectVector(c.flatten(a.grad), c.flatten(b.grad), 0, `gradient at batch ${n}`);
      expect(Array.from(c.run(theta, args).pred)).toEqual(Array.from(fixed.run(theta, args).pred));
      fixed.dispose();
    }
    c.dispose();
  });

  it('symbolic dimensions that disagree, or do not divide, are errors that name them', () => {
    const c = be().compile(classifier('batch'));
    const { x } = data(8, 30);
    expect(() => c.run(theta, { x, y: new Float64Array(5) })).toThrow(
      /input 'y' \(shape \['batch'\]\) has 5 elements, but 'batch' = 8 \(from input 'x'\)/,
    );
    expect(() => c.run(theta, { x: new Float64Array(7), y: new Float64Array(1) })).toThrow(
      /input 'x'.*7 elements: not a positive whole number of 'batch' \(5 elements each\)/,
    );
    expect(() => c.run(theta, { x: new Float64Array(0), y: new Float64Array(0) })).toThrow(
      /not a positive whole number/,
    );
    expect(() => c.cost('reverse')).toThrow(/symbolic dimensions \(batch\)/);
    expect(c.cost('reverse', { dims: { batch: 64 } }).flops).toBe(be().compile(classifier(64)).cost('reverse').flops);
    c.dispose();
  });

  it('class labels out of range, or not integers, are errors; Int32Array labels work', () => {
    const c = be().compile(classifier('batch'));
    const { x, y } = data(4, 40);
    expect(() => c.grad(theta, { x, y: Float64Array.of(0, 1, 3, 2) })).toThrow(
      /input 'y': element 2 is 3, not an index in \[0, 3\)/,
    );
    expect(() => c.grad(theta, { x, y: Float64Array.of(0, 1, 1.5, 2) })).toThrow(/element 2 is 1.5/);
    expect(() => c.run(theta, { x, y: Float64Array.of(-1, 0, 0, 0) })).toThrow(/element 0 is -1/);
    expect(() => c.run(theta, { x, y: Float64Array.of(NaN, 0, 0, 0) })).toThrow(/element 0 is NaN/);
    expect(c.grad(theta, { x, y: Int32Array.from(y) }).value).toBe(c.grad(theta, { x, y }).value);
    c.dispose();
  });

  it('a computed class index out of range gives NaN, never a read outside the row', () => {
    const f = define({ params: { z: [2, 3] }, inputs: { k: [2] } }, (p, i) =>
      p.z.softmaxCrossEntropy(i.k.add(2)).sum(),
    );
    const c = be().compile(f);
    expect(c.value({ z: random(6, 50) }, { k: [0, -2] })).toBe(c.value({ z: random(6, 50) }, { k: [0, -2] }));
    expect(c.value({ z: random(6, 50) }, { k: [0, 1] })).toBeNaN(); // 1 + 2 = 3 is out of range
    c.dispose();
  });

  it('a function without a loss runs but has no gradient', () => {
    const f = define({ params: { w: [3] }, inputs: { x: ['n', 3] } }, (p, i) => ({ score: i.x.matmul(p.w) }));
    const c = be().compile(f);
    expect(Array.from(c.run({ w: [1, 2, 3] }, { x: [1, 0, 0, 0, 1, 1] }).score)).toEqual([1, 5]);
    expect(() => c.grad({ w: [1, 2, 3] }, { x: [1, 0, 0] })).toThrow(/no loss to differentiate \(its outputs: score\)/);
    expect(() => c.value({ w: [1, 2, 3] }, { x: [1, 0, 0] })).toThrow(/no loss/);
    c.dispose();
  });

  it(`sizes beyond the program cache are reloaded correctly (${name})`, () => {
    const c = be().compile(classifier('batch'));
    const want = new Map<number, number>();
    for (let round = 0; round < 2; round++)
      for (let n = 1; n <= 12; n++) {
        const v = c.value(theta, data(n, 60 + n));
        if (round === 0) want.set(n, v);
        else expect(v).toBe(want.get(n));
      }
    c.dispose();
    expect(() => c.run(theta, data(3, 1))).toThrow(/disposed/);
  });
});

it('shape errors in a symbolic function are caught at define time', () => {
  expect(() => define({ params: { w: [4, 2] }, inputs: { x: ['batch', 3] } }, (p, i) => i.x.matmul(p.w).sum())).toThrow(
    /matmul: inner dimensions differ/,
  );
  expect(() => define({ params: { w: ['n'] } } as never, (p: { w: { sum(): never } }) => p.w.sum())).toThrow(
    /parameter 'w' has the symbolic dimension 'n'/,
  );
});
