/**
 * matmul forward and backward without materialising a transpose:
 *   forward   C = A B            (gemm; matvec when n = 1)
 *   backward  dA += dC B^T       (dot products of rows: gemmNT; an outer product when n = 1)
 *             dB += A^T dC       (gemm reading A by columns; a sum of scaled rows when n = 1)
 *
 * gemm is register-tiled: a 4-row x 4-column tile of C lives in eight f64x2 accumulators while
 * the loop runs over the inner dimension (V8 gives wasm 15 xmm registers: 8 accumulators, two
 * rows of B, one broadcast of A and one temporary fit). On the W3 shapes 4x4 measured fastest of
 * 4x4, 2x8, 3x6, 5x4 and 6x4. The inner dimension is cut into blocks of KC; within a block, MC
 * rows of A (as 4-row tiles, 4 values a step) and each 4-column panel of B (4 values a step) are
 * first copied into contiguous buffers, so the tile loop reads both operands sequentially at
 * constant offsets from one pointer each. Unpacked, a panel of B walked rows 1 KB apart (W3's
 * 128 columns), which map to 4 of L1's 64 sets: the panel did not stay in L1, and A^T dC (A read
 * by columns) ran at 19 GFLOP/s against 24 packed. Packing also leaves fewer address
 * computations in the loop, which V8 does not strength-reduce.
 *
 * Each kernel is instantiated twice: with Separate (multiply, then add: the reference's rounding)
 * and with Fused: f64x2.relaxed_madd in dist/tapegrad-relaxed.wasm (built with relaxed SIMD by
 * npm run build:wasm beside dist/tapegrad.wasm), a single rounding and one instruction instead of
 * two; multiply-then-add in the other module. Forward rules run Separate for finite differences
 * and Fused for value() and reverse() where fusable() allows (see interpreter.ts); backward rules
 * run Fused. Measured on AMD Zen 5 (Node 20 with --experimental-wasm-relaxed-simd), C[64,128] +=
 * A[64,256] B[256,128] in L2: the packed 4x4 tile at 25 GFLOP/s with Separate and 26 with Fused,
 * against an f64x2 FMA peak of 29-30 measured on registers alone (the 8 accumulators only just
 * cover the FMA latency of 4 cycles at 2 per cycle). A 5x4 tile (ten accumulators) ran at
 * 13 GFLOP/s: V8 spilled.
 *
 * The forward rules add the products of each output element in the order t = 0, 1, ..., k-1
 * starting from 0, exactly as the reference, so with Separate the values are bit-identical
 * (storing a partial sum between K blocks and loading it back is exact). The backward rules sum
 * in any order.
 */

const KC = 256;
const MC = 64;
const ZERO = f64x2.splat(0);
/** MC rows of A by KC steps, packed as 4-row tiles: tile g, step t at APACK + (g KC + t) 32 */
const APACK = memory.data(MC * KC * 8, 16);
/** KC rows of a 4-column panel of B, packed contiguously (32 bytes a row) */
const BPACK = memory.data(KC * 32, 16);

/** acc + x y, rounded twice (the reference's multiply-then-add) */
@final @unmanaged export class Separate {
  // @ts-ignore: decorator
  @inline madd(acc: v128, x: v128, y: v128): v128 {
    return f64x2.add(acc, f64x2.mul(x, y));
  }
}

/** acc + x y, fused (rounded once) where the engine has FMA and the module relaxed SIMD */
@final @unmanaged export class Fused {
  // @ts-ignore: decorator
  @inline madd(acc: v128, x: v128, y: v128): v128 {
    if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(x, y, acc);
    return f64x2.add(acc, f64x2.mul(x, y));
  }
}

// @ts-ignore: decorator
@inline function fma2(acc: v128, x: v128, y: v128): v128 {
  return changetype<Fused>(0).madd(acc, x, y);
}

/** Copies B[0..kk, 0..4] (rows ldb8 bytes apart) into BPACK. */
function packB(b: usize, ldb8: usize, kk: i32): void {
  const end = BPACK + (<usize>kk << 5);
  for (let p = BPACK; p < end; p += 32) {
    v128.store(p, v128.load(b));
    v128.store(p, v128.load(b, 16), 16);
    b += ldb8;
  }
}

