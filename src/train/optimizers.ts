/**
 * First-order optimizers on the flat parameter vector, with PyTorch's documented update rules
 * (torch.optim.SGD, Adam, AdamW). Options are checked when the optimizer is created; `bind(c)`
 * allocates the state inside c's backend, where each step is one fused pass over theta, the
 * gradient and the state (native/core/optim.h, assembly/optim.ts, src/backends/js/optim.ts: the
 * same operations in the same order, so every backend computes the same bits).
 *
 * SGD, with g the gradient at step t = 1, 2, ... and lr the schedule's rate for the step:
 *   g <- -g if maximize;  g <- g + weightDecay * theta if weightDecay != 0
 *   if momentum != 0:  b <- g at the first step, else momentum * b + (1 - dampening) * g
 *                      g <- g + momentum * b if nesterov, else b
 *   theta <- theta - lr * g
 *
 * Adam (decoupled = false) and AdamW (decoupled = true):
 *   g <- -g if maximize
 *   g <- g + weightDecay * theta           (Adam: L2 penalty in the gradient)
 *   theta <- theta * (1 - lr * weightDecay) (AdamW: decay apart from the gradient)
 *   m <- beta1 * m + (1 - beta1) * g;  v <- beta2 * v + (1 - beta2) * g * g
 *   vmax <- max(vmax, v) if amsgrad (and v below reads vmax)
 *   theta <- theta - lr * m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t)
 * (eps added after the square root, as PyTorch's; with amsgrad v_hat is vmax / (1 - beta2^t), the
 * maximum taken over the raw v as PyTorch's code does). Each element is computed in the form
 * theta - (alpha * m) / (sqrt(v) + epsHat), alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t),
 * epsHat = eps sqrt(1 - beta2^t): the same expression with the bias corrections moved into two
 * per-step scalars (as in Kingma and Ba's paper), one square root and one division per element
 * instead of PyTorch's two divisions, which the speed target needs; results differ from
 * PyTorch's order of operations in the last bits only. PyTorch's AdamW class defaults
 * weight_decay to 0.01; here it is 0 unless given, for both.
 *
 * maximize negates the gradient before weight decay is added, as PyTorch's code does (its SGD
 * documentation writes the sign change at the end instead), so weight decay shrinks theta either
 * way.
 */
import { Compiled } from '../api/compiled.js';
import type { DType, FloatArray } from '../api/dtype.js';
import { checkFlat } from '../api/validate.js';
import type { AdamConfig, SgdConfig } from '../backends/types.js';
import { describeValue } from '../trace/tensor.js';
import { booleanOption, checkOptions, numberOption } from './options.js';
import type { LearningRate, Optimizer, OptimizerState, Schedule } from './types.js';

export interface SgdOptions {
  /** the learning rate: a number > 0, or a schedule (schedules.ts) */
  readonly lr: LearningRate;
  readonly momentum?: number;
  readonly dampening?: number;
  /** Nesterov momentum: needs momentum > 0 and dampening 0 */
  readonly nesterov?: boolean;
  /** L2 penalty added to the gradient */
  readonly weightDecay?: number;
  /** ascend instead of descend */
  readonly maximize?: boolean;
}

export interface AdamOptions {
  readonly lr?: LearningRate;
  readonly betas?: readonly [number, number];
  readonly eps?: number;
  readonly weightDecay?: number;
  /** AdamW: weight decay applied to theta directly instead of through the gradient */
  readonly decoupled?: boolean;
  readonly amsgrad?: boolean;
  readonly maximize?: boolean;
}

const nonNegative = { min: 0 } as const;

/** The learning rate as a schedule; a number must be > 0. */
function schedule(fn: string, lr: unknown): Schedule {
  if (typeof lr === 'function') return lr as Schedule;
  const x = numberOption(fn, 'lr', lr, { min: 0, minOpen: true });
  return () => x;
}

/** Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay. */
export function sgd(options: SgdOptions): Optimizer {
  const o = checkOptions('sgd', options, ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'maximize']);
  if (o.lr === undefined) throw new Error('sgd: lr is required (a number > 0 or a schedule)');
  const lr = schedule('sgd', o.lr);
  const config: SgdConfig = {
    momentum: numberOption('sgd', 'momentum', o.momentum, nonNegative, 0),
    dampening: numberOption('sgd', 'dampening', o.dampening, { min: 0, max: 1 }, 0),
    nesterov: booleanOption('sgd', 'nesterov', o.nesterov, false),
    weightDecay: numberOption('sgd', 'weightDecay', o.weightDecay, nonNegative, 0),
    maximize: booleanOption('sgd', 'maximize', o.maximize, false),
  };
  if (config.nesterov && (config.momentum <= 0 || config.dampening !== 0))
    throw new Error(
      `sgd: nesterov needs momentum > 0 and dampening 0, got momentum ${config.momentum} and dampening ${config.dampening}`,
    );
  return {
    kind: 'sgd',
    options: Object.freeze({ lr: o.lr, ...config }),
    bind(c) {
      const n = paramCount('sgd', c);
      const state = c.engine.sgd(n, config);
      return new BoundState(
        'sgd',
        c.backend,
        c.dtype,
        n,
        lr,
        (theta, grad, rate, t) => state.step(theta, grad, rate, t === 1),
        () => state.dispose(),
      );
    },
  };
}

