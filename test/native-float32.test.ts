/**
 * Float32 programs in the native backend (src/api/dtype.ts has the contract): the binding checks
 * a float32 program's arrays as it checks a float64 program's (element type, length, disposed,
 * the FD plan) before it touches memory, refusing the other dtype's arrays by name; and native
 * float32 agrees with the js reference's float32 on the models for value, reverse, FD and forward
 * mode, to tolerances derived from float32's epsilon (below), not bit for bit (float32 sums may
 * accumulate in float32 on native).
 */
import { describe, expect, it } from 'vitest';
import { backend, define, type Backend, type Compiled, type Method } from '../src/index.js';
import { load } from '../src/backends/registry.js';
import type { NativeProgramHandle } from '../src/backends/native/loader.js';
import { EPS, defaultStep } from '../src/api/dtype.js';
import { breastCancer, digits, head } from '../src/data/datasets.js';
import { logistic, mlp, rosenbrock, softmaxRegression, type Model } from '../src/models/models.js';
import { w4 } from '../bench/workloads.js';
import { TEST_BACKENDS } from './harness.js';

// f = c * (w . x) + sum(y)
const f = () =>
  define({ params: { w: [3], c: [] }, inputs: { x: [3], y: [2] } }, ({ w, c }, { x, y }) =>
    w.mul(x).sum().mul(c).add(y.sum()),
  );
const theta = Float32Array.of(1, 2, 3, 0.5);
const inputs = [Float32Array.of(0.1, 0.2, 0.3), Float32Array.of(1, 2)];

