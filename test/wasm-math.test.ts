/**
 * The wasm module's exp, log, log1p, expm1, tanh and pow against this engine's Math.*, element by
 * element over wide ranges, all special values and random bit patterns. They are ports of fdlibm,
 * which V8 (Node 20, Chromium) uses for Math.*, and the test demands bit-identity, because finite
 * differences divide rounding differences by h ~ 1e-8 (see assembly/math.ts). fdlibm's own bound
 * against the true value is < 1 ulp (< 2 ulp for tanh).
 *
 * If this fails on a newer engine, its Math.* no longer is fdlibm (V8 moved log/log1p to LLVM's
 * libc and tanh to the system libm after Node 20): the printed max ulp distance then says how far
 * apart the two libraries are, and forward-difference conformance at 1e-9 becomes a coin toss.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { wasmInstance, type WasmExports } from '../src/backends/wasm/engine.js';
import { uniform } from '../src/models/random.js';
import { erf, erfc } from '../src/backends/js/math.js';
import { erfInputs, trigInputs } from './math-inputs.js';

let w: WasmExports;
beforeAll(async () => {
  w = await wasmInstance();
});

const bits = new BigInt64Array(1);
const asF = new Float64Array(bits.buffer);
/** a monotone integer image of a double: ulp distance = difference of images */
function ordinal(x: number): bigint {
  asF[0] = x;
  const b = bits[0];
  return b < 0n ? -(b & 0x7fffffffffffffffn) : b;
}
function ulps(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y) ? 0 : Infinity;
  if (x === y) return 0;
  const d = ordinal(x) - ordinal(y);
  return Number(d < 0n ? -d : d);
}

/** random doubles with uniformly random bit patterns (every exponent, subnormals, NaN, Inf) */
function randomBits(n: number, seed: number, positive = false): Float64Array {
  const u = uniform(2 * n, seed, 0, 2 ** 32);
  const out = new Float64Array(n);
  const words = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    words[2 * i] = u[2 * i] >>> 0;
    words[2 * i + 1] = (u[2 * i + 1] >>> 0) & (positive ? 0x7fffffff : 0xffffffff);
  }
  return out;
}
const SPECIAL = [
  NaN,
  Infinity,
  -Infinity,
  0,
  -0,
  1,
  -1,
  2,
  0.5,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  709.782712893384,
  709.7827128933841,
  709.78,
  709.5,
  -708.39,
  -708.4,
  -709.1,
  -745.1332191019411,
  -745.1332191019412,
  -744.4,
  1e-300,
  -1e-300,
  0.34657359027997264,
  0.3465735902799727,
  0.3465735912322998,
  1.0397207708399179,
  1.0397207165,
  3.725290298461914e-9,
  3.7252902984619136e-9,
  -0.2928932188134524,
  0.41421356237309503,
  0.4142135623730951,
  -0.9999999999999999,
  22,
  -22,
  21.999999999999996,
  2 ** -29,
  2 ** -54,
  2 ** -55,
  3,
  7,
  15,
  1023,
  -0.5,
  -0.75,
  1 + 2 ** -40,
  3 - 2 ** -50,
  2 ** 53,
  2 ** 53 - 1,
  0.5 - 2 ** -30,
];

/**
 * Doubles whose high word is at or next to a branch point of fdlibm's exp, expm1, log, log1p or
 * tanh (both signs, random low words): the places where a select-based vector form could go wrong.
 */
function boundaries(seed: number): Float64Array {
  const his = [
    0x3fd62e42, 0x3ff0a2b2, 0x40862e42, 0x4043687a, 0x3e300000, 0x3e200000, 0x3c900000, 0x3c800000, 0x3fda827a,
    0x3fd2bec4, 0x3ff00000, 0x40360000, 0x43400000, 0x00100000, 0x3ff6a09e, 0x3fe6a09e, 0x3fefffff, 0x40000000,
    0x3fe00000,
  ];
  const low = uniform(his.length * 3 * 2 * 200, seed, 0, 2 ** 32);
  const out = new Float64Array(low.length);
  const words = new Uint32Array(out.buffer);
  let k = 0;
  for (const h of his)
    for (const d of [-1, 0, 1])
      for (const sign of [0, 0x80000000])
        for (let r = 0; r < 200; r++, k++) {
          words[2 * k] = low[k] >>> 0;
          words[2 * k + 1] = ((h + d) | sign) >>> 0;
        }
  return out;
}

