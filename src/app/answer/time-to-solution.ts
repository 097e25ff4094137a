/**
 * The time-to-solution study of `tapegrad answer`: does backprop win the optimisation, not only
 * the gradient? Each problem is minimised by L-BFGS and by gradient descent at a fixed step, each
 * driven by every gradient method, on one backend, until f <= f* + 1e-8 (1 + |f*|) or a wall-time
 * budget runs out; f* comes from a long reverse-mode L-BFGS run to the limit of precision.
 *
 * Why these problems are L2-regularised: without a penalty, breast cancer and digits are linearly
 * separable, so the losses have no minimiser (they tend to 0 as the weights grow) and "f*" would
 * only say how long the reference run was allowed to go.
 *
 * Budgets: a run stops at the end of the first iteration past its share of the time (the
 * optimizers are synchronous; an L-BFGS iteration is a whole line search), so a run overshoots
 * its budget by at most one iteration, and the measured time says by how much.
 */
import type { Compiled } from '../../api/compiled.js';
import type { GradOptions, Values } from '../../api/validate.js';
import type { Backend } from '../../backends/registry.js';
import { breastCancer, digits, type Dataset } from '../../data/datasets.js';
import { regularisedLogistic, regularisedMlp, regularisedSoftmax, type Model } from '../../models/models.js';
import type { Method } from '../../trace/cost.js';
import { lbfgs, maxAbs } from '../../train/lbfgs.js';
import { minimize, type MinimizeResult, type StopReason } from '../../train/minimize.js';
import { sgd } from '../../train/optimizers.js';

/**
 * A gradient method as the study names it. 'forward' is forward-mode AD (issue 12, item 1): it
 * runs where `grad(..., { method: 'forward' })` works and is skipped, with a note, where not.
 */
export type GradientName = Method | 'forward';

/** The gradient methods each optimizer is driven by, in the order they are run and shown. */
export const SOLVE_METHODS: readonly GradientName[] = [
  'reverse',
  'forward', // forward-mode AD: skipped with a note until the backend supports it
  'fd-forward',
  'fd-central',
];

export type Driver = 'lbfgs' | 'gd';
export const DRIVERS: readonly Driver[] = ['lbfgs', 'gd'];
export const DRIVER_LABELS: Record<Driver, string> = { lbfgs: 'L-BFGS', gd: 'gradient descent' };

/** The target: f <= f* + TARGET_RTOL (1 + |f*|). */
export const TARGET_RTOL = 1e-8;
/** the penalty of every problem (mean loss + (LAMBDA / 2) ||weights||^2) */
export const LAMBDA = 1e-3;

export interface SolveProblem {
  readonly key: string;
  readonly build: () => Model;
}

/** The study's problems, in order of growing N: 31, 650 and 1,210 parameters. */
export function solveProblems(): SolveProblem[] {
  let d: Dataset | undefined;
  const dig = () => (d ??= digits());
  return [
    { key: 'logistic-l2', build: () => regularisedLogistic(breastCancer(), LAMBDA) },
    { key: 'softmax-l2', build: () => regularisedSoftmax(dig(), LAMBDA) },
    { key: 'mlp-16-l2', build: () => regularisedMlp(dig(), 16, LAMBDA) },
  ];
}

export interface SolveOptions {
  /** problem keys (default: all of solveProblems) */
  readonly problems?: readonly string[];
  /** optimizers (default: DRIVERS) */
  readonly drivers?: readonly Driver[];
  /** wall-time budget of one run, ms */
  readonly runMs: number;
  /** budget of the whole study, ms: each run gets at most an equal share of what is left */
  readonly totalMs: number;
  /** budget of the f* reference run, ms */
  readonly referenceMs: number;
  /** iterations of each trial step of the gradient-descent step rule */
  readonly probeIterations: number;
}

// 200 probe steps: over 20 or 50 a too-large step can still look monotone (logistic-l2 at 16 turns at step 131)
export const SOLVE_DEFAULTS: SolveOptions = {
  runMs: 8000,
  totalMs: 150_000,
  referenceMs: 30_000,
  probeIterations: 200,
};
// quick: the N = 31 problem only (one fd-central gradient at N = 650 takes a third of a second
// unloaded, several under load: a smoke test of a few seconds cannot afford it)
export const SOLVE_QUICK: SolveOptions = {
  problems: ['logistic-l2'],
  runMs: 200,
  totalMs: 3000,
  referenceMs: 500,
  probeIterations: 200,
};