describe.runIf(TEST_BACKENDS.includes('native'))('the native binding validates a float32 program', () => {
  const program = async () => (await load('native')).load(f().tape, 'float32') as NativeProgramHandle;

  it('loads float32 and float64 programs; refuses another dtype by name', async () => {
    const addon = (await import('../src/backends/native/loader.js')).loadAddon();
    expect(addon.load(f().tape, undefined, 1, 'float32').dtype).toBe('float32');
    expect(addon.load(f().tape, undefined, 1, 'float64').dtype).toBe('float64');
    expect(addon.load(f().tape).dtype).toBe('float64');
    expect(() => addon.load(f().tape, undefined, 1, 'float16' as never)).toThrow(
      /load: dtype must be 'float64' or 'float32'/,
    );
    expect(() => addon.load(f().tape, undefined, 1, 32 as never)).toThrow(TypeError);
  });

  it('a Float64Array given to a float32 program (and the reverse) is a TypeError naming the argument', async () => {
    const p = await program();
    const g = new Float32Array(4);
    const t64 = Float64Array.from(theta);
    const x64 = inputs.map((x) => Float64Array.from(x));
    expect(() => p.value(t64, inputs)).toThrow(TypeError);
    expect(() => p.value(t64, inputs)).toThrow(
      /theta must be a Float32Array, got a Float64Array \(this function's dtype is float32\)/,
    );
    expect(() => p.value(theta, [inputs[0], x64[1]])).toThrow(/input 1 must be a Float32Array, got a Float64Array/);
    expect(() => p.reverse(theta, inputs, new Float64Array(4))).toThrow(/gradient buffer must be a Float32Array/);
    expect(() => p.value(theta, inputs, new Float64Array(0))).toThrow(/outputs buffer must be a Float32Array/);
    expect(() => p.fd(theta, inputs, new Float64Array(4), true, 1e-3, true)).toThrow(TypeError);
    expect(() => p.forwardGrad(theta, inputs, new Float64Array(4), true)).toThrow(TypeError);
    expect(() => p.jvp(theta, inputs, new Float64Array(4), new Float64Array(2))).toThrow(
      /tangent must be a Float32Array/,
    );
    // jvp's result is [f, derivative] in doubles for either dtype
    expect(() => p.jvp(theta, inputs, g, new Float32Array(2) as never)).toThrow(/result buffer must be a Float64Array/);
    expect(() => p.reverseAsync(theta, inputs, new Float64Array(4))).toThrow(/gradient buffer must be a Float32Array/);
    expect(() => p.fdAsync(t64, inputs, g, true, 1e-3, true)).toThrow(/theta must be a Float32Array/);
    expect(() => p.forwardGradAsync(theta, inputs, new Float64Array(4), true)).toThrow(
      /gradient buffer must be a Float32Array/,
    );
    expect(() => p.value([1, 2, 3, 4] as never, inputs)).toThrow(/theta must be a Float32Array/);
    expect(() => p.value(new Int32Array(4) as never, inputs)).toThrow(/theta must be a Float32Array$/);
    expect(() => p.value(theta, 'x' as never)).toThrow(/inputs must be an array of Float32Array/);
    // and a float64 program refuses float32 arrays the same way
    const q = (await load('native')).load(f().tape) as NativeProgramHandle;
    expect(() => q.value(theta as never, x64)).toThrow(
      /theta must be a Float64Array, got a Float32Array \(this function's dtype is float64\)/,
    );
    expect(() => q.reverse(t64, x64, g as never)).toThrow(/gradient buffer must be a Float64Array/);
    q.dispose();
    expect(Number.isFinite(p.value(theta, inputs))).toBe(true); // still usable
    p.dispose();
  });

  it('wrong lengths are RangeErrors; the FD plan and options are checked; disposed is an error', async () => {
    const p = await program();
    const g = new Float32Array(4);
    expect(() => p.value(new Float32Array(3), inputs)).toThrow(/theta must have 4 elements, got 3/);
    expect(() => p.value(theta, inputs.slice(0, 1))).toThrow(/expected 2 inputs, got 1/);
    expect(() => p.value(theta, [inputs[0], new Float32Array(3)])).toThrow(/input 1 must have 2 elements, got 3/);
    expect(() => p.reverse(theta, inputs, new Float32Array(5))).toThrow(/gradient buffer must have 4 elements/);
    expect(() => p.value(theta, inputs, new Float32Array(7))).toThrow(/outputs buffer must have/);
    expect(() => p.jvp(theta, inputs, new Float32Array(3), new Float64Array(2))).toThrow(RangeError);
    expect(() => p.fd(theta, inputs, g, 'yes' as never, 1e-3, true)).toThrow(/central must be a boolean/);
    expect(() => p.fd(theta, inputs, g, true, 0, true)).toThrow(/relStep must be a positive finite number/);
    expect(() => p.fd(theta, inputs, g, true, 1e-3, true, [0, 1, 0] as never)).toThrow(/plan must be an Int32Array/);
    expect(() => p.fd(theta, inputs, g, true, 1e-3, true, Int32Array.of(0, 5, 0))).toThrow(/FD plan entry 0/);
    expect(() => p.fd(theta, inputs, g, true, 1e-3, true, Int32Array.of(0, 1))).toThrow(/not a list of triples/);
    expect(() => p.forwardGrad(theta, inputs, g, true, Int32Array.of(3, 2, 0))).toThrow(/out of range/);
    expect(() => p.fdAsync(theta, inputs, g, true, 1e-3, true, Int32Array.of(-1, 2, 0))).toThrow(RangeError);
    expect(() => p.forwardGradAsync(theta, inputs, g, 'yes' as never)).toThrow(/reuse must be a boolean/);
    expect(() => p.forwardGradAsync(theta, inputs, g, true, Int32Array.of(3, 2, 0))).toThrow(/out of range/);
    expect(() => p.forwardGradAsync(theta, inputs, new Float32Array(3), true)).toThrow(/gradient buffer must have 4/);
    expect(g.every((v) => v === 0)).toBe(true); // nothing written by a refused call
    const t = Float32Array.from(theta);
    structuredClone(t.buffer, { transfer: [t.buffer] });
    expect(() => p.value(t, inputs)).toThrow(RangeError); // detached: a length error
    p.dispose();
    expect(() => p.value(theta, inputs)).toThrow(/disposed/);
    expect(() => p.reverseAsync(theta, inputs, g)).toThrow(/disposed/);
    expect(() => p.forwardGradAsync(theta, inputs, g, true)).toThrow(/disposed/);
    expect(p.dtype).toBeUndefined();
  });

  it('a getter that disposes a float32 function while its inputs are read: a clear error', async () => {
    const p = await program();
    const arr = [inputs[0]];
    Object.defineProperty(arr, 1, {
      get() {
        p.dispose();
        return inputs[1];
      },
    });
    expect(() => p.value(theta, arr)).toThrow(/disposed/);
  });

  it('computes f, its gradient (sync and async), FD and forward mode in float32', async () => {
    const p = await program();
    // f = 0.5 (0.1 + 0.4 + 0.9) + 3 with every constant and sum rounded to float32
    const x = inputs[0];
    const dot = Math.fround(Math.fround(Math.fround(x[0]) + Math.fround(2 * x[1])) + Math.fround(3 * x[2]));
    const want = Math.fround(Math.fround(0.5 * dot) + 3);
    expect(p.value(theta, inputs)).toBe(want);
    const g = new Float32Array(4);
    expect(p.reverse(theta, inputs, g)).toBe(want);
    expect([...g]).toEqual([Math.fround(0.5 * x[0]), Math.fround(0.5 * x[1]), Math.fround(0.5 * x[2]), dot]);
    const ga = new Float32Array(4);
    expect(await p.reverseAsync(theta, inputs, ga)).toBe(want);
    expect([...ga]).toEqual([...g]);
    const gf = new Float32Array(4);
    expect(p.forwardGrad(theta, inputs, gf, true)).toBe(want);
    expect([...gf]).toEqual([...g]);
    const r = new Float64Array(2);
    p.jvp(theta, inputs, Float32Array.of(1, 0, 0, 0), r);
    expect(r[1]).toBe(g[0]);
    const gd = new Float32Array(4);
    p.fd(theta, inputs, gd, true, defaultStep('fd-central', 'float32'), true);
    // suffix reuse reruns only the instructions after a coordinate's first reader: the same bits
    const gdn = new Float32Array(4);
    p.fd(theta, inputs, gdn, true, defaultStep('fd-central', 'float32'), false);
    expect([...gdn]).toEqual([...gd]);
    const gfr = new Float32Array(4);
    p.forwardGrad(theta, inputs, gfr, false, Int32Array.of(3, 4, 0, 0, 3, 0));
    expect([...gfr]).toEqual([...g]);
    const gfa = new Float32Array(4);
    expect(await p.forwardGradAsync(theta, inputs, gfa, true)).toBe(want);
    expect([...gfa]).toEqual([...g]);
    const gda = new Float32Array(4);
    await p.fdAsync(theta, inputs, gda, true, defaultStep('fd-central', 'float32'), true);
    expect([...gda]).toEqual([...gd]);
    for (let i = 0; i < 4; i++) expect(Math.abs(gd[i] - g[i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(g[i])));
    p.dispose();
  });
});

describe.runIf(TEST_BACKENDS.includes('native'))('native float32 named outputs and jvp', () => {
  it('grad() and run() give the named outputs as Float32Arrays, as js float32 computes them', async () => {
    const g = define({ params: { w: [4, 3] }, inputs: { x: [5, 4] } }, ({ w }, { x }) => {
      const h = x.matmul(w).tanh();
      return { loss: h.square().sum(), h, top: h.argmax(1) };
    });
    const params = { w: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1)) };
    const inputs = { x: Float32Array.from({ length: 20 }, (_, i) => Math.cos(i) * 0.5) };
    const [n, j] = await Promise.all([backend('native'), backend('js')]);
    const cn = n.compile(g, { dtype: 'float32' });
    const cj = j.compile(g, { dtype: 'float32' });
    const rn = cn.grad(params, inputs);
    const rj = cj.grad(params, inputs);
    expect(rn.outputs.h).toBeInstanceOf(Float32Array);
    expect(rn.grad.w).toBeInstanceOf(Float32Array);
    // sums of 4 products: within 4 eps32 of |h| <= 1, and tanh's rounding
    for (let i = 0; i < 15; i++)
      expect(Math.abs(rn.outputs.h[i] - rj.outputs.h[i])).toBeLessThanOrEqual(8 * EPS.float32);
    expect([...rn.outputs.top]).toEqual([...rj.outputs.top]);
    const run = cn.run(params, inputs);
    expect([...run.h]).toEqual([...rn.outputs.h]);
    // the jvp along e_0 is the gradient's first coordinate (the same tangent rules in float32)
    const t = new Float32Array(12);
    t[0] = 1;
    const d = cn.jvp(params, t, inputs);
    expect(Math.abs(d.derivative - rn.grad.w[0])).toBeLessThanOrEqual(
      16 * EPS.float32 * Math.max(1, Math.abs(rn.grad.w[0])),
    );
    cn.dispose();
    cj.dispose();
  });
});

/**
 * Tolerances, from eps32 = 2^-23 and the longest sum n of the model (its features, hidden units
 * or batch rows): a float32 sum of n terms accumulated in float32 is within about n eps32 of the
 * exact sum relative to the sum of |terms| (Higham's gamma_n), and the elementwise ops, computed
 * in float64 and rounded once, add an eps32 each; the losses here are sums of O(1) terms, so
 *   value:           |f_native - f_js| <= n eps32 (1 + |f|)
 *   reverse/forward: max|g_native - g_js| <= n eps32 max(1, max|g_js|)
 *   FD:              each side's FD gradient divides its f difference by h (central: 2h), so the
 *                    two differ by at most 2 tol_value / h, with h = relStep max(1, |x|) >= relStep.
 * Both backends take the same h (it depends on x alone), so no truncation error enters.
 */
interface Workload {
  readonly name: string;
  readonly m: Model;
  /** the longest sum in the model */
  readonly n: number;
}
const WORKLOADS: Workload[] = [
  { name: 'logistic, breast cancer', m: logistic(breastCancer()), n: 569 },
  { name: 'softmax regression, 128 digits', m: softmaxRegression(head(digits(), 128)), n: 128 },
  { name: 'MLP 64-16-10, 64 digits', m: mlp(head(digits(), 64), 16), n: 64 },
  { name: 'Rosenbrock n = 50', m: rosenbrock(50), n: 50 },
  {
    name: 'LeNet-5, batch 2',
    m: (() => {
      const wl = w4(2);
      return { f: wl.f, params: wl.params, inputs: wl.inputs } as Model;
    })(),
    n: 400,
  },
];

describe.runIf(TEST_BACKENDS.includes('native'))('native float32 agrees with js float32 (eps32 tolerances)', () => {
  const eps = EPS.float32;
  let js: Backend, native: Backend;
  const run = (be: Backend, m: Model, method: Method | 'value') => {
    const c = be.compile(m.f, { dtype: 'float32' }) as Compiled<Float32Array>;
    try {
      const theta = c.flatten(m.params);
      if (method === 'value') return { f: c.valueFlat(theta, m.inputs), g: new Float32Array(0), theta };
      const g = new Float32Array(c.paramCount);
      // FD only over the first 300 coordinates (LeNet has 61,706)
      const coordinates = c.paramCount > 300 && method.startsWith('fd') ? [...Array(300).keys()] : undefined;
      const f = c.gradFlat(theta, m.inputs, g, { method, coordinates });
      return { f, g, theta };
    } finally {
      c.dispose();
    }
  };

  for (const { name, m, n } of WORKLOADS)
    for (const method of ['value', 'reverse', 'forward', 'fd-forward', 'fd-central'] as const)
      it(`${name}: ${method}`, async () => {
        js ??= await backend('js');
        native ??= await backend('native');
        if (method === 'forward' && name.startsWith('LeNet')) return; // 61,706 tangent sweeps: too slow for a test
        const a = run(native, m, method);
        const b = run(js, m, method);
        const tolValue = n * eps * (1 + Math.abs(b.f));
        expect(Math.abs(a.f - b.f), `value ${a.f} vs ${b.f}`).toBeLessThanOrEqual(tolValue);
        if (method === 'value') return;
        let gmax = 0;
        for (const v of b.g) gmax = Math.max(gmax, Math.abs(v));
        const tol =
          method === 'fd-forward' || method === 'fd-central'
            ? (2 * tolValue) / (method === 'fd-central' ? 2 : 1) / defaultStep(method, 'float32')
            : n * eps * Math.max(1, gmax);
        let worst = 0,
          at = -1;
        for (let i = 0; i < b.g.length; i++) {
          const d = Math.abs(a.g[i] - b.g[i]);
          if (!(d <= worst)) ((worst = d), (at = i));
        }
        expect(worst, `coordinate ${at}: ${a.g[at]} vs ${b.g[at]} (tolerance ${tol})`).toBeLessThanOrEqual(tol);
        expect(a.g.some((v) => v !== 0)).toBe(true);
      }, 60_000);
});
