/**
 * The tape interpreter: the forward sweep, the reverse sweep and the finite-difference loops, each
 * one call from JS. Instructions were validated when the tape was loaded (program.ts), so every
 * operand extent lies inside the tape's arenas.
 */
import {
  absBwd, absFwd, addBwd, addFwd, divBwd, divFwd, expBwd, expFwd, log1pBwd, log1pFwd, logBwd, logFwd, mulBwd, mulFwd,
  negBwd, negFwd, powBwd, powFwd, reluBwd, reluFwd, sigmoidBwd, sigmoidFwd, softplusBwd, softplusFwd, sqrtBwd, sqrtFwd,
  squareBwd, squareFwd, subBwd, subFwd, tanhBwd, tanhFwd,
} from './kernels/elementwise';
import { gemm, gemmNT, matvec, outerAcc, rowsAcc } from './kernels/matmul';
import {
  argReduceFwd, broadcastBwd, broadcastFwd, logsumexpBwd, oneHotFwd, logsumexpFwd, sumBwd, sumFwd,
} from './kernels/reduce';
import {
  batchMatmulBwd, batchMatmulFwd, concatBwd, concatFwd, gatherBwd, gatherFwd, sliceBwd, sliceFwd, transposeBwd, transposeFwd,
} from './kernels/structure';
import { softmaxXentBwd, softmaxXentFwd } from './kernels/softmax';
import {
  F_A, F_B, F_C, F_FLAGS, F_OP, F_OUT, F_P0, FLAG_GRAD_A, FLAG_GRAD_B, FLAG_GRAD_OUT, INSTR_WIDTH,
  OP_ABS, OP_ADD, OP_ARGMAX, OP_ARGMIN, OP_BROADCAST, OP_ONE_HOT, OP_DIV, OP_EXP, OP_LOG, OP_LOG1P, OP_LOGSUMEXP, OP_MATMUL, OP_MUL, OP_NEG, OP_POW,
  OP_RELU, OP_SIGMOID, OP_SOFTMAX_XENT, OP_SOFTPLUS, OP_SQRT, OP_SQUARE, OP_SUB, OP_SUM, OP_TANH, OP_TRANSPOSE,
  OP_SLICE, OP_CONCAT, OP_GATHER, OP_BATCH_MATMUL,
} from './opcodes';
import { Program } from './program';

// @ts-ignore: decorator
@inline function at(base: usize, offset: i32): usize {
  return base + (<usize>offset << 3);
}

/** Parameter q of an instruction whose params start at prm. */
// @ts-ignore: decorator
@inline export function param(prm: usize, q: i32): i32 {
  return load<i32>(prm + (<usize>q << 2));
}

/**
 * One instruction's forward rule on explicit addresses: out o, operands a, b, c (an absent one
 * points anywhere valid), v the value arena (scratch regions live there), prm its params. The
 * tangent sweep (tangent.ts) calls it with tangent addresses.
 */
export function fwdOp(op: i32, o: usize, a: usize, b: usize, c: usize, v: usize, prm: usize): void {
  // the params: p0..p2 here, all of them through param(prm, q)
  const p0 = load<i32>(prm), p1 = load<i32>(prm, 4), p2 = load<i32>(prm, 8);
  switch (op) {
    case OP_ADD: addFwd(o, a, b, p0); break;
    case OP_SUB: subFwd(o, a, b, p0); break;
    case OP_MUL: mulFwd(o, a, b, p0); break;
    case OP_DIV: divFwd(o, a, b, p0); break;
    case OP_NEG: negFwd(o, a, p0); break;
    case OP_EXP: expFwd(o, a, p0); break;
    case OP_LOG: logFwd(o, a, p0); break;
    case OP_LOG1P: log1pFwd(o, a, p0); break;
    case OP_SQRT: sqrtFwd(o, a, p0); break;
    case OP_SQUARE: squareFwd(o, a, p0); break;
    case OP_ABS: absFwd(o, a, p0); break;
    case OP_SIGMOID: sigmoidFwd(o, a, p0); break;
    case OP_TANH: tanhFwd(o, a, p0); break;
    case OP_RELU: reluFwd(o, a, p0); break;
    case OP_SOFTPLUS: softplusFwd(o, a, p0); break;
    case OP_POW: powFwd(o, a, load<f64>(b), p0); break;
    case OP_BROADCAST: broadcastFwd(o, a, p0, p1, p2); break;
    case OP_SUM: sumFwd(o, a, p0, p1, p2); break;
    case OP_LOGSUMEXP: logsumexpFwd(o, a, p0, p1, p2); break;
    case OP_MATMUL:
      if (p2 == 1) matvec(o, a, b, p0, p1);
      else gemm(o, p2, a, p1, 1, b, p2, p0, p1, p2, false);
      break;
    case OP_TRANSPOSE: transposeFwd(o, a, p0, p1, p2, prm); break;
    case OP_SOFTMAX_XENT: softmaxXentFwd(o, a, b, at(v, p2), p0, p1); break;
    case OP_ARGMAX: argReduceFwd(o, a, p0, p1, p2, 1); break;
    case OP_ARGMIN: argReduceFwd(o, a, p0, p1, p2, -1); break;
    case OP_ONE_HOT: oneHotFwd(o, a, p0, p1); break;
    case OP_SLICE: sliceFwd(o, a, prm); break;
    case OP_CONCAT: concatFwd(o, a, b, p0, p1, p2, prm); break;
    case OP_GATHER: gatherFwd(o, a, b, p0, p1, p2, prm); break;
    case OP_BATCH_MATMUL: batchMatmulFwd(o, a, b, p0, p1, p2, prm); break;
    default: break; // unreachable: validate() checked the opcode range
  }
}

