/**
 * No crash, no use-after-free and no wrong result from any caller (issue 11, items 1-3):
 * - user code that runs while a call reads its arguments (a getter on the inputs array or on
 *   Array.prototype, on the named inputs, on options) cannot dispose, replace or re-enter what
 *   the call is about to use: every value is read and validated before any pointer is taken;
 * - terminating a worker thread (or process.exit in it) while a native gradAsync runs leaves the
 *   process alive;
 * - `coordinates: []` computes no coordinate, on every backend.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { define } from '../src/index.js';
import { load } from '../src/backends/registry.js';
import type { NativeProgramHandle } from '../src/backends/native/loader.js';
import { describeEachBackend, expectVector, TEST_BACKENDS } from './harness.js';

// f = c * (w . x) + sum(y)
const f = () =>
  define({ params: { w: [3], c: [] }, inputs: { x: [3], y: [2] } }, ({ w, c }, { x, y }) =>
    w.mul(x).sum().mul(c).add(y.sum()),
  );
const theta = Float64Array.of(1, 2, 3, 0.5);
const x = Float64Array.of(0.1, 0.2, 0.3);
const y = Float64Array.of(1, 2);
const F = 0.5 * (0.1 + 0.4 + 0.9) + 3; // f(theta, x, y)
const G = [0.05, 0.1, 0.15, 1.4]; // its gradient
const other = [Float64Array.of(100, 100, 100), Float64Array.of(1000, 1000)];

/** `arr` with an accessor at index `i` that runs `effect` and then gives `value`. */
function withGetter<T>(arr: T[], i: number, value: T, effect: () => void): T[] {
  Object.defineProperty(arr, i, {
    get() {
      effect();
      return value;
    },
    enumerable: true,
    configurable: true,
  });
  return arr;
}

/** Detaches a buffer (its memory is gone: any pointer into it dangles). */
const detach = (a: ArrayBufferView) => structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });

describe.runIf(TEST_BACKENDS.includes('native'))(
  'the native binding reads every argument before it touches memory',
  () => {
    const program = async () => (await load('native')).load(f().tape) as NativeProgramHandle;

    it('a getter on the inputs array that disposes the function: a clear error, no use-after-free', async () => {
      const p = await program();
      const inputs = withGetter([x], 1, y, () => p.dispose());
      expect(() => p.value(theta, inputs)).toThrow(/disposed/);
      expect(() => p.value(theta, [x, y])).toThrow(/disposed/);
    });

    it('an accessor on Array.prototype[1] (read through a hole) that disposes: a clear error', async () => {
      const p = await program();
      const inputs: Float64Array[] = [x];
      inputs.length = 2;
      Object.defineProperty(Array.prototype, 1, {
        get() {
          p.dispose();
          return y;
        },
        configurable: true,
      });
      try {
        expect(() => p.reverse(theta, inputs, new Float64Array(4))).toThrow(/disposed/);
      } finally {
        delete (Array.prototype as unknown as Record<number, unknown>)[1];
      }
    });

    it('a getter that detaches an argument read before it: a length error, not freed memory read as data', async () => {
      const p = await program();
      const x0 = Float64Array.from(x);
      expect(() =>
        p.value(
          theta,
          withGetter([x0], 1, y, () => detach(x0)),
        ),
      ).toThrow(/input 0 must have 3 elements, got 0/);
      const t = Float64Array.from(theta);
      expect(() =>
        p.value(
          t,
          withGetter([x], 1, y, () => detach(t)),
        ),
      ).toThrow(/theta must have 4 elements, got 0/);
      const g = new Float64Array(4);
      expect(() =>
        p.reverse(
          theta,
          withGetter([x], 1, y, () => detach(g)),
          g,
        ),
      ).toThrow(/gradient buffer must have 4 elements, got 0/);
      const ga = new Float64Array(4);
      expect(() =>
        p.reverseAsync(
          theta,
          withGetter([x], 1, y, () => detach(ga)),
          ga,
        ),
      ).toThrow(/gradient buffer must have 4 elements, got 0/);
      const o = new Float64Array(1);
      expect(() =>
        p.value(
          theta,
          withGetter([x], 1, y, () => detach(o)),
          o,
        ),
      ).toThrow(/outputs buffer must have 1 elements, got 0/);
      expect(p.value(theta, [x, y])).toBe(F);
      p.dispose();
    });

    it('a getter that replaces an input already read: the call uses what it read', async () => {
      const p = await program();
      const inputs = [Float64Array.from(x)];
      withGetter(inputs, 1, y, () => {
        inputs[0] = other[0];
      });
      expect(p.value(theta, inputs)).toBe(F);
      p.dispose();
    });

    it('a nested call from a getter is refused as busy; the outer call gives its own result', async () => {
      const p = await program();
      const errors: unknown[] = [];
      const nested = (call: () => unknown) => () => {
        try {
          call();
        } catch (e) {
          errors.push(e);
        }
      };
      expect(
        p.value(
          theta,
          withGetter(
            [x],
            1,
            y,
            nested(() => p.value(theta, other)),
          ),
        ),
      ).toBe(F);
      const g = new Float64Array(4);
      expect(
        p.reverse(
          theta,
          withGetter(
            [x],
            1,
            y,
            nested(() => p.reverse(theta, other, new Float64Array(4))),
          ),
          g,
        ),
      ).toBe(F);
      expectVector(g, G, 1e-15, 'reverse with a nested call');
      expect(errors).toHaveLength(2);
      for (const e of errors) expect(String(e)).toMatch(/busy/);
      expect(p.busy).toBe(false);
      p.dispose();
    });

    it('a sync FD call and an async one never share the arenas, whichever starts the other from a getter', async () => {
      const p = await program();
      const want = new Float64Array(4);
      p.fd(theta, [x, y], want, true, 1e-5, true);
      const errors: unknown[] = [];
      // the sync call's getter tries to start an async one
      const g1 = new Float64Array(4);
      const inner = new Float64Array(4);
      const sync = withGetter([x], 1, y, () => {
        try {
          void p.fdAsync(theta, other, inner, true, 1e-5, true);
        } catch (e) {
          errors.push(e);
        }
      });
      expect(p.fd(theta, sync, g1, true, 1e-5, true)).toBe(F);
      expectVector(g1, want, 0, 'sync FD whose getter tried an async one');
      // the async call's getter tries a sync one
      const g2 = new Float64Array(4);
      const asyncInputs = withGetter([x], 1, y, () => {
        try {
          p.fd(theta, other, inner, true, 1e-5, true);
        } catch (e) {
          errors.push(e);
        }
      });
      expect(await p.fdAsync(theta, asyncInputs, g2, true, 1e-5, true)).toBe(F);
      expectVector(g2, want, 0, 'async FD whose getter tried a sync one');
      expect(inner.every((v) => v === 0)).toBe(true);
      expect(errors).toHaveLength(2);
      for (const e of errors) expect(String(e)).toMatch(/busy/);
      p.dispose();
    });

    it('a getter that disposes during an async call: the promise is refused, nothing runs on freed arenas', async () => {
      const p = await program();
      const g = new Float64Array(4);
      expect(() =>
        p.fdAsync(
          theta,
          withGetter([x], 1, y, () => p.dispose()),
          g,
          false,
          1e-6,
          true,
        ),
      ).toThrow(/disposed/);
      expect(g.every((v) => v === 0)).toBe(true);
    });
  },
);