function domain(seed: number, kind: 'exp' | 'log' | 'log1p' | 'tanh'): Float64Array {
  const parts: Float64Array[] = [
    Float64Array.from(SPECIAL),
    boundaries(seed + 9),
    randomBits(200_000, seed),
    randomBits(100_000, seed + 1, true),
  ];
  if (kind === 'tanh') parts.push(uniform(400_000, seed + 7, -25, 25), uniform(100_000, seed + 8, -1.1, 1.1));
  if (kind === 'exp' || kind === 'tanh') {
    parts.push(
      uniform(400_000, seed + 2, -750, 750),
      uniform(400_000, seed + 3, -2, 2),
      uniform(100_000, seed + 4, -1e-7, 1e-7),
      uniform(100_000, seed + 5, 705, 711),
      uniform(100_000, seed + 6, -746, -705),
    );
  }
  if (kind === 'log') {
    parts.push(
      uniform(400_000, seed + 2, 0, 4),
      uniform(200_000, seed + 3, 1 - 2 ** -18, 1 + 2 ** -18),
      uniform(200_000, seed + 4, -700, 700).map(Math.exp),
    );
  }
  if (kind === 'log1p') {
    parts.push(
      uniform(400_000, seed + 2, -1, 1),
      uniform(200_000, seed + 3, -60, 60).map((x) => Math.exp(x) - 1),
      uniform(200_000, seed + 4, -40, 0).map(Math.exp),
      uniform(100_000, seed + 5, -1e-8, 1e-8),
    );
  }
  const all = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

/** runs probe function `fn` over xs in chunks; returns the results */
function probe(fn: number, xs: Float64Array, y = 0): Float64Array {
  const out = new Float64Array(xs.length);
  const cap = w.probeCapacity();
  const at = w.probeBuffer();
  expect(at).toBeGreaterThan(0);
  for (let k = 0; k < xs.length; k += cap) {
    const n = Math.min(cap, xs.length - k);
    new Float64Array(w.memory.buffer, at, n).set(xs.subarray(k, k + n));
    expect(w.probeRun(fn, n, y)).toBe(0);
    out.set(new Float64Array(w.memory.buffer, at, n), k);
  }
  return out;
}

interface Agreement {
  n: number;
  maxUlps: number;
  maxRel: number;
  worst: number;
}
function agreement(xs: Float64Array, got: Float64Array, ref: (x: number) => number): Agreement {
  let maxUlps = 0,
    maxRel = 0,
    worst = NaN;
  for (let i = 0; i < xs.length; i++) {
    const want = ref(xs[i]);
    const u = ulps(got[i], want);
    if (u > maxUlps) {
      maxUlps = u;
      worst = xs[i];
    }
    if (Number.isFinite(want) && want !== 0) maxRel = Math.max(maxRel, Math.abs(got[i] - want) / Math.abs(want));
  }
  return { n: xs.length, maxUlps, maxRel, worst };
}

const FUNCS = [
  { name: 'exp (f64x2, as the kernels use it)', fn: 0, ref: Math.exp, kind: 'exp' },
  { name: 'exp (two f64x2 interleaved, as sigmoid and exp use it)', fn: 9, ref: Math.exp, kind: 'exp' },
  { name: 'exp (scalar)', fn: 1, ref: Math.exp, kind: 'exp' },
  { name: 'log', fn: 2, ref: Math.log, kind: 'log' },
  { name: 'log1p', fn: 3, ref: Math.log1p, kind: 'log1p' },
  { name: 'expm1', fn: 4, ref: Math.expm1, kind: 'exp' },
  { name: 'tanh', fn: 5, ref: Math.tanh, kind: 'tanh' },
  { name: 'log1p (f64x2, as the kernels use it)', fn: 7, ref: Math.log1p, kind: 'log1p' },
  { name: 'tanh (f64x2, as the kernels use it)', fn: 8, ref: Math.tanh, kind: 'tanh' },
] as const;

describe('wasm math agrees with Math.* bit for bit', () => {
  for (const { name, fn, ref, kind } of FUNCS)
    it(name, () => {
      const xs = domain(11 + fn, kind);
      const a = agreement(xs, probe(fn, xs), ref);
      console.log(
        `${name}: ${a.n} samples, max distance from Math.* ${a.maxUlps} ulp, max relative error ${a.maxRel.toExponential(2)}`,
      );
      expect(a.maxUlps, `${name}: worst at x = ${a.worst}`).toBe(0);
    });

  it('pow (the op pow and its derivative)', () => {
    const exponents = [
      2,
      0.5,
      3,
      -1,
      1,
      -2,
      1.5,
      -2.5,
      0.1,
      10,
      1e-3,
      7,
      -7,
      100,
      -0.5,
      1 / 3,
      1e10,
      -1e10,
      2 ** 31 + 0.5,
      0,
      -0,
    ];
    const bases = [domain(31, 'log'), uniform(50_000, 32, -10, 10), randomBits(50_000, 33)];
    let worst = 0;
    for (const y of exponents)
      for (const xs of bases) {
        const a = agreement(xs, probe(6, xs, y), (x) => Math.pow(x, y));
        if (a.maxUlps > worst) worst = a.maxUlps;
        expect(a.maxUlps, `pow(x, ${y}): worst at x = ${a.worst}`).toBe(0);
      }
    console.log(
      `pow: ${exponents.length} exponents x ${bases.reduce((s, b) => s + b.length, 0)} bases, max distance ${worst} ulp`,
    );
  });

  for (const [name, fn, ref, inputs] of [
    ['sin', 10, Math.sin, trigInputs],
    ['cos', 11, Math.cos, trigInputs],
    ['erf (against the js reference, which has no Math.erf)', 12, erf, erfInputs],
    ['erfc (against the js reference)', 13, erfc, erfInputs],
  ] as const)
    it(name, () => {
      const xs = inputs();
      const a = agreement(xs, probe(fn, xs), ref);
      expect(a.maxUlps, `${name}: worst at x = ${a.worst}`).toBe(0);
    });

  it('the probe refuses bad requests', () => {
    expect(w.probeRun(14, 1, 0)).toBe(-1);
    expect(w.probeRun(0, w.probeCapacity() + 1, 0)).toBe(-1);
    expect(w.probeRun(0, -1, 0)).toBe(-1);
  });
});
