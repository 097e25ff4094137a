/**
 * L-BFGS for full-batch deterministic problems, driven by `minimize` (minimize.ts): the two-loop
 * recursion (Nocedal & Wright, Numerical Optimization, 2nd ed., alg. 7.4) with the scaling
 * gamma = s'y / y'y, and a line search for the strong Wolfe conditions (alg. 3.5 and 3.6, cubic
 * interpolation in the zoom, safeguarded as torch.optim.LBFGS does). Stopping rules and the first
 * step follow scipy's L-BFGS-B (unconstrained): the first step (and the first after a restart) has
 * length 1 (t = 1 / ||g||_2 along -g), later ones start at t = 1; an update with
 * s'y <= EPS * (-t g'd) is skipped; a failed line search clears the memory and retries along -g
 * once before it gives up.
 */
import { describeValue } from '../trace/tensor.js';
import { checkOptions, positiveInteger, tolerance } from './options.js';
import type { LbfgsOptimizer } from './types.js';

export interface LbfgsOptions {
  /** m, the number of (s, y) pairs kept (default 10, scipy's maxcor) */
  readonly history?: number;
  /** the line search: 'strong-wolfe' (the only one) */
  readonly lineSearch?: 'strong-wolfe';
  /** sufficient-decrease constant c1 of the Wolfe conditions (default 1e-4) */
  readonly c1?: number;
  /** curvature constant c2 of the strong Wolfe conditions (default 0.9) */
  readonly c2?: number;
  /** evaluations one line search may spend (default 20, scipy's maxls) */
  readonly maxLineSearch?: number;
  // stopping rules; minimize's own options of the same names take precedence
  readonly maxIterations?: number;
  readonly maxEvaluations?: number;
  readonly gtol?: number;
  readonly ftol?: number;
  readonly xtol?: number;
}

export interface ResolvedLbfgs {
  readonly history: number;
  readonly lineSearch: 'strong-wolfe';
  readonly c1: number;
  readonly c2: number;
  readonly maxLineSearch: number;
  readonly maxIterations?: number;
  readonly maxEvaluations?: number;
  readonly gtol?: number;
  readonly ftol?: number;
  readonly xtol?: number;
}

const EPS = 2 ** -52;
const LBFGS_KEYS = [
  'history',
  'lineSearch',
  'c1',
  'c2',
  'maxLineSearch',
  'maxIterations',
  'maxEvaluations',
  'gtol',
  'ftol',
  'xtol',
];

/** L-BFGS with validated options, for `minimize(c, theta, inputs, { optimizer: lbfgs(...) })`. */
export function lbfgs(options: LbfgsOptions = {}): LbfgsOptimizer {
  return Object.freeze({ kind: 'lbfgs' as const, options: Object.freeze(resolveLbfgs(options)) });
}

/** The options validated, with their defaults filled in. */
export function resolveLbfgs(options: unknown): ResolvedLbfgs {
  const what = 'lbfgs';
  const o = checkOptions(what, options ?? {}, LBFGS_KEYS);
  if (o.lineSearch !== undefined && o.lineSearch !== 'strong-wolfe')
    throw new Error(`${what}: unknown lineSearch ${describeValue(o.lineSearch)} (expected 'strong-wolfe')`);
  const c1 = o.c1 ?? 1e-4,
    c2 = o.c2 ?? 0.9;
  if (typeof c1 !== 'number' || typeof c2 !== 'number' || !(0 < c1 && c1 < c2 && c2 < 1))
    throw new RangeError(
      `${what}: the Wolfe constants need 0 < c1 < c2 < 1, got c1 = ${describeValue(c1)}, c2 = ${describeValue(c2)}`,
    );
  return {
    history: positiveInteger(what, 'history', o.history) ?? 10,
    lineSearch: 'strong-wolfe',
    c1,
    c2,
    maxLineSearch: positiveInteger(what, 'maxLineSearch', o.maxLineSearch) ?? 20,
    maxIterations: positiveInteger(what, 'maxIterations', o.maxIterations),
    maxEvaluations: positiveInteger(what, 'maxEvaluations', o.maxEvaluations),
    gtol: tolerance(what, 'gtol', o.gtol),
    ftol: tolerance(what, 'ftol', o.ftol),
    xtol: tolerance(what, 'xtol', o.xtol),
  };
}

