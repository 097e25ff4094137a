/**
 * Elementwise loops over f64x2 pairs, instantiated per op: an op is a @final @unmanaged class whose
 * @inline methods are the vector formula, so each instantiation compiles to one straight loop (no
 * indirect calls). An odd last element runs the same formula on a half-filled vector, loaded with
 * load64_zero and stored from lane 0, so nothing outside the operands is read or written.
 * Pointers are byte addresses into linear memory; n counts float64 elements.
 */

// @ts-ignore: decorator
@inline export function map1<Op>(o: usize, a: usize, n: i32): void {
  const op = changetype<Op>(0);
  const end = <usize>n << 3;
  let i: usize = 0;
  for (; i + 16 <= end; i += 16) v128.store(o + i, op.f(v128.load(a + i)));
  if (i < end) v128.store64_lane(o + i, op.f(v128.load64_zero(a + i)), 0);
}

// @ts-ignore: decorator
@inline export function map2<Op>(o: usize, a: usize, b: usize, n: i32): void {
  const op = changetype<Op>(0);
  const end = <usize>n << 3;
  let i: usize = 0;
  for (; i + 16 <= end; i += 16) v128.store(o + i, op.f(v128.load(a + i), v128.load(b + i)));
  if (i < end) v128.store64_lane(o + i, op.f(v128.load64_zero(a + i), v128.load64_zero(b + i)), 0);
}

/**
 * map1 for ops whose vector formula is exact only away from rare inputs (vmath.ts): op.rare(x)
 * flags such lanes; if any lane was flagged, the whole block is redone with the scalar formula
 * op.s afterwards (an odd last element always takes op.s).
 */
// @ts-ignore: decorator
@inline export function map1r<Op>(o: usize, a: usize, n: i32): void {
  const op = changetype<Op>(0);
  const end = <usize>n << 3;
  let rare = i64x2.splat(0);
  let i: usize = 0;
  for (; i + 16 <= end; i += 16) {
    const x = v128.load(a + i);
    rare = v128.or(rare, op.rare(x));
    v128.store(o + i, op.f(x));
  }
  if (v128.any_true(rare)) i = 0;
  for (; i < end; i += 8) store<f64>(o + i, op.s(load<f64>(a + i)));
}

/** g[i] += op.d(dy[i], x[i], y[i]): the usual shape of a backward rule */
// @ts-ignore: decorator
@inline export function accum<Op>(g: usize, dy: usize, x: usize, y: usize, n: i32): void {
  const op = changetype<Op>(0);
  const end = <usize>n << 3;
  let i: usize = 0;
  for (; i + 16 <= end; i += 16)
    v128.store(g + i, f64x2.add(v128.load(g + i), op.d(v128.load(dy + i), v128.load(x + i), v128.load(y + i))));
  if (i < end) {
    const d = op.d(v128.load64_zero(dy + i), v128.load64_zero(x + i), v128.load64_zero(y + i));
    v128.store64_lane(g + i, f64x2.add(v128.load64_zero(g + i), d), 0);
  }
}

/** g[i] += dy[i] (the backward rule of add, broadcast, sum) */
export function addInto(g: usize, dy: usize, n: i32): void {
  const end = <usize>n << 3;
  let i: usize = 0;
  for (; i + 32 <= end; i += 32) {
    v128.store(g + i, f64x2.add(v128.load(g + i), v128.load(dy + i)));
    v128.store(g + i + 16, f64x2.add(v128.load(g + i + 16), v128.load(dy + i + 16)));
  }
  for (; i < end; i += 8) store<f64>(g + i, load<f64>(g + i) + load<f64>(dy + i));
}

/** g[i] -= dy[i] */
export function subInto(g: usize, dy: usize, n: i32): void {
  const end = <usize>n << 3;
  let i: usize = 0;
  for (; i + 16 <= end; i += 16) v128.store(g + i, f64x2.sub(v128.load(g + i), v128.load(dy + i)));
  for (; i < end; i += 8) store<f64>(g + i, load<f64>(g + i) - load<f64>(dy + i));
}