/** Runs instructions from..nInstr-1 on the value arena. */
export function forward(prog: Program, from: i32): void {
  const v = prog.v;
  for (let i = from; i < prog.nInstr; i++) {
    const w = prog.code + (<usize>(i * INSTR_WIDTH) << 2);
    const bOff = load<i32>(w + (F_B << 2)), cOff = load<i32>(w + (F_C << 2));
    fwdOp(
      load<i32>(w + (F_OP << 2)), at(v, load<i32>(w + (F_OUT << 2))), at(v, load<i32>(w + (F_A << 2))),
      at(v, bOff < 0 ? 0 : bOff), at(v, cOff < 0 ? 0 : cOff), v, w + (F_P0 << 2),
    );
  }
}

/**
 * One instruction's backward rule on explicit addresses: values vo, va, vb, vc, adjoints go (read)
 * and ga, gb, gc (accumulated into as flags say), v the value arena (scratch), prm its params.
 */
export function bwdOp(
  op: i32, flags: i32, vo: usize, va: usize, vb: usize, vc: usize, go: usize, ga: usize, gb: usize, gc: usize, v: usize,
  prm: usize,
): void {
  const p0 = load<i32>(prm), p1 = load<i32>(prm, 4), p2 = load<i32>(prm, 8);
  switch (op) {
    case OP_ADD: addBwd(flags, go, ga, gb, p0); break;
    case OP_SUB: subBwd(flags, go, ga, gb, p0); break;
    case OP_MUL: mulBwd(flags, go, ga, gb, va, vb, p0); break;
    case OP_DIV: divBwd(flags, go, ga, gb, vo, vb, p0); break;
    case OP_NEG: negBwd(go, ga, p0); break;
    case OP_EXP: expBwd(go, ga, va, vo, p0); break;
    case OP_LOG: logBwd(go, ga, va, vo, p0); break;
    case OP_LOG1P: log1pBwd(go, ga, va, vo, p0); break;
    case OP_SQRT: sqrtBwd(go, ga, va, vo, p0); break;
    case OP_SQUARE: squareBwd(go, ga, va, vo, p0); break;
    case OP_ABS: absBwd(go, ga, va, vo, p0); break;
    case OP_SIGMOID: sigmoidBwd(go, ga, va, vo, p0); break;
    case OP_TANH: tanhBwd(go, ga, va, vo, p0); break;
    case OP_RELU: reluBwd(go, ga, va, vo, p0); break;
    case OP_SOFTPLUS: softplusBwd(go, ga, va, vo, p0); break;
    case OP_POW: powBwd(go, ga, va, load<f64>(vb), p0); break;
    case OP_BROADCAST: broadcastBwd(go, ga, p0, p1, p2); break;
    case OP_SUM: sumBwd(go, ga, p0, p1, p2); break;
    case OP_LOGSUMEXP: logsumexpBwd(go, ga, vo, va, p0, p1, p2); break;
    case OP_MATMUL:
      if (p2 == 1) {
        if (flags & FLAG_GRAD_A) outerAcc(ga, go, vb, p0, p1);
        if (flags & FLAG_GRAD_B) rowsAcc(gb, va, go, p0, p1);
      } else {
        if (flags & FLAG_GRAD_A) gemmNT(ga, go, vb, p0, p1, p2);
        // dB [k, n] += A^T [k, m] dC [m, n]: A read by columns
        if (flags & FLAG_GRAD_B) gemm(gb, p2, va, 1, p1, go, p2, p1, p0, p2, true);
      }
      break;
    case OP_TRANSPOSE: transposeBwd(go, ga, p0, p1, p2, prm); break;
    case OP_SOFTMAX_XENT: softmaxXentBwd(flags, go, ga, gb, va, vb, at(v, p2), p0, p1); break;
    case OP_SLICE: sliceBwd(go, ga, prm); break;
    case OP_CONCAT: concatBwd(flags, go, ga, gb, p0, p1, p2, prm); break;
    case OP_GATHER: gatherBwd(flags, go, ga, vb, p0, p1, p2, prm); break;
    case OP_BATCH_MATMUL: batchMatmulBwd(flags, go, ga, gb, va, vb, p0, p1, p2, prm); break;
    // argmax, argmin, one_hot: no gradient flows through an index
    default: break;
  }
}

