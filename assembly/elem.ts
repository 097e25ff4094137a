/**
 * The element type T of a program's arenas: f64 (float64 programs) or f32 (float32 programs).
 * Kernels are generic over T and compute in f64 either way: a float32 operand is widened on load
 * and the result rounded to float32 once, on store (the float32 contract, src/api/dtype.ts). For
 * T = f64 every helper is the plain load or store, so the float64 instantiation compiles to the
 * code it had before the kernels were generic.
 *
 * Vectors hold two f64 lanes either way: a float32 pair is loaded as 8 bytes and promoted, and
 * demoted and stored as 8 bytes, so an f64x2 loop walks 2 * sizeof<T>() bytes a trip.
 */

/** element i of an array of T at p, as f64 */
// @ts-ignore: decorator
@inline export function ld<T>(p: usize): f64 {
  return <f64>load<T>(p);
}

/** x rounded to T, stored at p */
// @ts-ignore: decorator
@inline export function st<T>(p: usize, x: f64): void {
  store<T>(p, <T>x);
}

/** the address of element i of an array of T at p */
// @ts-ignore: decorator
@inline export function el<T>(p: usize, i: i32): usize {
  return p + (<usize>i << alignof<T>());
}

/** bytes of n elements */
// @ts-ignore: decorator
@inline export function bytes<T>(n: i32): usize {
  return <usize>n << alignof<T>();
}

/** two consecutive elements at p as f64x2 */
// @ts-ignore: decorator
@inline export function vld<T>(p: usize): v128 {
  if (sizeof<T>() == 8) return v128.load(p);
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** the next two elements after vld<T>(p)'s (an immediate offset for f64, as before) */
// @ts-ignore: decorator
@inline export function vld1<T>(p: usize): v128 {
  if (sizeof<T>() == 8) return v128.load(p, 16);
  return f64x2.promote_low_f32x4(v128.load64_zero(p, 8));
}

/** one element at p in lane 0, lane 1 zero */
// @ts-ignore: decorator
@inline export function vld0<T>(p: usize): v128 {
  if (sizeof<T>() == 8) return v128.load64_zero(p);
  return f64x2.promote_low_f32x4(v128.load32_zero(p));
}

/** both lanes rounded to T, stored at p (two elements) */
// @ts-ignore: decorator
@inline export function vst<T>(p: usize, x: v128): void {
  if (sizeof<T>() == 8) v128.store(p, x);
  else v128.store64_lane(p, f32x4.demote_f64x2_zero(x), 0);
}

/** vst at the next two elements */
// @ts-ignore: decorator
@inline export function vst1<T>(p: usize, x: v128): void {
  if (sizeof<T>() == 8) v128.store(p, x, 16);
  else v128.store64_lane(p, f32x4.demote_f64x2_zero(x), 0, 8);
}

/** lane 0 rounded to T, stored at p (one element) */
// @ts-ignore: decorator
@inline export function vst0<T>(p: usize, x: v128): void {
  if (sizeof<T>() == 8) v128.store64_lane(p, x, 0);
  else v128.store32_lane(p, f32x4.demote_f64x2_zero(x), 0);
}
