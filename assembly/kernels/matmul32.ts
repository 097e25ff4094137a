/**
 * The float32 matrix products: gemm32, matvec32, outerAcc32, rowsAcc32 and gemmNT32 have the
 * semantics of gemm, matvec, outerAcc, rowsAcc and gemmNT in matmul.ts (read its comments), on
 * float32 data (byte addresses, strides in elements), accumulating in float32 lanes as the float32
 * contract allows (src/api/dtype.ts): each output is a float32 sum in a fixed order that depends
 * on the shapes only, so a product computed twice gives the same bits (finite differences need
 * that), but not the js reference's bits (it sums in float64 and rounds once).
 *
 * gemm32 packs as gemm does (4-row tiles of A, panels of B, blocks of KC steps), with f32x4 lanes:
 * a 4-row x 8-column tile of C lives in eight f32x4 accumulators, the same registers as gemm's
 * 4x4 f64 tile (8 accumulators, two vectors of B, one broadcast of A), at twice the FLOPs a step.
 * A panel of B is 8 columns (32 bytes a step, as gemm's 4-column f64 panel). Edges are padded
 * rather than given their own kernels: the last tile of rows packs zero rows, the last panel zero
 * columns, and a tile that does not fit C is computed in a 4x8 scratch tile and copied out, so
 * every shape runs the one packed kernel (padding a 1-row product costs what a 1-row kernel
 * costs: either waits on the FMA latency with 2 chains, or issues 4x the FMAs with 8).
 *
 * Fused: f32x4.relaxed_madd in the relaxed-SIMD module (matmul.ts's Fused, for float32 lanes).
 *
 * Measured on AMD Zen 5, Node 20 (bench/gemm-wasm.ts, load 15 on 2 cores): the f32x4 FMA peak on
 * registers alone is 60 GFLOP/s (2 FMAs a cycle, 4 lanes); W3's forward 64x784x128 and dW
 * 784x64x128 run at 50-55 GFLOP/s (best calls 52-58), 2.0-2.1x the f64 kernels. Unfused and fused
 * run at the same speed here (Zen 5 adds on pipes of their own). Larger tiles spill in V8, whose
 * scheduler hoists every load of an iteration before its FMAs: TurboFan gives the 4x8 loop 14 of
 * the 16 xmm registers (8 accumulators, 2 of B, 4 broadcasts); 5x8 ran at 23 GFLOP/s, 6x8 at 27
 * and the 4x8 loop unrolled twice at 28, against 52 for 4x8 (the kernel alone, in L1).
 *
 * Tried again against the module's measured peak (kernels/peak.ts: f32x4 61-63 GFLOP/s; Node 20,
 * load 1.2-1.5): a 2x16 tile (8 accumulators, 4 vectors of B and 2 broadcasts of A a step) ran
 * the kernel alone in L1 at 59-60 against 4x8's 56-58, but W3's forward and dW products at the
 * same 51-53 as 4x8, and so did KC = 400 and 800, reading A's rows in place instead of packing
 * them (2 sequential streams), and packing B once for every block of rows (dW runs 13 of them).
 * With the packing calls removed (stale buffers, timing only) the products ran at 56-58: packing
 * and what it does to the caches cost the ~7%, not the copies' instructions. Reverted to 4x8.
 */

const KC = 256;
const MC = 64;
const ZERO = f32x4.splat(0);
/** MC rows of A by KC steps, packed as 4-row tiles: tile g, step t at APACK32 + (g KC + t) 16 */
const APACK32 = memory.data(MC * KC * 4, 16);
/** KC rows of an 8-column panel of B, packed contiguously (32 bytes a row) */
const BPACK32 = memory.data(KC * 32, 16);
/** a 4x8 tile of C at the edges (rows 32 bytes apart) */
const CEDGE32 = memory.data(4 * 32, 16);

/** acc + x y, rounded twice (multiply, then add) */
@final @unmanaged export class Separate32 {
  // @ts-ignore: decorator
  @inline madd(acc: v128, x: v128, y: v128): v128 {
    return f32x4.add(acc, f32x4.mul(x, y));
  }
}

