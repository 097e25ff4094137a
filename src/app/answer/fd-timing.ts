/**
 * Timing a finite-difference gradient, in full when that is affordable, otherwise on a random
 * sample of coordinates with the full time extrapolated (and always reported as extrapolated).
 *
 * Why per group: with suffix reuse a perturbed evaluation costs the tape suffix its parameter
 * reaches, which differs a lot between parameters (a first-layer weight re-runs almost the whole
 * tape, an output bias only the loss). The FD plan groups coordinates by that suffix, so each
 * group is sampled on its own and scaled by its own size; without reuse every coordinate costs one
 * whole evaluation and all N form one group.
 */
import type { Compiled } from '../../api/compiled.js';
import type { GradOptions, Values } from '../../api/validate.js';
import { instructionFlops, type Method } from '../../trace/cost.js';
import { uniform } from '../../models/random.js';
import { pairedMedian, timeEach } from './timing.js';

/** A gradient method of the sweep: the library's, or 'forward' (forward-mode AD, issue 12 item 1) where a backend has it. */
export type GradientMethod = Method | 'forward';

export interface Variant {
  readonly id: 'reverse' | 'fd-forward-naive' | 'fd-forward' | 'fd-central' | 'forward';
  readonly label: string;
  readonly method: GradientMethod;
  readonly reuse: boolean;
}

/** The gradient variants the main job compares. */
export const VARIANTS: readonly Variant[] = [
  { id: 'reverse', label: 'reverse', method: 'reverse', reuse: true },
  { id: 'fd-forward-naive', label: 'fd-forward naive', method: 'fd-forward', reuse: false },
  { id: 'fd-forward', label: 'fd-forward reuse', method: 'fd-forward', reuse: true },
  { id: 'fd-central', label: 'fd-central reuse', method: 'fd-central', reuse: true },
];

/**
 * Variants measured only where the backend computes them; elsewhere the row lists them in
 * `skipped` with the reason. 'forward': forward-mode AD, one tangent sweep per parameter inside
 * one call, timed like the FD loop (whole, or on sampled coordinates per suffix group).
 */
export const OPTIONAL_VARIANTS: readonly Variant[] = [
  { id: 'forward', label: 'forward AD', method: 'forward', reuse: true },
];
export const ALL_VARIANTS: readonly Variant[] = [...VARIANTS, ...OPTIONAL_VARIANTS];

/** The cost model's figures for a variant; NaN where it has no row for the method (yet). */
export function variantCost(c: Compiled, v: Variant): { relative: number; evaluations: number } {
  try {
    return c.cost(v.method as Method, { reuse: v.reuse });
  } catch {
    return { relative: NaN, evaluations: NaN };
  }
}

