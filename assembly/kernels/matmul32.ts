/**
 * float32 matrix products: the entry points of ./matmul (gemm, matvec, outerAcc, rowsAcc, gemmNT)
 * over float32 data, same arguments and semantics (strides in elements, byte addresses).
 *
 * STAND-IN (branch f32wasm) for the tuned kernels of the gemm32 work, which replace this file
 * whole with these exact signatures: straightforward f32x4 loops without packing or cache
 * blocking, so that float32 programs run at a reasonable speed meanwhile. Sums accumulate in
 * float32 (as the float32 contract allows for products: src/api/dtype.ts), four lanes at a time.
 */

const ZERO = f32x4.splat(0);

/**
 * acc + x y, multiply then add. `fused` is ignored here: f32x4.relaxed_madd made these untiled
 * loops slower, not faster (W3 float32 reverse 828 µs fused against 676 µs separate, fastest of
 * 300 calls each, Node 20 with --experimental-wasm-relaxed-simd, load 11).
 */
// @ts-ignore: decorator
@inline function madd(acc: v128, x: v128, y: v128, fused: bool): v128 {
  return f32x4.add(acc, f32x4.mul(x, y));
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/**
 * C[M, N] (= when !accumulate, else +=) A'[M, K] B[K, N], A'(r, t) at a + (r*ars + t*acs)*4,
 * B and C row-major with leading dimensions ldb and ldc (elements). Tiles of 4 rows by 8 columns
 * in eight f32x4 accumulators, then 1 row by 8, 4 and 1 columns.
 */
export function gemm32(c: usize, ldc: i32, a: usize, ars: i32, acs: i32, b: usize, ldb: i32, M: i32, K: i32, N: i32, accumulate: bool, fused: bool): void {
  if (fused) gemmWith(c, ldc, a, ars, acs, b, ldb, M, K, N, accumulate, true);
  else gemmWith(c, ldc, a, ars, acs, b, ldb, M, K, N, accumulate, false);
}

// @ts-ignore: decorator
@inline function gemmWith(c: usize, ldc: i32, a: usize, ars: i32, acs: i32, b: usize, ldb: i32, M: i32, K: i32, N: i32, accumulate: bool, fused: bool): void {
  const ldc4 = <usize>ldc << 2, ars4 = <usize>ars << 2, acs4 = <usize>acs << 2, ldb4 = <usize>ldb << 2;
  const M4 = M & ~3, N8 = N & ~7;
  for (let j = 0; j < N8; j += 8) {
    const bj = b + (<usize>j << 2);
    for (let r = 0; r < M4; r += 4) {
      const cr = c + <usize>r * ldc4 + (<usize>j << 2);
      let c00 = ZERO, c01 = ZERO, c10 = ZERO, c11 = ZERO, c20 = ZERO, c21 = ZERO, c30 = ZERO, c31 = ZERO;
      if (accumulate) {
        c00 = v128.load(cr); c01 = v128.load(cr, 16);
        c10 = v128.load(cr + ldc4); c11 = v128.load(cr + ldc4, 16);
        c20 = v128.load(cr + 2 * ldc4); c21 = v128.load(cr + 2 * ldc4, 16);
        c30 = v128.load(cr + 3 * ldc4); c31 = v128.load(cr + 3 * ldc4, 16);
      }
      let pa = a + <usize>r * ars4, pb = bj;
      for (let t = 0; t < K; t++) {
        const b0 = v128.load(pb), b1 = v128.load(pb, 16);
        let x = v128.load32_splat(pa);
        c00 = madd(c00, x, b0, fused); c01 = madd(c01, x, b1, fused);
        x = v128.load32_splat(pa + ars4);
        c10 = madd(c10, x, b0, fused); c11 = madd(c11, x, b1, fused);
        x = v128.load32_splat(pa + 2 * ars4);
        c20 = madd(c20, x, b0, fused); c21 = madd(c21, x, b1, fused);
        x = v128.load32_splat(pa + 3 * ars4);
        c30 = madd(c30, x, b0, fused); c31 = madd(c31, x, b1, fused);
        pa += acs4;
        pb += ldb4;
      }
      v128.store(cr, c00); v128.store(cr, c01, 16);
      v128.store(cr + ldc4, c10); v128.store(cr + ldc4, c11, 16);
      v128.store(cr + 2 * ldc4, c20); v128.store(cr + 2 * ldc4, c21, 16);
      v128.store(cr + 3 * ldc4, c30); v128.store(cr + 3 * ldc4, c31, 16);
    }
    for (let r = M4; r < M; r++) {
      const cr = c + <usize>r * ldc4 + (<usize>j << 2);
      let c0 = accumulate ? v128.load(cr) : ZERO, c1 = accumulate ? v128.load(cr, 16) : ZERO;
      let pa = a + <usize>r * ars4, pb = bj;
      for (let t = 0; t < K; t++) {
        const x = v128.load32_splat(pa);
        c0 = madd(c0, x, v128.load(pb), fused); c1 = madd(c1, x, v128.load(pb, 16), fused);
        pa += acs4;
        pb += ldb4;
      }
      v128.store(cr, c0); v128.store(cr, c1, 16);
    }
  }
  let j = N8;
  for (; j + 4 <= N; j += 4) {
    for (let r = 0; r < M; r++) {
      const cr = c + <usize>r * ldc4 + (<usize>j << 2);
      let c0 = accumulate ? v128.load(cr) : ZERO;
      let pa = a + <usize>r * ars4, pb = b + (<usize>j << 2);
      for (let t = 0; t < K; t++) {
        c0 = madd(c0, v128.load32_splat(pa), v128.load(pb), fused);
        pa += acs4;
        pb += ldb4;
      }
      v128.store(cr, c0);
    }
  }
  for (; j < N; j++) {
    for (let r = 0; r < M; r++) {
      const cr = c + <usize>r * ldc4 + (<usize>j << 2);
      let s: f32 = accumulate ? load<f32>(cr) : 0;
      let pa = a + <usize>r * ars4, pb = b + (<usize>j << 2);
      for (let t = 0; t < K; t++) {
        s += load<f32>(pa) * load<f32>(pb);
        pa += acs4;
        pb += ldb4;
      }
      store<f32>(cr, s);
    }
  }
}

/** the dot product of n float32s at x and y, four lanes at a time */
// @ts-ignore: decorator
@inline function dot(x: usize, y: usize, n: i32, fused: bool): f32 {
  const end = <usize>n << 2;
  let s0 = ZERO, s1 = ZERO;
  let t: usize = 0;
  for (; t + 32 <= end; t += 32) {
    s0 = madd(s0, v128.load(x + t), v128.load(y + t), fused);
    s1 = madd(s1, v128.load(x + t, 16), v128.load(y + t, 16), fused);
  }
  for (; t + 16 <= end; t += 16) s0 = madd(s0, v128.load(x + t), v128.load(y + t), fused);
  let s = hsum(f32x4.add(s0, s1));
  for (; t < end; t += 4) s += load<f32>(x + t) * load<f32>(y + t);
  return s;
}

/** out[i] = sum_t A[i, t] b[t] */
export function matvec32(o: usize, a: usize, b: usize, m: i32, k: i32, fused: bool): void {
  const row = <usize>k << 2;
  for (let i = 0; i < m; i++) store<f32>(o + (<usize>i << 2), dot(a + <usize>i * row, b, k, fused));
}

/** y[t] += d x[t] over n float32s */
// @ts-ignore: decorator
@inline function axpy(y: usize, d: f32, x: usize, n: i32): void {
  const end = <usize>n << 2;
  const dv = f32x4.splat(d);
  let t: usize = 0;
  for (; t + 16 <= end; t += 16) v128.store(y + t, madd(v128.load(y + t), dv, v128.load(x + t), true));
  for (; t < end; t += 4) store<f32>(y + t, load<f32>(y + t) + d * load<f32>(x + t));
}

/** dA[i, t] += dc[i] b[t] (the outer product, n = 1) */
export function outerAcc32(ga: usize, dc: usize, b: usize, m: i32, k: i32): void {
  const row = <usize>k << 2;
  for (let i = 0; i < m; i++) axpy(ga + <usize>i * row, load<f32>(dc + (<usize>i << 2)), b, k);
}

/** db[t] += sum_i A[i, t] dc[i] (n = 1): the rows of A scaled and added */
export function rowsAcc32(gb: usize, a: usize, dc: usize, m: i32, k: i32): void {
  const row = <usize>k << 2;
  for (let i = 0; i < m; i++) axpy(gb, load<f32>(dc + (<usize>i << 2)), a + <usize>i * row, k);
}

/** dA[i, t] += sum_j dC[i, j] B[t, j] for dC [m, n] and B [k, n]: dot products of rows */
export function gemmNT32(ga: usize, dc: usize, b: usize, m: i32, k: i32, n: i32): void {
  const rowC = <usize>n << 2, rowA = <usize>k << 2;
  for (let i = 0; i < m; i++) {
    const ci = dc + <usize>i * rowC, gi = ga + <usize>i * rowA;
    for (let t = 0; t < k; t++) {
      const g = gi + (<usize>t << 2);
      store<f32>(g, load<f32>(g) + dot(ci, b + <usize>t * rowC, n, true));
    }
  }
}
