/**
 * The structure ops (src/ops/opset.ts): slice, concat, gather, transpose and the batched matmul.
 * Copies forward (exact: the reference's bits), adds backward. Pointers are byte addresses of
 * the operands in the value (v*) or adjoint (g*) arena; `prm` is the instruction's params.
 */
import { ld, st } from '../elem';
import {
  FLAG_GRAD_A, FLAG_GRAD_B, P_BATCH_MATMUL_BATCH_A, P_BATCH_MATMUL_BATCH_B, P_BATCH_MATMUL_N, P_CONCAT_INNER, P_CONCAT_N,
  P_GATHER_M, P_SLICE_BEGIN0, P_SLICE_DIM0, P_SLICE_SIZE0, P_TRANSPOSE_INNER,
} from '../opcodes';
import { gemmNTOf, gemmOf, matvecOf, outerAccOf, rowsAccOf } from './products';
import { addInto } from './map';

// @ts-ignore: decorator
@inline function at<T>(p: usize, i: i32): usize {
  return p + (<usize>i << alignof<T>());
}
// @ts-ignore: decorator
@inline function prm(p: usize, q: i32): i32 {
  return load<i32>(p + (<usize>q << 2));
}

/** Axes of one slice instruction (SLICE_RANK in opset.ts): params [dims, begins, sizes]. */
const R = P_SLICE_BEGIN0;

/**
 * Every contiguous row (the last axis) of a slice: copied from a into out (forward), or out's
 * adjoint added into a's (backward, add = true).
 */
function sliceRows<T>(out: usize, a: usize, p: usize, add: bool): void {
  // a's strides (elements) along axes 4..0
  const D = P_SLICE_DIM0, B = P_SLICE_BEGIN0, S = P_SLICE_SIZE0;
  const st4 = prm(p, D + 5), st3 = st4 * prm(p, D + 4), st2 = st3 * prm(p, D + 3), st1 = st2 * prm(p, D + 2), st0 = st1 * prm(p, D + 1);
  const base = prm(p, B) * st0 + prm(p, B + 1) * st1 + prm(p, B + 2) * st2 + prm(p, B + 3) * st3 + prm(p, B + 4) * st4 + prm(p, B + 5);
  const len = prm(p, S + R - 1);
  let to = 0;
  for (let i0 = 0; i0 < prm(p, S); i0++)
    for (let i1 = 0; i1 < prm(p, S + 1); i1++)
      for (let i2 = 0; i2 < prm(p, S + 2); i2++)
        for (let i3 = 0; i3 < prm(p, S + 3); i3++)
          for (let i4 = 0; i4 < prm(p, S + 4); i4++) {
            const from = base + i0 * st0 + i1 * st1 + i2 * st2 + i3 * st3 + i4 * st4;
            if (add) addInto<T>(at<T>(a, from), at<T>(out, to), len);
            else memory.copy(at<T>(out, to), at<T>(a, from), <usize>len << alignof<T>());
            to += len;
          }
}

export function sliceFwd<T>(o: usize, a: usize, p: usize): void { sliceRows<T>(o, a, p, false); }
export function sliceBwd<T>(go: usize, ga: usize, p: usize): void { sliceRows<T>(go, ga, p, true); }

/** out rows of n: a's na, b's nb, zeros up to n (never in a compiled tape); all times inner */
export function concatFwd<T>(o: usize, a: usize, b: usize, outer: i32, na: i32, nb: i32, p: usize): void {
  const inner = prm(p, P_CONCAT_INNER), n = prm(p, P_CONCAT_N) * inner;
  const ra = na * inner, rb = nb * inner;
  for (let s = 0; s < outer; s++) {
    const row = at<T>(o, s * n);
    memory.copy(row, at<T>(a, s * ra), <usize>ra << alignof<T>());
    memory.copy(at<T>(row, ra), at<T>(b, s * rb), <usize>rb << alignof<T>());
    if (ra + rb < n) memory.fill(at<T>(row, ra + rb), 0, <usize>(n - ra - rb) << alignof<T>());
  }
}
export function concatBwd<T>(flags: i32, go: usize, ga: usize, gb: usize, outer: i32, na: i32, nb: i32, p: usize): void {
  const inner = prm(p, P_CONCAT_INNER), n = prm(p, P_CONCAT_N) * inner;
  const ra = na * inner, rb = nb * inner;
  for (let s = 0; s < outer; s++) {
    if (flags & FLAG_GRAD_A) addInto<T>(at<T>(ga, s * ra), at<T>(go, s * n), ra);
    if (flags & FLAG_GRAD_B) addInto<T>(at<T>(gb, s * rb), at<T>(go, s * n + ra), rb);
  }
}

