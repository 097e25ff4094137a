/**
 * The native backend's threads (issue 13, item 1): the same bits for 1, 2 and 3 threads on
 * models that take every parallel path (the FD loop over pieces of the parameters, large
 * matmuls forward and backward, large elementwise instructions), equal to the js reference
 * where native already equals it bit for bit (finite differences); the threads setting and its
 * errors; asynchronous gradients of different functions at once. No timing is asserted here:
 * speed lives in bench/threads.ts.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { backend, define, softmaxCrossEntropy, type Backend, type Compiled, type Method } from '../src/index.js';
import type { DType } from '../src/api/dtype.js';
import type { NativeProgramHandle } from '../src/backends/native/loader.js';
import { random, TEST_BACKENDS } from './harness.js';
import { w2, w3 } from '../bench/workloads.js';

/** One model, its parameters and inputs. */
interface Case {
  readonly name: string;
  readonly c: (be: Backend, dtype?: DType) => Compiled;
  readonly theta: Float64Array;
  readonly inputs: Record<string, Float64Array>;
  readonly methods: readonly Method[];
  /** FD coordinates (a subset: the plan given by the caller) */
  readonly coordinates?: readonly number[];
}

const js = await backend('js');
const fromWorkload = (wl: ReturnType<typeof w3>, methods: readonly Method[]): Case => {
  const probe = js.compile(wl.f);
  const theta = probe.flatten(wl.params);
  probe.dispose();
  return {
    name: wl.name,
    c: (be, dtype) => be.compile(wl.f, { dtype }) as Compiled,
    theta,
    inputs: wl.inputs as Record<string, Float64Array>,
    methods,
  };
};

// a two-layer tanh MLP with N = 1,440 parameters: the FD plan has one entry per parameter tensor,
// each rerunning a shorter suffix of the tape (suffix reuse) on the pool
const mlp = define(
  { params: { W1: [30, 40], b1: [40], W2: [40, 5] }, inputs: { X: [64, 30], Y: [64, 5] } },
  ({ W1, b1, W2 }, { X, Y }) => softmaxCrossEntropy(X.matmul(W1).add(b1).tanh().matmul(W2), Y).mean(),
);
const mlpY = new Float64Array(64 * 5);
for (let r = 0; r < 64; r++) mlpY[r * 5 + (r % 5)] = 1;

// elementwise instructions of 40,000 elements (pieces of 8,192 on the pool), a scalar folded
// into a product (its adjoint a sum: one piece) and pow's whole exponent
const elementwise = define({ params: { w: [40000], s: [] }, inputs: { x: [40000] } }, ({ w, s }, { x }) =>
  w.mul(x).tanh().mul(s).add(x.sigmoid()).square().softplus().pow(1.5).sum(),
);

// the generated elementwise ops at 20,000 elements: a ternary (where) with tensor and scalar
// operands, clamp, maximum, sin and erf
const ternary = define({ params: { w: [20000], v: [20000] }, inputs: { x: [20000] } }, ({ w, v }, { x }) =>
  x.greater(w).where(w.sin(), v.maximum(x).erf()).clamp(-0.5, 0.75).mul(v.cos()).sum(),
);

// a large product with both operands parameters: rows of C forward, rows of dA and dB backward
const matmul = define({ params: { A: [300, 200], B: [200, 150] } }, ({ A, B }) => A.matmul(B).tanh().sum());

// products wider than a page (n >= 512): B's panels packed in pieces of 128 rows, the last piece
// of 16 rows in place (one thread: one packed piece); A^T dC with A's rows past a page apart,
// transposed per piece of 16 rows of dB (one thread: all 515, the last 3 rows after the 8-row blocks)
const wideScaled = define({ params: { s: [] }, inputs: { A: [272, 40], B: [40, 3300] } }, ({ s }, { A, B }) =>
  A.mul(s).matmul(B).tanh().sum(),
);
const wide = define({ params: { A: [272, 40], B: [40, 3300] } }, ({ A, B }) => A.matmul(B).tanh().sum());
const tall = define({ params: { A: [40, 515], B: [515, 264] } }, ({ A, B }) => A.matmul(B).tanh().sum());

// conv2d's tangent rule writes im2col of a tangent into its scratch in the value arena: each
// forward-mode participant needs its own (a shared one raced, and conv.test.ts caught it)
const conv = define({ params: { w: [16, 3, 3, 3] }, inputs: { x: [8, 3, 16, 16] } }, ({ w }, { x }) =>
  x.conv2d(w, { padding: 1 }).tanh().sum(),
);