/** Copies A'(0..rows, 0..kk) (rows a multiple of 4) into APACK, 4-row tiles of kk steps. */
function packA(a: usize, ars8: usize, acs8: usize, rows: i32, kk: i32): void {
  const tile = <usize>kk << 5;
  let p = APACK;
  for (let g = 0; g < rows; g += 4) {
    const end = p + tile;
    let q = a + <usize>g * ars8;
    if (ars8 == 8) {
      // A read by columns: the tile's 4 values of a step are adjacent
      for (; p < end; p += 32) {
        v128.store(p, v128.load(q));
        v128.store(p, v128.load(q, 16), 16);
        q += acs8;
      }
    } else {
      const q1 = ars8, q2 = ars8 << 1, q3 = q2 + ars8;
      for (; p < end; p += 32) {
        store<f64>(p, load<f64>(q));
        store<f64>(p, load<f64>(q + q1), 8);
        store<f64>(p, load<f64>(q + q2), 16);
        store<f64>(p, load<f64>(q + q3), 24);
        q += acs8;
      }
    }
  }
}

/** A 4x4 tile from packed A (4 values a step) and packed B (4 values a step). */
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
  const end = a + (<usize>kk << 5);
  for (; pa < end; pa += 32) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let x = v128.load64_splat(pa);
    c00 = changetype<M>(0).madd(c00, x, b0); c01 = changetype<M>(0).madd(c01, x, b1);
    x = v128.load64_splat(pa, 8);
    c10 = changetype<M>(0).madd(c10, x, b0); c11 = changetype<M>(0).madd(c11, x, b1);
    x = v128.load64_splat(pa, 16);
    c20 = changetype<M>(0).madd(c20, x, b0); c21 = changetype<M>(0).madd(c21, x, b1);
    x = v128.load64_splat(pa, 24);
    c30 = changetype<M>(0).madd(c30, x, b0); c31 = changetype<M>(0).madd(c31, x, b1);
    pb += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
}

/** One row by 4 columns. */
// @ts-ignore: decorator
@inline function tile1x4<M>(c: usize, a: usize, acs: usize, b: usize, ldb: usize, kk: i32, keep: bool): void {
  let c0 = keep ? v128.load(c) : ZERO, c1 = keep ? v128.load(c, 16) : ZERO;
  let pa = a, pb = b;
  for (let t = 0; t < kk; t++) {
    const x = v128.load64_splat(pa);
    c0 = changetype<M>(0).madd(c0, x, v128.load(pb)); c1 = changetype<M>(0).madd(c1, x, v128.load(pb, 16));
    pa += acs;
    pb += ldb;
  }
  v128.store(c, c0); v128.store(c, c1, 16);
}

/** 4 rows by 2 columns. */
// @ts-ignore: decorator
@inline function tile4x2<M>(c: usize, ldc: usize, a: usize, ars: usize, acs: usize, b: usize, ldb: usize, kk: i32, keep: bool): void {
  let c0 = keep ? v128.load(c) : ZERO, c1 = keep ? v128.load(c + ldc) : ZERO;
  let c2 = keep ? v128.load(c + 2 * ldc) : ZERO, c3 = keep ? v128.load(c + 3 * ldc) : ZERO;
  let pa = a, pb = b;
  for (let t = 0; t < kk; t++) {
    const b0 = v128.load(pb);
    c0 = changetype<M>(0).madd(c0, v128.load64_splat(pa), b0);
    c1 = changetype<M>(0).madd(c1, v128.load64_splat(pa + ars), b0);
    c2 = changetype<M>(0).madd(c2, v128.load64_splat(pa + 2 * ars), b0);
    c3 = changetype<M>(0).madd(c3, v128.load64_splat(pa + 3 * ars), b0);
    pa += acs;
    pb += ldb;
  }
  v128.store(c, c0); v128.store(c + ldc, c1); v128.store(c + 2 * ldc, c2); v128.store(c + 3 * ldc, c3);
}

/** One row by 2 columns. */
// @ts-ignore: decorator
@inline function tile1x2<M>(c: usize, a: usize, acs: usize, b: usize, ldb: usize, kk: i32, keep: bool): void {
  let c0 = keep ? v128.load(c) : ZERO;
  let pa = a, pb = b;
  for (let t = 0; t < kk; t++) {
    c0 = changetype<M>(0).madd(c0, v128.load64_splat(pa), v128.load(pb));
    pa += acs;
    pb += ldb;
  }
  v128.store(c, c0);
}