/** Undefined when the backend computes gradients by the variant's method here, else why not. */
export function variantUnsupported(c: Compiled, theta: Float64Array, inputs: Values, v: Variant): string | undefined {
  try {
    // one coordinate: a whole gradient of an optional method can take minutes at large N on js
    const probe = { method: v.method, reuse: v.reuse, ...(v.method === 'reverse' ? {} : { coordinates: [0] }) };
    c.gradFlat(theta, inputs, new Float64Array(c.paramCount), probe as GradOptions);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export interface CoordinateGroup {
  readonly start: number;
  readonly end: number;
  /** cost of one perturbed evaluation of a coordinate of this group, in evaluations of f (FLOPs) */
  readonly evaluations: number;
}

/** Coordinates that cost the same per perturbed evaluation (see the file comment). */
export function coordinateGroups(c: Compiled, reuse: boolean): CoordinateGroup[] {
  const tape = c.defined.tape;
  if (!reuse) return [{ start: 0, end: c.paramCount, evaluations: 1 }];
  const { fwd } = instructionFlops(tape);
  const value = fwd.reduce((s, x) => s + x, 0);
  const suffix = (from: number) => fwd.subarray(from).reduce((s, x) => s + x, 0);
  const groups: CoordinateGroup[] = [];
  for (let k = 0; k < tape.fdPlan.length; k += 3)
    groups.push({
      start: tape.fdPlan[k],
      end: tape.fdPlan[k + 1],
      evaluations: value > 0 ? suffix(tape.fdPlan[k + 2]) / value : 1,
    });
  return groups;
}

/** k distinct indices of [0, n), reproducible from the seed (a partial Fisher-Yates shuffle). */
export function sampleIndices(n: number, k: number, seed: number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const u = uniform(k, seed, 0, 1);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(u[i] * (n - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, k).sort();
}

export interface GroupSample {
  /** coordinates in the group */
  readonly n: number;
  /** coordinates timed */
  readonly k: number;
  /**
   * the extra time of one FD call on the k coordinates over one evaluation (the call's own
   * unperturbed one), in evaluations: the median over rounds of (call - value) / value
   */
  readonly extra: number;
  /** median time of one evaluation, timed interleaved with those calls, ms */
  readonly valueMs: number;
}

/**
 * The whole FD gradient from per-group samples, in evaluations of f: the full gradient pays one
 * unperturbed evaluation plus, per group, n perturbed coordinates at the sampled cost of k. A
 * sample cheaper than its own evaluation (timing noise) adds zero. `ms` is that ratio times the
 * evaluation time the samples were timed alongside (their mean).
 */
export function extrapolate(groups: readonly GroupSample[]): { ratio: number; ms: number; valueMs: number } {
  const valueMs = groups.reduce((s, g) => s + g.valueMs, 0) / groups.length;
  const ratio = groups.reduce((t, g) => t + (g.n / g.k) * Math.max(0, g.extra), 1);
  return { ratio, ms: ratio * valueMs, valueMs };
}

export interface FdTimingOptions {
  /** an FD gradient predicted (cost model x value time) to take longer than this is sampled */
  readonly fullLimitMs: number;
  /**
   * the most a sampled call aims to take; it aims at 4 evaluations' worth of perturbed work, but
   * no less than a fifth of this (so the extra time stands well above timing noise)
   */
  readonly sampleMs: number;
  /** budget of each timing (see timing.ts) */
  readonly budgetMs: number;
  readonly seed: number;
}

export interface FdTiming {
  /** time of one whole FD gradient: measured, or extrapolated from `sampled` of `of` coordinates */
  readonly ms: number;
  /** time of one evaluation, timed interleaved with the FD calls, ms */
  readonly valueMs: number;
  /** the gradient's time in evaluations: median over rounds of FD call / value (or extrapolated) */
  readonly ratio: number;
  readonly extrapolated: boolean;
  readonly sampled: number;
  readonly of: number;
  /** the coordinates whose FD values are in the output buffer (all of them when measured) */
  readonly coordinates: Int32Array;
}

/**
 * Times `variant` (a finite-difference one) at theta and leaves its gradient in `out` (only the
 * sampled coordinates when extrapolated; the others are left untouched). `valueMs`, one
 * evaluation's time measured before, only sizes the samples.
 */
export function timeFd(
  c: Compiled,
  theta: Float64Array,
  inputs: Values,
  variant: Variant,
  valueMs: number,
  opts: FdTimingOptions,
  out: Float64Array,
): FdTiming {
  const { method, reuse } = variant;
  const N = c.paramCount;
  const runs = method === 'fd-central' ? 2 : 1;
  // NaN (no cost-model row): predicted is not <= the limit, so it is sampled unless every group is small
  const predicted = variantCost(c, variant).relative * valueMs;
  const groups = coordinateGroups(c, reuse);
  const target = Math.min(opts.sampleMs, Math.max(opts.sampleMs / 5, 4 * valueMs));
  // at least 3 coordinates per sampled group, so no figure rests on a single coordinate
  const ks = groups.map((g) =>
    Math.min(g.end - g.start, Math.max(3, Math.round(target / (runs * g.evaluations * valueMs)))),
  );
  const value = () => c.valueFlat(theta, inputs);
  if (predicted <= opts.fullLimitMs || groups.every((g, i) => ks[i] === g.end - g.start)) {
    const [v, t] = timeEach([value, () => c.gradFlat(theta, inputs, out, { method, reuse } as GradOptions)], {
      budgetMs: opts.budgetMs,
      minRuns: 3,
    });
    return {
      ms: t.ms,
      valueMs: v.ms,
      ratio: pairedMedian(t, v),
      extrapolated: false,
      sampled: N,
      of: N,
      coordinates: Int32Array.from({ length: N }, (_, i) => i),
    };
  }
  // Groups small enough to be covered whole share one call (its extra time counts once, unscaled);
  // each sampled group gets its own call. Three runs at least: one slow run must not decide.
  const samples: GroupSample[] = [];
  const all: number[] = [];
  // A round that takes longer than the budget gets no warm-up: value() just ran and the FD loop
  // runs the same kernels, so there is nothing left to warm.
  const warmup = 2 * valueMs + target < opts.budgetMs;
  const timeCall = (coordinates: Int32Array) => {
    const [v, t] = timeEach(
      [value, () => c.gradFlat(theta, inputs, out, { method, reuse, coordinates } as GradOptions)],
      {
        budgetMs: opts.budgetMs,
        minRuns: 3,
        warmup,
      },
    );
    return { extra: pairedMedian(t, v, (call, val) => (call - val) / val), valueMs: v.ms };
  };
  const whole = groups.filter((g, i) => ks[i] === g.end - g.start);
  if (whole.length) {
    const coordinates = Int32Array.from(
      whole.flatMap((g) => Array.from({ length: g.end - g.start }, (_, j) => g.start + j)),
    );
    samples.push({ n: coordinates.length, k: coordinates.length, ...timeCall(coordinates) });
    all.push(...coordinates);
  }
  groups.forEach((g, i) => {
    if (ks[i] === g.end - g.start) return;
    const coordinates = sampleIndices(g.end - g.start, ks[i], opts.seed + i).map((j) => g.start + j);
    samples.push({ n: g.end - g.start, k: ks[i], ...timeCall(coordinates) });
    all.push(...coordinates);
  });
  return {
    ...extrapolate(samples),
    extrapolated: true,
    sampled: all.length,
    of: N,
    coordinates: Int32Array.from(all).sort(),
  };
}
