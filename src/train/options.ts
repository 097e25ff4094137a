/**
 * Option checking for the optimizers and schedules: an unknown option name or a value out of
 * range is an Error naming the function, the option and the value, thrown when the optimizer or
 * schedule is created, not at its first step.
 */
import { describeValue } from '../trace/tensor.js';

/** `options` as a record whose keys are all in `known` (undefined values count as absent). */
export function checkOptions(fn: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new TypeError(`${fn}: options must be an object, got ${describeValue(options)}`);
  for (const key of Object.keys(options))
    if (!known.includes(key)) throw new Error(`${fn}: unknown option '${key}' (expected ${known.join(', ')})`);
  return options as Record<string, unknown>;
}

export interface Range {
  /** smallest allowed value, and whether it is allowed itself */
  readonly min?: number;
  readonly minOpen?: boolean;
  readonly max?: number;
  readonly maxOpen?: boolean;
  readonly integer?: boolean;
}

function describeRange(r: Range): string {
  const lo = r.min === undefined ? '(-inf' : `${r.minOpen ? '(' : '['}${r.min}`;
  const hi = r.max === undefined ? 'inf)' : `${r.max}${r.maxOpen ? ')' : ']'}`;
  return `${r.integer ? 'an integer' : 'a number'} in ${lo}, ${hi}`;
}

/** A finite number in the range, or `fallback` when absent. */
export function numberOption(fn: string, name: string, x: unknown, r: Range, fallback?: number): number {
  if (x === undefined && fallback !== undefined) return fallback;
  const ok =
    typeof x === 'number' &&
    Number.isFinite(x) &&
    (!r.integer || Number.isInteger(x)) &&
    (r.min === undefined || (r.minOpen ? x > r.min : x >= r.min)) &&
    (r.max === undefined || (r.maxOpen ? x < r.max : x <= r.max));
  if (!ok) throw new RangeError(`${fn}: ${name} must be ${describeRange(r)}, got ${describeValue(x)}`);
  return x as number;
}

export function booleanOption(fn: string, name: string, x: unknown, fallback: boolean): boolean {
  if (x === undefined) return fallback;
  if (typeof x !== 'boolean') throw new TypeError(`${fn}: ${name} must be a boolean, got ${describeValue(x)}`);
  return x;
}

/** A positive integer option, or undefined when absent. */
export function positiveInteger(fn: string, name: string, v: unknown): number | undefined {
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1))
    throw new RangeError(`${fn}: ${name} must be a positive integer, got ${describeValue(v)}`);
  return v as number | undefined;
}

/** A non-negative finite number option (a tolerance), or undefined when absent. */
export function tolerance(fn: string, name: string, v: unknown): number | undefined {
  if (v !== undefined && (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)))
    throw new RangeError(`${fn}: ${name} must be a non-negative finite number, got ${describeValue(v)}`);
  return v as number | undefined;
}
