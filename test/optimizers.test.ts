/**
 * The optimizers (sgd, adam) against PyTorch's update rules written out independently here, and
 * against the js backend bit for bit; the schedules against their closed forms; bad options,
 * bad arguments and disposed states throwing clear errors on every backend; a small problem
 * trained to its optimum.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  adam,
  backend,
  constantLr,
  cosineLr,
  define,
  linearWarmup,
  sgd,
  stepLr,
  type AdamOptions,
  type Compiled,
  type Optimizer,
  type SgdOptions,
} from '../src/index.js';
import { instantiateWasm } from '../src/backends/wasm/engine.js';
import { loadAddon } from '../src/backends/native/loader.js';
import { describeEachBackend, expectVector, random, TEST_BACKENDS } from './harness.js';

// ---- the update rules, written out as PyTorch's documentation states them ----

/** torch.optim.SGD over T steps of the given gradients (maximize negates the gradient first, as torch's code does). */
function sgdOracle(
  theta0: ArrayLike<number>,
  grads: Float64Array[],
  o: Required<Omit<SgdOptions, 'lr'>> & { lr: (t: number) => number },
): number[] {
  const theta = Array.from(theta0);
  let b: number[] | undefined;
  grads.forEach((grad, k) => {
    const g = theta.map((x, i) => (o.maximize ? -grad[i] : grad[i]) + o.weightDecay * x);
    if (o.momentum !== 0) {
      b = b === undefined ? [...g] : b.map((bi, i) => o.momentum * bi + (1 - o.dampening) * g[i]);
      for (let i = 0; i < g.length; i++) g[i] = o.nesterov ? g[i] + o.momentum * b[i] : b[i];
    }
    for (let i = 0; i < theta.length; i++) theta[i] -= o.lr(k) * g[i];
  });
  return theta;
}

