/**
 * Forward mode: the tangent sweep (see src/backends/js/tangent.ts, the reference). The tangent
 * arena has the value arena's layout; each instruction with gradOut gets its output tangent by
 * its op's tangent mode (generated opTangent, from OpDef.tangent):
 * - diagonal: the backward rule with the operand's tangent as the output adjoint, accumulating
 *   into the output tangent (J = J^T for an elementwise op), one operand at a time;
 * - linear: the forward rule on tangent addresses;
 * - bilinear: the forward rule with one operand's tangent, per operand with a gradient, summed
 *   (the second term through the scratch);
 * - custom: the op's own tangent rule (kernels/tangent.ts).
 */
import { bwdOp, fwdOp } from './interpreter';
import { logsumexpTan, softmaxXentTan } from './kernels/tangent';
import { maxPool2dTan } from './kernels/conv';
import { extremumTan } from './kernels/extremum';
import {
  F_A, F_B, F_C, F_FLAGS, F_OP, F_OUT, F_P0, FLAG_GRAD_A, FLAG_GRAD_B, FLAG_GRAD_C, FLAG_GRAD_OUT, INSTR_WIDTH,
  OP_LOGSUMEXP, OP_SOFTMAX_XENT, OP_MAX, OP_MIN, OP_MAX_POOL2D, TANGENT_BILINEAR, TANGENT_CUSTOM, TANGENT_DIAGONAL, TANGENT_LINEAR, opTangent, opExtent,
} from './opcodes';
import { alloc } from './heap';
import { fail, E_OUT_OF_MEMORY, Program } from './program';
import { ld, st } from './elem';

// @ts-ignore: decorator
@inline function at<T>(base: usize, offset: i32): usize {
  return base + (<usize>offset << alignof<T>());
}

/**
 * The tangent arena of a program, zeroed; allocated on first use with the scratch for bilinear
 * terms (the largest bilinear output). 0 (and lastError) when memory cannot provide it.
 */
export function tangentArena(prog: Program): usize {
  if (prog.t == 0) {
    let most: f64 = 1;
    for (let i = 0; i < prog.nInstr; i++) {
      const w = prog.code + (<usize>(i * INSTR_WIDTH) << 2);
      const op = load<i32>(w + (F_OP << 2));
      if (opTangent(op) == TANGENT_BILINEAR) most = Math.max(most, opExtent(op, 0, w + (F_P0 << 2)));
    }
    const t = alloc((<f64>prog.arenaSize + most) * <f64>prog.elem, true);
    if (t == 0) {
      fail(E_OUT_OF_MEMORY);
      return 0;
    }
    prog.t = t;
    prog.scratch = t + <usize>prog.arenaSize * <usize>prog.elem;
  } else memory.fill(prog.t, 0, <usize>prog.arenaSize * <usize>prog.elem);
  return prog.t;
}

/** Runs the tangent sweep of instructions from..nInstr-1 (the values are in the value arena). */
export function tangentSweep<T>(prog: Program, from: i32): void {
  const v = prog.v, t = prog.t;
  for (let i = from; i < prog.nInstr; i++) {
    const w = prog.code + (<usize>(i * INSTR_WIDTH) << 2);
    const flags = load<i32>(w + (F_FLAGS << 2));
    if ((flags & FLAG_GRAD_OUT) == 0) continue;
    const op = load<i32>(w + (F_OP << 2));
    const prm = w + (F_P0 << 2);
    const oOff = load<i32>(w + (F_OUT << 2)), aOff = load<i32>(w + (F_A << 2));
    let bOff = load<i32>(w + (F_B << 2)), cOff = load<i32>(w + (F_C << 2));
    if (bOff < 0) bOff = 0;
    if (cOff < 0) cOff = 0;
    const vo = at<T>(v, oOff), va = at<T>(v, aOff), vb = at<T>(v, bOff), vc = at<T>(v, cOff);
    const to = at<T>(t, oOff), ta = at<T>(t, aOff), tb = at<T>(t, bOff), tc = at<T>(t, cOff);
    const mode = opTangent(op);
    if (mode == TANGENT_LINEAR) {
      fwdOp<T>(op, to, ta, tb, tc, v, prm);
    } else if (mode == TANGENT_DIAGONAL) {
      const n = opExtent(op, 0, prm);
      memory.fill(to, 0, <usize>n << alignof<T>());
      // an operand of another size (pow's scalar exponent) takes no gradient
      if ((flags & FLAG_GRAD_A) != 0 && opExtent(op, 1, prm) == n)
        bwdOp<T>(op, FLAG_GRAD_A | FLAG_GRAD_OUT, vo, va, vb, vc, ta, to, 0, 0, v, prm);
      if ((flags & FLAG_GRAD_B) != 0 && opExtent(op, 2, prm) == n)
        bwdOp<T>(op, FLAG_GRAD_B | FLAG_GRAD_OUT, vo, va, vb, vc, tb, 0, to, 0, v, prm);
      if ((flags & FLAG_GRAD_C) != 0 && opExtent(op, 3, prm) == n)
        bwdOp<T>(op, FLAG_GRAD_C | FLAG_GRAD_OUT, vo, va, vb, vc, tc, 0, 0, to, v, prm);
    } else if (mode == TANGENT_BILINEAR) {
      const n = <i32>opExtent(op, 0, prm);
      let first = true;
      if ((flags & FLAG_GRAD_A) != 0) {
        fwdOp<T>(op, to, ta, vb, vc, v, prm);
        first = false;
      }
      if ((flags & FLAG_GRAD_B) != 0) {
        const dst = first ? to : prog.scratch;
        fwdOp<T>(op, dst, va, tb, vc, v, prm);
        if (!first) addInto<T>(to, dst, n);
        first = false;
      }
      if ((flags & FLAG_GRAD_C) != 0) {
        const dst = first ? to : prog.scratch;
        fwdOp<T>(op, dst, va, vb, tc, v, prm);
        if (!first) addInto<T>(to, dst, n);
      }
    } else if (mode == TANGENT_CUSTOM) {
      const p0 = load<i32>(prm), p1 = load<i32>(prm, 4), p2 = load<i32>(prm, 8);
      switch (op) {
        case OP_LOGSUMEXP: logsumexpTan<T>(to, ta, vo, va, p0, p1, p2); break;
        case OP_SOFTMAX_XENT: softmaxXentTan<T>(flags, to, ta, tb, va, vb, at<T>(v, p2), p0, p1); break;
        case OP_MAX: extremumTan<T>(to, ta, va, p0, p1, p2, 1); break;
        case OP_MIN: extremumTan<T>(to, ta, va, p0, p1, p2, -1); break;
        case OP_MAX_POOL2D: maxPool2dTan<T>(prm, to, ta, va); break;
        default: unreachable(); // every custom op has a rule here (test/forward.test.ts covers each)
      }
    }
  }
}

function addInto<T>(dst: usize, src: usize, n: i32): void {
  for (let j = 0; j < n; j++) {
    const q = <usize>j << alignof<T>();
    st<T>(dst + q, ld<T>(dst + q) + ld<T>(src + q));
  }
}
