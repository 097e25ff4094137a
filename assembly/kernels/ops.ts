/**
 * The hand-written kernels (every op that is not elementwise), under the names the generated
 * dispatch calls (assembly/generated/dispatch.ts): fwd_<op>(o, a, b, c, prm, v) and
 * bwd_<op>(flags, go, ga, gb, gc, vo, va, vb, vc, prm, v), pointers as byte addresses, prm the
 * instruction's params, v the value arena. A new op without its pair here fails to compile.
 */
import { fusableOf, gemmNTOf, gemmOf, matvecOf, outerAccOf, rowsAccOf } from './products';
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
@inline function at<T>(base: usize, offset: i32): usize {
  return base + (<usize>offset << alignof<T>());
}

// @ts-ignore: decorator
@inline export function fwd_broadcast<T>(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  broadcastFwd<T>(o, a, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function bwd_broadcast<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  broadcastBwd<T>(go, ga, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function fwd_sum<T>(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  sumFwd<T>(o, a, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function bwd_sum<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  sumBwd<T>(go, ga, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function fwd_logsumexp<T>(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  logsumexpFwd<T>(o, a, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function bwd_logsumexp<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  logsumexpBwd<T>(go, ga, vo, va, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function fwd_matmul<T>(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  const m = p(prm, 0), k = p(prm, 1), n = p(prm, 2);
  if (n == 1) matvecOf<T>(o, a, b, m, k, false);
  else gemmOf<T>(o, n, a, k, 1, b, n, m, k, n, false, false);
}
/**
 * matmul for value() and reverse(): fused multiply-adds where fusable() allows, which scans both
 * operands: worth it where each element is used 8 times or more (a matrix-vector product is
 * bound by memory, fused or not)
 */
export function fwdMatmulFast<T>(o: usize, a: usize, b: usize, prm: usize): void {
  const m = p(prm, 0), k = p(prm, 1), n = p(prm, 2);
  const fused = m >= 8 && n >= 8 && fusableOf<T>(a, b, m, k, n);
  if (n == 1) matvecOf<T>(o, a, b, m, k, false);
  else gemmOf<T>(o, n, a, k, 1, b, n, m, k, n, false, fused);
}
// @ts-ignore: decorator
@inline export function bwd_matmul<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  const m = p(prm, 0), k = p(prm, 1), n = p(prm, 2);
  if (n == 1) {
    if (flags & FLAG_GRAD_A) outerAccOf<T>(ga, go, vb, m, k);
    if (flags & FLAG_GRAD_B) rowsAccOf<T>(gb, va, go, m, k);
  } else {
    if (flags & FLAG_GRAD_A) gemmNTOf<T>(ga, go, vb, m, k, n);
    // dB [k, n] += A^T [k, m] dC [m, n]: A read by columns
    if (flags & FLAG_GRAD_B) gemmOf<T>(gb, n, va, 1, k, go, n, k, m, n, true, true);
  }
}
// @ts-ignore: decorator
@inline export function fwd_transpose<T>(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  transposeFwd<T>(o, a, p(prm, 0), p(prm, 1), p(prm, 2), prm);
}
// @ts-ignore: decorator
@inline export function bwd_transpose<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  transposeBwd<T>(go, ga, p(prm, 0), p(prm, 1), p(prm, 2), prm);
}
// @ts-ignore: decorator
@inline export function fwd_softmax_xent<T>(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  softmaxXentFwd<T>(o, a, b, at<T>(v, p(prm, 2)), p(prm, 0), p(prm, 1));
}
// @ts-ignore: decorator
@inline export function bwd_softmax_xent<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  softmaxXentBwd<T>(flags, go, ga, gb, va, vb, at<T>(v, p(prm, 2)), p(prm, 0), p(prm, 1));
}
// @ts-ignore: decorator
@inline export function fwd_argmax<T>(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  argReduceFwd<T>(o, a, p(prm, 0), p(prm, 1), p(prm, 2), 1);
}
// @ts-ignore: decorator
@inline export function fwd_argmin<T>(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  argReduceFwd<T>(o, a, p(prm, 0), p(prm, 1), p(prm, 2), -1);
}
// @ts-ignore: decorator
@inline export function fwd_one_hot<T>(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  oneHotFwd<T>(o, a, p(prm, 0), p(prm, 1));
}
// argmax, argmin, one_hot: no gradient flows through an index
// @ts-ignore: decorator
@inline export function bwd_argmax<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {}
// @ts-ignore: decorator
@inline export function bwd_argmin<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {}
// @ts-ignore: decorator
@inline export function bwd_one_hot<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {}

// max/min reductions, conv2d and pooling (./extremum.ts, ./conv.ts)
// @ts-ignore: decorator
@inline export function fwd_max<T>(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  maxFwd<T>(o, a, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function bwd_max<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  maxBwd<T>(go, ga, va, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function fwd_min<T>(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  minFwd<T>(o, a, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function bwd_min<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  minBwd<T>(go, ga, va, p(prm, 0), p(prm, 1), p(prm, 2));
}
// @ts-ignore: decorator
@inline export function fwd_conv2d<T>(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  conv2dFwd<T>(prm, o, a, b, at<T>(v, p(prm, 16)));
}
// @ts-ignore: decorator
@inline export function bwd_conv2d<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  conv2dBwd<T>(flags, prm, go, ga, gb, va, vb, at<T>(v, p(prm, 16)));
}
// @ts-ignore: decorator
@inline export function fwd_max_pool2d<T>(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  maxPool2dFwd<T>(prm, o, a);
}
// @ts-ignore: decorator
@inline export function bwd_max_pool2d<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  maxPool2dBwd<T>(prm, go, ga, va);
}
// @ts-ignore: decorator
@inline export function fwd_avg_pool2d<T>(o: usize, a: usize, b: usize, c: usize, prm: usize, v: usize): void {
  avgPool2dFwd<T>(prm, o, a);
}
// @ts-ignore: decorator
@inline export function bwd_avg_pool2d<T>(flags: i32, go: usize, ga: usize, gb: usize, gc: usize, vo: usize, va: usize, vb: usize, vc: usize, prm: usize, v: usize): void {
  avgPool2dBwd<T>(prm, go, ga);
}
