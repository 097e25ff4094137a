import type { Tape } from '../trace/compile.js';

export const BACKEND_NAMES = ['native', 'wasm', 'js'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * What a backend implements: it takes a tape once and runs it. Every argument has already been
 * validated by the TS layer (api/compiled.ts); native and wasm check buffer lengths again
 * before they touch memory. `theta` and `grad` are flat vectors of nParams elements; `inputs`
 * holds one Float64Array per input in definition order.
 */
export interface Engine {
  readonly name: BackendName;
  load(tape: Tape): Program;
}

export interface Program {
  /**
   * f(theta). With `outputs`, also writes the tape's named outputs (Tape.outputs) into it, one
   * after another: a buffer of the sum of their sizes.
   */
  value(theta: Float64Array, inputs: readonly Float64Array[], outputs?: Float64Array): number;
  /** f(theta); writes the reverse-mode gradient into grad (and the outputs, as value does) */
  reverse(theta: Float64Array, inputs: readonly Float64Array[], grad: Float64Array, outputs?: Float64Array): number;
  /**
   * f(theta); writes the finite-difference gradient into grad: forward differences
   * (f(θ+h e_i) - f(θ)) / h, or central (f(θ+h e_i) - f(θ-h e_i)) / 2h, with
   * h = (θ_i + s) - θ_i, s = relStep * max(1, |θ_i|). With reuse, perturbed evaluations re-run
   * only the tape suffix of the perturbed parameter (Tape.fdPlan). `plan`, when given, replaces
   * Tape.fdPlan (same triple format and order rule; a subset of coordinates): only its
   * coordinates of grad are written. Backends validate it like the tape's own plan.
   */
  fd(theta: Float64Array, inputs: readonly Float64Array[], grad: Float64Array, central: boolean, relStep: number, reuse: boolean, plan?: Int32Array): number;
  /**
   * Optional asynchronous forms of reverse and fd (the native backend runs them on a worker
   * thread). theta and inputs are copied when the call starts; grad is written just before the
   * promise resolves. A backend without them gets the synchronous call wrapped in a promise by
   * the TS layer (api/compiled.ts), with the same busy rule.
   */
  reverseAsync?(theta: Float64Array, inputs: readonly Float64Array[], grad: Float64Array): Promise<number>;
  fdAsync?(theta: Float64Array, inputs: readonly Float64Array[], grad: Float64Array, central: boolean, relStep: number, reuse: boolean, plan?: Int32Array): Promise<number>;
  /** releases the arenas; the TS layer refuses calls afterwards */
  dispose(): void;
}
