/** A seeded generator of uniform numbers in [0, 1) (mulberry32): reproducible data, inits and shuffles. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Deterministic uniform numbers in [lo, hi) from a seed (mulberry32). */
export function uniform(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  const next = mulberry32(seed);
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * next());
}