/** torch.optim.Adam / AdamW: bias-corrected moments, eps added after the square root. */
function adamOracle(
  theta0: ArrayLike<number>,
  grads: Float64Array[],
  o: Required<Omit<AdamOptions, 'lr'>> & { lr: (t: number) => number },
): number[] {
  const theta = Array.from(theta0);
  const [b1, b2] = o.betas;
  const m = theta.map(() => 0),
    v = theta.map(() => 0),
    vmax = theta.map(() => 0);
  grads.forEach((grad, k) => {
    const t = k + 1,
      lr = o.lr(k);
    for (let i = 0; i < theta.length; i++) {
      let g = o.maximize ? -grad[i] : grad[i];
      if (o.decoupled) theta[i] *= 1 - lr * o.weightDecay;
      else g += o.weightDecay * theta[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g ** 2;
      vmax[i] = Math.max(vmax[i], v[i]);
      const mHat = m[i] / (1 - b1 ** t);
      const vHat = (o.amsgrad ? vmax[i] : v[i]) / (1 - b2 ** t);
      theta[i] -= (lr * mHat) / (Math.sqrt(vHat) + o.eps);
    }
  });
  return theta;
}

const SGD_DEFAULTS = { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false };
const ADAM_DEFAULTS = {
  betas: [0.9, 0.999] as [number, number],
  eps: 1e-8,
  weightDecay: 0,
  decoupled: false,
  amsgrad: false,
  maximize: false,
};

/** n = 19: a whole number of vectors plus a tail at every vector width (2, 4, 8). */
const N = 19;
const THETA = random(N, 1, -2, 2);
const GRADS = [2, 3, 4, 5, 6].map((seed) => random(N, seed, -1, 1));
const model = () => define({ params: { w: [N] } }, ({ w }) => w.square().sum());

const SGD_CASES: [string, Partial<SgdOptions>][] = [
  ['plain', {}],
  ['momentum', { momentum: 0.9 }],
  ['momentum with dampening', { momentum: 0.8, dampening: 0.3 }],
  ['nesterov', { momentum: 0.9, nesterov: true }],
  ['weight decay', { weightDecay: 0.05 }],
  ['nesterov + weight decay + maximize', { momentum: 0.5, nesterov: true, weightDecay: 0.01, maximize: true }],
];
const ADAM_CASES: [string, Partial<AdamOptions>][] = [
  ['defaults', {}],
  ['betas and eps', { betas: [0.5, 0.9], eps: 1e-3 }],
  ['L2 weight decay', { weightDecay: 0.1 }],
  ['AdamW', { weightDecay: 0.1, decoupled: true }],
  ['amsgrad', { amsgrad: true, betas: [0.8, 0.5] }],
  ['AdamW + amsgrad + maximize', { weightDecay: 0.02, decoupled: true, amsgrad: true, maximize: true }],
];

/** theta after the steps of `o` bound to c, and the state's step count. */
function run(o: Optimizer, c: Compiled, grads = GRADS): { theta: Float64Array; steps: number } {
  const s = o.bind(c);
  const theta = THETA.slice();
  for (const g of grads) s.step(theta, g);
  const steps = s.steps;
  s.dispose();
  return { theta, steps };
}

describe('schedules', () => {
  it('follow the closed forms of PyTorch StepLR, CosineAnnealingLR and LinearLR, counted in optimizer steps', () => {
    expect([0, 1, 100].map(constantLr(0.3))).toEqual([0.3, 0.3, 0.3]);
    const s = stepLr({ lr: 1, stepSize: 3, gamma: 0.5 });
    expect([0, 1, 2, 3, 5, 6, 9].map(s)).toEqual([1, 1, 1, 0.5, 0.5, 0.25, 0.125]);
    expect(stepLr({ lr: 2, stepSize: 1 })(2)).toBeCloseTo(0.02, 15); // gamma 0.1 by default
    const c = cosineLr({ lr: 1, tMax: 10, etaMin: 0.1 });
    for (const t of [0, 1, 5, 7, 10, 15])
      expect(c(t)).toBeCloseTo(0.1 + (0.9 * (1 + Math.cos((Math.PI * t) / 10))) / 2, 15);
    expect(c(0)).toBe(1);
    expect(c(10)).toBeCloseTo(0.1, 15);
    expect(c(20)).toBeCloseTo(1, 15); // the cosine goes on after tMax, as PyTorch's closed form does
    const w = linearWarmup({ steps: 4, then: c, startFactor: 0.2 });
    [0.2, 0.4, 0.6, 0.8].forEach((factor, t) => expect(w(t)).toBeCloseTo(factor * c(0), 15));
    expect([4, 5, 9].map(w)).toEqual([c(0), c(1), c(5)]);
    const plain = linearWarmup({ steps: 3, then: 0.6 }); // PyTorch's default start factor 1/3
    expect(plain(0)).toBeCloseTo(0.2, 15);
    expect(plain(3)).toBe(0.6);
  });

  it('reject bad options and bad steps', () => {
    expect(() => constantLr(0)).toThrow(/constantLr: lr must be a number in \(0, inf\), got 0/);
    expect(() => stepLr({ lr: 1, stepSize: 0 })).toThrow(/stepSize must be an integer/);
    expect(() => stepLr({ lr: 1, stepSize: 2.5 })).toThrow(/stepSize/);
    expect(() => stepLr({ lr: 1, stepSize: 2, gama: 0.5 } as never)).toThrow(
      /stepLr: unknown option 'gama' \(expected lr, stepSize, gamma\)/,
    );
    expect(() => cosineLr({ lr: 1, tMax: 10, etaMin: 2 })).toThrow(/etaMin must be a number in \[0, 1\]/);
    expect(() => cosineLr({ lr: NaN, tMax: 10 })).toThrow(/lr/);
    expect(() => linearWarmup({ steps: 3, then: 'x' as never })).toThrow(/then must be a schedule/);
    expect(() => linearWarmup({ steps: 3, then: 1, startFactor: 0 })).toThrow(/startFactor/);
    expect(() => cosineLr({ lr: 1, tMax: 10 })(-1)).toThrow(/step must be an integer >= 0, got -1/);
    expect(() => stepLr({ lr: 1, stepSize: 2 })(0.5)).toThrow(/step/);
  });
});

describe('optimizer options', () => {
  it('are checked when the optimizer is created, naming the option', () => {
    expect(() => sgd({} as never)).toThrow(/sgd: lr is required/);
    expect(() => sgd({ lr: 0 })).toThrow(/sgd: lr must be a number in \(0, inf\), got 0/);
    expect(() => sgd({ lr: -1 })).toThrow(RangeError);
    expect(() => sgd({ lr: 0.1, momentum: -0.5 })).toThrow(/momentum/);
    expect(() => sgd({ lr: 0.1, dampening: 2 })).toThrow(/dampening must be a number in \[0, 1\]/);
    expect(() => sgd({ lr: 0.1, nesterov: true })).toThrow(/nesterov needs momentum > 0 and dampening 0/);
    expect(() => sgd({ lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/nesterov/);
    expect(() => sgd({ lr: 0.1, weightDecay: NaN })).toThrow(/weightDecay/);
    expect(() => sgd({ lr: 0.1, nesterov: 1 } as never)).toThrow(/nesterov must be a boolean/);
    expect(() => sgd({ lr: 0.1, momentun: 0.9 } as never)).toThrow(/sgd: unknown option 'momentun'/);
    expect(() => adam({ betas: [0.9, 1] })).toThrow(/adam: betas\[1\] must be a number in \[0, 1\), got 1/);
    expect(() => adam({ betas: [-0.1, 0.9] })).toThrow(/betas\[0\]/);
    expect(() => adam({ betas: [0.9] as never })).toThrow(/betas must be \[beta1, beta2\]/);
    expect(() => adam({ eps: -1 })).toThrow(/eps/);
    expect(() => adam({ lr: Infinity })).toThrow(/lr/);
    expect(() => adam({ weightDecay: -0.1 })).toThrow(/weightDecay/);
    expect(() => adam({ amsgrad: 'yes' } as never)).toThrow(/amsgrad must be a boolean/);
    expect(() => adam({ beta1: 0.9 } as never)).toThrow(
      /adam: unknown option 'beta1' \(expected lr, betas, eps, weightDecay, decoupled, amsgrad, maximize\)/,
    );
    expect(() => adam(5 as never)).toThrow(/options must be an object/);
  });

  it('are resolved with their defaults', () => {
    const a = adam();
    expect(a.kind).toBe('adam');
    expect(a.options).toMatchObject({
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      decoupled: false,
      amsgrad: false,
    });
    expect(sgd({ lr: 0.5 }).options).toMatchObject({
      lr: 0.5,
      momentum: 0,
      dampening: 0,
      nesterov: false,
      weightDecay: 0,
    });
  });
});

describeEachBackend('optimizers', (be, name) => {
  let js: Compiled;
  const compile = () => be().compile(model());
  const reference = async () => (js ??= (await backend('js')).compile(model()));

  it('SGD steps by hand: momentum buffer starts as the gradient', () => {
    const c = be().compile(define({ params: { w: [2] } }, ({ w }) => w.sum()));
    const s = sgd({ lr: 0.1, momentum: 0.9 }).bind(c);
    const theta = Float64Array.of(1, -2),
      g = Float64Array.of(0.5, 1);
    s.step(theta, g);
    expectVector(theta, [0.95, -2.1], 1e-15, 'step 1: theta - lr g');
    s.step(theta, g);
    expectVector(theta, [0.95 - 0.1 * 0.95, -2.1 - 0.1 * 1.9], 1e-15, 'step 2: b = 0.9 g + g');
    expect(s.steps).toBe(2);
  });

  it('Adam steps by hand: the first step moves each parameter by about lr against its gradient sign', () => {
    const c = be().compile(define({ params: { w: [3] } }, ({ w }) => w.sum()));
    const s = adam({ lr: 0.1 }).bind(c);
    const theta = Float64Array.of(1, 1, 1),
      g = Float64Array.of(2, -0.5, 0);
    s.step(theta, g);
    // m_hat = g, v_hat = g^2: theta - lr g / (|g| + eps)
    expectVector(theta, [1 - (0.1 * 2) / (2 + 1e-8), 1 + (0.1 * 0.5) / (0.5 + 1e-8), 1], 1e-15, 'step 1');
  });

  for (const [what, opts] of SGD_CASES)
    it(`SGD ${what}: PyTorch's rule over five steps, and the js backend's bits`, async () => {
      const got = run(sgd({ lr: 0.05, ...opts }), compile());
      expect(got.steps).toBe(5);
      const want = sgdOracle(THETA, GRADS, { ...SGD_DEFAULTS, ...opts, lr: () => 0.05 });
      expectVector(got.theta, want, 1e-15, `sgd ${what}`);
      expect(got.theta).toEqual(run(sgd({ lr: 0.05, ...opts }), await reference()).theta); // bit for bit
    });

  for (const [what, opts] of ADAM_CASES)
    it(`Adam ${what}: PyTorch's rule over five steps, and the js backend's bits`, async () => {
      const got = run(adam({ lr: 0.01, ...opts }), compile());
      const want = adamOracle(THETA, GRADS, { ...ADAM_DEFAULTS, ...opts, lr: () => 0.01 });
      // the kernels fold the bias corrections into two scalars (optimizers.ts): the same expression, other roundings
      expectVector(got.theta, want, 1e-14, `adam ${what}`);
      expect(got.theta).toEqual(run(adam({ lr: 0.01, ...opts }), await reference()).theta);
    });

  it("a schedule sets each step's rate, and lr reports the next one", () => {
    const schedule = linearWarmup({ steps: 2, then: stepLr({ lr: 0.1, stepSize: 2, gamma: 0.5 }) });
    const s = sgd({ lr: schedule, momentum: 0.9 }).bind(compile());
    expect(s.lr).toBe(schedule(0));
    const theta = THETA.slice();
    for (const g of GRADS) s.step(theta, g);
    expect(s.lr).toBe(schedule(5));
    expectVector(
      theta,
      sgdOracle(THETA, GRADS, { ...SGD_DEFAULTS, momentum: 0.9, lr: schedule }),
      1e-15,
      'scheduled sgd',
    );
    const a = run(adam({ lr: cosineLr({ lr: 0.1, tMax: 4 }), amsgrad: true }), compile());
    expectVector(
      a.theta,
      adamOracle(THETA, GRADS, { ...ADAM_DEFAULTS, amsgrad: true, lr: cosineLr({ lr: 0.1, tMax: 4 }) }),
      1e-14,
      'scheduled adam',
    );
  });

  it('a schedule that returns a bad rate stops the step before anything changes', () => {
    const s = sgd({ lr: (t) => (t < 1 ? 0.1 : NaN) }).bind(compile());
    const theta = THETA.slice();
    s.step(theta, GRADS[0]);
    const before = theta.slice();
    expect(() => s.step(theta, GRADS[1])).toThrow(/schedule returned NaN at step 1/);
    expect(theta).toEqual(before);
    expect(s.steps).toBe(1);
  });

  it('wrong lengths, types and aliasing throw, leaving theta and the state as they were', () => {
    const c = compile();
    const s = adam({ lr: 0.1 }).bind(c);
    const theta = THETA.slice();
    expect(() => s.step(theta.subarray(1), GRADS[0])).toThrow(/theta must have 19 elements, got 18/);
    expect(() => s.step(theta, new Float64Array(20))).toThrow(/gradient must have 19 elements, got 20/);
    expect(() => s.step(theta, Array.from(GRADS[0]) as never)).toThrow(TypeError);
    expect(() => s.step(theta, theta)).toThrow(/must not share memory/);
    expect(theta).toEqual(THETA);
    expect(s.steps).toBe(0);
    s.step(theta, GRADS[0]); // still usable, and still the first step
    expect(theta).toEqual(run(adam({ lr: 0.1 }), c, [GRADS[0]]).theta);
  });

  it(`the ${name} engine's own optimizer state checks its arguments too`, () => {
    const { engine } = compile();
    const a = engine.adam(N, {
      beta1: 0.9,
      beta2: 0.999,
      weightDecay: 0,
      decoupled: false,
      amsgrad: false,
      maximize: false,
    });
    const theta = THETA.slice();
    expect(() => a.step(theta.subarray(2), GRADS[0], 0.1, 1, 1)).toThrow(RangeError);
    expect(() => a.step(theta, new Float32Array(N) as never, 0.1, 1, 1)).toThrow(/grad must be a Float64Array/);
    expect(() => a.step(theta, GRADS[0], NaN, 1, 1)).toThrow(/stepSize must be a finite number/);
    expect(() => a.step(theta, GRADS[0], 0.1, Infinity, 1)).toThrow(/epsHat must be a finite number/);
    expect(theta).toEqual(THETA);
    a.dispose();
    expect(() => a.step(theta, GRADS[0], 0.1, 1, 1)).toThrow(/disposed/);
    const s = engine.sgd(N, { momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, maximize: false });
    expect(() => s.step(theta, GRADS[0].subarray(0, 3), 0.1, true)).toThrow(RangeError);
    expect(() => s.step(theta, GRADS[0], Infinity, true)).toThrow(/lr must be a finite number/);
    s.step(theta, GRADS[0], 0.1, true);
    s.dispose();
    s.dispose();
  });

  it('steps after dispose throw; binding to a disposed compiled function throws', () => {
    const c = compile();
    for (const o of [sgd({ lr: 0.1, momentum: 0.5 }), adam()]) {
      const s = o.bind(c);
      s.dispose();
      s.dispose(); // twice is fine
      expect(() => s.step(THETA.slice(), GRADS[0])).toThrow(
        new RegExp(`${o.kind}: this optimizer state \\(${name} backend\\) was disposed`),
      );
    }
    c.dispose();
    expect(() => adam().bind(c)).toThrow(/cannot bind to a disposed compiled function/);
    expect(() => adam().bind({} as never)).toThrow(/bind expects a compiled function/);
  });

  it('trains a quadratic to its minimum', () => {
    const n = 50;
    const f = define({ params: { w: [n] }, inputs: { c: [n], a: [n] } }, ({ w }, { c, a }) =>
      w.sub(c).square().mul(a).sum(),
    );
    const c = be().compile(f);
    const inputs = { c: random(n, 7, -3, 3), a: random(n, 8, 0.5, 2) };
    const g = new Float64Array(n);
    for (const [o, steps, tol] of [
      [sgd({ lr: 0.05, momentum: 0.9, nesterov: true }), 300, 1e-8],
      [adam({ lr: cosineLr({ lr: 0.1, tMax: 1000, etaMin: 1e-4 }) }), 1000, 1e-3],
    ] as const) {
      const s = o.bind(c);
      const theta = new Float64Array(n);
      for (let k = 0; k < steps; k++) {
        c.gradFlat(theta, inputs, g);
        s.step(theta, g);
      }
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(theta[i] - inputs.c[i]));
      expect(worst, `${o.kind}: largest distance to the minimum`).toBeLessThan(tol);
      s.dispose();
    }
  });
});

describe.runIf(TEST_BACKENDS.includes('wasm'))("the wasm module's optimizer state blocks", () => {
  it('refuses addresses it did not hand out or has taken back, and reuses freed memory', async () => {
    const w = await instantiateWasm(); // a private instance: raw exports
    const p = w.optimCreate(N, 2);
    expect(p).toBeGreaterThan(0);
    expect(w.optimVector(p, N, 2, 0)).toBe(p + 16);
    for (const [q, n, vectors] of [
      [0, N, 2],
      [p + 16, N, 2],
      [p, N + 1, 2],
      [p, N, 3],
      [2 ** 31, N, 2],
      [p + 3, N, 2],
    ]) {
      expect(w.optimVector(q, n, vectors, 0)).toBe(0);
      expect(w.adamStep(q, n, 0, 0, 0, 0.9, 0.999, vectors === 3 ? 1 : 0, 1e-3, 1e-8, 1)).toBe(-1);
    }
    expect(w.optimVector(p, N, 2, 4)).toBe(0); // past its vectors
    expect(w.sgdStep(p, N, 0, 0, 0.9, 0, 0.1, 0, 1)).toBe(-1); // an Adam block is not an SGD block (1 vector)
    expect(w.adamStep(p, N, 0, 0, 0, 0.9, 0.999, 0, 1e-3, 1e-8, 1)).toBe(0);
    expect(w.optimFree(p, N, 2)).toBeTruthy();
    expect(w.optimFree(p, N, 2)).toBeFalsy();
    expect(w.adamStep(p, N, 0, 0, 0, 0.9, 0.999, 0, 1e-3, 1e-8, 1)).toBe(-1);
    const used = w.heapInUse();
    for (let k = 0; k < 50; k++) w.optimFree(w.optimCreate(10_000, 3), 10_000, 3);
    expect(w.heapInUse()).toBe(used);
    expect(w.optimCreate(-1, 2)).toBe(0);
    expect(w.optimCreate(2 ** 31 - 1, 3)).toBe(0); // beyond what the module will allocate
  });

  it('a state dropped without dispose() gives its block back when collected', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/fixtures/bind-and-drop.ts'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
    });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.theta0).toBeLessThan(1); // the steps ran
    expect(r.end).toBeLessThanOrEqual(r.warm); // 2000 leaked blocks would hold 2000 x 200 kB
  });
});

