/**
 * Element types of a compiled function. 'float64' (the default) computes in IEEE doubles;
 * 'float32' stores every value, parameter, input, output and gradient as a float32: twice the
 * SIMD lanes and half the memory traffic for the kernels that pay (matmul, conv, reductions).
 *
 * The float32 contract, the same on every backend:
 * - every op's result is rounded to float32 where it is stored (the arena holds float32s);
 * - elementwise ops read their float32 operands, compute the op's expression in float64 and round
 *   once (so exp, tanh, ... are the float64 fdlibm results rounded: at most half an ulp of
 *   float32 plus one float64 rounding);
 * - sums may accumulate in float32 or in float64: the native and wasm products (matmul, conv)
 *   accumulate in float32 lanes for speed, js's matmul and sum add through the float32 arena
 *   (rounding every step), other reductions keep a float64 accumulator and round once; so
 *   backends agree to a tolerance derived from float32's epsilon and the sum's length, not bit
 *   for bit;
 * - finite differences take their default steps from float32's epsilon (EPS.float32).
 */
import { describeValue } from '../trace/tensor.js';

export const DTYPES = ['float64', 'float32'] as const;
export type DType = (typeof DTYPES)[number];

/** The flat vectors of a compiled function: parameters, gradients, tangents, outputs, inputs. */
export type FloatArray = Float64Array | Float32Array;

/** The typed array of each dtype. */
export type ArrayOf<D extends DType> = D extends 'float32' ? Float32Array : Float64Array;

/** Machine epsilon (the gap between 1 and the next number) of each dtype. */
export const EPS: Readonly<Record<DType, number>> = { float64: 2 ** -52, float32: 2 ** -23 };

/** Default relative FD steps: sqrt(eps) for forward differences, cbrt(eps) for central ones. */
export function defaultStep(method: 'fd-forward' | 'fd-central', dtype: DType): number {
  return method === 'fd-forward' ? Math.sqrt(EPS[dtype]) : Math.cbrt(EPS[dtype]);
}

/** A new zeroed array of n elements of the dtype. */
export function arrayOf(dtype: DType, n: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

/** The dtype named by a compile option (default float64); anything else is an error naming the choices. */
export function checkDType(x: unknown, where: string): DType {
  if (x === undefined) return 'float64';
  if (!DTYPES.includes(x as DType))
    throw new TypeError(
      `${where}: unknown dtype ${describeValue(x)} (expected ${DTYPES.map((d) => `'${d}'`).join(' or ')})`,
    );
  return x as DType;
}
