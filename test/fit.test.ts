/**
 * fit: mini-batch order (seeded shuffles, the last partial batch, views without shuffling), the
 * history (training and validation loss and accuracy), callbacks, abort, and its errors, on every
 * backend. The optimizer here is a plain SGD written in the test, so fit's own logic is what is
 * checked (the optimizers have their own tests).
 */
import { expect, it } from 'vitest';
import { adam, define, evaluate, fit, type Compiled, type Optimizer } from '../src/index.js';
import type { FloatArray } from '../src/api/dtype.js';
import { digits } from '../src/data/datasets.js';
import { loadSplit } from '../src/app/train.js';
import { describeEachBackend, random } from './harness.js';

/** theta -= lr * grad, and a log of the gradients it was given. */
function plainSgd(lr: number, log: FloatArray[] = []): Optimizer {
  return {
    kind: 'sgd',
    options: { lr },
    bind: () => {
      let steps = 0,
        live = true;
      return {
        step(theta, grad) {
          if (!live) throw new Error('disposed');
          log.push(grad.slice());
          for (let i = 0; i < theta.length; i++) theta[i] -= lr * grad[i];
          steps++;
        },
        get steps() {
          return steps;
        },
        get lr() {
          return lr;
        },
        dispose() {
          live = false;
        },
      };
    },
  };
}

const D = 6,
  C = 3;
const model = define(
  { params: { w: [D, C], b: [C] }, inputs: { x: ['batch', D], y: ['batch'] } },
  ({ w, b }, { x, y }) => {
    const logits = x.matmul(w).add(b);
    return { loss: logits.softmaxCrossEntropy(y).mean(), pred: logits.argmax(1) };
  },
);
const rows = 23;
const x = random(rows * D, 5, -1, 1);
const y = Float64Array.from(random(rows, 6, 0, C), Math.floor);
const theta0 = random(D * C + C, 7, -0.1, 0.1);

/** The gradient of the loss on the rows `idx`, by the compiled function itself. */
function gradOn(c: Compiled, theta: Float64Array, idx: readonly number[]): Float64Array {
  const g = new Float64Array(c.paramCount);
  const xb = new Float64Array(idx.length * D),
    yb = new Float64Array(idx.length);
  idx.forEach((r, k) => {
    xb.set(x.subarray(r * D, (r + 1) * D), k * D);
    yb[k] = y[r];
  });
  c.gradFlat(theta, { x: xb, y: yb }, g);
  return g;
}