/** acc + x y, fused (rounded once) where the engine has FMA and the module relaxed SIMD */
@final @unmanaged export class Fused32 {
  // @ts-ignore: decorator
  @inline madd(acc: v128, x: v128, y: v128): v128 {
    if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(x, y, acc);
    return f32x4.add(acc, f32x4.mul(x, y));
  }
}

// @ts-ignore: decorator
@inline function fma4(acc: v128, x: v128, y: v128): v128 {
  return changetype<Fused32>(0).madd(acc, x, y);
}

/** Copies B[0..kk, 0..cols] (rows ldb4 bytes apart, cols <= 8) into BPACK32, zero beyond cols. */
function packB(b: usize, ldb4: usize, kk: i32, cols: i32): void {
  const end = BPACK32 + (<usize>kk << 5);
  if (cols == 8) {
    for (let p = BPACK32; p < end; p += 32) {
      v128.store(p, v128.load(b));
      v128.store(p, v128.load(b, 16), 16);
      b += ldb4;
    }
    return;
  }
  for (let p = BPACK32; p < end; p += 32) {
    v128.store(p, ZERO);
    v128.store(p, ZERO, 16);
    for (let j = 0; j < cols; j++) store<f32>(p + (<usize>j << 2), load<f32>(b + (<usize>j << 2)));
    b += ldb4;
  }
}

/** Copies A'(0..rows, 0..kk) into APACK32 as 4-row tiles of kk steps, the last tile padded with zero rows. */
function packA(a: usize, ars4: usize, acs4: usize, rows: i32, kk: i32): void {
  const tile = <usize>kk << 4;
  let p = APACK32;
  const q1 = ars4, q2 = ars4 << 1, q3 = q2 + ars4;
  let g = 0;
  for (; g + 4 <= rows; g += 4) {
    const end = p + tile;
    let q = a + <usize>g * ars4;
    if (ars4 == 4) {
      // A read by columns: the tile's 4 values of a step are adjacent
      for (; p < end; p += 16) {
        v128.store(p, v128.load(q));
        q += acs4;
      }
    } else if (acs4 == 4) {
      // A read by rows: 4 steps of the 4 rows at a time, transposed in registers
      for (; p + 64 <= end; p += 64) {
        const r0 = v128.load(q), r1 = v128.load(q + q1), r2 = v128.load(q + q2), r3 = v128.load(q + q3);
        const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
        const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
        v128.store(p, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
        v128.store(p, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7), 16);
        v128.store(p, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5), 32);
        v128.store(p, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7), 48);
        q += 16;
      }
      for (; p < end; p += 16) {
        store<f32>(p, load<f32>(q));
        store<f32>(p, load<f32>(q + q1), 4);
        store<f32>(p, load<f32>(q + q2), 8);
        store<f32>(p, load<f32>(q + q3), 12);
        q += 4;
      }
    } else {
      for (; p < end; p += 16) {
        store<f32>(p, load<f32>(q));
        store<f32>(p, load<f32>(q + q1), 4);
        store<f32>(p, load<f32>(q + q2), 8);
        store<f32>(p, load<f32>(q + q3), 12);
        q += acs4;
      }
    }
  }
  if (g < rows) {
    const left = rows - g;
    const end = p + tile;
    let q = a + <usize>g * ars4;
    for (; p < end; p += 16) {
      v128.store(p, ZERO);
      store<f32>(p, load<f32>(q));
      if (left > 1) store<f32>(p, load<f32>(q + q1), 4);
      if (left > 2) store<f32>(p, load<f32>(q + q2), 8);
      q += acs4;
    }
  }
}