/** What the L-BFGS loop needs from `minimize`. */
export interface Problem {
  /** f at x, and its gradient into g; counts one evaluation */
  evaluate(x: Float64Array, g: Float64Array): number;
  /** evaluations left in the budget */
  remaining(): number;
  /**
   * After each iteration (x, f, g: the new point; step: the line search's step length; converged:
   * 'ftol' or 'xtol' when those rules hold): records it and says why to stop, if it should.
   */
  iterated(x: Float64Array, f: number, g: Float64Array, step: number, converged?: 'ftol' | 'xtol'): string | undefined;
}

export interface Tolerances {
  readonly ftol: number;
  readonly xtol: number;
}

/**
 * Runs L-BFGS from (x, f, g) until `problem.iterated` says stop or the line search fails.
 * Returns the final point (x, g: buffers of this run; the given ones are not written), f and the
 * reason. Allocation-free per evaluation: 4 vectors of N plus 2m for the memory.
 */
export function runLbfgs(
  problem: Problem,
  opts: ResolvedLbfgs,
  tol: Tolerances,
  x0: Float64Array,
  f0: number,
  g0: Float64Array,
) {
  return new LbfgsRun(problem, opts, tol, x0, f0, g0).run();
}

class LbfgsRun {
  private x: Float64Array;
  private g: Float64Array;
  private f: number;
  private readonly d: Float64Array;
  /** the trial point and its gradient */
  private xt: Float64Array;
  private gt: Float64Array;
  /** the gradient at the line search's best point so far (when its step is > 0) */
  private gLo: Float64Array;
  private readonly memory: Memory;
  /** the last trial's f (Infinity when f or the gradient was not finite) and g'd */
  private ft = 0;
  private gtdt = 0;
  /** line searches that found no acceptable step (each retried along -g once, or the run ends) */
  private failures = 0;

  constructor(
    private readonly problem: Problem,
    private readonly o: ResolvedLbfgs,
    private readonly tol: Tolerances,
    x0: Float64Array,
    f0: number,
    g0: Float64Array,
  ) {
    const n = x0.length;
    this.x = Float64Array.from(x0);
    this.g = Float64Array.from(g0);
    this.f = f0;
    this.d = new Float64Array(n);
    this.xt = new Float64Array(n);
    this.gt = new Float64Array(n);
    this.gLo = new Float64Array(n);
    this.memory = new Memory(n, o.history);
  }

  run(): { x: Float64Array; g: Float64Array; f: number; reason: string; lineSearchFailures: number } {
    const { d, memory } = this;
    for (;;) {
      let t0 = 1;
      if (memory.size === 0) {
        for (let i = 0; i < d.length; i++) d[i] = -this.g[i];
        t0 = 1 / Math.sqrt(dot(this.g, this.g));
      } else memory.direction(this.g, d);
      const gtd = dot(this.g, d);
      if (!(gtd < 0)) {
        // not a descent direction (rounding in a badly conditioned memory): start again along -g
        if (memory.size > 0) {
          memory.clear();
          continue;
        }
        return this.done('line-search');
      }
      const ls = this.lineSearch(gtd, t0);
      if (ls.t === 0) {
        if (ls.reason === 'line-search') this.failures++;
        // retry along -g (the memory may be what misleads) before giving up, as L-BFGS-B does
        if (ls.reason === 'line-search' && memory.size > 0) {
          memory.clear();
          continue;
        }
        return this.done(ls.reason);
      }
      // the new point, x + t d, computed exactly as the line search evaluated it
      const { x, xt, gLo } = this;
      const t = ls.t;
      let sy = 0,
        yy = 0,
        smax = 0;
      for (let i = 0; i < x.length; i++) {
        xt[i] = x[i] + t * d[i];
        const s = xt[i] - x[i],
          y = gLo[i] - this.g[i];
        sy += s * y;
        yy += y * y;
        smax = Math.max(smax, Math.abs(s));
      }
      if (sy > EPS * (-t * gtd)) memory.push(x, xt, this.g, gLo, sy, yy);
      const fOld = this.f;
      [this.x, this.xt] = [xt, this.x];
      [this.g, this.gLo] = [gLo, this.g];
      this.f = ls.f;
      const converged =
        fOld - this.f <= this.tol.ftol * Math.max(Math.abs(fOld), Math.abs(this.f), 1)
          ? 'ftol'
          : smax <= this.tol.xtol
            ? 'xtol'
            : undefined;
      const stop = this.problem.iterated(this.x, this.f, this.g, t, converged);
      if (stop) return this.done(stop);
    }
  }