/** Adam (and AdamW with `decoupled: true`), optionally with AMSGrad. */
export function adam(options: AdamOptions = {}): Optimizer {
  const o = checkOptions('adam', options, ['lr', 'betas', 'eps', 'weightDecay', 'decoupled', 'amsgrad', 'maximize']);
  const lr = schedule('adam', o.lr ?? 1e-3);
  const betas = o.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2)
    throw new TypeError(`adam: betas must be [beta1, beta2], got ${describeValue(betas)}`);
  const beta = { min: 0, max: 1, maxOpen: true } as const;
  const config: AdamConfig = {
    beta1: numberOption('adam', 'betas[0]', betas[0], beta),
    beta2: numberOption('adam', 'betas[1]', betas[1], beta),
    weightDecay: numberOption('adam', 'weightDecay', o.weightDecay, nonNegative, 0),
    decoupled: booleanOption('adam', 'decoupled', o.decoupled, false),
    amsgrad: booleanOption('adam', 'amsgrad', o.amsgrad, false),
    maximize: booleanOption('adam', 'maximize', o.maximize, false),
  };
  const eps = numberOption('adam', 'eps', o.eps, nonNegative, 1e-8);
  const { beta1, beta2, weightDecay } = config;
  return {
    kind: 'adam',
    options: Object.freeze({ lr: o.lr ?? 1e-3, betas: [beta1, beta2], eps, ...config }),
    bind(c) {
      const n = paramCount('adam', c);
      const state = c.engine.adam(n, config);
      return new BoundState(
        'adam',
        c.backend,
        c.dtype,
        n,
        lr,
        (theta, grad, rate, t) => {
          // the scalars of step t, computed here once so that every backend gets the same doubles
          const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
          state.step(theta, grad, (rate * bc2Sqrt) / (1 - beta1 ** t), eps * bc2Sqrt, 1 - rate * weightDecay);
        },
        () => state.dispose(),
      );
    },
  };
}

function paramCount(fn: string, c: Compiled<FloatArray>): number {
  if (!(c instanceof Compiled))
    throw new TypeError(`${fn}: bind expects a compiled function (backend.compile(f)), got ${describeValue(c)}`);
  if (c.disposed) throw new Error(`${fn}: cannot bind to a disposed compiled function`);
  return c.paramCount;
}

/**
 * L-BFGS (minimize) runs on float64 functions only: its line search compares losses that differ
 * in the last digits, which float32 cannot resolve. A float32 one is refused by name.
 */
export function float64Only(fn: string, c: { readonly dtype: string }): void {
  if (c.dtype !== 'float64')
    throw new Error(
      `${fn}: runs on float64 compiled functions only; this one is ${c.dtype} (compile it without the dtype option)`,
    );
}

/**
 * A state dropped without dispose() gives its backend memory back when it is garbage-collected
 * (wasm's heap would otherwise keep the block; native and js free theirs with the object anyway).
 */
const finalizer = new FinalizationRegistry<() => void>((release) => release());

/**
 * The state of a bound optimizer: the step count and the schedule; the vectors live in the backend.
 * For a float32 function the update runs on float64 master weights (mixed precision: small
 * updates are not lost to float32 rounding), which the state keeps and rounds into theta after
 * every step; a theta changed by the caller between steps is taken up as the new master.
 */
class BoundState implements OptimizerState {
  private taken = 0;
  private live = true;
  /** float32 functions: the float64 master weights and the widened gradient */
  private master?: Float64Array;
  private grad64?: Float64Array;

  constructor(
    private readonly kind: string,
    private readonly backend: string,
    private readonly dtype: DType,
    private readonly n: number,
    private readonly schedule: Schedule,
    private readonly update: (theta: Float64Array, grad: Float64Array, lr: number, t: number) => void,
    private readonly release: () => void,
  ) {
    finalizer.register(this, release, this);
  }

  get steps(): number {
    return this.taken;
  }

  get lr(): number {
    return this.schedule(this.taken);
  }

  step(theta: FloatArray, grad: FloatArray): void {
    if (!this.live) throw new Error(`${this.kind}: this optimizer state (${this.backend} backend) was disposed`);
    checkFlat('theta', theta, this.n, this.dtype);
    checkFlat('the gradient', grad, this.n, this.dtype);
    if (
      theta.buffer === grad.buffer &&
      theta.byteOffset < grad.byteOffset + grad.byteLength &&
      grad.byteOffset < theta.byteOffset + theta.byteLength &&
      this.n > 0
    )
      throw new Error(`${this.kind}: theta and the gradient must not share memory`);
    const lr = this.lr;
    if (typeof lr !== 'number' || !(lr >= 0) || !Number.isFinite(lr))
      throw new RangeError(
        `${this.kind}: the learning rate schedule returned ${describeValue(lr)} at step ${this.taken} (expected a finite number >= 0)`,
      );
    if (this.dtype === 'float64') this.update(theta as Float64Array, grad as Float64Array, lr, this.taken + 1);
    else this.mixed(theta, grad, lr);
    this.taken++;
  }

  /** One float32 step through the float64 master weights. */
  private mixed(theta: FloatArray, grad: FloatArray, lr: number): void {
    const master = (this.master ??= Float64Array.from(theta));
    const g = (this.grad64 ??= new Float64Array(this.n));
    for (let i = 0; i < this.n; i++) if (Math.fround(master[i]) !== theta[i]) master[i] = theta[i]; // NaN too: rare
    g.set(grad);
    this.update(master, g, lr, this.taken + 1);
    theta.set(master);
  }

  dispose(): void {
    if (this.live) {
      finalizer.unregister(this);
      this.release();
    }
    this.live = false;
  }
}
