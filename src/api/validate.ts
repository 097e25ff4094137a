import type { Leaf } from '../trace/define.js';
import { describeValue } from '../trace/tensor.js';
import { isArrayOf, lengthOf } from './typed-array.js';
import { arrayOf, defaultStep, EPS, type DType, type FloatArray } from './dtype.js';
import { METHODS, type Method } from '../trace/cost.js';

/**
 * A parameter or input value: a Float64Array (read in place), an array of numbers, another
 * typed array of numbers (copied: Int32Array class labels, Float32Array data), or a number
 * (size-1 shapes).
 */
export type Value = Float64Array | readonly number[] | number | Int32Array | Uint8Array | Float32Array;
export type Values = Readonly<Record<string, Value>>;

export interface GradOptions {
  /**
   * 'reverse' (default: backprop), 'forward' (forward-mode AD: one tangent sweep per parameter,
   * exact like reverse), 'fd-forward' or 'fd-central' (finite differences)
   */
  readonly method?: Method;
  /**
   * relative FD step: h_i = eps * max(1, |theta_i|); default sqrt(EPS) forward, cbrt(EPS) central,
   * EPS the machine epsilon of the function's dtype (2^-52 float64, 2^-23 float32)
   */
  readonly eps?: number;
  /** FD and forward mode: re-run just the tape suffix each parameter reaches (default true) */
  readonly reuse?: boolean;
  /**
   * A Float64Array (Float32Array for a float32 function) for all the named outputs, one after
   * another (their sizes summed): written by the call (flat calls only; `grad` returns them by name).
   */
  readonly outputs?: FloatArray;
  /**
   * FD and forward mode: compute just these flat coordinates of the gradient (indices into the flat parameter
   * vector); the other entries of the output are left untouched (zero in `grad()`). For spot
   * checks and for timing FD on a sample of coordinates.
   */
  readonly coordinates?: ArrayLike<number>;
}

export const EPSILON = EPS.float64;
/** The default relative FD steps of float64 functions (float32 ones: defaultStep in dtype.ts). */
export const DEFAULT_STEP = {
  'fd-forward': defaultStep('fd-forward', 'float64'),
  'fd-central': defaultStep('fd-central', 'float64'),
} as const;

function checkNames(kind: string, leaves: readonly Leaf[], values: unknown): asserts values is Values {
  if (typeof values !== 'object' || values === null || Array.isArray(values) || ArrayBuffer.isView(values))
    throw new TypeError(`${kind}s must be an object of { name: value }, got ${describeValue(values)}`);
  for (const key of Object.keys(values))
    if (!leaves.some((l) => l.name === key))
      throw new Error(`unknown ${kind} '${key}' (expected ${leaves.map((l) => `'${l.name}'`).join(', ') || 'none'})`);
  for (const l of leaves) if (!(l.name in values)) throw new Error(`missing ${kind} '${l.name}'`);
}

/**
 * Reading a value can run user code (a getter on the record, an element getter of a number[]),
 * which may detach a Float64Array read before. So values are first read, each element once, and
 * number[] and numbers copied (`read`); the lengths of Float64Arrays, used in place, are checked
 * after the last read (`checkLength`).
 */
function read(kind: string, leaf: Leaf, x: unknown, dtype: DType): FloatArray {
  // the common case first, and the message built only when it is needed: this runs on every call
  if (isArrayOf(x, dtype)) return x;
  const where = () => `${kind} '${leaf.name}' (shape [${leaf.shape.join(',')}], ${leaf.size} elements)`;
  if (typeof x === 'number') {
    if (leaf.size !== 1) throw new RangeError(`${where()}: a number fits only a one-element shape`);
    const one = arrayOf(dtype, 1);
    one[0] = x;
    return one;
  }
  if (
    ArrayBuffer.isView(x) &&
    !(x instanceof DataView) &&
    !(x instanceof BigInt64Array) &&
    !(x instanceof BigUint64Array)
  ) {
    const a = x as Int32Array;
    if (lengthOf(a) !== leaf.size) throw new RangeError(`${where()}: got ${lengthOf(a)} elements`);
    const copy = arrayOf(dtype, leaf.size);
    copy.set(a); // by the internal slots (rounded to float32 for a float32 function): no iterator or length a subclass could override
    return copy;
  }
  if (Array.isArray(x)) {
    if (x.length !== leaf.size) throw new RangeError(`${where()}: got ${x.length} elements`);
    const a = arrayOf(dtype, leaf.size);
    for (let i = 0; i < a.length; i++) {
      const e: unknown = x[i];
      if (typeof e !== 'number') throw new TypeError(`${where()}: element ${i} is ${describeValue(e)}, not a number`);
      a[i] = e;
    }
    return a;
  }
  throw new TypeError(
    `${where()}: expected a ${dtype === 'float32' ? 'Float32Array' : 'Float64Array'}, number[] or number, got ${describeValue(x)}`,
  );
}

/** The real length (typed-array.ts): a spoofed `length` must not pass. */
function checkLength(kind: string, leaf: Leaf, x: FloatArray): void {
  if (lengthOf(x) !== leaf.size)
    throw new RangeError(
      `${kind} '${leaf.name}' (shape [${leaf.shape.join(',')}], ${leaf.size} elements): got ${lengthOf(x)} elements`,
    );
}

/** Copies named parameters into the flat vector `theta` (definition order; rounded to theta's element type). */
export function packParams(leaves: readonly Leaf[], values: unknown, theta: FloatArray, kind = 'parameter'): void {
  checkNames(kind, leaves, values);
  const dtype: DType = theta instanceof Float32Array ? 'float32' : 'float64';
  for (const l of leaves) {
    const x = read(kind, l, values[l.name], dtype);
    checkLength(kind, l, x);
    theta.set(x, l.offset);
  }
}