  private done(reason: string) {
    return { x: this.x, g: this.g, f: this.f, reason, lineSearchFailures: this.failures };
  }

  /** f and g'd at x + t d (into xt, gt): sets ft and gtdt. */
  private phi(t: number): void {
    const { x, d, xt, gt } = this;
    for (let i = 0; i < x.length; i++) xt[i] = x[i] + t * d[i];
    const f = this.problem.evaluate(xt, gt);
    const gtd = dot(gt, d);
    const finite = Number.isFinite(f) && Number.isFinite(gtd);
    this.ft = finite ? f : Infinity;
    this.gtdt = finite ? gtd : NaN;
  }

  /** The trial just evaluated becomes the best point: keep its gradient. */
  private keepTrial(): void {
    [this.gt, this.gLo] = [this.gLo, this.gt];
  }

  /**
   * Strong-Wolfe line search along d from t = 0 (f, gtd0), first trying t. Returns the accepted
   * step (0: no point with sufficient decrease was found) and its f; its gradient is in gLo.
   * A step that satisfies sufficient decrease but not the curvature condition when the budget runs
   * out is accepted (as torch does).
   */
  private lineSearch(gtd0: number, t: number): { t: number; f: number; reason: string } {
    const { c1, c2, maxLineSearch } = this.o;
    const f0 = this.f;
    let evals = 0;
    const budget = () => evals < maxLineSearch && this.problem.remaining() > 0;
    const outOfBudget = () => (this.problem.remaining() > 0 ? 'line-search' : 'max-evaluations');
    // bracketing (alg. 3.5): lo = the best point so far, which satisfies sufficient decrease
    let tLo = 0,
      fLo = f0,
      gLoD = gtd0;
    let tHi: number, fHi: number, gHiD: number;
    for (;;) {
      if (!budget()) return { t: tLo, f: fLo, reason: outOfBudget() };
      this.phi(t);
      evals++;
      const f = this.ft,
        gtd = this.gtdt;
      if (f > f0 + c1 * t * gtd0 || f >= fLo) {
        tHi = t;
        fHi = f;
        gHiD = gtd;
        break;
      }
      this.keepTrial();
      if (Math.abs(gtd) <= -c2 * gtd0) return { t, f, reason: '' };
      if (gtd >= 0) {
        tHi = tLo;
        fHi = fLo;
        gHiD = gLoD;
        tLo = t;
        fLo = f;
        gLoD = gtd;
        break;
      }
      // still descending: extrapolate (bounds as in Moré-Thuente: 1.1 to 4 times the last step further)
      const next = cubicMin(tLo, fLo, gLoD, t, f, gtd, t + 1.1 * (t - tLo), t + 4 * (t - tLo));
      tLo = t;
      fLo = f;
      gLoD = gtd;
      t = next;
    }
    // zoom (alg. 3.6) on the bracket between lo and hi
    const dmax = maxAbs(this.d),
      tiny = EPS * Math.max(1, maxAbs(this.x));
    let insufficient = false;
    while (budget()) {
      const a = Math.min(tLo, tHi),
        b = Math.max(tLo, tHi);
      if ((b - a) * dmax <= tiny) break; // the trial points no longer differ
      t = cubicMin(tLo, fLo, gLoD, tHi, fHi, gHiD, a, b);
      // torch's safeguard: a trial within 10% of an end twice running is moved 10% inside
      const margin = 0.1 * (b - a);
      if (Math.min(b - t, t - a) < margin) {
        if (insufficient || t >= b || t <= a) {
          t = Math.abs(t - b) < Math.abs(t - a) ? b - margin : a + margin;
          insufficient = false;
        } else insufficient = true;
      } else insufficient = false;
      this.phi(t);
      evals++;
      const f = this.ft,
        gtd = this.gtdt;
      if (f > f0 + c1 * t * gtd0 || f >= fLo) {
        tHi = t;
        fHi = f;
        gHiD = gtd;
        continue;
      }
      this.keepTrial();
      if (Math.abs(gtd) <= -c2 * gtd0) return { t, f, reason: '' };
      if (gtd * (tHi - tLo) >= 0) {
        tHi = tLo;
        fHi = fLo;
        gHiD = gLoD;
      }
      tLo = t;
      fLo = f;
      gLoD = gtd;
    }
    return { t: tLo, f: fLo, reason: outOfBudget() };
  }
}

