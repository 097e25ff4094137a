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
  let maxAbs = 0,
    worst = a.length ? 0 : -1,
    maxB = 0;
  for (let i = 0; i < a.length; i++) {
    const d = elementDiff(a[i], b[i]);
    if (d > maxAbs) {
      maxAbs = d;
      worst = i;
    }
    if (Number.isFinite(b[i])) maxB = Math.max(maxB, Math.abs(b[i]));
  }
  // each norm is summed over values divided by its largest term, so that neither squares near the
  // float64 limit (1e154 and up) overflow nor subnormal ones underflow: Inf/Inf or x/0 were reported
  const normD = norm(a.length, (i) => elementDiff(a[i], b[i]), maxAbs);
  const normB = norm(a.length, (i) => (Number.isFinite(b[i]) ? b[i] : 0), maxB);
  return { maxAbs, normRel: normB > 0 ? normD / normB : normD, worst };
}

/** ||x||_2 of n terms whose largest magnitude is `max`, without overflow or underflow */
function norm(n: number, x: (i: number) => number, max: number): number {
  if (max === 0 || !Number.isFinite(max)) return max;
  let s = 0;
  for (let i = 0; i < n; i++) s += (x(i) / max) ** 2;
  return max * Math.sqrt(s);
}

export function elementDiff(x: number, y: number): number {
  if (Object.is(x, y) || x === y) return 0;
  if (Number.isNaN(x) || Number.isNaN(y)) return Infinity;
  return Math.abs(x - y);
}