/** Zeroes the adjoints, seeds d out/d out = 1 and runs the backward rules in reverse order. */
export function backward(prog: Program): void {
  const v = prog.v, g = prog.g;
  memory.fill(g, 0, <usize>prog.nParams << 3);
  memory.fill(at(g, prog.tempStart), 0, <usize>(prog.arenaSize - prog.tempStart) << 3);
  store<f64>(at(g, prog.output), 1.0);
  for (let i = prog.nInstr - 1; i >= 0; i--) {
    const w = prog.code + (<usize>(i * INSTR_WIDTH) << 2);
    const flags = load<i32>(w + (F_FLAGS << 2));
    if ((flags & FLAG_GRAD_OUT) == 0) continue;
    const op = load<i32>(w + (F_OP << 2));
    const oOff = load<i32>(w + (F_OUT << 2)), aOff = load<i32>(w + (F_A << 2));
    let bOff = load<i32>(w + (F_B << 2)), cOff = load<i32>(w + (F_C << 2));
    if (bOff < 0) bOff = 0;
    if (cOff < 0) cOff = 0;
    bwdOp(
      op, flags, at(v, oOff), at(v, aOff), at(v, bOff), at(v, cOff), at(g, oOff), at(g, aOff), at(g, bOff), at(g, cOff), v,
      w + (F_P0 << 2),
    );
  }
}

/**
 * Finite differences: grad[i] (written to adjoint[0, nParams)) = (f(θ + h e_i) - f(θ)) / h or
 * (f(θ + h e_i) - f(θ - h e_i)) / 2h with h = (θ_i + relStep max(1, |θ_i|)) - θ_i. With reuse, a
 * perturbed evaluation re-runs only the instructions from the plan's firstInstr of that parameter
 * (plan triples come sorted by firstInstr descending, see src/trace/compile.ts). The plan is the
 * tape's own or a validated subset of coordinates; grad entries outside it are left 0. Returns f(θ).
 */
export function finiteDifferences(prog: Program, plan: usize, nPlan: i32, central: bool, relStep: f64, reuse: bool): f64 {
  const v = prog.v, g = prog.g;
  forward(prog, 0);
  const out = at(v, prog.output);
  const f0 = load<f64>(out);
  memory.fill(g, 0, <usize>prog.nParams << 3);
  for (let k = 0; k < nPlan; k++) {
    const t = plan + <usize>k * 12;
    const start = load<i32>(t), end = load<i32>(t, 4);
    const from = reuse ? load<i32>(t, 8) : 0;
    for (let i = start; i < end; i++) {
      const xi = at(v, i);
      const x = load<f64>(xi);
      const h = x + relStep * Math.max(1, Math.abs(x)) - x;
      store<f64>(xi, x + h);
      forward(prog, from);
      const fp = load<f64>(out);
      let d: f64;
      if (central) {
        store<f64>(xi, x - h);
        forward(prog, from);
        d = (fp - load<f64>(out)) / (2 * h);
      } else {
        d = (fp - f0) / h;
      }
      store<f64>(at(g, i), d);
      store<f64>(xi, x);
    }
  }
  return f0;
}
