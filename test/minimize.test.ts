import { describe, expect, it } from 'vitest';
import { backend, define, lbfgs, minimize, type Compiled, type Optimizer, type OptimizerState } from '../src/index.js';
import { breastCancer } from '../src/data/datasets.js';
import { regularisedLogistic, rosenbrock as rosenbrockModel } from '../src/models/models.js';
import { describeEachBackend } from './harness.js';

// ---- the bar: L2-regularised logistic regression on breast cancer -----------------------------
// mean log-loss + (lambda/2) ||w||^2 (bias unregularised), labels s = ±1, features z-scored with
// the population standard deviation (datasets.ts), start at 0.
const LAMBDA = 1e-3;
const data = breastCancer();
const { rows: M, features: K } = data;
const S = Float64Array.from(data.labels, (c) => (c === 1 ? 1 : -1));
const bar = regularisedLogistic(data, LAMBDA);
const logistic = bar.f;
const inputs = bar.inputs;

/** Plain-JS loss and gradient (theta = [w, b]), independent of tapegrad. */
function lossAndGradient(theta: Float64Array): { f: number; g: Float64Array; q: Float64Array } {
  const g = new Float64Array(K + 1),
    q = new Float64Array(M);
  let f = 0;
  for (let i = 0; i < M; i++) {
    let z = theta[K];
    for (let j = 0; j < K; j++) z += data.X[i * K + j] * theta[j];
    const u = -S[i] * z;
    f += Math.max(u, 0) + Math.log1p(Math.exp(-Math.abs(u)));
    const r = -S[i] / (1 + Math.exp(-u)); // d softplus(u)/dz = -s sigmoid(u)
    for (let j = 0; j < K; j++) g[j] += (r * data.X[i * K + j]) / M;
    g[K] += r / M;
    q[i] = 1 / (1 + Math.exp(-z)) / (1 + Math.exp(z)); // sigmoid(z) sigmoid(-z)
  }
  f /= M;
  for (let j = 0; j < K; j++) {
    f += (LAMBDA / 2) * theta[j] ** 2;
    g[j] += LAMBDA * theta[j];
  }
  return { f, g, q };
}

/** The optimum by Newton's method with the exact Hessian (Gaussian elimination, partial pivoting). */
function newtonOptimum(): { theta: Float64Array; f: number; gmax: number } {
  const n = K + 1;
  const theta = new Float64Array(n),
    step = new Float64Array(n);
  for (let it = 0; it < 30; it++) {
    const { g, q } = lossAndGradient(theta);
    const H = Array.from({ length: n }, () => new Float64Array(n + 1));
    const a = (i: number, j: number) => (j === K ? 1 : data.X[i * K + j]);
    for (let i = 0; i < M; i++)
      for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) H[j][k] += (q[i] * a(i, j) * a(i, k)) / M;
    for (let j = 0; j < K; j++) H[j][j] += LAMBDA;
    for (let j = 0; j < n; j++) H[j][n] = -g[j];
    for (let c = 0; c < n; c++) {
      const p = H.slice(c).reduce((best, row, r) => (Math.abs(row[c]) > Math.abs(H[best][c]) ? c + r : best), c);
      [H[c], H[p]] = [H[p], H[c]];
      for (let r = c + 1; r < n; r++) {
        const m = H[r][c] / H[c][c];
        for (let k = c; k <= n; k++) H[r][k] -= m * H[c][k];
      }
    }
    for (let c = n - 1; c >= 0; c--) {
      let v = H[c][n];
      for (let k = c + 1; k < n; k++) v -= H[c][k] * step[k];
      step[c] = v / H[c][c];
    }
    for (let j = 0; j < n; j++) theta[j] += step[j];
  }
  const { f, g } = lossAndGradient(theta);
  return { theta, f, gmax: Math.max(...g.map(Math.abs)) };
}
const OPT = newtonOptimum();

// ---- Rosenbrock (models.ts): sum 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2
const rosenbrock = (n: number) => {
  const m = rosenbrockModel(n);
  return { f: m.f, inputs: m.inputs };
};
const maxDistanceToOnes = (x: Float64Array) => Math.max(...x.map((t) => Math.abs(t - 1)));

