/**
 * The tape interpreter: the forward sweep, the reverse sweep and the finite-difference loops, each
 * one call from JS. Instructions were validated when the tape was loaded (program.ts), so every
 * operand extent lies inside the tape's arenas.
 */
import { runBwd, runFwd } from './generated/dispatch';
import { F_A, F_B, F_C, F_FLAGS, F_OP, F_OUT, F_P0, FLAG_GRAD_OUT, INSTR_WIDTH } from './opcodes';
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
  runFwd(op, o, a, b, c, prm, v); // every opcode's kernel, by name (assembly/generated/dispatch.ts)
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
  runBwd(op, flags, go, ga, gb, gc, vo, va, vb, vc, prm, v);
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
