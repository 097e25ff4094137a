/**
 * The hand-written kernels (every op that is not elementwise), under the names the generated
 * dispatch calls (assembly/generated/dispatch.ts): fwd_<op>(o, a, b, c, prm, v) and
 * bwd_<op>(flags, go, ga, gb, gc, vo, va, vb, vc, prm, v), pointers as byte addresses, prm the
 * instruction's params, v the value arena. A new op without its pair here fails to compile.
 */
import { fusable, gemm, gemmNT, matvec, outerAcc, rowsAcc } from './matmul';
import {
  argReduceFwd, broadcastBwd, broadcastFwd, logsumexpBwd, oneHotFwd, logsumexpFwd, sumBwd, sumFwd,
} from './reduce';
import { transposeBwd, transposeFwd } from './structure';
// the structure ops' pairs live beside their kernels
export {
  fwd_slice, bwd_slice, fwd_concat, bwd_concat, fwd_gather, bwd_gather, fwd_batch_matmul, bwd_batch_matmul,
} from './structure';
import { softmaxXentBwd, softmaxXentFwd } from './softmax';
import { avgPool2dBwd, avgPool2dFwd, conv2dBwd, conv2dFwd, maxPool2dBwd, maxPool2dFwd } from './conv';
import { maxBwd, maxFwd, minBwd, minFwd } from './extremum';
import { FLAG_GRAD_A, FLAG_GRAD_B } from '../opcodes';

// @ts-ignore: decorator
@inline function p(prm: usize, q: i32): i32 {
  return load<i32>(prm + (<usize>q << 2));
}
// @ts-ignore: decorator
@inline function at(base: usize, offset: i32): usize {
  return base + (<usize>offset << 3);
}

// @ts-ignore: decorator
@inline export function fwd_broadcast(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  broadcastFwd(o, a, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function bwd_broadcast(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  broadcastBwd(go, ga, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function fwd_sum(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  sumFwd(o, a, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function bwd_sum(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  sumBwd(go, ga, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function fwd_logsumexp(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  logsumexpFwd(o, a, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function bwd_logsumexp(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  logsumexpBwd(go, ga, vo, va, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function fwd_matmul(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  const m = p(prm, 0), k = p(prm, 1), n = p(prm, 2);
  if (n == 1) matvec(o, a, b, m, k, false);
  else gemm(o, n, a, k, 1, b, n, m, k, n, false, false);
}
/**
 * matmul for value() and reverse(): fused multiply-adds where fusable() allows, which scans both
 * operands: worth it where each element is used 8 times or more (a matrix-vector product is
 * bound by memory, fused or not)
 */
export function fwdMatmulFast(o: usize, a: usize, b: usize, prm: usize): void {
  const m = p(prm, 0), k = p(prm, 1), n = p(prm, 2);
  const fused = m >= 8 && n >= 8 && fusable(a, b, m, k, n);
  if (n == 1) matvec(o, a, b, m, k, false);
  else gemm(o, n, a, k, 1, b, n, m, k, n, false, fused);
}
// @ts-ignore: decorator
@inline export function bwd_matmul(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  const m = p(prm, 0), k = p(prm, 1), n = p(prm, 2);
  if (n == 1) {
    if (flags & FLAG_GRAD_A) outerAcc(ga, go, vb, m, k);
    if (flags & FLAG_GRAD_B) rowsAcc(gb, va, go, m, k);
  } else {
    if (flags & FLAG_GRAD_A) gemmNT(ga, go, vb, m, k, n);
    // dB [k, n] += A^T [k, m] dC [m, n]: A read by columns
    if (flags & FLAG_GRAD_B) gemm(gb, n, va, 1, k, go, n, k, m, n, true, true);
  }
}
// @ts-ignore: decorator
@inline export function fwd_transpose(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  transposeFwd(o, a, p(prm, 0), p(prm, 1), p(prm, 2), prm);
}
// @ts-ignore: decorator
@inline export function bwd_transpose(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  transposeBwd(go, ga, p(prm, 0), p(prm, 1), p(prm, 2), prm);
}
// @ts-ignore: decorator
@inline export function fwd_softmax_xent(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  softmaxXentFwd(o, a, b, at(v, p(prm, 2)), p(prm, 0), p(prm, 1));
}
// @ts-ignore: decorator
@inline export function bwd_softmax_xent(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  softmaxXentBwd(flags, go, ga, gb, va, vb, at(v, p(prm, 2)), p(prm, 0), p(prm, 1));
}
// @ts-ignore: decorator
@inline export function fwd_argmax(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  argReduceFwd(o, a, p(prm, 0), p(prm, 1), p(prm, 2), 1);
}
// @ts-ignore: decorator
@inline export function fwd_argmin(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  argReduceFwd(o, a, p(prm, 0), p(prm, 1), p(prm, 2), -1);
}
// @ts-ignore: decorator
@inline export function fwd_one_hot(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  oneHotFwd(o, a, p(prm, 0), p(prm, 1));
}
// argmax, argmin, one_hot: no gradient flows through an index
// @ts-ignore: decorator
@inline export function bwd_argmax(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {}
// @ts-ignore: decorator
@inline export function bwd_argmin(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {}
// @ts-ignore: decorator
@inline export function bwd_one_hot(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {}

// max/min reductions, conv2d and pooling (./extremum.ts, ./conv.ts)
// @ts-ignore: decorator
@inline export function fwd_max(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  maxFwd(o, a, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function bwd_max(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  maxBwd(go, ga, va, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function fwd_min(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  minFwd(o, a, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function bwd_min(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  minBwd(go, ga, va, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function fwd_conv2d(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  conv2dFwd(prm, o, a, b, at(v, p(prm, 16)));
}
// @ts-ignore: decorator
@inline export function bwd_conv2d(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  conv2dBwd(flags, prm, go, ga, gb, va, vb, at(v, p(prm, 16)));
}
// @ts-ignore: decorator
@inline export function fwd_max_pool2d(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  maxPool2dFwd(prm, o, a);
}
// @ts-ignore: decorator
@inline export function bwd_max_pool2d(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  maxPool2dBwd(prm, go, ga, va);
}
// @ts-ignore: decorator
@inline export function fwd_avg_pool2d(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  avgPool2dFwd(prm, o, a);
}
// @ts-ignore: decorator
@inline export function bwd_avg_pool2d(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  avgPool2dBwd(prm, go, ga);
}
