/**
 * The native backend's forward values are the js reference's bits (finite differences would
 * magnify any difference by 1/h): its exp, log, log1p, expm1, tanh and pow, scalar and vector
 * versions, must return exactly what Math.* returns, in every kernel build (baseline, avx2,
 * avx512) this CPU can run. value() and reverse() may use a faster exp and tanh (they need 1e-12
 * agreement, not bits): their accuracy is measured here too.
 */
import { describe, expect, it } from 'vitest';
import { define, softmaxCrossEntropy } from '../src/index.js';
import { loadAddon } from '../src/backends/native/loader.js';
import { random, TEST_BACKENDS } from './harness.js';
import { erf, erfc } from '../src/backends/js/math.js';
import { erfInputs, trigInputs } from './math-inputs.js';

/** x stepped by n ulps (n may be negative; finite x, away from 0) */
function ulpStep(x: number, n: number): number {
  const f = new Float64Array([x]);
  const u = new BigInt64Array(f.buffer);
  u[0] += BigInt(n);
  return f[0];
}

/**
 * fdlibm's branch points (|x|; both signs are used): its thresholds are tests on high words, so
 * both the smallest double with that high word and the value it stands for are listed (between
 * the two the vector code once took the wrong path). Halves of the expm1 points are where tanh's
 * expm1(+-2|x|) crosses them.
 */
const word = (hi: number) => new Float64Array(new BigUint64Array([BigInt(hi) << 32n]).buffer)[0];
const LN2 = Math.LN2;
const EXPM1_POINTS = [
  2 ** -54,
  LN2 / 2,
  word(0x3fd62e43),
  1.5 * LN2,
  word(0x3ff0a2b2),
  LN2 - 0.25,
  19.5 * LN2,
  56 * LN2,
  word(0x4043687a),
  56.5 * LN2,
  2,
  44,
];
const BRANCH_POINTS = [
  ...EXPM1_POINTS,
  ...EXPM1_POINTS.map((x) => x / 2),
  2 ** -28,
  2 ** -27,
  1,
  22,
  708,
  709.4,
  1024 * LN2,
  709.78,
  word(0x40862e42),
  709.782712893384,
  745.1332191019411, // exp, tanh
  2 ** -29,
  word(0x3fda827a),
  Math.SQRT2 - 1,
  word(0x3fd2bec5),
  1 - Math.SQRT1_2,
  2 ** 53, // log1p
  ...[1, 2, 3, 4].flatMap((j) => [2 ** j - 1, Math.SQRT2 * 2 ** j - 1, word(0x3ff6a09e) * 2 ** j - 1]), // 1 + x normalised
];

/**
 * expm1 arguments (k = 19 and 20) where fdlibm's formulas for 2 <= k < 20 and 20 <= k <= 56 give
 * different bits (about 1 in 2 million do), and their halves for tanh: a vector path that used
 * the wrong one at k = 19 or 20 would pass every other input here.
 */
const EXPM1_K20 = [12.882115800558964, 13.036265857624757, 13.392940159256156, 13.729412829438209, 13.923568923776784];

/** Each branch point in both signs, a few ulps around it and sweeps at relative steps 2^-33 and 2^-24. */
function nearBranchPoints(): number[] {
  const out: number[] = [];
  for (const b of BRANCH_POINTS)
    for (const x of [b, -b]) {
      for (let n = -4; n <= 4; n++) out.push(ulpStep(x, n));
      for (let j = -64; j <= 64; j++) out.push(x * (1 + j * 2 ** -33));
      for (let j = -16; j <= 16; j++) out.push(x * (1 + j * 2 ** -24));
    }
  return out;
}