describeEachBackend('user code run while a call reads its arguments', (be) => {
  const params = { w: theta.subarray(0, 3), c: 0.5 };

  it('a getter that disposes the function: a clear error', () => {
    const c = be().compile(f());
    expect(() =>
      c.value(params, {
        x,
        get y() {
          c.dispose();
          return y;
        },
      }),
    ).toThrow(/disposed/);
    const c2 = be().compile(f());
    const ys = withGetter([1, 2], 1, 2, () => c2.dispose());
    expect(() => c2.grad(params, { x, y: ys })).toThrow(/disposed/);
  });

  it('a nested call from a getter is refused; the outer call gives its own result', () => {
    const c = be().compile(f());
    let error: unknown;
    const inputs = {
      x,
      get y() {
        try {
          c.value({ w: other[0], c: 7 }, { x: other[0], y: other[1] });
        } catch (e) {
          error = e;
        }
        return y;
      },
    };
    const r = c.grad(params, inputs);
    expect(r.value).toBe(F);
    expectVector(c.flatten(r.grad), G, 1e-15, 'gradient with a nested call in a getter');
    expect(String(error)).toMatch(/busy/);
    expect(c.value(params, { x, y })).toBe(F);
    c.dispose();
  });

  it('a getter that starts an async gradient during a sync call: refused, the sync call is right', async () => {
    const c = be().compile(f());
    let pending: Promise<unknown> | undefined;
    const inputs = {
      x,
      get y() {
        pending = c.gradAsync(params, { x: other[0], y: other[1] }, { method: 'fd-central' });
        return y;
      },
    };
    const want = c.grad(params, { x, y }, { method: 'fd-central' });
    const r = c.grad(params, inputs, { method: 'fd-central' });
    expect(r.value).toBe(F);
    expectVector(c.flatten(r.grad), c.flatten(want.grad), 0, 'sync FD whose getter started an async one');
    await expect(pending).rejects.toThrow(/busy/);
    c.dispose();
  });

  it('a getter that detaches an input read before it: a length error, not NaN or stale data', () => {
    const c = be().compile(f());
    const x0 = Float64Array.from(x);
    expect(() =>
      c.value(params, {
        x: x0,
        get y() {
          detach(x0);
          return y;
        },
      }),
    ).toThrow(RangeError);
    const t = Float64Array.from(theta);
    expect(() =>
      c.gradFlat(
        t,
        {
          x,
          get y() {
            detach(t);
            return y;
          },
        },
        new Float64Array(4),
      ),
    ).toThrow(RangeError);
    const out = new Float64Array(4);
    expect(() =>
      c.gradFlat(theta, { x, y }, out, {
        get method() {
          detach(out);
          return 'fd-forward' as const;
        },
      }),
    ).toThrow(RangeError);
    expect(c.value(params, { x, y })).toBe(F);
    c.dispose();
  });

  it('an element getter of a number[] runs once: validated value = used value', () => {
    const c = be().compile(f());
    let reads = 0;
    const ys = withGetter([1, 0], 1, 0, () => {});
    Object.defineProperty(ys, 1, {
      get() {
        reads++;
        return reads === 1 ? 2 : ('oops' as unknown as number);
      },
    });
    expect(c.value(params, { x, y: ys })).toBe(F);
    expect(reads).toBe(1);
    c.dispose();
  });

  it('options read once: a getter cannot pass validation with one value and run with another', () => {
    const c = be().compile(f());
    const want = new Float64Array(4);
    const v = c.gradFlat(theta, { x, y }, want, { method: 'fd-forward', eps: 1e-6, coordinates: [0, 3] });
    let epsReads = 0,
      coordReads = 0;
    const coordinates = [0, 3];
    Object.defineProperty(coordinates, 1, { get: () => (++coordReads === 1 ? 3 : 1e9) });
    const out = new Float64Array(4);
    const opts = {
      method: 'fd-forward' as const,
      get eps() {
        return ++epsReads === 1 ? 1e-6 : -1;
      },
      coordinates,
    };
    expect(c.gradFlat(theta, { x, y }, out, opts)).toBe(v);
    expectVector(out, want, 0, 'FD with getters in the options');
    expect([epsReads, coordReads]).toEqual([1, 1]);
    c.dispose();
  });
});

