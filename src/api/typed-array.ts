import type { ArrayOf, DType } from './dtype.js';

/**
 * Typed-array checks that a caller cannot fool. `x instanceof Float64Array` and `x.length` are
 * ordinary property lookups: a subclass, an own `length` property or a faked prototype chain
 * changes what they say, while the engine's copies (`set`) and the wasm and native backends use
 * the array's real length. A spoofed length overwrote a constant on js and left the previous
 * call's input in place on wasm. These read the engine's own internal slots instead, through the
 * getters of %TypedArray%.prototype, which no object can redefine for itself.
 */
const TypedArrayPrototype = Object.getPrototypeOf(Int8Array.prototype) as object;
const getter = (key: PropertyKey) => Object.getOwnPropertyDescriptor(TypedArrayPrototype, key)!.get!;
const tagOf = getter(Symbol.toStringTag) as (this: unknown) => string | undefined;
const lengthOfView = getter('length') as (this: ArrayBufferView) => number;

/** A real Float64Array (a subclass too), by its internal type, not its prototype chain. */
export function isFloat64Array(x: unknown): x is Float64Array {
  return tagOf.call(x) === 'Float64Array';
}

/** A real Float32Array, by its internal type. */
export function isFloat32Array(x: unknown): x is Float32Array {
  return tagOf.call(x) === 'Float32Array';
}

/** A real typed array of the dtype's element type (Float64Array or Float32Array), by its internal type. */
export function isArrayOf<D extends DType>(x: unknown, dtype: D): x is ArrayOf<D> {
  return tagOf.call(x) === (dtype === 'float32' ? 'Float32Array' : 'Float64Array');
}

/** A real Int32Array, by its internal type. */
export function isInt32Array(x: unknown): x is Int32Array {
  return tagOf.call(x) === 'Int32Array';
}

/** The real element count of a typed array, whatever its `length` property says. */
export function lengthOf(x: ArrayBufferView): number {
  return lengthOfView.call(x);
}