/**
 * 'reached': f got to the target. 'stalled': the run stopped before the target by a rule of its
 * own (a failed line search, no decrease, a non-finite step) or stopped making progress (see
 * plateau). 'budget': the time ran out while it was still making progress.
 */
export type Outcome = 'reached' | 'stalled' | 'budget';

/** The counters at one moment of a run. */
export interface Progress {
  /** wall time since the run began (the first gradient included), ms */
  readonly ms: number;
  readonly iterations: number;
  /** gradient calls (each gives f and the whole gradient) */
  readonly gradientCalls: number;
  /** evaluations of f those calls cost, whole or partial, as the cost model counts them */
  readonly fEvaluations: number;
  /** the FLOPs of those calls in evaluations of f (cost model; with FD suffix reuse below fEvaluations) */
  readonly evalEquivalents: number;
}

export interface SolveRun {
  readonly driver: Driver;
  readonly method: GradientName;
  /** gradient descent's fixed step (undefined for L-BFGS) */
  readonly step?: number;
  readonly outcome: Outcome;
  /** why it stalled: minimize's stop reason, or 'plateau' */
  readonly stallReason?: StopReason | 'plateau';
  /** minimize's stop reason ('callback' when the study stopped it: target, budget or plateau) */
  readonly reason: StopReason;
  /** the counters when f first reached the target (undefined when it did not) */
  readonly atTarget?: Progress;
  /** the counters at the end of the run */
  readonly total: Progress;
  /** the budget the run was given, ms */
  readonly budgetMs: number;
  /** f at the end, and f - f* (negative: below the reference run's f*) */
  readonly value: number;
  readonly gap: number;
  /** the smallest f - f* the run reached */
  readonly bestGap: number;
  /** max |df/dtheta_i| at the final point, by reverse mode (the true gradient, whatever drove the run) */
  readonly finalGradNorm: number;
  readonly lineSearchFailures: number;
  /**
   * For runs that did not reach the target: f - f* after as many iterations as this run made, for
   * this run and for the same optimizer driven by reverse mode (its last when it stopped earlier).
   */
  readonly sameIterations?: { readonly iterations: number; readonly gap: number; readonly reverseGap: number };
  /**
   * Extrapolated, not measured: when the budget ran out, the time this run would need if it made
   * as many gradient calls as the reverse-mode run of the same optimizer did to the target, at this
   * run's measured time per gradient call.
   */
  readonly projectedMs?: number;
  /** (ms, f) after each iteration, thinned to about 30 points per decade of time */
  readonly trace: readonly (readonly [number, number])[];
}

export interface SolveProblemResult {
  readonly key: string;
  readonly name: string;
  readonly N: number;
  readonly fStar: number;
  /** f* + TARGET_RTOL (1 + |f*|) */
  readonly target: number;
  /** the f* run: reverse-mode L-BFGS with gtol 1e-11 and ftol 0, to a failed line search at rounding level or its budget */
  readonly reference: {
    readonly reason: StopReason;
    readonly iterations: number;
    readonly ms: number;
    readonly gradNorm: number;
  };
  /** gradient descent's step and how it was chosen */
  readonly gdStep: { readonly lr: number; readonly probes: readonly { lr: number; stable: boolean }[] };
  readonly runs: readonly SolveRun[];
}

export interface Skipped {
  readonly problem: string;
  readonly method: GradientName;
  /** absent: every optimizer */
  readonly driver?: Driver;
  readonly why: string;
}

export interface SolveResult {
  readonly backend: string;
  readonly options: SolveOptions;
  readonly targetRtol: number;
  readonly lambda: number;
  readonly problems: readonly SolveProblemResult[];
  /** methods or runs not measured, and why (e.g. forward mode where the backend lacks it) */
  readonly skipped: readonly Skipped[];
  readonly seconds: number;
}

