/**
 * float32 programs on the wasm backend (the module's kernels instantiated for f32 arenas):
 * - argument checks: every array a float32 program takes or fills must be a Float32Array of the
 *   right length (TypeError naming the argument and what it got; RangeError for a length), before
 *   anything is copied into linear memory;
 * - agreement with the js reference in float32 on the model workloads (value, reverse, forward
 *   gradient, jvp, outputs), to a tolerance derived from float32's epsilon (below);
 * - finite differences: the module's FD loop in float32 (the step as stored, the perturbed
 *   evaluations, the quotient rounded to float32) reproduced from the module's own value() calls,
 *   bit for bit, forward and central, with and without suffix reuse, for a subset of coordinates.
 *
 * The tolerance. Both backends round every stored value to float32 (unit roundoff u = eps32 / 2
 * = 2^-24), but sum in different orders and precisions (js accumulates matmul and sum through the
 * float32 arena, wasm in float64 or float32 registers). For a sum of L terms the standard a-priori
 * bound on each backend's error is gamma_L = L u / (1 - L u) times the sum of |terms|, so two
 * backends differ by at most 2 gamma_L that. We take L the longest reduction of the workload (the
 * depth of the chains of sums a value goes through adds a term per level: L counts them all) and,
 * as the sum of |terms|, the magnitude of the float64 result (the workloads' losses are sums of
 * positive terms; for a gradient vector the largest |component|, which bounds every component's
 * terms only up to cancellation, hence the factor 4 of headroom instead of 2). Elementwise ops
 * (exp, tanh, ...) add a few ulps of float32 per level, inside the same budget.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { backend, type Backend } from '../src/index.js';
import { instantiateWasm, wasmEngine } from '../src/backends/wasm/engine.js';
import { define } from '../src/trace/define.js';
import { w1, w2, w3, w4, type Workload } from '../bench/workloads.js';

const EPS32 = 2 ** -23;
const U = EPS32 / 2;
const gamma = (L: number) => (L * U) / (1 - L * U);

let js: Backend, wasm: Backend;
beforeAll(async () => {
  js = await backend('js');
  wasm = await backend('wasm');
});

/** the workloads, with L the longest chain of summed terms a value goes through (see above) */
const WORKLOADS: [() => Workload, number][] = [
  [() => w1(1000), 1000],
  [() => w2(100), 1000 + 100],
  [() => w3(16, 32), 784 + 32 + 10 + 16],
  [() => w4(2), 2 * (150 + 400 + 120 + 84 + 10)],
];

function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  let worst = 0,
    at = -1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  if (!(worst <= tol))
    throw new Error(`${what}: element ${at} is ${got[at]}, js says ${want[at]} (|diff| ${worst} > ${tol})`);
}

