/**
 * Learning-rate schedules: pure functions of the step t = 0, 1, 2, ..., the number of optimizer
 * steps already taken, returning the rate the next step uses (`OptimizerState.lr`).
 *
 * They follow the closed forms of PyTorch's schedulers, with one difference in units: PyTorch's
 * schedulers advance when `scheduler.step()` is called, usually once per epoch; these count
 * optimizer steps (batches). Give `stepSize`, `tMax` and warm-up lengths in steps (epochs times
 * batches per epoch).
 */
import type { Schedule } from './types.js';
import { checkOptions, numberOption } from './options.js';

const positive = { min: 0, minOpen: true } as const;
const count = { min: 1, integer: true } as const;

/** t must be a step count: an integer >= 0. */
function checkStep(fn: string, t: number): void {
  if (!(Number.isInteger(t) && t >= 0)) throw new RangeError(`${fn}: the step must be an integer >= 0, got ${t}`);
}

/** The same rate at every step. */
export function constantLr(lr: number): Schedule {
  numberOption('constantLr', 'lr', lr, positive);
  return (t) => (checkStep('constantLr', t), lr);
}

/**
 * `lr * gamma^floor(t / stepSize)`: PyTorch's StepLR (default gamma 0.1), the rate multiplied by
 * gamma every stepSize optimizer steps.
 */
export function stepLr(options: { lr: number; stepSize: number; gamma?: number }): Schedule {
  const o = checkOptions('stepLr', options, ['lr', 'stepSize', 'gamma']);
  const lr = numberOption('stepLr', 'lr', o.lr, positive);
  const stepSize = numberOption('stepLr', 'stepSize', o.stepSize, count);
  const gamma = numberOption('stepLr', 'gamma', o.gamma, { min: 0, minOpen: true, max: 1 }, 0.1);
  return (t) => (checkStep('stepLr', t), lr * gamma ** Math.floor(t / stepSize));
}

/**
 * `etaMin + (lr - etaMin) * (1 + cos(pi * t / tMax)) / 2`: PyTorch's CosineAnnealingLR in its
 * closed form (default etaMin 0), from lr at t = 0 down to etaMin at t = tMax. Like PyTorch's,
 * the cosine goes on after tMax (the rate rises again, period 2 tMax): set tMax to the total
 * number of steps.
 */
export function cosineLr(options: { lr: number; tMax: number; etaMin?: number }): Schedule {
  const o = checkOptions('cosineLr', options, ['lr', 'tMax', 'etaMin']);
  const lr = numberOption('cosineLr', 'lr', o.lr, positive);
  const tMax = numberOption('cosineLr', 'tMax', o.tMax, count);
  const etaMin = numberOption('cosineLr', 'etaMin', o.etaMin, { min: 0, max: lr }, 0);
  return (t) => (checkStep('cosineLr', t), etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2);
}

/**
 * A linear warm-up in front of another schedule (or a constant rate), as PyTorch's
 * `SequentialLR([LinearLR(start_factor, total_iters=steps), then], milestones=[steps])`: for
 * t < steps the rate is `then(0) * (startFactor + (1 - startFactor) * t / steps)` (LinearLR's
 * closed form, default startFactor 1/3 as PyTorch's), and from t = steps on it is
 * `then(t - steps)`: the following schedule starts at its own step 0 when the warm-up ends.
 */
export function linearWarmup(options: { steps: number; then: Schedule | number; startFactor?: number }): Schedule {
  const o = checkOptions('linearWarmup', options, ['steps', 'then', 'startFactor']);
  const steps = numberOption('linearWarmup', 'steps', o.steps, count);
  const startFactor = numberOption(
    'linearWarmup',
    'startFactor',
    o.startFactor,
    { min: 0, minOpen: true, max: 1 },
    1 / 3,
  );
  const then = typeof o.then === 'number' ? constantLr(o.then) : o.then;
  if (typeof then !== 'function')
    throw new TypeError('linearWarmup: then must be a schedule (a function of the step) or a number');
  const base = then as Schedule;
  return (t) => {
    checkStep('linearWarmup', t);
    return t < steps ? base(0) * (startFactor + ((1 - startFactor) * t) / steps) : base(t - steps);
  };
}