/** The step rule of gradient descent, in words (the JSON and README carry it). */
export const STEP_RULE =
  'the largest step 2^k (k = 6, 5, ..., -14) whose first probeIterations reverse-mode gradient-descent steps from the start all decrease f';
const STEP_GRID = Array.from({ length: 21 }, (_, i) => 2 ** (6 - i));

/** A run with no measurable progress over its last half: the best gap improved by less than this fraction. */
export const PLATEAU_PROGRESS = 1e-3;
/** ... judged only after this many iterations */
export const PLATEAU_MIN_ITERATIONS = 40;

/**
 * Whether the iterates' values `f` (one per iteration, f[0] the first) have stopped approaching
 * f*: the best value of the second half improved on the best of the first half by less than
 * PLATEAU_PROGRESS of the first half's distance to f*. O(1) with `prefixMin` (the running
 * minimum of f), so it is checked after every iteration.
 */
export function onPlateau(prefixMin: ArrayLike<number>, iterations: number, fStar: number): boolean {
  if (iterations < PLATEAU_MIN_ITERATIONS) return false;
  const before = prefixMin[(iterations >> 1) - 1],
    now = prefixMin[iterations - 1];
  const gap = before - fStar;
  return !(gap > 0) || (before - now) / gap < PLATEAU_PROGRESS;
}

/** Keeps about 30 trace points per decade of time, the first 10 iterations and the last. */
function thin(ms: Float64Array, f: Float64Array, n: number): [number, number][] {
  const out: [number, number][] = [];
  let last = 0;
  for (let i = 0; i < n; i++)
    if (i < 10 || i === n - 1 || ms[i] >= last * 1.08) {
      out.push([+ms[i].toPrecision(4), f[i]]);
      last = ms[i];
    }
  return out;
}

/** A growable Float64Array (the per-iteration trace, allocation amortised). */
class Series {
  a = new Float64Array(1024);
  n = 0;
  push(x: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = x;
  }
}

