import { Field, Flag, INSTR_WIDTH, MAX_PARAMS, OPS, type Params } from '../ops/opset.js';
import type { Tape } from './compile.js';

export type Method = 'reverse' | 'fd-forward' | 'fd-central';
export const METHODS: readonly Method[] = ['reverse', 'fd-forward', 'fd-central'];

/**
 * Static cost of one call, from shapes alone (FLOP conventions in ops/opset.ts).
 * `evaluations` counts forward evaluations of f, whole or (with suffix reuse) partial;
 * `flops` counts every FLOP of the call; `relative` is flops / the FLOPs of one evaluation.
 */
export interface Cost {
  readonly evaluations: number;
  readonly flops: number;
  readonly relative: number;
}

/** FLOPs of each instruction: forward, and backward (only the adjoints the flags ask for). */
export function instructionFlops(tape: Tape): { fwd: Float64Array; bwd: Float64Array } {
  const fwd = new Float64Array(tape.nInstr);
  const bwd = new Float64Array(tape.nInstr);
  for (let i = 0; i < tape.nInstr; i++) {
    const w = tape.code.subarray(i * INSTR_WIDTH, (i + 1) * INSTR_WIDTH);
    const def = OPS[w[Field.op]];
    const p: Params = Array.from(w.subarray(Field.p0, Field.p0 + MAX_PARAMS));
    fwd[i] = def.flops.fwd(p);
    const flags = w[Field.flags];
    if (flags & Flag.gradOut) {
      if (flags & Flag.gradA) bwd[i] += def.flops.bwd[0](p);
      if (flags & Flag.gradB) bwd[i] += def.flops.bwd[1]?.(p) ?? 0;
      if (flags & Flag.gradC) bwd[i] += def.flops.bwd[2]?.(p) ?? 0;
    }
  }
  return { fwd, bwd };
}

/**
 * `value`: one evaluation. `reverse`: one evaluation plus the backward sweep. `fd-forward`: the
 * value plus N perturbed evaluations; `fd-central`: the value plus 2N. With `reuse` (the default)
 * each perturbed evaluation costs only the tape suffix that its parameter reaches.
 */
export function costOf(tape: Tape, method: Method | 'value', reuse = true): Cost {
  const { fwd, bwd } = instructionFlops(tape);
  const suffix = new Float64Array(tape.nInstr + 1);
  for (let i = tape.nInstr - 1; i >= 0; i--) suffix[i] = suffix[i + 1] + fwd[i];
  const value = suffix[0];
  let flops = value;
  let evaluations = 1;
  if (method === 'reverse') flops += bwd.reduce((s, x) => s + x, 0);
  if (method === 'fd-forward' || method === 'fd-central') {
    const runs = method === 'fd-central' ? 2 : 1;
    for (let k = 0; k < tape.fdPlan.length; k += 3) {
      const [start, end, first] = [tape.fdPlan[k], tape.fdPlan[k + 1], tape.fdPlan[k + 2]];
      flops += runs * (end - start) * (reuse ? suffix[first] : value);
    }
    evaluations += runs * tape.nParams;
  }
  return { evaluations, flops, relative: value > 0 ? flops / value : evaluations };
}
