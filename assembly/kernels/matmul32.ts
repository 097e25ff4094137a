/**
 * float32 matrix products: the entry points of ./matmul (gemm, matvec, outerAcc, rowsAcc, gemmNT)
 * over float32 data, same arguments and semantics (strides in elements, byte addresses).
 *
 * PLACEHOLDER (branch f32wasm): simple scalar loops that accumulate in f64 and round to float32
 * once on store (or on each accumulation into an existing float32 value), so float32 programs run
 * and are checked; the SIMD f32x4 kernels come from the gemm32 work and replace this file whole,
 * with these exact signatures. `fused` changes nothing here.
 */

// @ts-ignore: decorator
@inline function ld(p: usize, i: i64): f64 {
  return <f64>load<f32>(p + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function at(p: usize, i: i64): usize {
  return p + (<usize>i << 2);
}

/**
 * C[M, N] (= when !accumulate, else +=) A'[M, K] B[K, N], A'(r, t) at a + (r*ars + t*acs)*4,
 * B and C row-major with leading dimensions ldb and ldc (elements).
 */
export function gemm32(c: usize, ldc: i32, a: usize, ars: i32, acs: i32, b: usize, ldb: i32, M: i32, K: i32, N: i32, accumulate: bool, fused: bool): void {
  for (let r = 0; r < M; r++)
    for (let j = 0; j < N; j++) {
      let s: f64 = accumulate ? ld(c, <i64>r * ldc + j) : 0;
      for (let t = 0; t < K; t++) s += ld(a, <i64>r * ars + <i64>t * acs) * ld(b, <i64>t * ldb + j);
      store<f32>(at(c, <i64>r * ldc + j), <f32>s);
    }
}

/** out[i] = sum_t A[i, t] b[t] */
export function matvec32(o: usize, a: usize, b: usize, m: i32, k: i32, fused: bool): void {
  for (let i = 0; i < m; i++) {
    let s: f64 = 0;
    for (let t = 0; t < k; t++) s += ld(a, <i64>i * k + t) * ld(b, t);
    store<f32>(at(o, i), <f32>s);
  }
}

/** dA[i, t] += dc[i] b[t] (the outer product, n = 1) */
export function outerAcc32(ga: usize, dc: usize, b: usize, m: i32, k: i32): void {
  for (let i = 0; i < m; i++) {
    const d = ld(dc, i);
    for (let t = 0; t < k; t++) {
      const q = at(ga, <i64>i * k + t);
      store<f32>(q, <f32>(<f64>load<f32>(q) + d * ld(b, t)));
    }
  }
}

/** db[t] += sum_i A[i, t] dc[i] (n = 1) */
export function rowsAcc32(gb: usize, a: usize, dc: usize, m: i32, k: i32): void {
  for (let t = 0; t < k; t++) {
    let s: f64 = ld(gb, t);
    for (let i = 0; i < m; i++) s += ld(a, <i64>i * k + t) * ld(dc, i);
    store<f32>(at(gb, t), <f32>s);
  }
}

/** dA[i, t] += sum_j dC[i, j] B[t, j] for dC [m, n] and B [k, n] */
export function gemmNT32(ga: usize, dc: usize, b: usize, m: i32, k: i32, n: i32): void {
  for (let i = 0; i < m; i++)
    for (let t = 0; t < k; t++) {
      let s: f64 = ld(ga, <i64>i * k + t);
      for (let j = 0; j < n; j++) s += ld(dc, <i64>i * n + j) * ld(b, <i64>t * n + j);
      store<f32>(at(ga, <i64>i * k + t), <f32>s);
    }
}