/** Whether the backend computes gradients by `method` (forward mode may be missing): undefined, or why not. */
export function unsupported(
  c: Compiled,
  theta: Float64Array,
  inputs: Values,
  method: GradientName,
): string | undefined {
  try {
    // one coordinate: the question is whether the method runs, not what a whole gradient costs
    const probe = { method, ...(method === 'reverse' ? {} : { coordinates: [0] }) };
    c.gradFlat(theta, inputs, new Float64Array(c.paramCount), probe as GradOptions);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Per gradient call: the cost model's f-evaluations and FLOPs in evaluations (NaN when it has no row for the method). */
function costPerCall(c: Compiled, method: GradientName): { evaluations: number; relative: number } {
  try {
    const k = c.cost(method as Method);
    return { evaluations: k.evaluations, relative: k.relative };
  } catch {
    return { evaluations: NaN, relative: NaN };
  }
}

export interface RunSpec {
  readonly driver: Driver;
  readonly method: GradientName;
  /** FD's relative step (default: the method's) */
  readonly eps?: number;
  /** gradient descent's step */
  readonly step?: number;
  readonly budgetMs: number;
}

/**
 * One run: minimise from theta0 with `spec`, stopping at the target, at the budget or on a
 * plateau. Returns the run and the per-iteration values (for comparisons at equal iterations).
 */
export function solveRun(
  c: Compiled,
  theta0: Float64Array,
  inputs: Values,
  fStar: number,
  spec: RunSpec,
): { run: SolveRun; result: MinimizeResult } {
  const target = fStar + TARGET_RTOL * (1 + Math.abs(fStar));
  const per = costPerCall(c, spec.method);
  const ms = new Series(),
    f = new Series(),
    best = new Series();
  let atTarget: Progress | undefined;
  let plateau = false;
  const progress = (t: number, iterations: number, calls: number): Progress => ({
    ms: t,
    iterations,
    gradientCalls: calls,
    fEvaluations: calls * per.evaluations,
    evalEquivalents: calls * per.relative,
  });
  const started = performance.now();
  const result = minimize(c, theta0, inputs, {
    optimizer: spec.driver === 'lbfgs' ? lbfgs() : sgd({ lr: spec.step! }),
    gradient: { method: spec.method, ...(spec.eps !== undefined ? { eps: spec.eps } : {}) } as GradOptions,
    maxIterations: 1e9,
    maxEvaluations: 4e9,
    gtol: 0,
    ftol: 0,
    onIteration: (r) => {
      const t = performance.now() - started;
      ms.push(t);
      f.push(r.value);
      best.push(f.n === 1 ? r.value : Math.min(best.a[best.n - 1], r.value));
      if (r.value <= target) {
        atTarget = progress(t, r.iteration, r.evaluations);
        return false;
      }
      if (onPlateau(best.a, best.n, fStar)) {
        plateau = true;
        return false;
      }
      return t < spec.budgetMs;
    },
  });
  const elapsed = performance.now() - started;
  const g = new Float64Array(c.paramCount);
  c.gradFlat(result.theta, inputs, g); // the true gradient at the end, by reverse mode
  const ownStop = result.reason !== 'callback' && result.reason !== 'max-iterations' && result.reason !== 'aborted';
  const outcome: Outcome = atTarget ? 'reached' : ownStop || plateau ? 'stalled' : 'budget';
  const run: SolveRun = {
    driver: spec.driver,
    method: spec.method,
    ...(spec.step !== undefined ? { step: spec.step } : {}),
    outcome,
    ...(outcome === 'stalled' ? { stallReason: plateau ? 'plateau' : result.reason } : {}),
    reason: result.reason,
    ...(atTarget ? { atTarget } : {}),
    total: progress(elapsed, result.iterations, result.evaluations),
    budgetMs: spec.budgetMs,
    value: result.value,
    gap: result.value - fStar,
    bestGap: (f.n ? Math.min(best.a[best.n - 1], result.value) : result.value) - fStar,
    finalGradNorm: maxAbs(g),
    lineSearchFailures: result.lineSearchFailures,
    trace: thin(ms.a, f.a, f.n),
  };
  return { run, result };
}

/** f*: reverse-mode L-BFGS to the limit of precision (gtol 1e-11, ftol 0) or the budget. */
export function referenceRun(c: Compiled, theta0: Float64Array, inputs: Values, budgetMs: number) {
  const started = performance.now();
  const r = minimize(c, theta0, inputs, {
    gtol: 1e-11,
    ftol: 0,
    maxIterations: 1e9,
    maxEvaluations: 4e9,
    onIteration: () => performance.now() - started < budgetMs,
  });
  return {
    fStar: r.value,
    reference: { reason: r.reason, iterations: r.iterations, ms: performance.now() - started, gradNorm: r.gradNorm },
  };
}

/**
 * The gradient-descent step by STEP_RULE: from the largest grid step down, the first whose probe
 * run decreases f at every step (a non-monotone or non-finite probe ends early, so this is cheap).
 */
export function chooseStep(c: Compiled, theta0: Float64Array, inputs: Values, iterations: number) {
  const probes: { lr: number; stable: boolean }[] = [];
  for (const lr of STEP_GRID) {
    let prev = Infinity,
      stable = true;
    const r = minimize(c, theta0, inputs, {
      optimizer: sgd({ lr }),
      maxIterations: iterations,
      gtol: 0,
      onIteration: (rec) => {
        stable = rec.value < prev;
        prev = rec.value;
        return stable;
      },
    });
    // a step to a non-finite point is undone without an iteration record: the reason tells
    stable &&= r.reason === 'max-iterations';
    probes.push({ lr, stable });
    if (stable) return { lr, probes };
  }
  return { lr: STEP_GRID[STEP_GRID.length - 1], probes };
}

/**
 * Runs the study on one backend. `log` gets a line per run. Reverse-mode runs go first (they are
 * short and set the iteration counts the others are compared with); every run gets at most an
 * equal share of the time left.
 */
export function timeToSolution(
  be: Backend,
  opts: SolveOptions,
  log: (s: string) => void = () => {},
  problems: readonly SolveProblem[] = solveProblems(),
): SolveResult {
  const started = performance.now();
  const chosen = problems.filter((p) => !opts.problems || opts.problems.includes(p.key));
  const skipped: Skipped[] = [];
  const out: SolveProblemResult[] = [];
  const runsLeft = () => chosen.length - out.length;
  for (const p of chosen) {
    const m = p.build();
    const c = be.compile(m.f);
    try {
      const theta0 = c.flatten(m.params);
      const methods = SOLVE_METHODS.filter((method) => {
        const why = unsupported(c, theta0, m.inputs, method);
        if (why) {
          skipped.push({ problem: p.key, method, why });
          log(`  time to solution, ${p.key}: ${method} gradients skipped on ${be.name}: ${why}\n`);
        }
        return !why;
      });
      const ref = referenceRun(c, theta0, m.inputs, opts.referenceMs);
      const gdStep = chooseStep(c, theta0, m.inputs, opts.probeIterations);
      const fStar = ref.fStar;
      log(
        `  time to solution, ${p.key} (N = ${c.paramCount}): f* = ${fStar.toPrecision(12)} (${ref.reference.iterations} reverse L-BFGS iterations, ${ref.reference.reason}); gradient-descent step ${gdStep.lr}\n`,
      );
      const drivers = DRIVERS.filter((d) => !opts.drivers || opts.drivers.includes(d));
      const specs = methods.flatMap((method) => drivers.map((driver) => ({ driver, method })));
      const runs: SolveRun[] = [];
      const histories = new Map<Driver, MinimizeResult>();
      specs.forEach((s, i) => {
        const left = opts.totalMs - (performance.now() - started);
        // this problem's remaining runs, then later problems' (about as many each)
        const share = left / (specs.length - i + (runsLeft() - 1) * specs.length);
        if (!(share > 0)) {
          skipped.push({
            problem: p.key,
            method: s.method,
            driver: s.driver,
            why: `the study's ${opts.totalMs} ms were spent`,
          });
          log(`    ${DRIVER_LABELS[s.driver]}, ${s.method}: not run (the study's budget was spent)\n`);
          return;
        }
        const budgetMs = Math.min(opts.runMs, share);
        const { run, result } = solveRun(c, theta0, m.inputs, fStar, {
          ...s,
          ...(s.driver === 'gd' ? { step: gdStep.lr } : {}),
          budgetMs,
        });
        if (s.method === 'reverse') histories.set(s.driver, result);
        const rev = histories.get(s.driver);
        const extra: Partial<Mutable<SolveRun>> = {};
        if (rev && s.method !== 'reverse' && run.outcome !== 'reached') {
          const k = run.total.iterations;
          const h = rev.history;
          const at = h.length ? h[Math.min(k, h.length) - 1].value : rev.value;
          extra.sameIterations = { iterations: k, gap: run.gap, reverseGap: at - fStar };
          const revRun = runs.find((r) => r.driver === s.driver && r.method === 'reverse');
          if (run.outcome === 'budget' && revRun?.atTarget)
            extra.projectedMs = (run.total.ms / run.total.gradientCalls) * revRun.atTarget.gradientCalls;
        }
        const full = { ...run, ...extra };
        runs.push(full);
        log(`    ${DRIVER_LABELS[s.driver]}, ${s.method}: ${describeRun(full)}\n`);
      });
      out.push({
        key: p.key,
        name: m.name,
        N: c.paramCount,
        fStar,
        target: fStar + TARGET_RTOL * (1 + Math.abs(fStar)),
        reference: ref.reference,
        gdStep,
        runs,
      });
    } finally {
      c.dispose();
    }
  }
  return {
    backend: be.name,
    options: opts,
    targetRtol: TARGET_RTOL,
    lambda: LAMBDA,
    problems: out,
    skipped,
    seconds: (performance.now() - started) / 1e3,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const sec = (ms: number) => (ms < 1000 ? `${ms.toPrecision(3)} ms` : `${(ms / 1000).toPrecision(3)} s`);

/** One line about a run, for the log. */
export function describeRun(r: SolveRun): string {
  const t = r.atTarget;
  if (t) return `reached f* in ${sec(t.ms)}, ${t.iterations} iterations, ${t.gradientCalls} gradient calls`;
  const why = r.outcome === 'stalled' ? `stalled (${r.stallReason})` : 'out of budget';
  return `${why} after ${sec(r.total.ms)}, ${r.total.iterations} iterations, at ${r.gap.toExponential(2)} above f*`;
}