describe.runIf(TEST_BACKENDS.includes('native'))('the native Optimizer constructor', () => {
  it('checks the kind, the count and every option before allocating', () => {
    const { Optimizer } = loadAddon();
    const sgdConfig = { momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0, maximize: false };
    const adamConfig = { beta1: 0.9, beta2: 0.999, weightDecay: 0, decoupled: false, amsgrad: false, maximize: false };
    expect(() => new Optimizer('rmsprop' as never, 3, sgdConfig)).toThrow(
      /kind must be 'sgd' or 'adam', got 'rmsprop'/,
    );
    expect(() => new Optimizer('sgd', -1, sgdConfig)).toThrow(RangeError);
    expect(() => new Optimizer('sgd', 2.5, sgdConfig)).toThrow(/n must be an integer/);
    expect(() => new Optimizer('sgd', 3, null as never)).toThrow(/config must be an object/);
    expect(() => new Optimizer('sgd', 3, { ...sgdConfig, momentum: NaN })).toThrow(/momentum must be a finite number/);
    expect(() => new Optimizer('sgd', 3, { ...sgdConfig, nesterov: 'no' as never })).toThrow(
      /nesterov must be a boolean/,
    );
    expect(() => new Optimizer('sgd', 3, { ...sgdConfig, nesterov: true, dampening: 0.5 })).toThrow(
      /nesterov needs momentum > 0 and dampening 0/,
    );
    expect(() => new Optimizer('adam', 3, { ...adamConfig, beta1: 1 })).toThrow(
      /beta1 must be a finite number in \[0, 1\), got 1/,
    );
    expect(() => new Optimizer('adam', 3, { ...adamConfig, weightDecay: -1 })).toThrow(/weightDecay/);
    expect(() => new Optimizer('adam', 3, { ...adamConfig, amsgrad: undefined as never })).toThrow(
      /amsgrad must be a boolean/,
    );
    const ok = new Optimizer('adam', 3, adamConfig);
    const theta = Float64Array.of(1, 2, 3);
    ok.step(theta, Float64Array.of(1, 1, 1), 0.1, 1e-8, 1);
    expect(theta[0]).toBeLessThan(1);
    const shared = new Float64Array(6);
    expect(() => ok.step(shared.subarray(0, 3), shared.subarray(2, 5), 0.1, 1e-8, 1)).toThrow(/must not share memory/);
  });
});
