/**
 * Inputs for the sin, cos, erf and erfc bit-identity tests (test/native-math.test.ts,
 * test/wasm-math.test.ts): the special values, every branch point of fdlibm's code at and next
 * to its high word, and random values at every magnitude.
 */
import { uniform } from '../src/models/random.js';

/** doubles with the given high words (and the words next to them), both signs, random low words */
function nearHighWords(his: number[], perWord: number, seed: number): number[] {
  const low = uniform(his.length * 6 * perWord, seed, 0, 2 ** 32);
  const f = new Float64Array(1);
  const w = new Uint32Array(f.buffer);
  const out: number[] = [];
  let k = 0;
  for (const h of his)
    for (const d of [-1, 0, 1])
      for (const sign of [0, 0x80000000])
        for (let r = 0; r < perWord; r++) {
          w[0] = low[k++] >>> 0;
          w[1] = ((h + d) | sign) >>> 0;
          out.push(f[0]);
        }
  return out;
}

/** uniformly random bit patterns: every exponent, subnormals, NaN, Inf */
function randomBits(n: number, seed: number): number[] {
  const u = uniform(2 * n, seed, 0, 2 ** 32);
  const out = new Float64Array(n);
  const w = new Uint32Array(out.buffer);
  for (let i = 0; i < 2 * n; i++) w[i] = u[i] >>> 0;
  return Array.from(out);
}

/** |x| = 2^e, e uniform in [lo, hi), random signs */
function magnitudes(n: number, seed: number, lo: number, hi: number): number[] {
  const e = uniform(n, seed, lo, hi);
  return Array.from(e, (v, i) => (i % 2 ? -1 : 1) * 2 ** v);
}

const SPECIAL = [
  0,
  -0,
  Infinity,
  -Infinity,
  NaN,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  -2.2250738585072014e-308,
  1e-300,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  1,
  -1,
  0.5,
  2,
];

export function trigInputs(): Float64Array {
  const nearPio2: number[] = [];
  // n pi/2 (as doubles) and their neighbours, where x - n pi/2 cancels most
  for (let n = 1; n < 2e6; n = Math.ceil(n * 1.02))
    for (const s of [1, -1]) for (let d = -2; d <= 2; d++) nearPio2.push(s * ((n * Math.PI) / 2) * (1 + d * 2 ** -53));
  const hard = [
    1e5,
    1e22,
    -1e22,
    1e300,
    -1e300,
    5.319372648326541e255,
    6381956970095103 * 2 ** 797,
    2 ** 1023,
    3.14159265358979,
    Math.PI,
    Math.PI / 2,
    Math.PI / 4,
    (3 * Math.PI) / 4,
    2 ** 19 * (Math.PI / 2),
    2 ** 20 * (Math.PI / 2),
  ];
  // high words where fdlibm's sin, cos and their reduction branch
  const his = [
    0x3e400000, 0x3fd33333, 0x3fe90000, 0x3fe921fb, 0x4002d97c, 0x413921fb, 0x3ff921fb, 0x400921fb, 0x4012d97c,
    0x404921fb, 0x41700000, 0x7fefffff, 0x00100000,
  ];
  return Float64Array.from([
    ...SPECIAL,
    ...hard,
    ...hard.map((x) => -x),
    ...nearPio2,
    ...nearHighWords(his, 100, 41),
    ...uniform(60_000, 42, -10, 10),
    ...uniform(30_000, 43, -1e6, 1e6),
    ...magnitudes(60_000, 44, -40, 1024),
    ...randomBits(30_000, 45),
  ]);
}

export function erfInputs(): Float64Array {
  // high words where s_erf.c branches: 2^-56, 2^-28, 0.25, 0.84375, 1.25, 1/0.35 (two cut-offs), 6, 28
  const his = [
    0x00800000, 0x3c700000, 0x3e300000, 0x3fd00000, 0x3feb0000, 0x3ff40000, 0x4006db6d, 0x4006db6e, 0x40180000,
    0x403c0000,
  ];
  return Float64Array.from([
    ...SPECIAL,
    ...nearHighWords(his, 100, 51),
    ...uniform(60_000, 52, -7, 7),
    ...uniform(20_000, 53, -30, 30),
    ...magnitudes(20_000, 54, -1074, 10),
    ...randomBits(20_000, 55),
  ]);
}