/**
 * Named inputs as arrays of the dtype in definition order, into `out` (arrays of the dtype are
 * used in place; others are copied, rounded to float32 for a float32 function).
 */
export function collectInputs(
  leaves: readonly Leaf[],
  values: unknown,
  out: FloatArray[],
  dtype: DType = 'float64',
): void {
  checkNames('input', leaves, values ?? {});
  leaves.forEach((l, i) => (out[i] = read('input', l, (values as Values)[l.name], dtype)));
  leaves.forEach((l, i) => checkLength('input', l, out[i]));
}

/** The element counts of named inputs (names checked), for telling the sizes of symbolic dimensions. */
export function inputLengths(leaves: readonly Leaf[], values: unknown, dtype: DType = 'float64'): number[] {
  checkNames('input', leaves, values ?? {});
  return leaves.map((l) => {
    const x = (values as Record<string, unknown>)[l.name];
    if (typeof x === 'number') return 1;
    if (Array.isArray(x)) return x.length;
    if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return lengthOf(x);
    throw new TypeError(
      `input '${l.name}': expected a ${dtype === 'float32' ? 'Float32Array' : 'Float64Array'}, number[] or number, got ${describeValue(x)}`,
    );
  });
}

/**
 * Inputs read as indices (Tape.indexChecks: pairs (input, bound): class labels, gather's rows)
 * must hold integers in [0, bound): checked before any backend reads them.
 */
export function checkIndices(leaves: readonly Leaf[], checks: Int32Array, inputs: readonly FloatArray[]): void {
  for (let k = 0; k < checks.length; k += 2) {
    const x = inputs[checks[k]],
      classes = checks[k + 1];
    for (let i = 0; i < x.length; i++) {
      const y = x[i];
      if (!(Number.isInteger(y) && y >= 0 && y < classes))
        throw new RangeError(
          `input '${leaves[checks[k]].name}': element ${i} is ${y}, not an index in [0, ${classes}) (a class of oneHot or softmaxCrossEntropy, a row of gather)`,
        );
    }
  }
}

export function checkFlat(what: string, x: unknown, n: number, dtype: DType = 'float64'): asserts x is FloatArray {
  if (!isArrayOf(x, dtype))
    throw new TypeError(
      `${what} must be a ${dtype === 'float32' ? 'Float32Array (this function is float32)' : 'Float64Array'}, got ${describeValue(x)}`,
    );
  if (lengthOf(x) !== n) throw new RangeError(`${what} must have ${n} elements, got ${lengthOf(x)}`);
}

export interface Resolved {
  readonly method: Method;
  readonly step: number;
  readonly reuse: boolean;
  readonly coordinates?: ArrayLike<number>;
  readonly outputs?: FloatArray;
}

export function resolveOptions(opts: unknown, n: number, dtype: DType = 'float64'): Resolved {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null))
    throw new TypeError(`options must be an object, got ${describeValue(opts)}`);
  // each option read once (a getter could give one value to the checks and another to the call)
  const { method: m, eps, reuse, coordinates, outputs } = (opts ?? {}) as GradOptions;
  const method = m ?? 'reverse';
  if (!METHODS.includes(method))
    throw new Error(`unknown method ${describeValue(method)} (expected ${METHODS.map((m) => `'${m}'`).join(', ')})`);
  if (eps !== undefined && (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)))
    throw new RangeError(`eps must be a positive finite number, got ${describeValue(eps)}`);
  // the step h = (theta + eps * max(1, |theta|)) - theta vanishes where 1 + eps rounds to 1: a 0/0 gradient
  const round = dtype === 'float32' ? Math.fround : (x: number) => x;
  if (eps !== undefined && round(1 + eps) === 1)
    throw new RangeError(
      `eps = ${eps} is too small: theta + eps * max(1, |theta|) rounds back to theta in ${dtype}, so the step vanishes (use eps >= 2^${Math.log2(EPS[dtype])} = ${EPS[dtype]})`,
    );
  if (reuse !== undefined && typeof reuse !== 'boolean')
    throw new TypeError(`reuse must be a boolean, got ${describeValue(reuse)}`);
  let c: number[] | undefined;
  if (coordinates !== undefined) {
    if (method === 'reverse')
      throw new Error(
        'coordinates apply to finite differences and forward mode only (reverse mode gives every coordinate at once)',
      );
    const length: unknown = typeof coordinates === 'object' && coordinates !== null ? coordinates.length : undefined;
    if (typeof length !== 'number')
      throw new TypeError(`coordinates must be an array of indices, got ${describeValue(coordinates)}`);
    c = [];
    for (let i = 0; i < length; i++) {
      const k = coordinates[i];
      if (!Number.isInteger(k) || k < 0 || k >= n)
        throw new RangeError(`coordinates[${i}] = ${describeValue(k)} is not an index in [0, ${n})`);
      c.push(k);
    }
  }
  const step = method === 'reverse' || method === 'forward' ? 0 : (eps ?? defaultStep(method, dtype));
  if (outputs !== undefined && !isArrayOf(outputs, dtype))
    throw new TypeError(
      `outputs must be a ${dtype === 'float32' ? 'Float32Array' : 'Float64Array'}, got ${describeValue(outputs)}`,
    );
  return { method, step, reuse: reuse ?? true, coordinates: c, outputs };
}
