/**
 * Elementwise loops over f64x2 pairs, instantiated per op: an op is a @final @unmanaged class whose
 * @inline methods are the vector formula, so each instantiation compiles to one straight loop (no
 * indirect calls). An odd last element runs the same formula on a half-filled vector, loaded with
 * load64_zero and stored from lane 0, so nothing outside the operands is read or written.
 * Pointers are byte addresses into linear memory; n counts elements of T (f64 or f32, ../elem.ts:
 * widened to f64 on load, rounded to T on store).
 */
import { ld, st, vld, vld0, vst, vst0 } from '../elem';

// @ts-ignore: decorator
@inline export function map1<Op, T>(o: usize, a: usize, n: i32): void {
  const op = changetype<Op>(0);
  const end = <usize>n << alignof<T>();
  const w = sizeof<T>() << 1;
  let i: usize = 0;
  for (; i + w <= end; i += w) vst<T>(o + i, op.f(vld<T>(a + i)));
  if (i < end) vst0<T>(o + i, op.f(vld0<T>(a + i)));
}

// @ts-ignore: decorator
@inline export function map2<Op, T>(o: usize, a: usize, b: usize, n: i32): void {
  const op = changetype<Op>(0);
  const end = <usize>n << alignof<T>();
  const w = sizeof<T>() << 1;
  let i: usize = 0;
  for (; i + w <= end; i += w) vst<T>(o + i, op.f(vld<T>(a + i), vld<T>(b + i)));
  if (i < end) vst0<T>(o + i, op.f(vld0<T>(a + i), vld0<T>(b + i)));
}

/**
 * map1 for ops whose vector formula is exact only away from rare inputs (vmath.ts): op.rare(x)
 * flags such lanes; if any lane was flagged, the whole block is redone with the scalar formula
 * op.s afterwards (an odd last element always takes op.s).
 */
// @ts-ignore: decorator
@inline export function map1r<Op, T>(o: usize, a: usize, n: i32): void {
  const op = changetype<Op>(0);
  const end = <usize>n << alignof<T>();
  const w = sizeof<T>() << 1;
  let rare = i64x2.splat(0);
  let i: usize = 0;
  for (; i + w <= end; i += w) {
    const x = vld<T>(a + i);
    rare = v128.or(rare, op.rare(x));
    vst<T>(o + i, op.f(x));
  }
  if (v128.any_true(rare)) i = 0;
  for (; i < end; i += sizeof<T>()) st<T>(o + i, op.s(ld<T>(a + i)));
}

/** g[i] += op.d(dy[i], x[i], y[i]): the usual shape of a backward rule */
// @ts-ignore: decorator
@inline export function accum<Op, T>(g: usize, dy: usize, x: usize, y: usize, n: i32): void {
  const op = changetype<Op>(0);
  const end = <usize>n << alignof<T>();
  const w = sizeof<T>() << 1;
  let i: usize = 0;
  for (; i + w <= end; i += w)
    vst<T>(g + i, f64x2.add(vld<T>(g + i), op.d(vld<T>(dy + i), vld<T>(x + i), vld<T>(y + i))));
  if (i < end) {
    const d = op.d(vld0<T>(dy + i), vld0<T>(x + i), vld0<T>(y + i));
    vst0<T>(g + i, f64x2.add(vld0<T>(g + i), d));
  }
}

/**
 * g[i] += dy[i] (the backward rule of add, broadcast, sum). float32 in f32x4 lanes: one add of two
 * float32s rounded from float64 is float32's own add, the same bits (scripts/gen-kernels.ts's
 * f32Lanes says why).
 */
export function addInto<T>(g: usize, dy: usize, n: i32): void {
  const end = <usize>n << alignof<T>();
  const w = sizeof<T>() << 1;
  let i: usize = 0;
  if (sizeof<T>() == 4) for (; i + 16 <= end; i += 16) v128.store(g + i, f32x4.add(v128.load(g + i), v128.load(dy + i)));
  for (; i + 2 * w <= end; i += 2 * w) {
    vst<T>(g + i, f64x2.add(vld<T>(g + i), vld<T>(dy + i)));
    vst<T>(g + i + w, f64x2.add(vld<T>(g + i + w), vld<T>(dy + i + w)));
  }
  for (; i < end; i += sizeof<T>()) st<T>(g + i, ld<T>(g + i) + ld<T>(dy + i));
}

/** g[i] -= dy[i] (float32 in f32x4 lanes, as addInto) */
export function subInto<T>(g: usize, dy: usize, n: i32): void {
  const end = <usize>n << alignof<T>();
  const w = sizeof<T>() << 1;
  let i: usize = 0;
  if (sizeof<T>() == 4) for (; i + 16 <= end; i += 16) v128.store(g + i, f32x4.sub(v128.load(g + i), v128.load(dy + i)));
  for (; i + w <= end; i += w) vst<T>(g + i, f64x2.sub(vld<T>(g + i), vld<T>(dy + i)));
  for (; i < end; i += sizeof<T>()) st<T>(g + i, ld<T>(g + i) - ld<T>(dy + i));
}