const CASES: Case[] = [
  // FD and forward mode at N = 1,000: the whole tape per coordinate, in pieces on the pool
  { ...fromWorkload(w2(1000, 40), ['fd-forward', 'fd-central', 'forward', 'reverse']) },
  // W2 at d = 1,000: a 1000 x 1000 matrix-vector product (rows forward, elements of dB backward)
  { ...fromWorkload(w2(1000), ['reverse']) },
  // W3 at batch 256: both layers' products and the tanh over 32,768 elements on the pool
  { ...fromWorkload(w3(256), ['reverse']) },
  {
    name: 'MLP 30-40-5, N = 1,440',
    c: (be, dtype) => be.compile(mlp, { dtype }) as Compiled,
    theta: random(1440, 11, -0.3, 0.3),
    inputs: { X: random(64 * 30, 12), Y: mlpY },
    methods: ['fd-forward', 'fd-central', 'forward', 'reverse'],
  },
  {
    name: 'MLP 30-40-5, a subset of coordinates',
    c: (be, dtype) => be.compile(mlp, { dtype }) as Compiled,
    theta: random(1440, 13, -0.3, 0.3),
    inputs: { X: random(64 * 30, 14), Y: mlpY },
    methods: ['fd-central', 'forward'],
    coordinates: Array.from({ length: 700 }, (_, i) => (i * 37) % 1440),
  },
  {
    name: 'conv2d [8,3,16,16] * [16,3,3,3], N = 432',
    c: (be, dtype) => be.compile(conv, { dtype }) as Compiled,
    theta: random(432, 24, -0.3, 0.3),
    inputs: { x: random(8 * 3 * 256, 25) },
    methods: ['forward'],
  },
  {
    name: 'elementwise over 40,000 elements',
    c: (be, dtype) => be.compile(elementwise, { dtype }) as Compiled,
    theta: random(40001, 15, 0.1, 0.9),
    inputs: { x: random(40000, 16, 0.1, 0.9) },
    methods: ['reverse'],
  },
  {
    name: 'where, clamp, maximum, sin, erf over 20,000 elements',
    c: (be, dtype) => be.compile(ternary, { dtype }) as Compiled,
    theta: random(40000, 18, -1, 1),
    inputs: { x: random(20000, 19, -1, 1) },
    methods: ['reverse'],
  },
  {
    name: 'matmul [300,200] x [200,150], both parameters',
    c: (be, dtype) => be.compile(matmul, { dtype }) as Compiled,
    theta: random(300 * 200 + 200 * 150, 17, -0.1, 0.1),
    inputs: {},
    methods: ['reverse'],
  },
  {
    name: 'matmul [272,40] x [40,3300] scaled by a parameter (forward bits)',
    c: (be, dtype) => be.compile(wideScaled, { dtype }) as Compiled,
    theta: Float64Array.of(1.25),
    inputs: { A: random(272 * 40, 20, -0.3, 0.3), B: random(40 * 3300, 21, -0.3, 0.3) },
    methods: ['fd-forward', 'reverse'],
  },
  {
    name: 'matmul [272,40] x [40,3300], both parameters',
    c: (be, dtype) => be.compile(wide, { dtype }) as Compiled,
    theta: random(272 * 40 + 40 * 3300, 22, -0.3, 0.3),
    inputs: {},
    methods: ['reverse'],
  },
  {
    name: 'matmul [40,515] x [515,264], both parameters',
    c: (be, dtype) => be.compile(tall, { dtype }) as Compiled,
    theta: random(40 * 515 + 515 * 264, 23, -0.1, 0.1),
    inputs: {},
    methods: ['reverse'],
  },
];

/** Everything a call gives, as one array of bits: the value, the gradient, the outputs. */
function run(c: Compiled, k: Case, method: Method): Float64Array {
  const grad = new Float64Array(c.paramCount);
  const value = c.gradFlat(k.theta, k.inputs, grad, { method, coordinates: k.coordinates });
  const out = new Float64Array(2 + grad.length); // not Float64Array.of(...grad): 100k arguments overflow the stack
  out.set([value, c.value(k.theta, k.inputs)]);
  out.set(grad, 2);
  return out;
}

