/**
 * `minimize`: full-batch deterministic minimisation of a compiled function over its flat parameter
 * vector, by L-BFGS (lbfgs.ts) or by fixed full-batch steps of a first-order optimizer (sgd, adam),
 * with the gradient by reverse mode or finite differences, so the methods can be compared on one
 * optimizer. As scipy.optimize.minimize(method='L-BFGS-B') and torch.optim.LBFGS do it.
 */
import { Compiled } from '../api/compiled.js';
import { checkFlat, type GradOptions, type Values } from '../api/validate.js';
import { float64Only } from './optimizers.js';
import { METHODS, type Method } from '../trace/cost.js';
import { describeValue } from '../trace/tensor.js';
import { lbfgs, maxAbs, resolveLbfgs, runLbfgs, type ResolvedLbfgs } from './lbfgs.js';
import { checkOptions, positiveInteger, tolerance } from './options.js';
import type { LbfgsOptimizer, Optimizer } from './types.js';

/**
 * Why the run stopped. Converged: 'gtol' (max |gradient| <= gtol), 'ftol' (the relative reduction
 * (f_old - f) / max(|f_old|, |f|, 1) <= ftol) or 'xtol' (max |step| <= xtol). Not converged:
 * 'max-iterations', 'max-evaluations', 'line-search' (no step with sufficient decrease, even
 * along -g: usually the gradient is too inexact for the tolerance), 'non-finite' (a first-order
 * step reached a point where f or its gradient is not finite; the last finite point is returned),
 * 'aborted' (the signal), 'callback' (onIteration returned false).
 */
export type StopReason =
  | 'gtol'
  | 'ftol'
  | 'xtol'
  | 'max-iterations'
  | 'max-evaluations'
  | 'line-search'
  | 'non-finite'
  | 'aborted'
  | 'callback';
const CONVERGED: readonly StopReason[] = ['gtol', 'ftol', 'xtol'];

export interface IterationRecord {
  /** 1, 2, ... */
  readonly iteration: number;
  /** f at the new point */
  readonly value: number;
  /** max |gradient| at the new point */
  readonly gradNorm: number;
  /** gradient evaluations so far (cumulative) */
  readonly evaluations: number;
  /** the step length: the line search's t along its direction (L-BFGS), the learning rate used (sgd, adam) */
  readonly step: number;
}

export interface MinimizeOptions {
  /** lbfgs(...) (default lbfgs()), or sgd(...) / adam(...): full-batch steps, maxIterations of them */
  readonly optimizer?: LbfgsOptimizer | Optimizer;
  /** how gradients are computed: a method, or gradient options ({ method, eps, reuse }); default 'reverse' */
  readonly gradient?: Method | GradOptions;
  /** default: the optimizer's, else 1000 for L-BFGS; required for sgd and adam */
  readonly maxIterations?: number;
  /** gradient evaluations allowed; default: the optimizer's, else 2 x maxIterations + 1 */
  readonly maxEvaluations?: number;
  /** stop when max |gradient| <= gtol (default 1e-8) */
  readonly gtol?: number;
  /** L-BFGS: stop when the relative reduction of f is <= ftol (default 1e-15; scipy's default 2.2e-9 is looser) */
  readonly ftol?: number;
  /** L-BFGS: stop when max |step| <= xtol (default 0: off) */
  readonly xtol?: number;
  /**
   * Called after every iteration with its record and the current point (a view: copy it to keep it;
   * do not modify it). Returning `false` stops the run (reason 'callback').
   */
  readonly onIteration?: (record: IterationRecord, theta: Float64Array) => boolean | void;
  /**
   * Checked before every iteration. minimize is synchronous, so the signal can be aborted from
   * onIteration (or by another thread through a shared abort); a timer cannot fire meanwhile.
   */
  readonly signal?: AbortSignal;
}

