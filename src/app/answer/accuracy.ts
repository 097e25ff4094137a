/**
 * The accuracy study: the error of fd-forward and fd-central against an exact gradient as a
 * function of the relative step eps, on the seed example and on logistic regression. Large steps
 * err by truncation (O(eps) forward, O(eps^2) central), small ones by cancellation (O(u/eps) with
 * u = 2^-52): a V on log-log axes. The reverse gradient is measured against the same exact
 * gradient, so the chart also shows where it sits.
 *
 * The exact gradients are closed forms written out here in plain float64, independent of the
 * tape, so neither method is judged against itself.
 */
import { difference } from '../../api/compare.js';
import { DEFAULT_STEP } from '../../api/validate.js';
import type { Backend } from '../../backends/registry.js';
import type { Method } from '../../trace/cost.js';
import type { Model } from '../../models/models.js';

export type FdMethod = Exclude<Method, 'reverse'>;

export interface StepPoint {
  readonly eps: number;
  readonly error: number;
}

export interface AccuracyCurve {
  readonly model: string;
  readonly method: FdMethod;
  /** error at each step of STEPS */
  readonly points: readonly StepPoint[];
  /** the default step and the error there */
  readonly atDefault: StepPoint;
  /** the smallest error over STEPS */
  readonly best: StepPoint;
}

export interface AccuracyResult {
  readonly curves: readonly AccuracyCurve[];
  /** the reverse gradient's error against the same exact gradient, per model */
  readonly reverse: readonly { readonly model: string; readonly error: number }[];
  readonly backend: string;
}

/** 1e-1 down to 1e-15, half a decade apart. */
export const STEPS: readonly number[] = Array.from({ length: 29 }, (_, i) => 10 ** (-1 - i / 2));

/** Closed form of the seed example's gradient: d/da = b sum x s(1-s), d/db = sum s, s = sigmoid(a x). */
export function seedGradient(m: Model): Float64Array {
  const { a, b } = m.params as { a: number; b: number };
  let da = 0,
    db = 0;
  for (const x of m.inputs.x as Float64Array) {
    const s = 1 / (1 + Math.exp(-a * x));
    da += b * x * s * (1 - s);
    db += s;
  }
  return Float64Array.of(da, db);
}

/**
 * Closed form of logistic regression's gradient: with z = X w + b and loss mean softplus(-s z),
 * d/dz_i = -s_i sigmoid(-s_i z_i) / m; d/dw = X^T dz, d/db = sum dz. Flat layout [w | b].
 */
export function logisticGradient(m: Model): Float64Array {
  const w = m.params.w as Float64Array,
    b = m.params.b as number;
  const X = m.inputs.X as Float64Array,
    s = m.inputs.s as Float64Array;
  const k = w.length,
    rows = s.length;
  const g = new Float64Array(k + 1);
  for (let i = 0; i < rows; i++) {
    let z = b;
    for (let j = 0; j < k; j++) z += X[i * k + j] * w[j];
    const dz = -s[i] / (1 + Math.exp(s[i] * z)) / rows;
    for (let j = 0; j < k; j++) g[j] += dz * X[i * k + j];
    g[k] += dz;
  }
  return g;
}

/** The error curves of one model whose exact gradient is `exact`. */
export function studyModel(
  key: string,
  m: Model,
  exact: Float64Array,
  be: Backend,
  steps = STEPS,
): {
  curves: AccuracyCurve[];
  reverse: number;
} {
  const c = be.compile(m.f);
  try {
    const theta = c.flatten(m.params);
    const g = new Float64Array(c.paramCount);
    const err = (method: Method, eps?: number) => {
      c.gradFlat(theta, m.inputs, g, { method, eps });
      return difference(g, exact).normRel;
    };
    const curves = (['fd-forward', 'fd-central'] as const).map((method) => {
      const points = steps.map((eps) => ({ eps, error: err(method, eps) }));
      const best = points.reduce((p, q) => (q.error < p.error ? q : p));
      return { model: key, method, points, atDefault: { eps: DEFAULT_STEP[method], error: err(method) }, best };
    });
    return { curves, reverse: err('reverse') };
  } finally {
    c.dispose();
  }
}

export function accuracyStudy(
  models: readonly { key: string; model: Model; exact: (m: Model) => Float64Array }[],
  be: Backend,
): AccuracyResult {
  const curves: AccuracyCurve[] = [];
  const reverse: { model: string; error: number }[] = [];
  for (const { key, model, exact } of models) {
    const r = studyModel(key, model, exact(model), be);
    curves.push(...r.curves);
    reverse.push({ model: key, error: r.reverse });
  }
  return { curves, reverse, backend: be.name };
}
