import { describe, expect, it } from 'vitest';
import { backend, define } from '../src/index.js';
import { describeEachBackend, expectVector, random, TEST_BACKENDS } from './harness.js';

const model = (d: number, m: number) =>
  define({ params: { w: [d], c: [] }, inputs: { X: [m, d] } }, ({ w, c }, { X }) =>
    X.matmul(w).add(c).tanh().square().sum(),
  );

describeEachBackend('gradAsync and gradFlatAsync', (be) => {
  const f = model(20, 30);
  const params = { w: random(20, 1), c: 0.3 };
  const inputs = { X: random(600, 2) };

  it('give what grad and gradFlat give, for every method', async () => {
    const c = be().compile(f);
    try {
      for (const method of ['reverse', 'fd-forward', 'fd-central', 'forward'] as const) {
        const want = c.grad(params, inputs, { method });
        const got = await c.gradAsync(params, inputs, { method });
        expect(got.value).toBe(want.value);
        expectVector(c.flatten(got.grad), c.flatten(want.grad), 0, `${method} async vs sync`);
        const out = new Float64Array(c.paramCount);
        expect(await c.gradFlatAsync(c.flatten(params), inputs, out, { method })).toBe(want.value);
        expectVector(out, c.flatten(want.grad), 0, `${method} flat async vs sync`);
      }
    } finally {
      c.dispose();
    }
  });

  it('copy theta and inputs at the call: changing them at once does not change the result', async () => {
    const c = be().compile(f);
    const theta = c.flatten(params);
    const X = Float64Array.from(inputs.X);
    const want = new Float64Array(c.paramCount);
    const value = c.gradFlat(theta, { X }, want, { method: 'fd-central' });
    const out = new Float64Array(c.paramCount);
    const pending = c.gradFlatAsync(theta, { X }, out, { method: 'fd-central' });
    theta.fill(7);
    X.fill(-1);
    expect(await pending).toBe(value);
    expectVector(out, want, 0, 'async gradient after the caller changed its buffers');
    c.dispose();
  });

  it('the compiled function is busy until the promise settles: calls throw, a second async call rejects', async () => {
    const c = be().compile(f);
    const theta = c.flatten(params);
    const out = new Float64Array(c.paramCount);
    const pending = c.gradFlatAsync(theta, inputs, out, { method: 'fd-forward' });
    expect(() => c.value(params, inputs)).toThrow(/busy with an asynchronous gradient/);
    expect(() => c.gradFlat(theta, inputs, out)).toThrow(/busy/);
    await expect(c.gradAsync(params, inputs)).rejects.toThrow(/busy/);
    await pending;
    expect(Number.isFinite(c.value(params, inputs))).toBe(true);
    c.dispose();
  });

  it('rejects bad arguments, like the synchronous forms throw', async () => {
    const c = be().compile(f);
    await expect(c.gradFlatAsync(new Float64Array(3), inputs, new Float64Array(c.paramCount))).rejects.toThrow(
      RangeError,
    );
    await expect(c.gradAsync(params, {})).rejects.toThrow(/missing input 'X'/);
    await expect(c.gradAsync(params, inputs, { method: 'nope' as never })).rejects.toThrow(/unknown method/);
    c.dispose();
    await expect(c.gradAsync(params, inputs)).rejects.toThrow(/disposed/);
  });

  it('dispose during a call is safe: the call completes, later calls throw', async () => {
    const c = be().compile(f);
    const pending = c.gradAsync(params, inputs, { method: 'fd-central' });
    c.dispose();
    const r = await pending;
    expect(Number.isFinite(r.value)).toBe(true);
    expect(() => c.value(params, inputs)).toThrow(/disposed/);
  });
});

describeEachBackend('asynchronous gradients of several compiled functions at once', (be) => {
  it('each gives its own synchronous result', async () => {
    const fs = [model(8, 40), model(13, 25), model(30, 9)];
    const cs = fs.map((f) => be().compile(f));
    const args = fs.map((f, k) => ({
      params: { w: random(f.paramCount - 1, 20 + k), c: 0.1 * k },
      inputs: { X: random(f.inputs[0].size, 30 + k) },
    }));
    const want = cs.map((c, k) => c.grad(args[k].params, args[k].inputs, { method: 'fd-central' }));
    const got = await Promise.all(
      cs.map((c, k) => c.gradAsync(args[k].params, args[k].inputs, { method: 'fd-central' })),
    );
    got.forEach((g, k) => {
      expect(g.value).toBe(want[k].value);
      expectVector(cs[k].flatten(g.grad), cs[k].flatten(want[k].grad), 0, `function ${k}`);
    });
    cs.forEach((c) => c.dispose());
  });
});

describe.runIf(TEST_BACKENDS.includes('native'))('native gradAsync runs on a worker thread', () => {
  for (const method of ['fd-central', 'forward'] as const)
    it(`the event loop stays responsive during a long ${method} gradient`, async () => {
      // one thread: the gradient holds one core and the event loop has the other; with the pool on
      // every core the loop competes with the gradient for CPU, which is the scheduler's business,
      // not the property tested here (that the call does not block the loop)
      // 1,000 rows: forward mode's 1,501 coordinates together take over 100 ms on a fast build
      const c = (await backend('native', { threads: 1 })).compile(model(1500, 1000));
      const params = { w: random(1500, 3, -0.01, 0.01), c: 0.1 };
      const inputs = { X: random(1_500_000, 4) };
      // about 300 ms of work whatever the build's speed (the sanitizer build is ~50x slower):
      // as many coordinates as fit, timed on a few (warm, best of 3), then doubled while the call
      // stays short (a few coordinates also pay the first sweep, which forward mode's later
      // coordinates do not: the first estimate can be several times too high)
      const few = { method, reuse: false, coordinates: [0, 1, 2, 3] } as const;
      let perCoordinate = Infinity;
      for (let r = 0; r < 3; r++) {
        const t = performance.now();
        c.grad(params, inputs, few);
        perCoordinate = Math.min(perCoordinate, (performance.now() - t) / 4);
      }
      const options = (k: number) =>
        ({ method, reuse: false, coordinates: Array.from({ length: k }, (_, i) => i) }) as const;
      let k = Math.min(1501, Math.max(4, Math.ceil(300 / perCoordinate)));
      const sync = () => {
        const t0 = performance.now();
        const want = c.grad(params, inputs, options(k));
        return { want, syncMs: performance.now() - t0 };
      };
      let { want, syncMs } = sync();
      while (syncMs < 200 && k < 1501) {
        k = Math.min(1501, 2 * k);
        ({ want, syncMs } = sync());
      }

      let ticks = 0,
        last = performance.now(),
        maxGap = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
        ticks++;
      }, 2);
      const start = performance.now();
      const got = await c.gradAsync(params, inputs, options(k));
      const asyncMs = performance.now() - start;
      clearInterval(timer);

      expect(syncMs, 'the call must be long enough to tell').toBeGreaterThan(100);
      expect(got.value).toBe(want.value);
      expectVector(c.flatten(got.grad), c.flatten(want.grad), 0, 'async vs sync');
      // a blocked loop would tick about once, after the call; a free one ticks every few ms (the
      // bounds leave room for a busy 2-core machine: the worker holds one core)
      expect(ticks).toBeGreaterThan(asyncMs / 25);
      expect(maxGap).toBeLessThan(Math.max(100, asyncMs / 3));
      c.dispose();
    });
});