/** One row by one column (the last column of an odd n). */
// @ts-ignore: decorator
@inline function tile1x1<M>(c: usize, a: usize, acs: usize, b: usize, ldb: usize, kk: i32, keep: bool): void {
  let s: f64 = keep ? load<f64>(c) : 0;
  let pa = a, pb = b;
  for (let t = 0; t < kk; t++) {
    s += load<f64>(pa) * load<f64>(pb);
    pa += acs;
    pb += ldb;
  }
  store<f64>(c, s);
}

/**
 * the largest finite |x_i| over n elements (NaN and +-Inf skipped): a lane that is not finite is
 * zeroed before the max (the max is >= 0 anyway), so each of the four chains waits on one pmax
 * only; with the select on the chain (one chain, then two) the scan of W3's operands took 60 µs
 * of the relaxed module's 300 µs forward product (float32; Zen 5, Node 20)
 */
function maxFiniteAbs(x: usize, n: i32): f64 {
  const big = f64x2.splat(1.7976931348623157e308);
  let m0 = ZERO, m1 = ZERO, m2 = ZERO, m3 = ZERO;
  const end = x + (<usize>n << 3);
  let p = x;
  for (; p + 64 <= end; p += 64) {
    const v0 = f64x2.abs(v128.load(p)), v1 = f64x2.abs(v128.load(p, 16));
    const v2 = f64x2.abs(v128.load(p, 32)), v3 = f64x2.abs(v128.load(p, 48));
    // v <= big is false for NaN and +Inf: those lanes become 0
    m0 = f64x2.pmax(m0, v128.and(v0, f64x2.le(v0, big)));
    m1 = f64x2.pmax(m1, v128.and(v1, f64x2.le(v1, big)));
    m2 = f64x2.pmax(m2, v128.and(v2, f64x2.le(v2, big)));
    m3 = f64x2.pmax(m3, v128.and(v3, f64x2.le(v3, big)));
  }
  const m = f64x2.pmax(f64x2.pmax(m0, m1), f64x2.pmax(m2, m3));
  let r = max(f64x2.extract_lane(m, 0), f64x2.extract_lane(m, 1));
  for (; p < end; p += 8) {
    const v = abs(load<f64>(p));
    if (v <= 1.7976931348623157e308 && v > r) r = v;
  }
  return r;
}

/**
 * May the forward product A[m, k] B[k, n] fuse its multiply-adds? Only where that changes nothing
 * but the last bits: a fused chain differs from multiply-then-add by more where a product
 * overflows (fma(b, d, +Inf) is +Inf where +Inf + b*d with b*d = -Inf is NaN; fma(1.5, MAX, -MAX)
 * is MAX/2 where 1.5*MAX - MAX is +Inf), so as native (k_fast.h): where
 * max|A| max|B| k <= MAX/2, checked in O(mk + kn) against the product's O(mkn). Always false in
 * the module without relaxed SIMD, where Fused is Separate anyway.
 */
export function fusable(a: usize, b: usize, m: i32, k: i32, n: i32): bool {
  if (!ASC_FEATURE_RELAXED_SIMD) return false;
  const x = maxFiniteAbs(a, m * k), y = maxFiniteAbs(b, k * n);
  return x == 0 || y == 0 || x <= 8.98846567431158e307 / <f64>k / y;
}

/**
 * C[M, N] (= when !accumulate, else +=) A'[M, K] B[K, N], where A'(r, t) sits at
 * a + (r*ars + t*acs)*8 (ars = K, acs = 1 reads A; ars = 1, acs = M' reads a transpose), B and C
 * are row-major with leading dimensions ldb and ldc (elements). fused: the multiply-adds may be
 * fused (forward rules outside finite differences, and backward rules).
 */