export interface MinimizeResult {
  /** the final point: a new vector (the `theta` passed in is never modified) */
  readonly theta: Float64Array;
  /** f(theta) */
  readonly value: number;
  /** max |gradient| at theta */
  readonly gradNorm: number;
  readonly iterations: number;
  /**
   * Gradient evaluations: calls of `c.gradFlat`, each giving f and its whole gradient (scipy's
   * nfev with jac=True). The finite-difference loop inside one call is not counted here; see
   * fEvaluations.
   */
  readonly evaluations: number;
  /**
   * Evaluations of f they cost, as the cost model counts them: one per reverse gradient, N + 1
   * per fd-forward gradient, 2N + 1 per fd-central gradient (`c.cost(method).evaluations`; with
   * suffix reuse each perturbed evaluation re-runs only part of the tape, so these whole
   * evaluations are an upper bound on the work).
   */
  readonly fEvaluations: number;
  readonly converged: boolean;
  readonly reason: StopReason;
  /**
   * L-BFGS line searches that found no step with sufficient decrease (0 for sgd and adam): each
   * clears the memory and retries along -g, and a failure along -g ends the run ('line-search').
   * Inexact gradients show up here first.
   */
  readonly lineSearchFailures: number;
  /** one record per iteration */
  readonly history: readonly IterationRecord[];
}

const MINIMIZE_KEYS = [
  'optimizer',
  'gradient',
  'maxIterations',
  'maxEvaluations',
  'gtol',
  'ftol',
  'xtol',
  'onIteration',
  'signal',
];

/**
 * Minimises the compiled function's loss over its flat parameter vector, starting at `theta`
 * (definition order; not modified). Options: see MinimizeOptions.
 */
export function minimize(
  c: Compiled,
  theta: Float64Array,
  inputs: Values | undefined,
  options: MinimizeOptions = {},
): MinimizeResult {
  const what = 'minimize';
  if (!(c instanceof Compiled))
    throw new TypeError(`${what}: the first argument must be a compiled function, got ${describeValue(c)}`);
  if (!c.defined.hasLoss)
    throw new Error(
      `${what}: the function has no scalar loss to minimise (its outputs: ${c.defined.outputs.map((o) => o.name).join(', ')}); return { loss, ... }`,
    );
  float64Only(what, c);
  checkFlat(`${what}: theta`, theta, c.paramCount);
  checkOptions(what, options, MINIMIZE_KEYS);
  const optimizer = options.optimizer ?? lbfgs();
  const kind = (optimizer as { kind?: unknown } | null)?.kind;
  if (kind !== 'lbfgs' && kind !== 'sgd' && kind !== 'adam')
    throw new TypeError(
      `${what}: optimizer must be lbfgs(...), sgd(...) or adam(...), got ${describeValue(optimizer)}`,
    );
  // lbfgs options validated again (and defaulted), so a hand-made { kind: 'lbfgs', options } works too
  const own: Partial<ResolvedLbfgs> = kind === 'lbfgs' ? resolveLbfgs((optimizer as LbfgsOptimizer).options) : {};
  const pick = (name: 'maxIterations' | 'maxEvaluations' | 'gtol' | 'ftol' | 'xtol') => options[name] ?? own[name];
  let maxIterations = positiveInteger(what, 'maxIterations', pick('maxIterations'));
  if (maxIterations === undefined) {
    if (kind !== 'lbfgs')
      throw new Error(`${what}: ${kind} takes a fixed number of full-batch steps: give maxIterations`);
    maxIterations = 1000;
  }
  const maxEvaluations = positiveInteger(what, 'maxEvaluations', pick('maxEvaluations')) ?? 2 * maxIterations + 1;
  const gtol = tolerance(what, 'gtol', pick('gtol')) ?? 1e-8;
  const ftol = tolerance(what, 'ftol', pick('ftol')) ?? 1e-15;
  const xtol = tolerance(what, 'xtol', pick('xtol')) ?? 0;
  const gradOptions = resolveGradient(options.gradient);
  const { onIteration, signal } = options;
  if (onIteration !== undefined && typeof onIteration !== 'function')
    throw new TypeError(`${what}: onIteration must be a function, got ${describeValue(onIteration)}`);
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof signal.aborted !== 'boolean'))
    throw new TypeError(`${what}: signal must be an AbortSignal, got ${describeValue(signal)}`);

  // the start: finite, with a finite value and gradient
  for (let i = 0; i < theta.length; i++)
    if (!Number.isFinite(theta[i]))
      throw new RangeError(`${what}: the starting point is not finite: theta[${i}] = ${theta[i]}`);
  const n = c.paramCount;
  let evaluations = 0;
  const evaluate = (x: Float64Array, g: Float64Array) => {
    evaluations++;
    return c.gradFlat(x, inputs, g, gradOptions);
  };
  const x0 = Float64Array.from(theta);
  const g0 = new Float64Array(n);
  const f0 = evaluate(x0, g0);
  if (!Number.isFinite(f0)) throw new RangeError(`${what}: f is ${f0} at the starting point`);
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(g0[i]))
      throw new RangeError(`${what}: the gradient is not finite at the starting point: gradient[${i}] = ${g0[i]}`);

  const history: IterationRecord[] = [];
  /** the rules every optimizer shares, in order of precedence */
  const stopAfter = (
    x: Float64Array,
    f: number,
    g: Float64Array,
    step: number,
    converged?: StopReason,
  ): StopReason | undefined => {
    const record = { iteration: history.length + 1, value: f, gradNorm: maxAbs(g), evaluations, step };
    history.push(record);
    const wanted = onIteration?.(record, x) === false;
    if (record.gradNorm <= gtol) return 'gtol';
    if (converged) return converged;
    if (wanted) return 'callback';
    return stopBefore();
  };
  const stopBefore = (): StopReason | undefined => {
    if (signal?.aborted) return 'aborted';
    if (history.length >= maxIterations) return 'max-iterations';
    if (evaluations >= maxEvaluations) return 'max-evaluations';
    return undefined;
  };

  const first = maxAbs(g0) <= gtol ? 'gtol' : stopBefore();
  const end: { x: Float64Array; f: number; g: Float64Array; reason: StopReason; lineSearchFailures?: number } = first
    ? { x: x0, f: f0, g: g0, reason: first }
    : kind === 'lbfgs'
      ? (runLbfgs(
          { evaluate, remaining: () => maxEvaluations - evaluations, iterated: stopAfter },
          own as ResolvedLbfgs,
          { ftol, xtol },
          x0,
          f0,
          g0,
        ) as { x: Float64Array; f: number; g: Float64Array; reason: StopReason; lineSearchFailures: number })
      : firstOrder(c, optimizer as Optimizer, evaluate, stopAfter, x0, f0, g0);
  // f-evaluations per gradient call, as the cost model counts them (c.cost(method).evaluations)
  const method = gradOptions.method ?? 'reverse';
  const perCall = method === 'reverse' ? 1 : method === 'fd-central' ? 2 * n + 1 : n + 1;
  return {
    theta: end.x, // a buffer of this run, never the caller's
    value: end.f,
    gradNorm: maxAbs(end.g),
    iterations: history.length,
    evaluations,
    fEvaluations: evaluations * perCall,
    converged: CONVERGED.includes(end.reason),
    reason: end.reason,
    lineSearchFailures: end.lineSearchFailures ?? 0,
    history,
  };
}

