/**
 * Seeded parameter initialisers (Glorot/Xavier and He/Kaiming, uniform or normal), chosen per shape
 * as PyTorch and Keras users expect, returned as one flat vector in definition order.
 *
 * Fans, the rule that decides every scale here:
 * - rank 2 `[in, out]`: fan_in = in, fan_out = out. tapegrad computes a layer as `x.matmul(w)` with
 *   x `[batch, in]`, so w is `[in, out]` (Keras's Dense kernel layout; PyTorch's `nn.Linear` stores
 *   the transpose, `[out, in]`).
 * - rank >= 3, convolution weights `[out, in, k1, k2, ...]` (PyTorch's rule):
 *   fan_in = in * k1 * k2 ..., fan_out = out * k1 * k2 ....
 * - rank 1 and scalars (biases): fan_in = fan_out = the number of elements (Keras's rule), used
 *   only when a scheme is asked for them by name; by default they are zero.
 *
 * Randomness: parameter k (definition order) draws its elements in row-major order from its own
 * mulberry32 stream (src/models/random.ts) seeded with a hash of (seed, k), so changing one
 * parameter's scheme leaves the others' values alone. Normal schemes use Box-Muller on pairs of
 * those uniforms. Pure TypeScript: the same numbers on every backend. (The uniform schemes are
 * bit-identical in every JS engine; the normal ones use Math.log/cos/sin, which engines other than
 * V8 may round differently in the last bit.)
 */
import { Compiled } from '../api/compiled.js';
import { Defined, type Leaf } from '../trace/define.js';
import { describeValue } from '../trace/tensor.js';
import { mulberry32 } from '../models/random.js';

export type InitScheme = 'glorot-uniform' | 'glorot-normal' | 'he-uniform' | 'he-normal' | 'zeros';
export const INIT_SCHEMES: readonly InitScheme[] = [
  'glorot-uniform',
  'glorot-normal',
  'he-uniform',
  'he-normal',
  'zeros',
];

export interface InitOptions {
  /** an integer in [0, 2^32) */
  readonly seed: number;
  /**
   * One scheme for every weight (rank >= 2; biases and scalars stay zero), or a map from parameter
   * names to schemes (parameters not named get the default). Default: 'glorot-uniform' for
   * weights, zeros for biases and scalars.
   */
  readonly scheme?: InitScheme | Readonly<Record<string, InitScheme>>;
}

/** fan_in and fan_out of a parameter shape (see the module comment). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    const n = shape.reduce((a, b) => a * b, 1);
    return { fanIn: n, fanOut: n };
  }
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] };
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/**
 * A flat Float64Array of initial parameters for a traced or compiled function (definition order,
 * the layout of `c.flatten` and `gradFlat`). Glorot-uniform: U(-a, a) with a = sqrt(6 / (fan_in +
 * fan_out)); Glorot-normal: N(0, 2 / (fan_in + fan_out)); He-uniform: U(-a, a) with a = sqrt(6 /
 * fan_in); He-normal: N(0, 2 / fan_in). The normals are not truncated (PyTorch's `xavier_normal_`
 * and `kaiming_normal_`; Keras truncates at two standard deviations).
 */
export function init(model: Defined | Compiled, options: InitOptions): Float64Array {
  if (!(model instanceof Defined) && !(model instanceof Compiled))
    throw new TypeError(`init: the first argument must be a defined or compiled function, got ${describeValue(model)}`);
  const leaves = model.params;
  const { seed, schemeOf } = resolveInit(leaves, options);
  const theta = new Float64Array(leaves.reduce((n, l) => n + l.size, 0));
  // parameter shapes hold sizes only (symbolic dimensions are for inputs)
  leaves.forEach((leaf, k) =>
    fill(
      theta.subarray(leaf.offset, leaf.offset + leaf.size),
      schemeOf(leaf),
      leaf.shape as readonly number[],
      streamSeed(seed, k),
    ),
  );
  return theta;
}

function resolveInit(leaves: readonly Leaf[], options: unknown) {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new TypeError(`init: options must be { seed, scheme? }, got ${describeValue(options)}`);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (key !== 'seed' && key !== 'scheme')
      throw new Error(`init: unknown option '${key}' (expected 'seed', 'scheme')`);
  const { seed, scheme } = o;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
    throw new RangeError(`init: seed must be an integer in [0, 2^32), got ${describeValue(seed)}`);
  const checkScheme = (s: unknown, where: string): InitScheme => {
    if (!INIT_SCHEMES.includes(s as InitScheme))
      throw new Error(
        `init: unknown scheme ${describeValue(s)}${where} (expected ${INIT_SCHEMES.map((x) => `'${x}'`).join(', ')})`,
      );
    return s as InitScheme;
  };
  const byDefault =
    (weights: InitScheme) =>
    (l: Leaf): InitScheme =>
      l.shape.length >= 2 ? weights : 'zeros';
  if (scheme === undefined) return { seed, schemeOf: byDefault('glorot-uniform') };
  if (typeof scheme === 'string') return { seed, schemeOf: byDefault(checkScheme(scheme, '')) };
  if (typeof scheme !== 'object' || scheme === null || Array.isArray(scheme))
    throw new TypeError(`init: scheme must be a scheme name or { parameter: scheme }, got ${describeValue(scheme)}`);
  const map = new Map<string, InitScheme>();
  for (const [name, s] of Object.entries(scheme)) {
    if (!leaves.some((l) => l.name === name))
      throw new Error(
        `init: scheme names unknown parameter '${name}' (parameters: ${leaves.map((l) => `'${l.name}'`).join(', ')})`,
      );
    map.set(name, checkScheme(s, ` for parameter '${name}'`));
  }
  const rest = byDefault('glorot-uniform');
  return { seed, schemeOf: (l: Leaf) => map.get(l.name) ?? rest(l) };
}

/** The seed of parameter k's stream: murmur3's 32-bit finaliser of (seed, k). */
function streamSeed(seed: number, k: number): number {
  let h = (seed ^ Math.imul(k + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function fill(out: Float64Array, scheme: InitScheme, shape: readonly number[], seed: number): void {
  if (scheme === 'zeros') return; // theta is zero-filled
  const { fanIn, fanOut } = fans(shape);
  const variance = scheme.startsWith('glorot') ? 2 / (fanIn + fanOut) : 2 / fanIn;
  const next = mulberry32(seed);
  if (scheme.endsWith('uniform')) {
    const a = Math.sqrt(3 * variance); // U(-a, a) has variance a^2 / 3
    for (let i = 0; i < out.length; i++) out[i] = a * (2 * next() - 1);
    return;
  }
  const sd = Math.sqrt(variance);
  for (let i = 0; i < out.length; i += 2) {
    // Box-Muller: 1 - u is in (0, 1], so the log is finite
    const r = sd * Math.sqrt(-2 * Math.log(1 - next()));
    const phi = 2 * Math.PI * next();
    out[i] = r * Math.cos(phi);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(phi);
  }
}