export function gemm(c: usize, ldc: i32, a: usize, ars: i32, acs: i32, b: usize, ldb: i32, M: i32, K: i32, N: i32, accumulate: bool, fused: bool): void {
  if (K == 0) {
    if (!accumulate) for (let r = 0; r < M; r++) memory.fill(c + (<usize>(r * ldc) << 3), 0, <usize>N << 3);
    return;
  }
  if (fused) gemmWith<Fused>(c, ldc, a, ars, acs, b, ldb, M, K, N, accumulate);
  else gemmWith<Separate>(c, ldc, a, ars, acs, b, ldb, M, K, N, accumulate);
}

// @ts-ignore: decorator
@inline function gemmWith<T>(c: usize, ldc: i32, a: usize, ars: i32, acs: i32, b: usize, ldb: i32, M: i32, K: i32, N: i32, accumulate: bool): void {
  const ldc8 = <usize>ldc << 3, ars8 = <usize>ars << 3, acs8 = <usize>acs << 3, ldb8 = <usize>ldb << 3;
  const M4 = M & ~3, N4 = N & ~3;
  for (let t0 = 0; t0 < K; t0 += KC) {
    const kk = min(KC, K - t0);
    const keep = accumulate || t0 > 0;
    const aK = a + <usize>t0 * acs8;
    const bK = b + <usize>t0 * ldb8;
    for (let r0 = 0; r0 < M4; r0 += MC) {
      const mr = min(MC, M4 - r0);
      packA(aK + <usize>r0 * ars8, ars8, acs8, mr, kk);
      const tile = <usize>kk << 5;
      for (let j = 0; j < N4; j += 4) {
        packB(bK + (<usize>j << 3), ldb8, kk);
        let cr = c + <usize>r0 * ldc8 + (<usize>j << 3), pa = APACK;
        for (let r = 0; r < mr; r += 4) {
          tilePacked<T>(cr, ldc8, pa, BPACK, kk, keep);
          cr += ldc8 << 2;
          pa += tile;
        }
      }
    }
    for (let j = 0; j < N4; j += 4) {
      const bj = bK + (<usize>j << 3);
      const cj = c + (<usize>j << 3);
      for (let r = M4; r < M; r++) tile1x4<T>(cj + <usize>r * ldc8, aK + <usize>r * ars8, acs8, bj, ldb8, kk, keep);
    }
    let j = N4;
    if (j + 2 <= N) {
      const bj = bK + (<usize>j << 3);
      const cj = c + (<usize>j << 3);
      let r = 0;
      for (; r + 4 <= M; r += 4) tile4x2<T>(cj + <usize>r * ldc8, ldc8, aK + <usize>r * ars8, ars8, acs8, bj, ldb8, kk, keep);
      for (; r < M; r++) tile1x2<T>(cj + <usize>r * ldc8, aK + <usize>r * ars8, acs8, bj, ldb8, kk, keep);
      j += 2;
    }
    if (j < N) {
      const bj = bK + (<usize>j << 3);
      const cj = c + (<usize>j << 3);
      for (let r = 0; r < M; r++) tile1x1<T>(cj + <usize>r * ldc8, aK + <usize>r * ars8, acs8, bj, ldb8, kk, keep);
    }
  }
}

/**
 * out[i] = sum_t A[i, t] b[t], t ascending from 0 for each row (bit-identical to the reference).
 * Eight rows at a time, two rows per f64x2: rows r and r+1 are loaded two columns at a time and
 * interleaved by shuffles, so each lane runs its own row's sequential sum.
 */
export function matvec(o: usize, a: usize, b: usize, m: i32, k: i32, fused: bool): void {
  if (fused) matvecWith<Fused>(o, a, b, m, k);
  else matvecWith<Separate>(o, a, b, m, k);
}