describe('the optimum of the bar problem (Newton, plain JS)', () => {
  it('is a stationary point, and the features are z-scored with the population standard deviation', () => {
    expect(OPT.gmax).toBeLessThan(1e-15);
    for (let j = 0; j < K; j++) {
      let m = 0,
        v = 0;
      for (let i = 0; i < M; i++) m += data.X[i * K + j] / M;
      for (let i = 0; i < M; i++) v += (data.X[i * K + j] - m) ** 2 / M;
      expect(Math.abs(m)).toBeLessThan(1e-12);
      expect(Math.abs(v - 1)).toBeLessThan(1e-12);
    }
  });
});

describeEachBackend('minimize with L-BFGS', (be) => {
  it('the bar: logistic regression on breast cancer reaches f* to 1e-10 with max |gradient| <= 1e-8 in <= 70 evaluations (scipy L-BFGS-B, history 10: 61 with scipy 1.17 here, 70 in the issue)', () => {
    const c = be().compile(logistic);
    const theta0 = new Float64Array(K + 1);
    const r = minimize(c, theta0, inputs, { optimizer: lbfgs({ history: 10 }), gradient: 'reverse' });
    console.log(
      `[${c.backend}] reverse: ${r.evaluations} evaluations, ${r.iterations} iterations, f - f* = ${(r.value - OPT.f).toExponential(2)}, max|g| = ${r.gradNorm.toExponential(2)} (${r.reason})`,
    );
    expect(r.reason).toBe('gtol');
    expect(r.converged).toBe(true);
    expect(Math.abs(r.value - OPT.f)).toBeLessThanOrEqual(1e-10);
    const truth = lossAndGradient(r.theta);
    expect(Math.max(...truth.g.map(Math.abs))).toBeLessThanOrEqual(1e-8);
    expect(Math.abs(truth.f - r.value)).toBeLessThan(1e-14);
    expect(r.evaluations).toBeLessThanOrEqual(70);
    expect(r.fEvaluations).toBe(r.evaluations); // one f per reverse gradient
    // the record: one entry per iteration, f decreasing (sufficient decrease), evaluations counted
    expect(r.history.length).toBe(r.iterations);
    expect(r.history.at(-1)!.evaluations).toBe(r.evaluations);
    for (let k = 1; k < r.history.length; k++) expect(r.history[k].value).toBeLessThan(r.history[k - 1].value);
    expect(theta0.every((x) => x === 0)).toBe(true); // the start is not modified
    c.dispose();
  });

  it.each([
    ['fd-central', 2 * (K + 1) + 1],
    ['fd-forward', K + 1 + 1],
  ] as const)(
    'the bar with %s gradients: the same optimum; evaluations count gradient calls, fEvaluations the f-evaluations inside them',
    (gradient, perCall) => {
      const c = be().compile(logistic);
      const r = minimize(c, new Float64Array(K + 1), inputs, { gradient });
      const truth = lossAndGradient(r.theta);
      const gmax = Math.max(...truth.g.map(Math.abs));
      console.log(
        `[${c.backend}] ${gradient}: ${r.evaluations} gradient calls = ${r.fEvaluations} f-evaluations, f - f* = ${(r.value - OPT.f).toExponential(2)}, true max|g| = ${gmax.toExponential(2)}, its own estimate ${r.gradNorm.toExponential(2)} (${r.reason})`,
      );
      expect(r.fEvaluations).toBe(r.evaluations * perCall);
      expect(r.converged).toBe(true);
      expect(Math.abs(r.value - OPT.f)).toBeLessThanOrEqual(1e-10);
      // the finite-difference gradient's own error bounds what the true gradient can reach
      expect(gmax).toBeLessThanOrEqual(gradient === 'fd-central' ? 1e-8 : 1e-7);
      expect(r.evaluations).toBeLessThanOrEqual(100);
      c.dispose();
    },
  );

  it('Rosenbrock 2-D from (-1.2, 1): to (1, 1) by reverse and by central differences', () => {
    const { f, inputs: x } = rosenbrock(2);
    const c = be().compile(f);
    const r = minimize(c, Float64Array.of(-1.2, 1), x, { ftol: 0 });
    expect(r.reason).toBe('gtol');
    expect(maxDistanceToOnes(r.theta)).toBeLessThan(1e-8);
    expect(r.evaluations).toBeLessThanOrEqual(60); // scipy's L-BFGS-B: 46
    const fd = minimize(c, Float64Array.of(-1.2, 1), x, { gradient: 'fd-central' });
    expect(fd.converged).toBe(true);
    expect(maxDistanceToOnes(fd.theta)).toBeLessThan(1e-6);
    c.dispose();
  });

  it('Rosenbrock 100-D from 0: to all-ones', () => {
    const { f, inputs: x } = rosenbrock(100);
    const c = be().compile(f);
    const r = minimize(c, new Float64Array(100), x);
    console.log(
      `[${c.backend}] Rosenbrock 100-D: ${r.evaluations} evaluations, ${r.iterations} iterations, max|x - 1| = ${maxDistanceToOnes(r.theta).toExponential(2)} (${r.reason})`,
    );
    expect(r.converged).toBe(true);
    expect(maxDistanceToOnes(r.theta)).toBeLessThan(1e-6);
    expect(r.evaluations).toBeLessThanOrEqual(1000); // scipy's L-BFGS-B: 616
    c.dispose();
  });
});