/** The same in float32 (theta and the inputs rounded to float32; every float32 is a double). */
function run32(c: Compiled<Float32Array>, k: Case, method: Method): Float64Array {
  const theta = Float32Array.from(k.theta);
  const grad = new Float32Array(c.paramCount);
  const value = c.gradFlat(theta, k.inputs, grad, { method, coordinates: k.coordinates });
  // not Float64Array.of(..., ...grad): spreading the large shapes' 140k elements overflows the stack
  const out = new Float64Array(2 + grad.length);
  out[0] = value;
  out[1] = c.value(theta, k.inputs);
  out.set(grad, 2);
  return out;
}

/** The index of the first element whose bits differ, or -1. */
const firstDifference = (a: Float64Array, b: Float64Array) =>
  a.length !== b.length ? 0 : a.findIndex((x, i) => !Object.is(x, b[i]));

describe.runIf(TEST_BACKENDS.includes('native'))('native threads: the same bits for any thread count', () => {
  const THREADS = [1, 2, 3];

  for (const k of CASES)
    for (const method of k.methods)
      it(`${k.name}, ${method}: 1, 2 and 3 threads`, async () => {
        const results: Float64Array[] = [];
        for (const threads of THREADS) {
          const be = await backend('native', { threads });
          expect(be.threads).toBe(threads);
          const c = k.c(be);
          try {
            results.push(run(c, k, method));
          } finally {
            c.dispose();
          }
        }
        for (let t = 1; t < THREADS.length; t++)
          expect(firstDifference(results[t], results[0]), `${THREADS[t]} threads vs 1`).toBe(-1);
        if (method === 'fd-forward' || method === 'fd-central') {
          // forward rules are the js reference's bits, and so is every FD coordinate
          const c = k.c(await backend('js'));
          const grad = new Float64Array(c.paramCount);
          const value = c.gradFlat(k.theta, k.inputs, grad, { method, coordinates: k.coordinates });
          const want = Float64Array.of(value, ...grad);
          const got = Float64Array.of(results[0][0], ...results[0].subarray(2));
          expect(firstDifference(got, want), 'native vs js').toBe(-1);
        }
      }, 120_000);

  // float32 programs cut their work in the same pieces (the shapes'), so they too give the same
  // bits on any number of threads
  for (const k of CASES)
    for (const method of k.methods)
      it(`${k.name}, ${method}, float32: 1, 2 and 3 threads`, async () => {
        const results: Float64Array[] = [];
        for (const threads of THREADS) {
          const c = k.c(await backend('native', { threads }), 'float32') as unknown as Compiled<Float32Array>;
          try {
            results.push(run32(c, k, method));
          } finally {
            c.dispose();
          }
        }
        for (let t = 1; t < THREADS.length; t++)
          expect(firstDifference(results[t], results[0]), `${THREADS[t]} threads vs 1`).toBe(-1);
      }, 120_000);

  it('gradAsync gives the same bits as the synchronous call on several threads', async () => {
    const be = await backend('native', { threads: 3 });
    const k = CASES[3];
    for (const method of k.methods) {
      const c = k.c(be);
      const want = new Float64Array(c.paramCount);
      const value = c.gradFlat(k.theta, k.inputs, want, { method });
      const got = new Float64Array(c.paramCount);
      expect(await c.gradFlatAsync(k.theta, k.inputs, got, { method })).toBe(value);
      expect(firstDifference(got, want), method).toBe(-1);
      c.dispose();
    }
  }, 60_000);
});

