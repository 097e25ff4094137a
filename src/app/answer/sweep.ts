/**
 * The sweep of `tapegrad answer`: for every model x backend x gradient variant, the median time of
 * one value and of one gradient, their ratio, the cost model's FLOP ratio, and the gradient's error
 * against the reverse gradient.
 */
import { difference } from '../../api/compare.js';
import type { Backend } from '../../backends/registry.js';
import type { BackendName } from '../../backends/types.js';
import type { Model } from '../../models/models.js';
import {
  ALL_VARIANTS,
  OPTIONAL_VARIANTS,
  timeFd,
  variantCost,
  variantUnsupported,
  type FdTimingOptions,
  type Variant,
} from './fd-timing.js';
import { pairedMedian, timeEach } from './timing.js';

export interface Cell {
  readonly variant: Variant['id'];
  /** time of one gradient, ms (extrapolated when `extrapolated`) */
  readonly ms: number;
  /** time of one evaluation, ms, timed interleaved with this gradient */
  readonly valueMs: number;
  /** the gradient's time in evaluations of f: the median over rounds of gradient / value time */
  readonly ratio: number;
  /** the cost model's FLOPs of this gradient / FLOPs of one value */
  readonly costRatio: number;
  /** evaluations of f the method does (whole or partial), from the cost model */
  readonly evaluations: number;
  readonly extrapolated: boolean;
  /** coordinates timed (all N unless extrapolated) and compared for `error` */
  readonly sampled: number;
  /**
   * ||g - g_reverse|| / ||g_reverse|| over the sampled coordinates, against this backend's
   * reverse gradient; for `reverse` itself, against the js reference backend's (0 on js)
   */
  readonly error: number;
}

export interface Row {
  /** catalog key */
  readonly model: string;
  /** the model's description */
  readonly name: string;
  readonly N: number;
  readonly backend: BackendName;
  /** median time of one value, ms (timed interleaved with the reverse gradient) */
  readonly valueMs: number;
  readonly cells: readonly Cell[];
  /** optional variants (OPTIONAL_VARIANTS) this backend does not compute, and why */
  readonly skipped?: readonly { readonly variant: Variant['id']; readonly why: string }[];
}

export interface SweepOptions {
  /** budget of each timing, ms */
  readonly budgetMs: number;
  readonly fd: FdTimingOptions;
}

/** Error of `g` against `ref` over some coordinates (normwise relative). */
function errorOn(g: Float64Array, ref: Float64Array, coords: Int32Array): number {
  if (coords.length === g.length) return difference(g, ref).normRel;
  return difference(
    Array.from(coords, (i) => g[i]),
    Array.from(coords, (i) => ref[i]),
  ).normRel;
}

/**
 * Measures one model on one backend. `reference` is the js backend's reverse gradient at the same
 * point (undefined on js itself).
 */
export function sweepModel(key: string, m: Model, be: Backend, opts: SweepOptions, reference?: Float64Array): Row {
  const c = be.compile(m.f);
  try {
    const theta = c.flatten(m.params);
    const N = c.paramCount;
    const reverse = new Float64Array(N);
    const [value, rev] = timeEach([() => c.valueFlat(theta, m.inputs), () => c.gradFlat(theta, m.inputs, reverse)], {
      budgetMs: opts.budgetMs,
      minRuns: 3,
    });
    const cells: Cell[] = [];
    const skipped: { variant: Variant['id']; why: string }[] = [];
    for (const v of ALL_VARIANTS) {
      if (OPTIONAL_VARIANTS.includes(v)) {
        const why = variantUnsupported(c, theta, m.inputs, v);
        if (why) {
          skipped.push({ variant: v.id, why });
          continue;
        }
      }
      const cost = variantCost(c, v);
      const base = { variant: v.id, costRatio: cost.relative, evaluations: cost.evaluations };
      if (v.method === 'reverse') {
        const error = reference ? difference(reverse, reference).normRel : 0;
        cells.push({
          ...base,
          ms: rev.ms,
          valueMs: value.ms,
          ratio: pairedMedian(rev, value),
          extrapolated: false,
          sampled: N,
          error,
        });
        continue;
      }
      const g = new Float64Array(N);
      const t = timeFd(c, theta, m.inputs, v, value.ms, opts.fd, g);
      cells.push({
        ...base,
        ms: t.ms,
        valueMs: t.valueMs,
        ratio: t.ratio,
        extrapolated: t.extrapolated,
        sampled: t.sampled,
        error: errorOn(g, reverse, t.coordinates),
      });
    }
    return {
      model: key,
      name: m.name,
      N,
      backend: be.name,
      valueMs: value.ms,
      cells,
      ...(skipped.length ? { skipped } : {}),
    };
  } finally {
    c.dispose();
  }
}

/** The js backend's reverse gradient at the model's initial point: what other backends are checked against. */
export function referenceGradient(m: Model, js: Backend): Float64Array {
  const c = js.compile(m.f);
  try {
    const g = new Float64Array(c.paramCount);
    c.gradFlat(c.flatten(m.params), m.inputs, g);
    return g;
  } finally {
    c.dispose();
  }
}