// ---- the driver's own behaviour: one backend is enough (it is backend-independent TS) ----------

/** A full-batch gradient descent honouring the Optimizer interface, recording its life cycle. */
function fakeSgd(lr: number, fail = false) {
  const calls = { bind: 0, steps: 0, dispose: 0 };
  const optimizer: Optimizer = {
    kind: 'sgd',
    options: { lr },
    bind(): OptimizerState {
      calls.bind++;
      let disposed = false;
      return {
        step(theta, grad) {
          if (disposed) throw new Error('disposed');
          if (fail && calls.steps === 3) throw new Error('step failed');
          for (let i = 0; i < theta.length; i++) theta[i] -= lr * grad[i];
          calls.steps++;
        },
        get steps() {
          return calls.steps;
        },
        get lr() {
          return lr;
        },
        dispose() {
          disposed = true;
          calls.dispose++;
        },
      };
    },
  };
  return { optimizer, calls };
}

describe('minimize', () => {
  let c: Compiled;
  const compile = async () => (c ??= (await backend('js')).compile(logistic));

  it('first-order optimizers: maxIterations full-batch steps through bind(c).step(theta, grad), the same result shape', async () => {
    await compile();
    const { optimizer, calls } = fakeSgd(0.5);
    const theta0 = new Float64Array(K + 1);
    const r = minimize(c, theta0, inputs, { optimizer, maxIterations: 20 });
    // the same steps by hand
    const x = new Float64Array(K + 1),
      g = new Float64Array(K + 1);
    for (let k = 0; k < 20; k++) {
      c.gradFlat(x, inputs, g);
      for (let i = 0; i < x.length; i++) x[i] -= 0.5 * g[i];
    }
    const f = c.gradFlat(x, inputs, g);
    expect(r.theta).toEqual(x);
    expect(r.value).toBe(f);
    expect(r.gradNorm).toBe(Math.max(...g.map(Math.abs)));
    expect(r).toMatchObject({
      iterations: 20,
      evaluations: 21,
      fEvaluations: 21,
      converged: false,
      reason: 'max-iterations',
    });
    expect(r.history.map((h) => h.step)).toEqual(new Array(20).fill(0.5));
    expect(calls).toEqual({ bind: 1, steps: 20, dispose: 1 });
    expect(theta0.every((t) => t === 0)).toBe(true);
    expect(() => minimize(c, theta0, inputs, { optimizer })).toThrow(
      /sgd takes a fixed number of full-batch steps: give maxIterations/,
    );
  });

  it('a function with named outputs and a symbolic batch dimension: the same run as the fixed-size one', async () => {
    await compile();
    const named = (await backend('js')).compile(
      define({ params: { w: [K], b: [] }, inputs: { X: ['rows', K], s: ['rows'] } }, ({ w, b }, { X, s }) => {
        const z = X.matmul(w).add(b);
        return {
          loss: z
            .mul(s)
            .neg()
            .softplus()
            .mean()
            .add(
              w
                .square()
                .sum()
                .mul(LAMBDA / 2),
            ),
          z,
        };
      }),
    );
    const a = minimize(named, new Float64Array(K + 1), inputs);
    const b = minimize(c, new Float64Array(K + 1), inputs);
    expect(a.evaluations).toBe(b.evaluations);
    expect(a.theta).toEqual(b.theta);
  });

  it('first-order: a failing step propagates and the state is disposed; a step to a non-finite point is undone', async () => {
    await compile();
    const failing = fakeSgd(0.5, true);
    expect(() =>
      minimize(c, new Float64Array(K + 1), inputs, { optimizer: failing.optimizer, maxIterations: 10 }),
    ).toThrow(/step failed/);
    expect(failing.calls.dispose).toBe(1);
    // x^4 with a large rate diverges: 2 -> -30 -> ~1e5 -> ... -> overflow
    const quartic = (await backend('js')).compile(define({ params: { x: [] } }, ({ x }) => x.square().square()));
    const { optimizer } = fakeSgd(1);
    const r = minimize(quartic, Float64Array.of(2), undefined, { optimizer, maxIterations: 100 });
    expect(r.reason).toBe('non-finite');
    expect(r.converged).toBe(false);
    expect(Number.isFinite(r.value) && Number.isFinite(r.theta[0])).toBe(true);
    expect(r.value).toBe(r.theta[0] * r.theta[0] * (r.theta[0] * r.theta[0]));
  });

  it('budgets, callbacks and the signal stop the run with their reason', async () => {
    await compile();
    const zero = () => new Float64Array(K + 1);
    expect(minimize(c, zero(), inputs, { maxIterations: 5 })).toMatchObject({
      iterations: 5,
      reason: 'max-iterations',
      converged: false,
    });
    const e = minimize(c, zero(), inputs, { maxEvaluations: 7 });
    expect(e.reason).toBe('max-evaluations');
    expect(e.evaluations).toBeLessThanOrEqual(7);
    expect(minimize(c, zero(), inputs, { onIteration: (h) => h.iteration < 3 })).toMatchObject({
      iterations: 3,
      reason: 'callback',
    });
    const ac = new AbortController();
    const seen: number[] = [];
    const a = minimize(c, zero(), inputs, {
      signal: ac.signal,
      onIteration: (h, theta) => {
        seen.push(theta.length);
        if (h.iteration === 4) ac.abort();
      },
    });
    expect(a).toMatchObject({ iterations: 4, reason: 'aborted', converged: false });
    expect(seen).toEqual([K + 1, K + 1, K + 1, K + 1]);
    expect(minimize(c, zero(), inputs, { signal: ac.signal })).toMatchObject({
      iterations: 0,
      evaluations: 1,
      reason: 'aborted',
    });
    // a stationary start: converged at once
    expect(minimize(c, OPT.theta, inputs, { gtol: 1e-12 })).toMatchObject({
      iterations: 0,
      evaluations: 1,
      reason: 'gtol',
      converged: true,
    });
    // the loosest ftol stops after the first iteration; the minimize option overrides the optimizer's
    expect(minimize(c, zero(), inputs, { optimizer: lbfgs({ ftol: 1 }) })).toMatchObject({
      iterations: 1,
      reason: 'ftol',
    });
    expect(minimize(c, zero(), inputs, { optimizer: lbfgs({ maxIterations: 2 }), maxIterations: 3 }).iterations).toBe(
      3,
    );
    expect(minimize(c, zero(), inputs, { xtol: 10 })).toMatchObject({ iterations: 1, reason: 'xtol' });
  });

  it('with no tolerance left (gtol = ftol = 0) it still ends: the line search fails to decrease f, or the gradient is exactly 0', async () => {
    const { f, inputs: x } = rosenbrock(2);
    const r = minimize((await backend('js')).compile(f), Float64Array.of(-1.2, 1), x, {
      gtol: 0,
      ftol: 0,
      maxIterations: 10_000,
    });
    expect(['line-search', 'gtol']).toContain(r.reason);
    expect(r.iterations).toBeLessThan(200);
    expect(maxDistanceToOnes(r.theta)).toBeLessThan(1e-8);
  });

  it('errors: a non-finite start, bad options, a bad optimizer', async () => {
    await compile();
    const zero = new Float64Array(K + 1);
    const bad = Float64Array.from(zero);
    bad[3] = NaN;
    expect(() => minimize(c, bad, inputs)).toThrow(/the starting point is not finite: theta\[3\] = NaN/);
    const log = (await backend('js')).compile(define({ params: { x: [] } }, ({ x }) => x.log()));
    expect(() => minimize(log, Float64Array.of(-1), undefined)).toThrow(/f is NaN at the starting point/);
    expect(() => minimize(log, Float64Array.of(0), undefined)).toThrow(/f is -Infinity at the starting point/);
    expect(() => minimize(c, new Float64Array(3), inputs)).toThrow(/theta must have 31 elements, got 3/);
    expect(() => minimize({} as never, zero, inputs)).toThrow(/must be a compiled function/);
    expect(() => minimize(c, zero, inputs, { tol: 1 } as never)).toThrow(/minimize: unknown option 'tol'/);
    expect(() => minimize(c, zero, inputs, { gtol: -1 })).toThrow(/gtol must be a non-negative finite number, got -1/);
    expect(() => minimize(c, zero, inputs, { maxIterations: 0 })).toThrow(
      /maxIterations must be a positive integer, got 0/,
    );
    expect(() => minimize(c, zero, inputs, { gradient: 'backward' as never })).toThrow(
      /unknown gradient 'backward' \(expected 'reverse', 'forward', 'fd-forward', 'fd-central'\)/,
    );
    expect(() => minimize(c, zero, inputs, { gradient: { method: 'fd-central', coordinates: [1] } })).toThrow(
      /coordinates is not allowed/,
    );
    expect(() => minimize(c, zero, inputs, { gradient: { method: 'fd-central', eps: -1 } })).toThrow(
      /eps must be a positive finite number/,
    );
    expect(() => minimize(c, zero, inputs, { optimizer: { kind: 'newton' } as never })).toThrow(
      /optimizer must be lbfgs\(\.\.\.\), sgd\(\.\.\.\) or adam\(\.\.\.\)/,
    );
    expect(() => minimize(c, zero, inputs, { onIteration: 1 as never })).toThrow(/onIteration must be a function/);
    expect(() => minimize(c, zero, inputs, { signal: {} as never })).toThrow(/signal must be an AbortSignal/);
    expect(() => minimize(c, zero, { X: data.X })).toThrow(/missing input 's'/);
    const noLoss = (await backend('js')).compile(
      define({ params: { w: [2] }, inputs: { x: [3, 2] } }, ({ w }, { x }) => ({ pred: x.matmul(w) })),
    );
    expect(() => minimize(noLoss, new Float64Array(2), { x: new Float64Array(6) })).toThrow(
      /minimize: the function has no scalar loss to minimise \(its outputs: pred\)/,
    );
    expect(() => lbfgs({ history: 0 })).toThrow(/lbfgs: history must be a positive integer, got 0/);
    expect(() => lbfgs({ lineSearch: 'armijo' as never })).toThrow(
      /unknown lineSearch 'armijo' \(expected 'strong-wolfe'\)/,
    );
    expect(() => lbfgs({ c1: 0.9, c2: 0.1 })).toThrow(/0 < c1 < c2 < 1, got c1 = 0.9, c2 = 0.1/);
    expect(() => lbfgs({ memory: 5 } as never)).toThrow(/lbfgs: unknown option 'memory'/);
    expect(() => lbfgs({ ftol: NaN })).toThrow(/ftol must be a non-negative finite number, got NaN/);
    // a hand-made description is validated like lbfgs(...)'s
    expect(() => minimize(c, zero, inputs, { optimizer: { kind: 'lbfgs', options: { history: -1 } } })).toThrow(
      /lbfgs: history must be a positive integer, got -1/,
    );
    expect(
      minimize(c, zero, inputs, { optimizer: { kind: 'lbfgs', options: { history: 3 } }, maxIterations: 2 }).iterations,
    ).toBe(2);
    expect(lbfgs().options).toMatchObject({
      history: 10,
      lineSearch: 'strong-wolfe',
      c1: 1e-4,
      c2: 0.9,
      maxLineSearch: 20,
    });
  });
});
