import type { Tape } from '../trace/compile.js';
import type { DType, FloatArray } from '../api/dtype.js';

export const BACKEND_NAMES = ['native', 'wasm', 'js'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * What a backend implements: it takes a tape once and runs it. Every argument has already been
 * validated by the TS layer (api/compiled.ts); native and wasm check buffer lengths (and element
 * types) again before they touch memory. `theta` and `grad` are flat vectors of nParams elements;
 * `inputs` holds one array per input in definition order, all of the program's dtype.
 */
export interface Engine {
  readonly name: BackendName;
  /** what this engine runs on, where it varies: wasm ['simd'] or ['simd', 'relaxed-simd'] (the module loaded) */
  readonly features?: readonly string[];
  /** how many threads a compiled function may use (wasm and js: 1) */
  readonly threads: number;
  /** the same backend with another thread count (native only; checked by the caller) */
  withThreads?(threads: number): Engine;
  /**
   * The tape as a program whose arenas hold `dtype` elements: every array the program takes and
   * writes (theta, inputs, grad, outputs, tangents) is then a Float64Array or a Float32Array
   * (src/api/dtype.ts has the float32 contract; default float64). A backend without that dtype
   * throws, naming it.
   */
  load(tape: Tape, dtype?: DType): Program;
  /** SGD state (the momentum buffer) for n parameters, in this backend's memory */
  sgd(n: number, config: SgdConfig): FusedSgd;
  /** Adam state (first and second moments, and their maximum with amsgrad) for n parameters */
  adam(n: number, config: AdamConfig): FusedAdam;
}

/**
 * The fused optimizer steps (src/train/optimizers.ts documents the update rules): one pass over
 * the flat vectors inside the backend, theta updated in place. A backend checks theta and grad
 * (Float64Arrays of n elements) and the scalars before it changes anything. Every scalar that is
 * not a plain option (the learning rate of this step, the bias corrections) is computed once in
 * TS, so every backend receives the same doubles and computes the same bits.
 */
export interface SgdConfig {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly maximize: boolean;
}
export interface FusedSgd {
  /** `first`: the first step (the momentum buffer starts as the gradient) */
  step(theta: Float64Array, grad: Float64Array, lr: number, first: boolean): void;
  dispose(): void;
}
export interface AdamConfig {
  readonly beta1: number;
  readonly beta2: number;
  readonly weightDecay: number;
  /** AdamW: weight decay scales theta by `decay` instead of adding weightDecay * theta to the gradient */
  readonly decoupled: boolean;
  readonly amsgrad: boolean;
  readonly maximize: boolean;
}
export interface FusedAdam {
  /**
   * At step t = 1, 2, ...: stepSize = lr * sqrt(1 - beta2^t) / (1 - beta1^t),
   * epsHat = eps * sqrt(1 - beta2^t) (the bias corrections folded into the scalars, so that an
   * element costs one square root and one division); decay = 1 - lr * weightDecay (used only
   * when decoupled)
   */
  step(theta: Float64Array, grad: Float64Array, stepSize: number, epsHat: number, decay: number): void;
  dispose(): void;
}

export interface Program {
  /**
   * f(theta). With `outputs`, also writes the tape's named outputs (Tape.outputs) into it, one
   * after another: a buffer of the sum of their sizes.
   */
  value(theta: FloatArray, inputs: readonly FloatArray[], outputs?: FloatArray): number;
  /** f(theta); writes the reverse-mode gradient into grad (and the outputs, as value does) */
  reverse(theta: FloatArray, inputs: readonly FloatArray[], grad: FloatArray, outputs?: FloatArray): number;
  /**
   * f(theta); writes the finite-difference gradient into grad: forward differences
   * (f(θ+h e_i) - f(θ)) / h, or central (f(θ+h e_i) - f(θ-h e_i)) / 2h, with
   * h = (θ_i + s) - θ_i, s = relStep * max(1, |θ_i|). With reuse, perturbed evaluations re-run
   * only the tape suffix of the perturbed parameter (Tape.fdPlan). `plan`, when given, replaces
   * Tape.fdPlan (same triple format and order rule; a subset of coordinates): only its
   * coordinates of grad are written. Backends validate it like the tape's own plan.
   */
  fd(
    theta: FloatArray,
    inputs: readonly FloatArray[],
    grad: FloatArray,
    central: boolean,
    relStep: number,
    reuse: boolean,
    plan?: Int32Array,
  ): number;
  /**
   * Forward-mode AD: f(theta) and its directional derivative along `tangent` (one value sweep and
   * one tangent sweep); writes [f, derivative] into `result` (2 elements) and returns f.
   */
  jvp(theta: FloatArray, inputs: readonly FloatArray[], tangent: FloatArray, result: Float64Array): number;
  /**
   * Forward-mode AD gradient: f(theta); one tangent sweep per coordinate writes grad[i] = df/dθ_i.
   * With reuse, the sweep of θ_i starts at its first reader (Tape.fdPlan, as FD does); `plan`
   * replaces the tape's plan as for fd.
   */
  forwardGrad(
    theta: FloatArray,
    inputs: readonly FloatArray[],
    grad: FloatArray,
    reuse: boolean,
    plan?: Int32Array,
  ): number;
  /**
   * Optional asynchronous forms of reverse, fd and forwardGrad (the native backend runs them on a worker
   * thread). theta and inputs are copied when the call starts; grad is written just before the
   * promise resolves. A backend without them gets the synchronous call wrapped in a promise by
   * the TS layer (api/compiled.ts), with the same busy rule.
   */
  reverseAsync?(theta: FloatArray, inputs: readonly FloatArray[], grad: FloatArray): Promise<number>;
  fdAsync?(
    theta: FloatArray,
    inputs: readonly FloatArray[],
    grad: FloatArray,
    central: boolean,
    relStep: number,
    reuse: boolean,
    plan?: Int32Array,
  ): Promise<number>;
  forwardGradAsync?(
    theta: FloatArray,
    inputs: readonly FloatArray[],
    grad: FloatArray,
    reuse: boolean,
    plan?: Int32Array,
  ): Promise<number>;
  /** releases the arenas; the TS layer refuses calls afterwards */
  dispose(): void;
}