describeEachBackend('fit', (be) => {
  it('without shuffling: batches of rows in order, the last one partial, each step the gradient on its rows', async () => {
    const c = be().compile(model);
    const theta = theta0.slice();
    const log: Float64Array[] = [];
    const steps: number[] = [];
    const r = await fit(
      c,
      theta,
      { x, y },
      {
        optimizer: plainSgd(0.5, log),
        epochs: 2,
        batchSize: 10,
        shuffle: false,
        onStep: (s) => steps.push(s.batchSize),
      },
    );
    expect(steps).toEqual([10, 10, 3, 10, 10, 3]);
    expect(r.steps).toBe(6);
    expect(r.history.map((h) => h.steps)).toEqual([3, 3]);
    // replay by hand
    const t = theta0.slice();
    const batches = [
      [0, 10],
      [10, 20],
      [20, 23],
    ];
    let k = 0;
    for (let e = 0; e < 2; e++)
      for (const [a, b] of batches) {
        const g = gradOn(
          c,
          t,
          Array.from({ length: b - a }, (_, i) => a + i),
        );
        expect(log[k++]).toEqual(g);
        for (let i = 0; i < t.length; i++) t[i] -= 0.5 * g[i];
      }
    expect(theta).toEqual(t);
    c.dispose();
  });

  it('shuffling is seeded: the same seed gives the same parameters, another seed others; dropLast skips the rest', async () => {
    const c = be().compile(model);
    const run = async (seed: number, dropLast = false) => {
      const theta = theta0.slice();
      const r = await fit(
        c,
        theta,
        { x, y: Int32Array.from(y) },
        { optimizer: plainSgd(0.3), epochs: 3, batchSize: 4, seed, dropLast },
      );
      return { theta, r };
    };
    const [a, b, other, dropped] = [await run(1), await run(1), await run(2), await run(1, true)];
    expect(a.theta).toEqual(b.theta);
    expect(a.theta).not.toEqual(other.theta);
    expect(a.r.steps).toBe(3 * 6);
    expect(dropped.r.steps).toBe(3 * 5);
    c.dispose();
  });

  it('history: training loss and accuracy over the epoch, validation loss and accuracy after it', async () => {
    const c = be().compile(model);
    const theta = theta0.slice();
    const vx = random(9 * D, 8),
      vy = Float64Array.of(0, 1, 2, 0, 1, 2, 0, 1, 2);
    const losses: number[] = [];
    let predicted = 0;
    const r = await fit(
      c,
      theta,
      { x, y },
      {
        optimizer: plainSgd(0.1),
        epochs: 1,
        batchSize: 8,
        shuffle: false,
        validation: { x: vx, y: vy },
        validationBatchSize: 4,
        onStep: (s) => losses.push(s.loss * s.batchSize),
        onEpoch: (e) => {
          predicted = e.valAccuracy!;
        },
      },
    );
    const h = r.history[0];
    expect(h.loss).toBeCloseTo(losses.reduce((s, v) => s + v, 0) / rows, 14);
    expect(h.accuracy).toBeGreaterThanOrEqual(0);
    expect(h.valLoss).toBeCloseTo(c.value(theta, { x: vx, y: vy }), 13);
    const pred = c.run(theta, { x: vx, y: vy }).pred;
    expect(h.valAccuracy).toBe(pred.filter((p, i) => p === vy[i]).length / 9);
    expect(predicted).toBe(h.valAccuracy);
    expect(evaluate(c, theta, { x: vx, y: vy }, 4)).toEqual({ valLoss: h.valLoss, valAccuracy: h.valAccuracy });
    expect(h.seconds).toBeGreaterThan(0);
    c.dispose();
  });

  it('an aborted signal stops after the step in progress', async () => {
    const c = be().compile(model);
    const ctl = new AbortController();
    const r = await fit(
      c,
      theta0.slice(),
      { x, y },
      {
        optimizer: plainSgd(0.1),
        epochs: 5,
        batchSize: 5,
        onStep: (s) => {
          if (s.step === 3) ctl.abort();
        },
        signal: ctl.signal,
      },
    );
    expect(r.stopped).toBe('aborted');
    expect(r.steps).toBe(3);
    expect(r.history).toEqual([]);
    c.dispose();
  });

  it('a non-finite loss stops with an error naming the step, the parameters as before it', async () => {
    const c = be().compile(model);
    const theta = theta0.slice();
    const bad = x.slice();
    bad[12 * D] = NaN; // row 12: the second batch of 10
    const seen: Float64Array[] = [];
    await expect(
      fit(c, theta, { x: bad, y }, { optimizer: plainSgd(0.1, seen), batchSize: 10, shuffle: false }),
    ).rejects.toThrow(/the loss is NaN at epoch 1, step 2 \(batch of rows 10..19\)/);
    const t = theta0.slice();
    const g = gradOn(
      c,
      t,
      Array.from({ length: 10 }, (_, i) => i),
    );
    for (let i = 0; i < t.length; i++) t[i] -= 0.1 * g[i];
    expect(theta).toEqual(t);
    c.dispose();
  });

  it('with adam, a softmax classifier on the digits reaches over 90% held-out accuracy in 5 epochs', async () => {
    const { train, test } = loadSplit({ data: 'digits', dataDir: '', seed: 1 }); // a seeded 80/20 split
    const f = define(
      { params: { w: [64, 10], b: [10] }, inputs: { x: ['n', 64], y: ['n'] } },
      ({ w, b }, { x: xs, y: ys }) => {
        const logits = xs.matmul(w).add(b);
        return { loss: logits.softmaxCrossEntropy(ys).mean(), pred: logits.argmax(1) };
      },
    );
    const c = be().compile(f);
    const theta = new Float64Array(c.paramCount);
    const r = await fit(
      c,
      theta,
      { x: train.X, y: train.labels },
      {
        optimizer: adam({ lr: 0.01 }),
        epochs: 5,
        batchSize: 32,
        seed: 3,
        validation: { x: test.X, y: test.labels },
      },
    );
    expect(r.history[4].valAccuracy).toBeGreaterThan(0.9);
    c.dispose();
  });

  it('float32: adam trains the digits classifier as in float64 (master weights in float64), theta stays a Float32Array', async () => {
    const { train, test } = loadSplit({ data: 'digits', dataDir: '', seed: 1 });
    const f = define(
      { params: { w: [64, 10], b: [10] }, inputs: { x: ['n', 64], y: ['n'] } },
      ({ w, b }, { x: xs, y: ys }) => {
        const logits = xs.matmul(w).add(b);
        return { loss: logits.softmaxCrossEntropy(ys).mean(), pred: logits.argmax(1) };
      },
    );
    const options = {
      optimizer: adam({ lr: 0.01 }),
      epochs: 5,
      batchSize: 32,
      seed: 3,
      validation: { x: test.X, y: test.labels },
    };
    const c64 = be().compile(f);
    const c32 = be().compile(f, { dtype: 'float32' });
    const t64 = new Float64Array(c64.paramCount);
    const t32 = new Float32Array(c32.paramCount);
    const r64 = await fit(c64, t64, { x: train.X, y: train.labels }, options);
    const r32 = await fit(c32, t32, { x: train.X, y: train.labels }, options);
    expect(t32).toBeInstanceOf(Float32Array);
    expect(r32.history[4].valAccuracy).toBeGreaterThan(0.9);
    // a convex problem on the same batches: float32 rounding moves the final loss by far less than 1%
    for (let e = 0; e < 5; e++)
      expect(Math.abs(r32.history[e].loss - r64.history[e].loss)).toBeLessThan(0.01 * r64.history[e].loss);
    let far = 0;
    for (let i = 0; i < t32.length; i++) far = Math.max(far, Math.abs(t32[i] - t64[i]));
    expect(far).toBeLessThan(1e-2);
    await expect(
      fit(c32, new Float64Array(c32.paramCount) as never, { x: train.X, y: train.labels }, options),
    ).rejects.toThrow(/Float32Array/);
    c64.dispose();
    c32.dispose();
  });

  it('bad data and options are clear errors', async () => {
    const c = be().compile(model);
    const opt = plainSgd(0.1);
    const t = theta0.slice();
    await expect(fit(c, t, { x, y: y.subarray(1) }, { optimizer: opt })).rejects.toThrow(
      /'y' has 22 rows but 'x' has 23/,
    );
    await expect(fit(c, t, { x: x.subarray(1), y }, { optimizer: opt })).rejects.toThrow(
      /not a whole number of rows of 6/,
    );
    await expect(fit(c, t, { x }, { optimizer: opt })).rejects.toThrow(/data has no input 'y'/);
    await expect(fit(c, t, { x, y, z: y }, { optimizer: opt })).rejects.toThrow(/unknown input 'z'/);
    await expect(fit(c, t, { x, y }, { optimizer: opt, batchsize: 3 } as never)).rejects.toThrow(
      /unknown option 'batchsize'/,
    );
    await expect(fit(c, t, { x, y }, { optimizer: opt, batchSize: 0 })).rejects.toThrow(
      /fit: batchSize must be an integer in \[1, inf\), got 0/,
    );
    await expect(fit(c, t, { x, y }, { optimizer: { kind: 'lbfgs', options: {} } as never })).rejects.toThrow(
      /use minimize/,
    );
    await expect(fit(c, new Float64Array(3), { x, y }, { optimizer: opt })).rejects.toThrow(
      /theta must have 21 elements/,
    );
    await expect(
      fit(c, t, { x, y: y.map((v, i) => (i === 4 ? 7 : v)) }, { optimizer: opt, batchSize: 8, shuffle: false }),
    ).rejects.toThrow(/element 4 is 7, not an index in \[0, 3\)/);
    const fixed = be().compile(define({ params: { w: [D] }, inputs: { x: [4, D] } }, (p, i) => i.x.matmul(p.w).sum()));
    await expect(fit(fixed, new Float64Array(D), { x: x.subarray(0, 4 * D) }, { optimizer: opt })).rejects.toThrow(
      /needs a symbolic leading dimension/,
    );
    expect(t).toEqual(theta0);
    c.dispose();
    fixed.dispose();
  });
});

it('fit trains a softmax classifier on the digits to over 90% held-out accuracy (js backend, plain SGD)', async () => {
  const { backend } = await import('../src/index.js');
  const d = digits();
  const f = define(
    { params: { w: [64, 10], b: [10] }, inputs: { x: ['n', 64], y: ['n'] } },
    ({ w, b }, { x: xs, y: ys }) => {
      const logits = xs.matmul(w).add(b);
      return { loss: logits.softmaxCrossEntropy(ys).mean(), pred: logits.argmax(1) };
    },
  );
  const c = (await backend('js')).compile(f);
  const split = 1400;
  const theta = new Float64Array(c.paramCount);
  const r = await fit(
    c,
    theta,
    { x: d.X.subarray(0, split * 64), y: d.labels.subarray(0, split) },
    {
      optimizer: plainSgd(1),
      epochs: 20,
      batchSize: 32,
      seed: 3,
      validation: { x: d.X.subarray(split * 64), y: d.labels.subarray(split) },
    },
  );
  const last = r.history[r.history.length - 1];
  expect(last.valAccuracy).toBeGreaterThan(0.9);
  expect(last.loss).toBeLessThan(r.history[0].loss);
  c.dispose();
});