describe.runIf(TEST_BACKENDS.includes('native'))('the threads setting', () => {
  it('backend(native, { threads }) takes a positive integer, with a clear error otherwise', async () => {
    for (const bad of [0, -1, 1.5, NaN, Infinity, 1025, '2', null])
      await expect(backend('native', { threads: bad as number })).rejects.toThrow(
        /backend: the threads option must be a positive integer \(at most 1024\), got /,
      );
    await expect(backend('wasm', { threads: 2 })).rejects.toThrow(/threads option applies to the native backend only/);
    await expect(backend('js', { threads: 2 })).rejects.toThrow(/native backend only/);
    expect((await backend('native', { threads: 5 })).threads).toBe(5);
    expect((await backend('js')).threads).toBe(1);
  });

  it('the addon checks the count itself', async () => {
    const addon = (await import('../src/backends/native/loader.js')).loadAddon();
    for (const bad of [0, 1.5, 1025, -3, NaN])
      expect(() => addon.load(w3(2).f.tape, undefined, bad)).toThrow(/load: threads must be an integer from 1 to 1024/);
    expect(() => addon.load(w3(2).f.tape, undefined, '2' as never)).toThrow(/threads must be a number/);
    const p: NativeProgramHandle = addon.load(w3(2).f.tape, undefined, 4);
    expect(p.threads).toBe(4);
    p.dispose();
    expect(p.threads).toBeUndefined();
    expect(addon.load(w3(2).f.tape).threads).toBe(1);
  });

  const child = (env: Record<string, string>, script: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ...env },
    });

  it('TAPEGRAD_THREADS sets the default (same bits as one thread); a malformed value is a clear error', async () => {
    // the W3 batch-256 gradient's bits (their hash) from a child process on 3 threads, against this process on 1
    const script = `
      const { createHash } = await import('node:crypto');
      const t = await import('./src/index.ts');
      const { w3 } = await import('./bench/workloads.ts');
      const be = await t.backend('native');
      const wl = w3(256);
      const c = be.compile(wl.f);
      const r = c.grad(wl.params, wl.inputs);
      const g = c.flatten(r.grad);
      console.log(JSON.stringify({ threads: be.threads, bits: createHash('sha256').update(Float64Array.of(r.value, ...g)).digest('hex') }));
    `;
    const r = child({ TAPEGRAD_THREADS: '3' }, script);
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as { threads: number; bits: string };
    expect(got.threads).toBe(3);
    const wl = w3(256);
    const c = (await backend('native', { threads: 1 })).compile(wl.f);
    const want = c.grad(wl.params, wl.inputs);
    const bits = createHash('sha256')
      .update(Float64Array.of(want.value, ...c.flatten(want.grad)))
      .digest('hex');
    expect(got.bits === bits, 'TAPEGRAD_THREADS=3 vs threads: 1').toBe(true);
    c.dispose();

    const bad = child(
      { TAPEGRAD_THREADS: 'two' },
      `const t = await import('./src/index.ts');
       await t.backend('native').then(() => console.log('loaded'), (e) => console.log(e.message));
       console.log((await t.backend('native', { threads: 2 }).catch((e) => e)).message ?? 'loaded');`,
    );
    expect(bad.stdout).toMatch(/TAPEGRAD_THREADS must be a positive integer \(at most 1024\), got 'two'/);
  }, 120_000);
});

describe.runIf(TEST_BACKENDS.includes('native'))('gradAsync on different compiled functions', () => {
  it('run at once: a short gradient started after a long one settles first, both with the sync bits', async () => {
    const be = await backend('native', { threads: 2 });
    const long = fromWorkload(w2(1000, 400), ['fd-central']);
    const short = fromWorkload(w2(10, 20), ['fd-central']);
    const a = long.c(be),
      b = short.c(be);
    const wantA = new Float64Array(a.paramCount),
      wantB = new Float64Array(b.paramCount);
    a.gradFlat(long.theta, long.inputs, wantA, { method: 'fd-central' });
    b.gradFlat(short.theta, short.inputs, wantB, { method: 'fd-central' });
    const order: string[] = [];
    const gotA = new Float64Array(a.paramCount),
      gotB = new Float64Array(b.paramCount);
    const pa = a.gradFlatAsync(long.theta, long.inputs, gotA, { method: 'fd-central' }).then(() => order.push('long'));
    // one job thread would run the short gradient only after the long one (800 evaluations of a
    // 400 x 1000 product); two run it at once
    const pb = b
      .gradFlatAsync(short.theta, short.inputs, gotB, { method: 'fd-central' })
      .then(() => order.push('short'));
    await Promise.all([pa, pb]);
    expect(order).toEqual(['short', 'long']);
    expect(firstDifference(gotA, wantA)).toBe(-1);
    expect(firstDifference(gotB, wantB)).toBe(-1);
    a.dispose();
    b.dispose();
  }, 60_000);

  it('calls on the same compiled function still wait their turn (busy)', async () => {
    const be = await backend('native', { threads: 3 });
    const k = fromWorkload(w2(100, 50), ['fd-central']);
    const c = k.c(be);
    const out = new Float64Array(c.paramCount);
    const pending = c.gradFlatAsync(k.theta, k.inputs, out, { method: 'fd-central' });
    await expect(c.gradFlatAsync(k.theta, k.inputs, new Float64Array(c.paramCount))).rejects.toThrow(/busy/);
    await pending;
    c.dispose();
  });
});