/** A 4x8 tile of C (rows ldc bytes apart) from packed A (4 values a step) and packed B (8 values a step). */
// @ts-ignore: decorator
@inline function tilePacked<M>(c: usize, ldc: usize, a: usize, b: usize, kk: i32, keep: bool): void {
  let c00 = ZERO, c01 = ZERO, c10 = ZERO, c11 = ZERO, c20 = ZERO, c21 = ZERO, c30 = ZERO, c31 = ZERO;
  if (keep) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + ldc); c11 = v128.load(c + ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16);
    c30 = v128.load(c + 3 * ldc); c31 = v128.load(c + 3 * ldc, 16);
  }
  let pa = a, pb = b;
  const end = a + (<usize>kk << 4);
  for (; pa < end; pa += 16) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = changetype<M>(0).madd(c00, x, b0); c01 = changetype<M>(0).madd(c01, x, b1);
    x = v128.load32_splat(pa, 4);
    c10 = changetype<M>(0).madd(c10, x, b0); c11 = changetype<M>(0).madd(c11, x, b1);
    x = v128.load32_splat(pa, 8);
    c20 = changetype<M>(0).madd(c20, x, b0); c21 = changetype<M>(0).madd(c21, x, b1);
    x = v128.load32_splat(pa, 12);
    c30 = changetype<M>(0).madd(c30, x, b0); c31 = changetype<M>(0).madd(c31, x, b1);
    pb += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
}

/** An edge tile: C's rows x cols corner (rows <= 4, cols <= 8) through CEDGE32. */
// @ts-ignore: decorator
@inline function tileEdge<M>(c: usize, ldc: usize, rows: i32, cols: i32, a: usize, b: usize, kk: i32, keep: bool): void {
  const cb = <usize>cols << 2;
  if (keep) {
    for (let r = 0; r < 4; r++) {
      const e = CEDGE32 + (<usize>r << 5);
      v128.store(e, ZERO);
      v128.store(e, ZERO, 16);
      if (r < rows) memory.copy(e, c + <usize>r * ldc, cb);
    }
  }
  tilePacked<M>(CEDGE32, 32, a, b, kk, keep);
  for (let r = 0; r < rows; r++) memory.copy(c + <usize>r * ldc, CEDGE32 + (<usize>r << 5), cb);
}

/**
 * C[M, N] (= when !accumulate, else +=) A'[M, K] B[K, N] in float32, where A'(r, t) sits at
 * a + (r*ars + t*acs)*4 (ars = K, acs = 1 reads A; ars = 1, acs = M' reads a transpose), B and C
 * are row-major with leading dimensions ldb and ldc (elements). fused: the multiply-adds may be
 * fused. Each C element is the float32 sum of its products in the order t = 0, 1, ..., K-1
 * (starting from C when accumulating, else from 0), whatever the blocking.
 */
export function gemm32(c: usize, ldc: i32, a: usize, ars: i32, acs: i32, b: usize, ldb: i32, M: i32, K: i32, N: i32, accumulate: bool, fused: bool): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) for (let r = 0; r < M; r++) memory.fill(c + (<usize>r * <usize>ldc << 2), 0, <usize>N << 2);
    return;
  }
  if (fused) gemm32With<Fused32>(c, ldc, a, ars, acs, b, ldb, M, K, N, accumulate);
  else gemm32With<Separate32>(c, ldc, a, ars, acs, b, ldb, M, K, N, accumulate);
}