/**
 * The minimiser of the cubic through (t1, f1, f'1) and (t2, f2, f'2) (N&W eq. 3.59), clamped to
 * [lo, hi]; the midpoint when the cubic has no minimiser or the numbers are not finite.
 */
export function cubicMin(
  t1: number,
  f1: number,
  g1: number,
  t2: number,
  f2: number,
  g2: number,
  lo: number,
  hi: number,
): number {
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (t1 - t2);
  const sq = d1 * d1 - g1 * g2;
  if (sq >= 0) {
    const d2 = Math.sign(t2 - t1) * Math.sqrt(sq);
    const t = t2 - (t2 - t1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2));
    if (Number.isFinite(t)) return Math.min(Math.max(t, lo), hi);
  }
  return (lo + hi) / 2;
}

/** The (s, y) pairs, newest last, in a ring of m slots, and the two-loop recursion. */
class Memory {
  private readonly s: Float64Array[] = [];
  private readonly y: Float64Array[] = [];
  private readonly rho: Float64Array;
  private readonly alpha: Float64Array;
  private start = 0;
  size = 0;
  private gamma = 1;

  constructor(
    private readonly n: number,
    private readonly m: number,
  ) {
    this.rho = new Float64Array(m);
    this.alpha = new Float64Array(m);
  }

  clear(): void {
    this.size = 0;
    this.start = 0;
  }

  /** Stores s = x1 - x0, y = g1 - g0 (s'y > 0), dropping the oldest pair when full. */
  push(x0: Float64Array, x1: Float64Array, g0: Float64Array, g1: Float64Array, sy: number, yy: number): void {
    const k = (this.start + this.size) % this.m;
    // slots are allocated on first use, so a short run never holds m pairs of vectors
    if (!this.s[k]) {
      this.s[k] = new Float64Array(this.n);
      this.y[k] = new Float64Array(this.n);
    }
    const s = this.s[k],
      y = this.y[k];
    for (let i = 0; i < this.n; i++) {
      s[i] = x1[i] - x0[i];
      y[i] = g1[i] - g0[i];
    }
    this.rho[k] = 1 / sy;
    this.gamma = sy / yy;
    if (this.size < this.m) this.size++;
    else this.start = (this.start + 1) % this.m;
  }

  /** d = -H g by the two-loop recursion (N&W alg. 7.4), H0 = gamma I. */
  direction(g: Float64Array, d: Float64Array): void {
    const { s, y, rho, alpha, m } = this;
    for (let i = 0; i < d.length; i++) d[i] = -g[i];
    for (let j = this.size - 1; j >= 0; j--) {
      const k = (this.start + j) % m;
      alpha[k] = rho[k] * dot(s[k], d);
      axpy(-alpha[k], y[k], d);
    }
    for (let i = 0; i < d.length; i++) d[i] *= this.gamma;
    for (let j = 0; j < this.size; j++) {
      const k = (this.start + j) % m;
      const beta = rho[k] * dot(y[k], d);
      axpy(alpha[k] - beta, s[k], d);
    }
  }
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += a * x[i];
}

/** max |x_i| (the infinity norm; NaN when an entry is NaN) */
export function maxAbs(x: Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (!(a <= m)) m = a;
  }
  return m;
}
