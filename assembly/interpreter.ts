/**
 * The tape interpreter: the forward sweep, the reverse sweep and the finite-difference loops, each
 * one call from JS. Instructions were validated when the tape was loaded (program.ts), so every
 * operand extent lies inside the tape's arenas.
 */
import { runBwd, runFwd } from './generated/dispatch';
import { fwdMatmulFast } from './kernels/ops';
import { F_A, F_B, F_C, F_FLAGS, F_OP, F_OUT, F_P0, FLAG_GRAD_OUT, INSTR_WIDTH, OP_MATMUL, OP_TANH } from './opcodes';
import { tanhFastFwd } from './vfast';
import { Program } from './program';
import { ld, st } from './elem';

// @ts-ignore: decorator
@inline function at<T>(base: usize, offset: i32): usize {
  return base + (<usize>offset << alignof<T>());
}

/** Parameter q of an instruction whose params start at prm. */
// @ts-ignore: decorator
@inline export function param(prm: usize, q: i32): i32 {
  return load<i32>(prm + (<usize>q << 2));
}

/**
 * One instruction's forward rule on explicit addresses: out o, operands a, b, c (an absent one
 * points anywhere valid), v the value arena (scratch regions live there), prm its params. The
 * tangent sweep (tangent.ts) calls it with tangent addresses. exact (the default): every forward
 * rule reproduces the reference bit for bit (finite differences divide f's rounding by h);
 * otherwise (value() and reverse(), where the bar is agreement to 1e-12) matmul may fuse its
 * multiply-adds (kernels/ops.ts) and tanh runs vfast.ts's form (within 4 ulp).
 */
export function fwdOp<T>(op: i32, o: usize, a: usize, b: usize, c: usize, v: usize, prm: usize, exact: bool = true): void {
  if (!exact) {
    if (op == OP_MATMUL) return fwdMatmulFast<T>(o, a, b, prm);
    if (op == OP_TANH) return tanhFastFwd<T>(o, a, load<i32>(prm));
  }
  runFwd<T>(op, o, a, b, c, prm, v); // every opcode's kernel, by name (assembly/generated/dispatch.ts)
}

/** Runs instructions from..nInstr-1 on the value arena (exact: see fwdOp). */
export function forward<T>(prog: Program, from: i32, exact: bool = true): void {
  const v = prog.v;
  for (let i = from; i < prog.nInstr; i++) {
    const w = prog.code + (<usize>(i * INSTR_WIDTH) << 2);
    const bOff = load<i32>(w + (F_B << 2)), cOff = load<i32>(w + (F_C << 2));
    fwdOp<T>(
      load<i32>(w + (F_OP << 2)), at<T>(v, load<i32>(w + (F_OUT << 2))), at<T>(v, load<i32>(w + (F_A << 2))),
      at<T>(v, bOff < 0 ? 0 : bOff), at<T>(v, cOff < 0 ? 0 : cOff), v, w + (F_P0 << 2), exact,
    );
  }
}

/**
 * One instruction's backward rule on explicit addresses: values vo, va, vb, vc, adjoints go (read)
 * and ga, gb, gc (accumulated into as flags say), v the value arena (scratch), prm its params.
 */
export function bwdOp<T>(
  op: i32, flags: i32, vo: usize, va: usize, vb: usize, vc: usize, go: usize, ga: usize, gb: usize, gc: usize, v: usize,
  prm: usize,
): void {
  runBwd<T>(op, flags, go, ga, gb, gc, vo, va, vb, vc, prm, v);
}

/** Zeroes the adjoints, seeds d out/d out = 1 and runs the backward rules in reverse order. */
export function backward<T>(prog: Program): void {
  const v = prog.v, g = prog.g;
  memory.fill(g, 0, <usize>prog.nParams << alignof<T>());
  memory.fill(at<T>(g, prog.tempStart), 0, <usize>(prog.arenaSize - prog.tempStart) << alignof<T>());
  st<T>(at<T>(g, prog.output), 1.0);
  for (let i = prog.nInstr - 1; i >= 0; i--) {
    const w = prog.code + (<usize>(i * INSTR_WIDTH) << 2);
    const flags = load<i32>(w + (F_FLAGS << 2));
    if ((flags & FLAG_GRAD_OUT) == 0) continue;
    const op = load<i32>(w + (F_OP << 2));
    const oOff = load<i32>(w + (F_OUT << 2)), aOff = load<i32>(w + (F_A << 2));
    let bOff = load<i32>(w + (F_B << 2)), cOff = load<i32>(w + (F_C << 2));
    if (bOff < 0) bOff = 0;
    if (cOff < 0) cOff = 0;
    bwdOp<T>(
      op, flags, at<T>(v, oOff), at<T>(v, aOff), at<T>(v, bOff), at<T>(v, cOff), at<T>(g, oOff), at<T>(g, aOff), at<T>(g, bOff), at<T>(g, cOff), v,
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
export function finiteDifferences<T>(prog: Program, plan: usize, nPlan: i32, central: bool, relStep: f64, reuse: bool): f64 {
  const v = prog.v, g = prog.g;
  forward<T>(prog, 0);
  const out = at<T>(v, prog.output);
  const f0 = ld<T>(out);
  memory.fill(g, 0, <usize>prog.nParams << alignof<T>());
  for (let k = 0; k < nPlan; k++) {
    const t = plan + <usize>k * 12;
    const start = load<i32>(t), end = load<i32>(t, 4);
    const from = reuse ? load<i32>(t, 8) : 0;
    for (let i = start; i < end; i++) {
      const xi = at<T>(v, i);
      const x = ld<T>(xi);
      // the step actually taken: the perturbed value as stored (rounded to T), minus x
      const h = <f64>(<T>(x + relStep * Math.max(1, Math.abs(x)))) - x;
      st<T>(xi, x + h);
      forward<T>(prog, from);
      const fp = ld<T>(out);
      let d: f64;
      if (central) {
        st<T>(xi, x - h);
        forward<T>(prog, from);
        d = (fp - ld<T>(out)) / (2 * h);
      } else {
        d = (fp - f0) / h;
      }
      st<T>(at<T>(g, i), d);
      st<T>(xi, x);
    }
  }
  return f0;
}
