/**
 * The contracts between the training pieces: optimizers (sgd, adam: fused update passes inside a
 * backend), L-BFGS (driven by `minimize`), learning-rate schedules, and `fit`/`minimize`, which
 * only ever see these interfaces.
 */
import type { Compiled } from '../api/compiled.js';
import type { FloatArray } from '../api/dtype.js';

/** A learning-rate schedule: the rate for step t (t = 0, 1, ...). */
export type Schedule = (step: number) => number;
export type LearningRate = number | Schedule;

/**
 * A first-order optimizer (`sgd(...)`, `adam(...)`): a description with validated options.
 * `bind` allocates its state (momentum, moments) for a compiled function's N parameters inside
 * that function's backend, so that one step is one fused pass there.
 */
export interface Optimizer {
  readonly kind: 'sgd' | 'adam';
  readonly options: Readonly<Record<string, unknown>>;
  bind(c: Compiled<FloatArray>): OptimizerState;
}

export interface OptimizerState {
  /**
   * theta <- update(theta, grad) in place (one fused pass in the backend); then steps += 1.
   * Arrays of the bound function's dtype (float32: the update runs on float64 master weights).
   */
  step(theta: FloatArray, grad: FloatArray): void;
  /** steps taken so far */
  readonly steps: number;
  /** the learning rate the next step uses (the schedule at `steps`) */
  readonly lr: number;
  /** releases the backend memory; later steps throw */
  dispose(): void;
}

/** L-BFGS (`lbfgs(...)`), for full-batch deterministic problems through `minimize`. */
export interface LbfgsOptimizer {
  readonly kind: 'lbfgs';
  readonly options: Readonly<Record<string, unknown>>;
}