describeEachBackend('coordinates: [] means no coordinate', (be) => {
  it('computes the value and writes nothing, for both FD methods, sync and async', async () => {
    const c = be().compile(f());
    for (const method of ['fd-forward', 'fd-central'] as const) {
      const out = new Float64Array(4).fill(7);
      expect(c.gradFlat(theta, { x, y }, out, { method, coordinates: [] })).toBe(F);
      expect(Array.from(out)).toEqual([7, 7, 7, 7]);
      expect(await c.gradFlatAsync(theta, { x, y }, out, { method, coordinates: [] })).toBe(F);
      expect(Array.from(out)).toEqual([7, 7, 7, 7]);
      const r = c.grad({ w: theta.subarray(0, 3), c: 0.5 }, { x, y }, { method, coordinates: new Int32Array(0) });
      expect(Array.from(c.flatten(r.grad))).toEqual([0, 0, 0, 0]);
    }
    c.dispose();
  });
});

describe.runIf(TEST_BACKENDS.includes('native'))('a worker thread ended while a native gradAsync runs', () => {
  it('terminate() and process.exit() in the worker, repeatedly, mid-gradient: the process lives', () => {
    // the child: a slow FD gradient in a worker, which is then terminated (or exits) at varied
    // moments, before, during and around the gradient's completion
    const script = `
      import { Worker } from 'node:worker_threads';
      import { resolve } from 'node:path';
      const t = await import('./src/index.ts');
      const d = 200, m = 200;
      const model = t.define({ params: { w: [d] }, inputs: { X: [m, d] } }, ({ w }, { X }) => X.matmul(w).tanh().sum());
      const path = resolve(process.env.TAPEGRAD_NATIVE_PATH || 'build/Release/tapegrad.node');
      const worker = (how, size, delay) => new Worker(\`
        const { workerData, parentPort } = require('node:worker_threads');
        const addon = require(workerData.path);
        const theta = new Float64Array(\${d}).fill(0.01), X = new Float64Array(\${d * m}).fill(0.5);
        const g = new Float64Array(\${d});
        for (let k = 0; k < 3; k++) addon.load(workerData.tape).fdAsync(theta, [X], new Float64Array(\${d}), true, 1e-5, false, Int32Array.of(0, \${size}, 0)).then(() => parentPort.postMessage('done'), () => {});
        parentPort.postMessage('started');
        \${how === 'exit' ? 'setTimeout(() => process.exit(0), workerData.delay);' : ''}
      \`, { eval: true, execArgv: [], workerData: { path, tape: model.tape, delay } });
      let rounds = 0;
      for (const how of ['terminate', 'exit'])
        for (const size of [1, 20, 200])
          for (const delay of [0, 2, 10, 30]) {
            const w = worker(how, size, delay);
            const exited = new Promise((ok) => w.once('exit', ok));
            await new Promise((ok) => w.once('message', ok));
            await new Promise((ok) => setTimeout(ok, delay));
            if (how === 'terminate') await w.terminate();
            else await exited;
            rounds++;
          }
      console.log('lived through ' + rounds + ' rounds');
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr, `exit ${r.status} ${r.signal}`).not.toMatch(/terminate called|Napi::Error|AddressSanitizer/);
    expect(r.stdout.trim(), r.stderr).toBe('lived through 24 rounds');
    expect(r.status).toBe(0);
  }, 120_000);
});

describe.runIf(TEST_BACKENDS.includes('native'))('teardown while the thread pool is busy', () => {
  it('a worker ended (terminate, process.exit) while its gradients keep the pool busy: the process lives', () => {
    // as above, with every program on 3 threads: FD loops over pieces on the pool (the worker's
    // job threads wait for the pool's threads), gradients of three functions at once, and
    // synchronous matmul-heavy calls on the pool from the worker's own thread, one per turn of
    // its event loop. (Tight synchronous loops of calls: test/teardown.test.ts.)
    const script = `
      import { Worker } from 'node:worker_threads';
      import { resolve } from 'node:path';
      const t = await import('./src/index.ts');
      const d = 300, m = 300;
      const model = t.define({ params: { w: [d] }, inputs: { X: [m, d] } }, ({ w }, { X }) => X.matmul(w).tanh().sum());
      const big = t.define({ params: { A: [256, 256] }, inputs: { B: [256, 256] } }, ({ A }, { B }) => A.matmul(B).tanh().sum());
      const path = resolve(process.env.TAPEGRAD_NATIVE_PATH || 'build/Release/tapegrad.node');
      const worker = (how, delay) => new Worker(\`
        const { workerData, parentPort } = require('node:worker_threads');
        const addon = require(workerData.path);
        const theta = new Float64Array(\${d}).fill(0.01), X = new Float64Array(\${d * m}).fill(0.5);
        for (let k = 0; k < 3; k++) addon.load(workerData.tape, undefined, 3).fdAsync(theta, [X], new Float64Array(\${d}), k === 1, 1e-5, true).then(() => parentPort.postMessage('done'), () => {});
        const p = addon.load(workerData.big, undefined, 3);
        const A = new Float64Array(65536).fill(0.001), B = new Float64Array(65536).fill(0.5), g = new Float64Array(65536);
        parentPort.postMessage('started');
        \${how === 'exit' ? 'setTimeout(() => process.exit(0), workerData.delay);' : ''}
        const spin = () => { p.reverse(A, [B], g); setImmediate(spin); };
        spin();
      \`, { eval: true, execArgv: [], workerData: { path, tape: model.tape, big: big.tape, delay } });
      let rounds = 0;
      for (const how of ['terminate', 'exit'])
        for (const delay of [0, 2, 10, 30, 100]) {
          const w = worker(how, delay);
          const exited = new Promise((ok) => w.once('exit', ok));
          await new Promise((ok) => w.once('message', ok));
          await new Promise((ok) => setTimeout(ok, delay));
          if (how === 'terminate') await w.terminate();
          else await exited;
          rounds++;
        }
      console.log('lived through ' + rounds + ' rounds');
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr, `exit ${r.status} ${r.signal}`).not.toMatch(/terminate called|Napi::Error|AddressSanitizer/);
    expect(r.stdout.trim(), r.stderr).toBe('lived through 10 rounds');
    expect(r.status).toBe(0);
  }, 120_000);

  it('process.exit() on the main thread while gradients on 3 threads run: a clean exit', () => {
    for (const delay of [0, 5, 50]) {
      const script = `
        const t = await import('./src/index.ts');
        const be = await t.backend('native', { threads: 3 });
        const f = t.define({ params: { w: [400] }, inputs: { X: [400, 400] } }, ({ w }, { X }) => X.matmul(w).tanh().sum());
        const X = new Float64Array(160000).fill(0.5);
        for (let k = 0; k < 2; k++) void be.compile(f).gradAsync({ w: new Float64Array(400).fill(0.01) }, { X }, { method: 'fd-central' });
        setTimeout(() => { console.log('exiting'); process.exit(7); }, ${delay});
      `;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stderr, `delay ${delay}: exit ${r.status} ${r.signal}`).not.toMatch(
        /terminate called|Napi::Error|Sanitizer/,
      );
      expect(r.stdout.trim()).toBe('exiting');
      expect([r.status, r.signal]).toEqual([7, null]);
    }
  }, 120_000);
});