function resolveGradient(gradient: unknown): GradOptions {
  if (gradient === undefined) return { method: 'reverse' };
  if (typeof gradient === 'string') {
    if (!METHODS.includes(gradient as Method))
      throw new Error(
        `minimize: unknown gradient ${describeValue(gradient)} (expected ${METHODS.map((m) => `'${m}'`).join(', ')})`,
      );
    return { method: gradient as Method };
  }
  if (typeof gradient === 'object' && gradient !== null && !Array.isArray(gradient)) {
    if ('coordinates' in gradient)
      throw new Error('minimize: gradient.coordinates is not allowed (minimize needs every coordinate)');
    return gradient as GradOptions; // checked by gradFlat on the first evaluation
  }
  throw new TypeError(`minimize: gradient must be a method name or gradient options, got ${describeValue(gradient)}`);
}

/**
 * Fixed full-batch steps of a first-order optimizer: x <- step(x, g(x)) until a stopping rule
 * holds. A step that lands where f or its gradient is not finite is undone (reason 'non-finite').
 */
function firstOrder(
  c: Compiled,
  optimizer: Optimizer,
  evaluate: (x: Float64Array, g: Float64Array) => number,
  stopAfter: (x: Float64Array, f: number, g: Float64Array, step: number) => StopReason | undefined,
  x: Float64Array,
  f: number,
  g: Float64Array,
): { x: Float64Array; f: number; g: Float64Array; reason: StopReason } {
  const state = optimizer.bind(c);
  const xPrev = new Float64Array(x.length),
    gPrev = new Float64Array(x.length);
  try {
    for (;;) {
      xPrev.set(x);
      gPrev.set(g);
      const lr = state.lr;
      state.step(x, g);
      const fNew = evaluate(x, g);
      if (!Number.isFinite(fNew) || !Number.isFinite(maxAbs(g))) {
        x.set(xPrev);
        g.set(gPrev);
        return { x, f, g, reason: 'non-finite' };
      }
      f = fNew;
      const stop = stopAfter(x, f, g, lr);
      if (stop) return { x, f, g, reason: stop };
    }
  } finally {
    state.dispose();
  }
}