/** Inputs over every range the algorithms branch on, plus the special values. */
function inputs(): Float64Array {
  const specials = [
    0,
    -0,
    1,
    -1,
    2,
    0.5,
    -0.5,
    Infinity,
    -Infinity,
    NaN,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    1e-300,
    2 ** -28,
    -(2 ** -28),
    2 ** -29,
    2 ** -54,
    2 ** -1022,
    Math.LN2 / 2,
    -Math.LN2 / 2,
    1.5 * Math.LN2,
    -1.5 * Math.LN2,
    22,
    -22,
    708,
    -708,
    709.78,
    709.7827128933841,
    709.79,
    -745.1332191019411,
    -745.14,
    -746,
    1e308,
    -1e308,
    56 * Math.LN2,
    -56 * Math.LN2,
    0.41421356237309503,
    -0.2928932188134524,
    1e16,
    9007199254740992,
    2 ** -1030,
    -(2 ** -1050),
    2.225073858507201e-308,
    -2.225073858507201e-308,
    3 * 2 ** -1074,
  ]; // subnormals
  const bits = new Float64Array(random(40_000, 11).map((u) => u));
  const u64 = new BigUint64Array(bits.buffer);
  const r = random(80_000, 12, 0, 2 ** 32);
  for (let i = 0; i < u64.length; i++)
    u64[i] = (BigInt(Math.floor(r[2 * i])) << 32n) | BigInt(Math.floor(r[2 * i + 1]));
  return Float64Array.from([
    ...specials,
    ...nearBranchPoints(),
    ...EXPM1_K20,
    ...EXPM1_K20.map((x) => x / 2),
    ...random(60_000, 1, -3, 3),
    ...random(60_000, 7, -0.999, 5), // log1p's vector path: every lane in (-1, 2^53)
    ...random(20_000, 8, 0, 1),
    ...random(60_000, 2, -750, 750),
    ...random(30_000, 3, -1e-6, 1e-6),
    ...Array.from(random(30_000, 4, -60, 10), (e, i) => (i % 2 ? -1 : 1) * 2 ** e),
    ...bits,
  ]);
}

const sameBits = (got: Float64Array, want: Float64Array, x: Float64Array, what: string) => {
  for (let i = 0; i < got.length; i++)
    if (!Object.is(got[i], want[i])) expect.fail(`${what}(${x[i]}): got ${got[i]}, Math gives ${want[i]}`);
};

/** the widest vector (AVX-512) holds 8 doubles */
const LANES = 8;

describe.runIf(TEST_BACKENDS.includes('native'))('native math is Math.* bit for bit, in every kernel build', () => {
  const x = inputs();
  // the vector versions (vmath.h; "exp" is the vector one) run with the inputs shifted by 0..7
  // elements, so that each input is computed in every lane position of every build
  const vector = new Set(['exp', 'log1p_vec', 'expm1_vec', 'tanh_vec']);
  const fns: [string, (v: number) => number][] = [
    ['exp', Math.exp],
    ['log', Math.log],
    ['log1p', Math.log1p],
    ['log1p_vec', Math.log1p],
    ['expm1', Math.expm1],
    ['expm1_vec', Math.expm1],
    ['tanh', Math.tanh],
    ['tanh_vec', Math.tanh],
    ...[2, 3, 0.5, -1, -2.5, 1.7, 0, 1 / 3, 10, -0.5].map((p): [string, (v: number) => number] => [
      `pow:${p}`,
      (v) => Math.pow(v, p),
    ]),
  ];
  const addon = loadAddon();
  for (const isa of addon.supportedIsas)
    for (const [name, fn] of fns)
      it(`${name} [${isa}]`, () => {
        const want = x.map(fn);
        for (let shift = 0; shift < (vector.has(name) ? LANES : 1); shift++) {
          const xs = x.subarray(shift),
            y = new Float64Array(xs.length);
          addon.vmath(name, xs, y, isa);
          sameBits(y, want.subarray(shift), xs, `${name} (inputs shifted by ${shift})`);
        }
      });
});

describe.runIf(TEST_BACKENDS.includes('native'))(
  'native sin and cos are Math.sin and Math.cos, erf and erfc the js reference, bit for bit',
  () => {
    const trig = trigInputs(),
      erfs = erfInputs();
    const fns: [string, (v: number) => number, Float64Array][] = [
      ['sin', Math.sin, trig],
      ['cos', Math.cos, trig],
      ['sin_vec', Math.sin, trig],
      ['cos_vec', Math.cos, trig],
      ['erf', erf, erfs],
      ['erfc', erfc, erfs],
    ];
    const addon = loadAddon();
    for (const isa of addon.supportedIsas)
      for (const [name, fn, x] of fns)
        it(`${name} [${isa}] on ${x.length} inputs`, () => {
          const want = x.map(fn);
          // the vector versions see each input in every lane position, as above
          for (let shift = 0; shift < (name.endsWith('_vec') ? LANES : 1); shift++) {
            const xs = x.subarray(shift),
              y = new Float64Array(xs.length);
            addon.vmath(name, xs, y, isa);
            sameBits(y, want.subarray(shift), xs, `${name} (inputs shifted by ${shift})`);
          }
        });
  },
);