describe('wasm float32 programs agree with the js reference in float32', () => {
  for (const [build, L] of WORKLOADS) {
    const name = build().name;
    it(`${name}: value, reverse, forward gradient, jvp and outputs`, () => {
      const m = build();
      const a = js.compile(m.f, { dtype: 'float32' });
      const b = wasm.compile(m.f, { dtype: 'float32' });
      const c64 = js.compile(m.f);
      const theta = a.flatten(m.params);
      expect(theta).toBeInstanceOf(Float32Array);
      const exact = c64.grad(Float64Array.from(theta), m.inputs);
      const tolValue = 4 * gamma(L) * Math.abs(exact.value);
      const g64 = c64.flatten(exact.grad);
      const tolGrad = 4 * gamma(L) * maxAbs(g64);

      const va = a.value(theta, m.inputs),
        vb = b.value(theta, m.inputs);
      expect(Math.abs(vb - va), `value ${vb} vs js ${va}`).toBeLessThanOrEqual(tolValue);
      // both within the bound of the float64 value too (a check of the bound, not only of agreement)
      expect(Math.abs(vb - exact.value)).toBeLessThanOrEqual(tolValue / 2);

      const ra = a.grad(theta, m.inputs),
        rb = b.grad(theta, m.inputs);
      const gb = b.flatten(rb.grad);
      expect(gb).toBeInstanceOf(Float32Array);
      expectNear(gb, a.flatten(ra.grad), tolGrad, `${name} reverse`);
      expectNear(gb, g64, tolGrad / 2, `${name} reverse vs float64`);

      if (b.paramCount <= 2000) {
        const fb = b.grad(theta, m.inputs, { method: 'forward' });
        expectNear(
          b.flatten(fb.grad),
          a.flatten(a.grad(theta, m.inputs, { method: 'forward' }).grad),
          tolGrad,
          `${name} forward`,
        );
        const noReuse = b.grad(theta, m.inputs, { method: 'forward', reuse: false });
        expectNear(b.flatten(noReuse.grad), b.flatten(fb.grad), 0, `${name} forward without reuse`);
      }

      // a direction of unit entries: the derivative is a sum of the gradient's components
      const t = new Float32Array(b.paramCount).map((_, i) => ((i * 7) % 5) / 4 - 0.5);
      const ja = a.jvp(theta, t, m.inputs),
        jb = b.jvp(theta, t, m.inputs);
      let terms = 0;
      for (let i = 0; i < t.length; i++) terms += Math.abs(g64[i] * t[i]);
      expect(jb.value).toBe(vb);
      expect(Math.abs(jb.derivative - ja.derivative)).toBeLessThanOrEqual(4 * gamma(L + t.length) * terms);

      const oa = a.run(theta, m.inputs),
        ob = b.run(theta, m.inputs);
      for (const k of Object.keys(oa)) {
        expect(ob[k]).toBeInstanceOf(Float32Array);
        expectNear(ob[k], oa[k], 4 * gamma(L) * Math.max(maxAbs(oa[k]), Math.abs(exact.value)), `${name} output ${k}`);
      }
      a.dispose();
      b.dispose();
      c64.dispose();
    });
  }
});

describe('wasm float32 finite differences', () => {
  // value() runs the exact forward rules on these (no tanh, no n > 1 product), as FD does, so the
  // quotients below are the module's FD bits
  for (const build of [() => w1(200), () => w2(20, 100)])
    it(`${build().name}: each coordinate is fl32((f(x + h) - f(x)) / h) with h the stored step, forward and central`, () => {
      const m = build();
      const c = wasm.compile(m.f, { dtype: 'float32' });
      const theta = c.flatten(m.params);
      const f0 = c.value(theta, m.inputs);
      for (const central of [false, true]) {
        const rel = central ? Math.cbrt(EPS32) : Math.sqrt(EPS32);
        const want = new Float32Array(c.paramCount);
        const x = Float32Array.from(theta);
        for (let i = 0; i < x.length; i++) {
          const xi = theta[i];
          const h = Math.fround(xi + rel * Math.max(1, Math.abs(xi))) - xi;
          x[i] = xi + h;
          const fp = c.value(x, m.inputs);
          if (central) {
            x[i] = xi - h;
            want[i] = (fp - c.value(x, m.inputs)) / (2 * h);
          } else want[i] = (fp - f0) / h;
          x[i] = xi;
        }
        for (const reuse of [true, false]) {
          const out = new Float32Array(c.paramCount);
          const f = c.gradFlat(theta, m.inputs, out, { method: central ? 'fd-central' : 'fd-forward', reuse });
          expect(f).toBe(f0);
          expect(out, `central ${central} reuse ${reuse}`).toEqual(want);
        }
        // a subset of coordinates: the same numbers there, the rest untouched
        const some = [x.length - 1, 0];
        const part = new Float32Array(c.paramCount).fill(-7);
        c.gradFlat(theta, m.inputs, part, { method: central ? 'fd-central' : 'fd-forward', coordinates: some });
        for (let i = 0; i < x.length; i++) expect(part[i]).toBe(some.includes(i) ? want[i] : -7);
      }
      c.dispose();
    });
});

