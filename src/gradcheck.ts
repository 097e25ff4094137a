import type { Compiled } from './api/compiled.js';
import { elementDiff } from './api/compare.js';
import type { Values } from './api/validate.js';
import { uniform } from './models/random.js';

export interface GradcheckOptions {
  /** absolute tolerance (default 1e-5, as PyTorch's gradcheck) */
  readonly atol?: number;
  /** relative tolerance (default 1e-3, as PyTorch's gradcheck) */
  readonly rtol?: number;
  /** relative central-difference step (default cbrt(EPS)) */
  readonly eps?: number;
  /**
   * One random direction u instead of every coordinate (like PyTorch's fast_mode): compares
   * grad . u with (f(θ + h u) - f(θ - h u)) / 2h, two evaluations whatever N is.
   */
  readonly fast?: boolean;
  /** seed of the random direction (fast mode) */
  readonly seed?: number;
}

export interface GradcheckResult {
  /** every compared element within atol + rtol * |numeric| */
  readonly ok: boolean;
  readonly maxAbsError: number;
  /** max |reverse - numeric| / max(|reverse|, |numeric|) */
  readonly maxRelError: number;
  /** the element furthest outside its tolerance (param '' and index -1 in fast mode) */
  readonly worst: { readonly param: string; readonly index: number };
}

/** Compares the reverse-mode gradient with central finite differences. */
export function gradcheck(
  c: Compiled,
  params: Values,
  inputs?: Values,
  options: GradcheckOptions = {},
): GradcheckResult {
  const { atol = 1e-5, rtol = 1e-3, eps, fast = false, seed = 1 } = options;
  const theta = c.flatten(params);
  const reverse = new Float64Array(c.paramCount);
  c.gradFlat(theta, inputs, reverse, { method: 'reverse' });
  let analytic: ArrayLike<number>, numeric: ArrayLike<number>;
  if (fast) {
    const u = randomDirection(c.paramCount, seed);
    const h = (eps ?? Math.cbrt(2 ** -52)) * theta.reduce((m, t) => Math.max(m, Math.abs(t)), 1);
    const shifted = (sign: number) =>
      c.valueFlat(
        theta.map((t, i) => t + sign * h * u[i]),
        inputs,
      );
    analytic = [reverse.reduce((s, g, i) => s + g * u[i], 0)];
    numeric = [(shifted(1) - shifted(-1)) / (2 * h)];
  } else {
    analytic = reverse;
    numeric = new Float64Array(c.paramCount);
    c.gradFlat(theta, inputs, numeric as Float64Array, { method: 'fd-central', eps });
  }
  let maxAbs = 0,
    maxRel = 0,
    worstScore = -1,
    worstIndex = -1,
    ok = true;
  for (let i = 0; i < analytic.length; i++) {
    const d = elementDiff(analytic[i], numeric[i]);
    const scale = Math.max(Math.abs(analytic[i]), Math.abs(numeric[i]));
    const score = d / (atol + rtol * Math.abs(numeric[i]));
    maxAbs = Math.max(maxAbs, d);
    maxRel = Math.max(maxRel, d === 0 ? 0 : d / scale);
    if (!(score <= 1)) ok = false;
    if (score > worstScore || Number.isNaN(score)) {
      worstScore = score;
      worstIndex = i;
    }
  }
  const leaf = fast ? undefined : c.params.find((l) => worstIndex >= l.offset && worstIndex < l.offset + l.size);
  return {
    ok,
    maxAbsError: maxAbs,
    maxRelError: maxRel,
    worst: leaf ? { param: leaf.name, index: worstIndex - leaf.offset } : { param: '', index: -1 },
  };
}

/** A random unit vector from a seeded generator, so failures reproduce. */
function randomDirection(n: number, seed: number): Float64Array {
  const u = uniform(n, seed, -0.5, 0.5);
  const norm = Math.sqrt(u.reduce((s2, x) => s2 + x * x, 0)) || 1;
  return u.map((x) => x / norm);
}