// @ts-ignore: decorator
@inline function isIndex(r: f64, n: i32): bool {
  return r >= 0 && r < <f64>n && Math.floor(r) == r;
}

/** out[s, j, :] = a[s, b[j], :] for an integer b[j] in [0, n), else a NaN row: never a read outside a */
export function gatherFwd<T>(o: usize, a: usize, b: usize, outer: i32, n: i32, inner: i32, p: usize): void {
  const m = prm(p, P_GATHER_M);
  for (let s = 0; s < outer; s++)
    for (let j = 0; j < m; j++) {
      const r = ld<T>(at<T>(b, j));
      const row = at<T>(o, (s * m + j) * inner);
      if (isIndex(r, n)) memory.copy(row, at<T>(a, (s * n + <i32>r) * inner), <usize>inner << alignof<T>());
      else for (let i = 0; i < inner; i++) st<T>(at<T>(row, i), NaN);
    }
}
/** the output adjoint's rows scatter-added into a's rows b[j]; the indices take no gradient */
export function gatherBwd<T>(flags: i32, go: usize, ga: usize, vb: usize, outer: i32, n: i32, inner: i32, p: usize): void {
  if ((flags & FLAG_GRAD_A) == 0) return;
  const m = prm(p, P_GATHER_M);
  for (let s = 0; s < outer; s++)
    for (let j = 0; j < m; j++) {
      const r = ld<T>(at<T>(vb, j));
      if (isIndex(r, n)) addInto<T>(at<T>(ga, (s * n + <i32>r) * inner), at<T>(go, (s * m + j) * inner), inner);
    }
}

/**
 * [outer, m, n, inner] -> [outer, n, m, inner]: dst[s, j, i] = src[s, i, j] (forward), or
 * dst[s, i, j] += src[s, j, i] (backward, add = true, src the output adjoint). inner = 1 runs in
 * 8x8 blocks so that both sides stay in cache.
 */
function transposeBlocks<T>(dst: usize, src: usize, outer: i32, m: i32, n: i32, inner: i32, add: bool): void {
  const mat = m * n * inner;
  for (let s = 0; s < outer; s++) {
    const a = at<T>(src, s * mat), o = at<T>(dst, s * mat);
    if (inner == 1) {
      for (let i0 = 0; i0 < m; i0 += sizeof<T>()) {
        const i1 = min(i0 + 8, m);
        for (let j0 = 0; j0 < n; j0 += sizeof<T>()) {
          const j1 = min(j0 + 8, n);
          for (let i = i0; i < i1; i++)
            for (let j = j0; j < j1; j++) {
              if (add) {
                const k = at<T>(o, i * n + j);
                st<T>(k, ld<T>(k) + ld<T>(at<T>(a, j * m + i)));
              } else st<T>(at<T>(o, j * m + i), ld<T>(at<T>(a, i * n + j)));
            }
        }
      }
      continue;
    }
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        if (add) addInto<T>(at<T>(o, (i * n + j) * inner), at<T>(a, (j * m + i) * inner), inner);
        else memory.copy(at<T>(o, (j * m + i) * inner), at<T>(a, (i * n + j) * inner), <usize>inner << alignof<T>());
      }
  }
}
export function transposeFwd<T>(o: usize, a: usize, outer: i32, m: i32, n: i32, p: usize): void {
  transposeBlocks<T>(o, a, outer, m, n, prm(p, P_TRANSPOSE_INNER), false);
}
export function transposeBwd<T>(go: usize, ga: usize, outer: i32, m: i32, n: i32, p: usize): void {
  transposeBlocks<T>(ga, go, outer, m, n, prm(p, P_TRANSPOSE_INNER), true);
}

/**
 * Product s of [batch, m, k, n, batchA, batchB]: a's matrix s when batchA = batch, else its
 * matrix 0 (a shared operand), likewise b; each the matmul kernel's (the same bits as the
 * reference's 2-D product).
 */