/** Distance in units in the last place (same-sign finite values), Infinity when only one is NaN. */
function ulps(a: number, b: number): number {
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b) || Math.sign(a) !== Math.sign(b)) return Infinity;
  const f = new Float64Array([Math.abs(a), Math.abs(b)]);
  const u = new BigInt64Array(f.buffer);
  return Number(u[0] > u[1] ? u[0] - u[1] : u[1] - u[0]);
}

describe.runIf(TEST_BACKENDS.includes('native'))(
  'the fast exp and tanh of value() and reverse(): documented ulp bounds, exact outside their range',
  () => {
    const x = inputs();
    const addon = loadAddon();
    const cases: [string, (v: number) => number, number, (v: number) => boolean][] = [
      ['exp_fast', Math.exp, 2, (v) => Math.abs(v) < 708],
      ['tanh_fast', Math.tanh, 4, (v) => Math.abs(v) >= 2 ** -28 && Math.abs(v) < 22],
    ];
    for (const isa of addon.supportedIsas)
      for (const [name, fn, bound, inRange] of cases)
        it(`${name} [${isa}]: within ${bound} ulp`, () => {
          const y = new Float64Array(x.length);
          addon.vmath(name, x, y, isa);
          let worst = 0,
            at = 0;
          for (let i = 0; i < x.length; i++) {
            const want = fn(x[i]);
            if (!inRange(x[i]) || want === 0 || !Number.isFinite(want)) {
              if (!Object.is(y[i], want)) expect.fail(`${name}(${x[i]}) = ${y[i]}, Math gives ${want}`);
              continue;
            }
            const d = Math.abs(want) < 2.2250738585072014e-308 ? Math.abs(y[i] - want) / 5e-324 : ulps(y[i], want);
            if (d > worst) {
              worst = d;
              at = x[i];
            }
          }
          expect(worst, `worst at x = ${at}`).toBeLessThanOrEqual(bound);
        });
  },
);

describe.runIf(TEST_BACKENDS.includes('native'))('every kernel build computes the same exact forward bits', () => {
  it('finite differences (value and gradient) are identical across builds; value() and reverse() agree to 1e-13', () => {
    const f = define(
      { params: { W1: [30, 17], b1: [17], W2: [17, 5], b2: [5] }, inputs: { X: [9, 30], Y: [9, 5] } },
      ({ W1, b1, W2, b2 }, { X, Y }) =>
        softmaxCrossEntropy(X.matmul(W1).add(b1).tanh().matmul(W2).add(b2).softplus(), Y).mean(),
    );
    const t = f.tape;
    const theta = random(t.nParams, 5, -0.3, 0.3);
    const ins = [random(270, 6), Float64Array.from({ length: 45 }, (_, i) => (i % 5 === i % 3 ? 1 : 0))];
    const addon = loadAddon();
    const runs = addon.supportedIsas.map((isa) => {
      const p = addon.load(t, isa);
      const rev = new Float64Array(t.nParams),
        fd = new Float64Array(t.nParams);
      const r = { isa, value: p.value(theta, ins), rev, fd, fdValue: p.fd(theta, ins, fd, false, 2 ** -26, true) };
      p.reverse(theta, ins, rev);
      p.dispose();
      return r;
    });
    const [ref] = runs;
    for (const r of runs) {
      expect(r.fdValue, r.isa).toBe(ref.fdValue);
      expect(Math.abs(r.value - ref.fdValue) / Math.abs(ref.fdValue), r.isa).toBeLessThan(1e-13);
      for (let i = 0; i < t.nParams; i++)
        if (!Object.is(r.fd[i], ref.fd[i])) expect.fail(`${r.isa}: fd[${i}] ${r.fd[i]} != ${ref.fd[i]}`);
      let num = 0,
        den = 0;
      for (let i = 0; i < t.nParams; i++) {
        num += (r.rev[i] - ref.rev[i]) ** 2;
        den += ref.rev[i] ** 2;
      }
      expect(Math.sqrt(num / den), r.isa).toBeLessThan(1e-13);
    }
  });
});