describe('wasm float32 argument checks', () => {
  const f = define({ params: { w: [4] }, inputs: { x: [4] } }, ({ w }, { x }) => w.mul(x).sum());
  const x = Float32Array.of(1, 2, 3, 4);
  const theta = Float32Array.of(0.5, -1, 2, 0.25);
  const want = 0.5 - 2 + 6 + 1;

  it('a float32 program takes Float32Arrays only, named in the error, and stays usable', async () => {
    const engine = wasmEngine(await instantiateWasm());
    const p = engine.load(
      define({ params: { w: [4] }, inputs: { x: [4] } }, ({ w }, { x }) => w.mul(x).sum()).tape,
      'float32',
    );
    const g = new Float32Array(4),
      r = new Float64Array(2);
    const bad: [string, () => unknown, ErrorConstructor, RegExp][] = [
      [
        'theta float64',
        () => p.value(new Float64Array(4), [x]),
        TypeError,
        /theta must be a Float32Array \(this program is float32\) of 4 elements, got Float64Array/,
      ],
      [
        'theta short',
        () => p.value(new Float32Array(3), [x]),
        RangeError,
        /theta must be a Float32Array of 4 elements, got 3/,
      ],
      ['theta a plain array', () => p.value([1, 2, 3, 4] as never, [x]), TypeError, /theta must be a Float32Array/],
      [
        'input float64',
        () => p.value(theta, [new Float64Array(4)]),
        TypeError,
        /input 0 must be a Float32Array .*got Float64Array/,
      ],
      [
        'input long',
        () => p.value(theta, [new Float32Array(5)]),
        RangeError,
        /input 0 must be a Float32Array of 4 elements, got 5/,
      ],
      [
        'gradient float64',
        () => p.reverse(theta, [x], new Float64Array(4)),
        TypeError,
        /gradient buffer must be a Float32Array .*got Float64Array/,
      ],
      [
        'fd gradient float64',
        () => p.fd(theta, [x], new Float64Array(4), false, 1e-3, true),
        TypeError,
        /gradient buffer must be a Float32Array/,
      ],
      [
        'forward gradient float64',
        () => p.forwardGrad(theta, [x], new Float64Array(4), true),
        TypeError,
        /gradient buffer must be a Float32Array/,
      ],
      [
        'outputs float64',
        () => p.value(theta, [x], new Float64Array(1)),
        TypeError,
        /outputs buffer must be a Float32Array/,
      ],
      [
        'outputs long',
        () => p.reverse(theta, [x], g, new Float32Array(2)),
        RangeError,
        /outputs buffer must be a Float32Array of 1 elements, got 2/,
      ],
      [
        'tangent float64',
        () => p.jvp(theta, [x], new Float64Array(4), r),
        TypeError,
        /tangent must be a Float32Array .*got Float64Array/,
      ],
    ];
    for (const [what, call, type, message] of bad) {
      expect(call, what).toThrow(type);
      expect(call, what).toThrow(message);
    }
    expect(p.value(theta, [x])).toBe(want);
    expect(p.reverse(theta, [x], g)).toBe(want);
    expect(g).toEqual(x);
    p.dispose();
  });

  it('a float64 program refuses a Float32Array by name (TypeError), as a float32 one refuses a Float64Array', async () => {
    const engine = wasmEngine(await instantiateWasm());
    const p = engine.load(f.tape, 'float64');
    expect(() => p.value(Float32Array.from(theta) as never, [Float64Array.from(x)])).toThrow(TypeError);
    expect(() => p.value(Float32Array.from(theta) as never, [Float64Array.from(x)])).toThrow(
      /theta must be a Float64Array of 4 elements, got Float32Array/,
    );
    expect(p.value(Float64Array.from(theta), [Float64Array.from(x)])).toBe(want);
    p.dispose();
  });

  it('through the API: a float32 function on wasm names the array type it wants', () => {
    const c = wasm.compile(f, { dtype: 'float32' });
    expect(() => c.gradFlat(new Float64Array(4) as never, { x }, new Float32Array(4))).toThrow(/Float32Array/);
    expect(c.value(theta, { x })).toBe(want);
    const r = c.grad(theta, { x });
    expect(r.grad.w).toEqual(x);
    c.dispose();
  });

  it('float32 arenas take half the bytes of float64 ones', async () => {
    const big = define({ params: { w: [1 << 16] } }, ({ w }) => w.square().sum());
    // a fresh instance each: a freed block is reused, not given back, when another lies above it
    const used = async (dtype: 'float64' | 'float32') => {
      const w = await instantiateWasm();
      const before = w.heapInUse();
      wasmEngine(w).load(big.tape, dtype);
      return w.heapInUse() - before;
    };
    const used64 = await used('float64'),
      used32 = await used('float32');
    // the arenas dominate: 2 x 3 x 2^16 elements
    expect(used32).toBeLessThan(0.55 * used64);
    expect(used32).toBeGreaterThan(0.45 * used64);
  });
});
