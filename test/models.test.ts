import { expect, it } from 'vitest';
import { gradcheck, type Backend } from '../src/index.js';
import { breastCancer, digits, head } from '../src/data/datasets.js';
import { logistic, mlp, seed, softmaxRegression, type Model } from '../src/models/models.js';
import { describeEachBackend, expectAD } from './harness.js';

/** Plain gradient descent with reverse gradients; returns the final parameters and the loss curve. */
function train(be: Backend, m: Model, steps: number, rate: number) {
  const c = be.compile(m.f);
  const theta = c.flatten(m.params);
  const g = new Float64Array(theta.length);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    losses.push(c.gradFlat(theta, m.inputs, g));
    for (let i = 0; i < theta.length; i++) theta[i] -= rate * g[i];
  }
  losses.push(c.valueFlat(theta, m.inputs));
  const params = c.unflatten(theta);
  c.dispose();
  return { params, losses };
}

function expectGradcheck(be: Backend, m: Model, fast = false) {
  const c = be.compile(m.f);
  try {
    const r = gradcheck(c, m.params, m.inputs, { fast });
    expect(r.ok, `gradcheck ${JSON.stringify(r)}`).toBe(true);
    expect(r.maxAbsError).toBeLessThan(1e-6);
  } finally {
    c.dispose();
  }
}

describeEachBackend('models', (be) => {
  it('seed example: reverse gradient equals the closed form dz/da = sum b x s(1-s), dz/db = sum s', async () => {
    const m = seed(1000);
    const { a, b } = m.params as { a: number; b: number };
    let value = 0,
      da = 0,
      db = 0;
    for (const x of m.inputs.x as Float64Array) {
      const s = 1 / (1 + Math.exp(-a * x));
      value += b * s;
      da += b * x * s * (1 - s);
      db += s;
    }
    await expectAD(be(), m.f, m.params, m.inputs, { value, grad: { a: [da], b: [db] }, tol: 1e-12 });
    expectGradcheck(be(), m);
  });

  it('logistic regression on breast cancer (N = 31): conformance, gradcheck, and training to > 97% accuracy', async () => {
    const d = breastCancer();
    const m = logistic(d);
    await expectAD(be(), m.f, m.params, m.inputs);
    expectGradcheck(be(), m);
    const { params, losses } = train(be(), m, 300, 0.5);
    expect(losses.at(-1)!).toBeLessThan(0.1 * losses[0]);
    const { w, b } = params;
    let correct = 0;
    for (let i = 0; i < d.rows; i++) {
      let z = b[0];
      for (let j = 0; j < d.features; j++) z += d.X[i * d.features + j] * w[j];
      if ((z > 0 ? 1 : 0) === d.labels[i]) correct++;
    }
    expect(correct / d.rows).toBeGreaterThan(0.97);
  });

  it('softmax regression on digits (N = 650, 200 rows): conformance and gradcheck', async () => {
    const m = softmaxRegression(head(digits(), 200));
    await expectAD(be(), m.f, m.params, m.inputs);
    expectGradcheck(be(), m);
  });

  it('one-hidden-layer MLP on digits (64-8-10, N = 610, 200 rows): conformance and gradcheck', async () => {
    const m = mlp(head(digits(), 200), 8);
    await expectAD(be(), m.f, m.params, m.inputs);
    expectGradcheck(be(), m);
  });

  it('MLP 64-32-10 on all 1797 digits (N = 2410): fast gradcheck, and training lowers the loss', () => {
    const m = mlp(digits(), 32);
    expectGradcheck(be(), m, true);
    const { losses } = train(be(), m, 40, 0.5);
    expect(losses.at(-1)!).toBeLessThan(0.6 * losses[0]);
  });
});