export function batchMatmulFwd<T>(o: usize, a: usize, b: usize, batch: i32, m: i32, k: i32, p: usize): void {
  const n = prm(p, P_BATCH_MATMUL_N);
  const sa = prm(p, P_BATCH_MATMUL_BATCH_A) == batch ? m * k : 0, sb = prm(p, P_BATCH_MATMUL_BATCH_B) == batch ? k * n : 0;
  for (let s = 0; s < batch; s++) {
    const os = at<T>(o, s * m * n), as = at<T>(a, s * sa), bs = at<T>(b, s * sb);
    if (n == 1) matvecOf<T>(os, as, bs, m, k, false);
    else gemmOf<T>(os, n, as, k, 1, bs, n, m, k, n, false, false);
  }
}
export function batchMatmulBwd<T>(flags: i32, go: usize, ga: usize, gb: usize, va: usize, vb: usize, batch: i32, m: i32, k: i32, p: usize): void {
  const n = prm(p, P_BATCH_MATMUL_N);
  const sa = prm(p, P_BATCH_MATMUL_BATCH_A) == batch ? m * k : 0, sb = prm(p, P_BATCH_MATMUL_BATCH_B) == batch ? k * n : 0;
  for (let s = 0; s < batch; s++) {
    const gos = at<T>(go, s * m * n), gas = at<T>(ga, s * sa), gbs = at<T>(gb, s * sb), vas = at<T>(va, s * sa), vbs = at<T>(vb, s * sb);
    if (n == 1) {
      if (flags & FLAG_GRAD_A) outerAccOf<T>(gas, gos, vbs, m, k);
      if (flags & FLAG_GRAD_B) rowsAccOf<T>(gbs, vas, gos, m, k);
    } else {
      if (flags & FLAG_GRAD_A) gemmNTOf<T>(gas, gos, vbs, m, k, n);
      if (flags & FLAG_GRAD_B) gemmOf<T>(gbs, n, vas, 1, k, gos, n, k, m, n, true, true);
    }
  }
}

// The pairs the generated dispatch calls (assembly/generated/dispatch.ts through ./ops):
// fwd_<op>(o, a, b, c, prm, v) and bwd_<op>(flags, go, ga, gb, gc, vo, va, vb, vc, prm, v).
// @ts-ignore: decorator
@inline export function fwd_slice<T>(o: usize, a: usize, b: usize, c: usize, p: usize, v: usize): void { sliceFwd<T>(o, a, p); }
// @ts-ignore: decorator
@inline export function bwd_slice<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, p: usize, v: usize): void {
  sliceBwd<T>(go, ga, p);
}
// @ts-ignore: decorator
@inline export function fwd_concat<T>(o: usize, a: usize, b: usize, c: usize, p: usize, v: usize): void {
  concatFwd<T>(o, a, b, prm(p, 0), prm(p, 1), prm(p, 2), p);
}
// @ts-ignore: decorator
@inline export function bwd_concat<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, p: usize, v: usize): void {
  concatBwd<T>(flags, go, ga, gb, prm(p, 0), prm(p, 1), prm(p, 2), p);
}
// @ts-ignore: decorator
@inline export function fwd_gather<T>(o: usize, a: usize, b: usize, c: usize, p: usize, v: usize): void {
  gatherFwd<T>(o, a, b, prm(p, 0), prm(p, 1), prm(p, 2), p);
}
// @ts-ignore: decorator
@inline export function bwd_gather<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, p: usize, v: usize): void {
  gatherBwd<T>(flags, go, ga, vb, prm(p, 0), prm(p, 1), prm(p, 2), p);
}
// @ts-ignore: decorator
@inline export function fwd_batch_matmul<T>(o: usize, a: usize, b: usize, c: usize, p: usize, v: usize): void {
  batchMatmulFwd<T>(o, a, b, prm(p, 0), prm(p, 1), prm(p, 2), p);
}
// @ts-ignore: decorator
@inline export function bwd_batch_matmul<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, p: usize, v: usize): void {
  batchMatmulBwd<T>(flags, go, ga, gb, va, vb, prm(p, 0), prm(p, 1), prm(p, 2), p);
}
