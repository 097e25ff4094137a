/**
 * The matrix products of the matmul, batch_matmul and conv2d kernels for an arena of T: float64
 * runs ./matmul (the register-tiled f64x2 kernels), float32 runs ./matmul32 (f32x4: twice the
 * lanes, half the bytes; its sums are float32, as the float32 contract allows for products).
 * Same arguments either way (strides in elements, addresses of T data).
 */
import { fusable, gemm, gemmNT, matvec, outerAcc, rowsAcc } from './matmul';
import { gemm32, gemmNT32, matvec32, outerAcc32, rowsAcc32 } from './matmul32';

// @ts-ignore: decorator
@inline export function gemmOf<T>(c: usize, ldc: i32, a: usize, ars: i32, acs: i32, b: usize, ldb: i32, M: i32, K: i32, N: i32, accumulate: bool, fused: bool): void {
  if (sizeof<T>() == 4) gemm32(c, ldc, a, ars, acs, b, ldb, M, K, N, accumulate, fused);
  else gemm(c, ldc, a, ars, acs, b, ldb, M, K, N, accumulate, fused);
}
// @ts-ignore: decorator
@inline export function matvecOf<T>(o: usize, a: usize, b: usize, m: i32, k: i32, fused: bool): void {
  if (sizeof<T>() == 4) matvec32(o, a, b, m, k, fused);
  else matvec(o, a, b, m, k, fused);
}
// @ts-ignore: decorator
@inline export function outerAccOf<T>(ga: usize, dc: usize, b: usize, m: i32, k: i32): void {
  if (sizeof<T>() == 4) outerAcc32(ga, dc, b, m, k);
  else outerAcc(ga, dc, b, m, k);
}
// @ts-ignore: decorator
@inline export function rowsAccOf<T>(gb: usize, a: usize, dc: usize, m: i32, k: i32): void {
  if (sizeof<T>() == 4) rowsAcc32(gb, a, dc, m, k);
  else rowsAcc(gb, a, dc, m, k);
}
// @ts-ignore: decorator
@inline export function gemmNTOf<T>(ga: usize, dc: usize, b: usize, m: i32, k: i32, n: i32): void {
  if (sizeof<T>() == 4) gemmNT32(ga, dc, b, m, k, n);
  else gemmNT(ga, dc, b, m, k, n);
}

/** the largest finite |x_i| over n float32 elements (NaN and +-Inf skipped), as ./matmul's maxFiniteAbs: four chains of pmax */
function maxFiniteAbs32(x: usize, n: i32): f64 {
  const big = f32x4.splat(3.4028234663852886e38);
  const zero = f32x4.splat(0);
  let m0 = zero, m1 = zero, m2 = zero, m3 = zero;
  const end = x + (<usize>n << 2);
  let p = x;
  for (; p + 64 <= end; p += 64) {
    const v0 = f32x4.abs(v128.load(p)), v1 = f32x4.abs(v128.load(p, 16));
    const v2 = f32x4.abs(v128.load(p, 32)), v3 = f32x4.abs(v128.load(p, 48));
    // v <= big is false for NaN and +Inf: those lanes become 0
    m0 = f32x4.pmax(m0, v128.and(v0, f32x4.le(v0, big)));
    m1 = f32x4.pmax(m1, v128.and(v1, f32x4.le(v1, big)));
    m2 = f32x4.pmax(m2, v128.and(v2, f32x4.le(v2, big)));
    m3 = f32x4.pmax(m3, v128.and(v3, f32x4.le(v3, big)));
  }
  const m = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
  let r = <f64>max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
  for (; p < end; p += 4) {
    const v = abs(<f64>load<f32>(p));
    if (v <= 3.4028234663852886e38 && v > r) r = v;
  }
  return r;
}

/**
 * May the forward product fuse its multiply-adds (./matmul's fusable, for T)? float32 sums
 * overflow at float32's max, so the bound is max|A| max|B| k <= FLT_MAX / 2.
 */
export function fusableOf<T>(a: usize, b: usize, m: i32, k: i32, n: i32): bool {
  if (sizeof<T>() == 8) return fusable(a, b, m, k, n);
  if (!ASC_FEATURE_RELAXED_SIMD) return false;
  const x = maxFiniteAbs32(a, m * k), y = maxFiniteAbs32(b, k * n);
  return x == 0 || y == 0 || x <= 1.7014117331926443e38 / <f64>k / y;
}