// @ts-ignore: decorator
@inline function matvecWith<M>(o: usize, a: usize, b: usize, m: i32, k: i32): void {
  const row = <usize>k << 3;
  const end = row;
  let i = 0;
  for (; i + 8 <= m; i += 8) {
    const r0 = a + <usize>i * row;
    const r1 = r0 + row, r2 = r1 + row, r3 = r2 + row, r4 = r3 + row, r5 = r4 + row, r6 = r5 + row, r7 = r6 + row;
    let s01 = ZERO, s23 = ZERO, s45 = ZERO, s67 = ZERO;
    let t: usize = 0;
    for (; t + 16 <= end; t += 16) {
      const b0 = v128.load64_splat(b + t), b1 = v128.load64_splat(b + t, 8);
      const x0 = v128.load(r0 + t), x1 = v128.load(r1 + t);
      const x2 = v128.load(r2 + t), x3 = v128.load(r3 + t);
      const x4 = v128.load(r4 + t), x5 = v128.load(r5 + t);
      const x6 = v128.load(r6 + t), x7 = v128.load(r7 + t);
      s01 = changetype<M>(0).madd(s01, f64x2.shuffle(x0, x1, 0, 2), b0);
      s23 = changetype<M>(0).madd(s23, f64x2.shuffle(x2, x3, 0, 2), b0);
      s45 = changetype<M>(0).madd(s45, f64x2.shuffle(x4, x5, 0, 2), b0);
      s67 = changetype<M>(0).madd(s67, f64x2.shuffle(x6, x7, 0, 2), b0);
      s01 = changetype<M>(0).madd(s01, f64x2.shuffle(x0, x1, 1, 3), b1);
      s23 = changetype<M>(0).madd(s23, f64x2.shuffle(x2, x3, 1, 3), b1);
      s45 = changetype<M>(0).madd(s45, f64x2.shuffle(x4, x5, 1, 3), b1);
      s67 = changetype<M>(0).madd(s67, f64x2.shuffle(x6, x7, 1, 3), b1);
    }
    if (t < end) {
      const b0 = v128.load64_splat(b + t);
      s01 = changetype<M>(0).madd(s01, v128.load64_lane(r1 + t, v128.load64_zero(r0 + t), 1), b0);
      s23 = changetype<M>(0).madd(s23, v128.load64_lane(r3 + t, v128.load64_zero(r2 + t), 1), b0);
      s45 = changetype<M>(0).madd(s45, v128.load64_lane(r5 + t, v128.load64_zero(r4 + t), 1), b0);
      s67 = changetype<M>(0).madd(s67, v128.load64_lane(r7 + t, v128.load64_zero(r6 + t), 1), b0);
    }
    const oi = o + (<usize>i << 3);
    v128.store(oi, s01); v128.store(oi, s23, 16); v128.store(oi, s45, 32); v128.store(oi, s67, 48);
  }
  for (; i < m; i++) {
    const ri = a + <usize>i * row;
    let s: f64 = 0;
    for (let t: usize = 0; t < end; t += 8) s += load<f64>(ri + t) * load<f64>(b + t);
    store<f64>(o + (<usize>i << 3), s);
  }
}

/** dA[i, t] += dc[i] b[t] (the outer product, n = 1) */
export function outerAcc(ga: usize, dc: usize, b: usize, m: i32, k: i32): void {
  const row = <usize>k << 3;
  for (let i = 0; i < m; i++) {
    const d = load<f64>(dc + (<usize>i << 3));
    const dv = f64x2.splat(d);
    const gi = ga + <usize>i * row;
    let t: usize = 0;
    for (; t + 16 <= row; t += 16) v128.store(gi + t, fma2(v128.load(gi + t), dv, v128.load(b + t)));
    if (t < row) store<f64>(gi + t, load<f64>(gi + t) + d * load<f64>(b + t));
  }
}

/** db[t] += sum_i A[i, t] dc[i] (n = 1): rows scaled and added, four rows per pass over db */
export function rowsAcc(gb: usize, a: usize, dc: usize, m: i32, k: i32): void {
  const row = <usize>k << 3;
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const r0 = a + <usize>i * row, r1 = r0 + row, r2 = r1 + row, r3 = r2 + row;
    const d = dc + (<usize>i << 3);
    const d0 = v128.load64_splat(d), d1 = v128.load64_splat(d, 8), d2 = v128.load64_splat(d, 16), d3 = v128.load64_splat(d, 24);
    let t: usize = 0;
    for (; t + 16 <= row; t += 16) {
      let g = v128.load(gb + t);
      g = fma2(g, v128.load(r0 + t), d0);
      g = fma2(g, v128.load(r1 + t), d1);
      g = fma2(g, v128.load(r2 + t), d2);
      g = fma2(g, v128.load(r3 + t), d3);
      v128.store(gb + t, g);
    }
    if (t < row) {
      let g = load<f64>(gb + t);
      g += load<f64>(r0 + t) * load<f64>(d);
      g += load<f64>(r1 + t) * load<f64>(d, 8);
      g += load<f64>(r2 + t) * load<f64>(d, 16);
      g += load<f64>(r3 + t) * load<f64>(d, 24);
      store<f64>(gb + t, g);
    }
  }
  for (; i < m; i++) {
    const ri = a + <usize>i * row;
    const dd = load<f64>(dc + (<usize>i << 3));
    const dv = f64x2.splat(dd);
    let t: usize = 0;
    for (; t + 16 <= row; t += 16) v128.store(gb + t, fma2(v128.load(gb + t), v128.load(ri + t), dv));
    if (t < row) store<f64>(gb + t, load<f64>(gb + t) + load<f64>(ri + t) * dd);
  }
}

