/**
 * Differences between two vectors as the checks report them. Positions where both are NaN, or both
 * the same infinity, agree; where only one is, the difference is infinite.
 */
export interface Difference {
  /** max |a_i - b_i| */
  readonly maxAbs: number;
  /** ||a - b||_2 / ||b||_2 (normwise relative; the absolute norm when b is zero) */
  readonly normRel: number;
  /** index of the largest |a_i - b_i| */
  readonly worst: number;
}

export function difference(a: ArrayLike<number>, b: ArrayLike<number>): Difference {
  let maxAbs = 0, worst = a.length ? 0 : -1, scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = elementDiff(a[i], b[i]);
    if (d > maxAbs) { maxAbs = d; worst = i; }
    if (Number.isFinite(b[i])) scale = Math.max(scale, Math.abs(b[i]));
  }
  // the norms are summed over values divided by the largest finite magnitude, so that squares of
  // values near the float64 limit (1e154 and up) do not overflow into Inf/Inf = NaN
  if (Number.isFinite(maxAbs)) scale = Math.max(scale, maxAbs);
  if (scale === 0) return { maxAbs, normRel: maxAbs, worst };
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = elementDiff(a[i], b[i]) / scale;
    num += d * d;
    if (Number.isFinite(b[i])) den += (b[i] / scale) ** 2;
  }
  const normRel = Math.sqrt(num) / (den > 0 ? Math.sqrt(den) : 1 / scale);
  return { maxAbs, normRel, worst };
}

export function elementDiff(x: number, y: number): number {
  if (Object.is(x, y) || x === y) return 0;
  if (Number.isNaN(x) || Number.isNaN(y)) return Infinity;
  return Math.abs(x - y);
}