// @ts-ignore: decorator
@inline function gemm32With<T>(c: usize, ldc: i32, a: usize, ars: i32, acs: i32, b: usize, ldb: i32, M: i32, K: i32, N: i32, accumulate: bool): void {
  const ldc4 = <usize>ldc << 2, ars4 = <usize>ars << 2, acs4 = <usize>acs << 2, ldb4 = <usize>ldb << 2;
  // K in equal blocks of at most KC steps (784 = 4 x 196, not 3 x 256 + 16)
  const nk = (K + KC - 1) / KC;
  const kc = (K + nk - 1) / nk;
  for (let t0 = 0; t0 < K; t0 += kc) {
    const kk = min(kc, K - t0);
    const keep = accumulate || t0 > 0;
    const aK = a + <usize>t0 * acs4;
    const bK = b + <usize>t0 * ldb4;
    const tile = <usize>kk << 4;
    for (let r0 = 0; r0 < M; r0 += MC) {
      const mr = min(MC, M - r0);
      const full = mr & ~3;
      packA(aK + <usize>r0 * ars4, ars4, acs4, mr, kk);
      for (let j = 0; j < N; j += 8) {
        const cols = min(8, N - j);
        packB(bK + (<usize>j << 2), ldb4, kk, cols);
        let cr = c + <usize>r0 * ldc4 + (<usize>j << 2), pa = APACK32;
        if (cols == 8) {
          for (let r = 0; r < full; r += 4) {
            tilePacked<T>(cr, ldc4, pa, BPACK32, kk, keep);
            cr += ldc4 << 2;
            pa += tile;
          }
        } else {
          for (let r = 0; r < full; r += 4) {
            tileEdge<T>(cr, ldc4, 4, cols, pa, BPACK32, kk, keep);
            cr += ldc4 << 2;
            pa += tile;
          }
        }
        if (full < mr) tileEdge<T>(cr, ldc4, mr - full, cols, pa, BPACK32, kk, keep);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function hsum4(v: v128): f32 {
  // (v0 + v2) + (v1 + v3)
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** [hsum(p), hsum(q), hsum(r), hsum(s)], each as hsum4 adds (the same bits) */
// @ts-ignore: decorator
@inline function hsum4x4(p: v128, q: v128, r: v128, s: v128): v128 {
  // lanes (p0 + p2, q0 + q2, p1 + p3, q1 + q3)
  const pq = f32x4.add(v128.shuffle<f32>(p, q, 0, 4, 1, 5), v128.shuffle<f32>(p, q, 2, 6, 3, 7));
  const rs = f32x4.add(v128.shuffle<f32>(r, s, 0, 4, 1, 5), v128.shuffle<f32>(r, s, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(pq, rs, 0, 1, 4, 5), v128.shuffle<f32>(pq, rs, 2, 3, 6, 7));
}

/**
 * out[i] = sum_t A[i, t] b[t] (A [m, k] row-major, float32): eight rows at a time, each row in
 * one f32x4 accumulator (lane l sums the steps t = l mod 4 in order), reduced as hsum4 does, then
 * the last k mod 4 steps in order.
 */
export function matvec32(o: usize, a: usize, b: usize, m: i32, k: i32, fused: bool): void {
  if (fused) matvec32With<Fused32>(o, a, b, m, k);
  else matvec32With<Separate32>(o, a, b, m, k);
}

// @ts-ignore: decorator
@inline function matvec32With<M>(o: usize, a: usize, b: usize, m: i32, k: i32): void {
  const row = <usize>k << 2;
  const end = row & ~(<usize>15);
  let i = 0;
  for (; i + 8 <= m; i += 8) {
    const r0 = a + <usize>i * row;
    const r1 = r0 + row, r2 = r1 + row, r3 = r2 + row, r4 = r3 + row, r5 = r4 + row, r6 = r5 + row, r7 = r6 + row;
    let s0 = ZERO, s1 = ZERO, s2 = ZERO, s3 = ZERO, s4 = ZERO, s5 = ZERO, s6 = ZERO, s7 = ZERO;
    for (let t: usize = 0; t < end; t += 16) {
      const y = v128.load(b + t);
      s0 = changetype<M>(0).madd(s0, v128.load(r0 + t), y);
      s1 = changetype<M>(0).madd(s1, v128.load(r1 + t), y);
      s2 = changetype<M>(0).madd(s2, v128.load(r2 + t), y);
      s3 = changetype<M>(0).madd(s3, v128.load(r3 + t), y);
      s4 = changetype<M>(0).madd(s4, v128.load(r4 + t), y);
      s5 = changetype<M>(0).madd(s5, v128.load(r5 + t), y);
      s6 = changetype<M>(0).madd(s6, v128.load(r6 + t), y);
      s7 = changetype<M>(0).madd(s7, v128.load(r7 + t), y);
    }
    let lo = hsum4x4(s0, s1, s2, s3), hi = hsum4x4(s4, s5, s6, s7);
    for (let t = end; t < row; t += 4) {
      const y = v128.load32_splat(b + t);
      lo = changetype<M>(0).madd(lo, v128.load32_lane(r3 + t, v128.load32_lane(r2 + t, v128.load32_lane(r1 + t, v128.load32_zero(r0 + t), 1), 2), 3), y);
      hi = changetype<M>(0).madd(hi, v128.load32_lane(r7 + t, v128.load32_lane(r6 + t, v128.load32_lane(r5 + t, v128.load32_zero(r4 + t), 1), 2), 3), y);
    }
    const oi = o + (<usize>i << 2);
    v128.store(oi, lo);
    v128.store(oi, hi, 16);
  }
  for (; i < m; i++) {
    const ri = a + <usize>i * row;
    let s = ZERO;
    for (let t: usize = 0; t < end; t += 16) s = changetype<M>(0).madd(s, v128.load(ri + t), v128.load(b + t));
    let r = f32x4.replace_lane(ZERO, 0, hsum4(s));
    for (let t = end; t < row; t += 4) r = changetype<M>(0).madd(r, v128.load32_zero(ri + t), v128.load32_zero(b + t));
    store<f32>(o + (<usize>i << 2), f32x4.extract_lane(r, 0));
  }
}

/** dA[i, t] += dc[i] b[t] (the outer product, n = 1; float32) */
export function outerAcc32(ga: usize, dc: usize, b: usize, m: i32, k: i32): void {
  const row = <usize>k << 2;
  const end = row & ~(<usize>15);
  for (let i = 0; i < m; i++) {
    const dv = v128.load32_splat(dc + (<usize>i << 2));
    const gi = ga + <usize>i * row;
    let t: usize = 0;
    for (; t < end; t += 16) v128.store(gi + t, fma4(v128.load(gi + t), dv, v128.load(b + t)));
    for (; t < row; t += 4) v128.store32_lane(gi + t, fma4(v128.load32_zero(gi + t), dv, v128.load32_zero(b + t)), 0);
  }
}

/** db[t] += sum_i A[i, t] dc[i] (n = 1; float32): rows scaled and added, four rows per pass over db */
export function rowsAcc32(gb: usize, a: usize, dc: usize, m: i32, k: i32): void {
  const row = <usize>k << 2;
  const end = row & ~(<usize>15);
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const r0 = a + <usize>i * row, r1 = r0 + row, r2 = r1 + row, r3 = r2 + row;
    const d = dc + (<usize>i << 2);
    const d0 = v128.load32_splat(d), d1 = v128.load32_splat(d, 4), d2 = v128.load32_splat(d, 8), d3 = v128.load32_splat(d, 12);
    let t: usize = 0;
    for (; t < end; t += 16) {
      let g = v128.load(gb + t);
      g = fma4(g, v128.load(r0 + t), d0);
      g = fma4(g, v128.load(r1 + t), d1);
      g = fma4(g, v128.load(r2 + t), d2);
      g = fma4(g, v128.load(r3 + t), d3);
      v128.store(gb + t, g);
    }
    for (; t < row; t += 4) {
      let g = v128.load32_zero(gb + t);
      g = fma4(g, v128.load32_zero(r0 + t), d0);
      g = fma4(g, v128.load32_zero(r1 + t), d1);
      g = fma4(g, v128.load32_zero(r2 + t), d2);
      g = fma4(g, v128.load32_zero(r3 + t), d3);
      v128.store32_lane(gb + t, g, 0);
    }
  }
  for (; i < m; i++) {
    const ri = a + <usize>i * row;
    const dv = v128.load32_splat(dc + (<usize>i << 2));
    let t: usize = 0;
    for (; t < end; t += 16) v128.store(gb + t, fma4(v128.load(gb + t), v128.load(ri + t), dv));
    for (; t < row; t += 4) v128.store32_lane(gb + t, fma4(v128.load32_zero(gb + t), v128.load32_zero(ri + t), dv), 0);
  }
}

/**
 * dA[i, t] += sum_j dC[i, j] B[t, j] for dC [m, n] and B [k, n] (float32): dot products of rows,
 * a tile of 2 rows of dC by 4 rows of B in eight f32x4 accumulators, reduced to one f32x4 of 4
 * results per row of dC (hsum4x4); the last n mod 4 terms are added to it in order.
 */
export function gemmNT32(ga: usize, dc: usize, b: usize, m: i32, k: i32, n: i32): void {
  const rowC = <usize>n << 2; // a row of dC or B
  const rowA = <usize>k << 2; // a row of dA
  const jEnd = rowC & ~(<usize>15);
  for (let i = 0; i < m; i += 2) {
    const two = i + 1 < m;
    const c0 = dc + <usize>i * rowC;
    const c1 = two ? c0 + rowC : c0;
    const g0 = ga + <usize>i * rowA;
    const g1 = g0 + rowA;
    let t = 0;
    for (; t + 4 <= k; t += 4) {
      const b0 = b + <usize>t * rowC, b1 = b0 + rowC, b2 = b1 + rowC, b3 = b2 + rowC;
      let s00 = ZERO, s01 = ZERO, s02 = ZERO, s03 = ZERO, s10 = ZERO, s11 = ZERO, s12 = ZERO, s13 = ZERO;
      for (let j: usize = 0; j < jEnd; j += 16) {
        const x0 = v128.load(c0 + j), x1 = v128.load(c1 + j);
        let y = v128.load(b0 + j);
        s00 = fma4(s00, x0, y); s10 = fma4(s10, x1, y);
        y = v128.load(b1 + j);
        s01 = fma4(s01, x0, y); s11 = fma4(s11, x1, y);
        y = v128.load(b2 + j);
        s02 = fma4(s02, x0, y); s12 = fma4(s12, x1, y);
        y = v128.load(b3 + j);
        s03 = fma4(s03, x0, y); s13 = fma4(s13, x1, y);
      }
      let r0 = hsum4x4(s00, s01, s02, s03), r1 = hsum4x4(s10, s11, s12, s13);
      for (let j = jEnd; j < rowC; j += 4) {
        const y = v128.load32_lane(b3 + j, v128.load32_lane(b2 + j, v128.load32_lane(b1 + j, v128.load32_zero(b0 + j), 1), 2), 3);
        r0 = fma4(r0, v128.load32_splat(c0 + j), y);
        r1 = fma4(r1, v128.load32_splat(c1 + j), y);
      }
      const gt = <usize>t << 2;
      v128.store(g0 + gt, f32x4.add(v128.load(g0 + gt), r0));
      if (two) v128.store(g1 + gt, f32x4.add(v128.load(g1 + gt), r1));
    }
    for (; t < k; t++) {
      const bt = b + <usize>t * rowC;
      let s0 = ZERO, s1 = ZERO;
      for (let j: usize = 0; j < jEnd; j += 16) {
        const y = v128.load(bt + j);
        s0 = fma4(s0, v128.load(c0 + j), y);
        s1 = fma4(s1, v128.load(c1 + j), y);
      }
      let r = f32x4.replace_lane(f32x4.splat(hsum4(s0)), 1, hsum4(s1));
      for (let j = jEnd; j < rowC; j += 4) {
        r = fma4(r, v128.load32_lane(c1 + j, v128.load32_zero(c0 + j), 1), v128.load32_splat(bt + j));
      }
      const gt = <usize>t << 2;
      store<f32>(g0 + gt, load<f32>(g0 + gt) + f32x4.extract_lane(r, 0));
      if (two) store<f32>(g1 + gt, load<f32>(g1 + gt) + f32x4.extract_lane(r, 1));
    }
  }
}