// @ts-ignore: decorator
@inline function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/**
 * dA[i, t] += sum_j dC[i, j] B[t, j] for dC [m, n] and B [k, n]: dot products of rows, a tile of
 * 2 rows of dC by 4 rows of B in eight accumulators.
 */
export function gemmNT(ga: usize, dc: usize, b: usize, m: i32, k: i32, n: i32): void {
  const rowC = <usize>n << 3; // a row of dC or B
  const rowA = <usize>k << 3; // a row of dA
  const jEnd = rowC & ~(<usize>15);
  let i = 0;
  for (; i < m; i += 2) {
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
        s00 = fma2(s00, x0, y); s10 = fma2(s10, x1, y);
        y = v128.load(b1 + j);
        s01 = fma2(s01, x0, y); s11 = fma2(s11, x1, y);
        y = v128.load(b2 + j);
        s02 = fma2(s02, x0, y); s12 = fma2(s12, x1, y);
        y = v128.load(b3 + j);
        s03 = fma2(s03, x0, y); s13 = fma2(s13, x1, y);
      }
      let r00 = hsum(s00), r01 = hsum(s01), r02 = hsum(s02), r03 = hsum(s03);
      let r10 = hsum(s10), r11 = hsum(s11), r12 = hsum(s12), r13 = hsum(s13);
      if (jEnd < rowC) {
        const x0 = load<f64>(c0 + jEnd), x1 = load<f64>(c1 + jEnd);
        const y0 = load<f64>(b0 + jEnd), y1 = load<f64>(b1 + jEnd), y2 = load<f64>(b2 + jEnd), y3 = load<f64>(b3 + jEnd);
        r00 += x0 * y0; r01 += x0 * y1; r02 += x0 * y2; r03 += x0 * y3;
        r10 += x1 * y0; r11 += x1 * y1; r12 += x1 * y2; r13 += x1 * y3;
      }
      const gt = <usize>t << 3;
      store<f64>(g0 + gt, load<f64>(g0 + gt) + r00);
      store<f64>(g0 + gt, load<f64>(g0 + gt, 8) + r01, 8);
      store<f64>(g0 + gt, load<f64>(g0 + gt, 16) + r02, 16);
      store<f64>(g0 + gt, load<f64>(g0 + gt, 24) + r03, 24);
      if (two) {
        store<f64>(g1 + gt, load<f64>(g1 + gt) + r10);
        store<f64>(g1 + gt, load<f64>(g1 + gt, 8) + r11, 8);
        store<f64>(g1 + gt, load<f64>(g1 + gt, 16) + r12, 16);
        store<f64>(g1 + gt, load<f64>(g1 + gt, 24) + r13, 24);
      }
    }
    for (; t < k; t++) {
      const bt = b + <usize>t * rowC;
      let s0 = ZERO, s1 = ZERO;
      for (let j: usize = 0; j < jEnd; j += 16) {
        const y = v128.load(bt + j);
        s0 = fma2(s0, v128.load(c0 + j), y);
        s1 = fma2(s1, v128.load(c1 + j), y);
      }
      let r0 = hsum(s0), r1 = hsum(s1);
      if (jEnd < rowC) {
        const y = load<f64>(bt + jEnd);
        r0 += load<f64>(c0 + jEnd) * y;
        r1 += load<f64>(c1 + jEnd) * y;
      }
      const gt = <usize>t << 3;
      store<f64>(g0 + gt, load<f64>(g0 + gt) + r0);
      if (two) store<f64>(g1 + gt, load<f64>(g1 + gt) + r1);
    }
  }
}
