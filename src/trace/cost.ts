import { Field, Flag, INSTR_WIDTH, MAX_PARAMS, OPS, sizeOf, type Params } from '../ops/opset.js';
import type { Tape } from './compile.js';

export type Method = 'reverse' | 'forward' | 'fd-forward' | 'fd-central';
export const METHODS: readonly Method[] = ['reverse', 'forward', 'fd-forward', 'fd-central'];

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

/**
 * FLOPs of each instruction: forward, backward (only the adjoints the flags ask for) and tangent
 * (forward mode, by the op's tangent mode: OpDef.tangent).
 */
export function instructionFlops(tape: Tape): { fwd: Float64Array; bwd: Float64Array; tangent: Float64Array } {
  const fwd = new Float64Array(tape.nInstr);
  const bwd = new Float64Array(tape.nInstr);
  const tangent = new Float64Array(tape.nInstr);
  const grads = [Flag.gradA, Flag.gradB, Flag.gradC];
  for (let i = 0; i < tape.nInstr; i++) {
    const w = tape.code.subarray(i * INSTR_WIDTH, (i + 1) * INSTR_WIDTH);
    const def = OPS[w[Field.op]];
    const p: Params = Array.from(w.subarray(Field.p0, Field.p0 + MAX_PARAMS));
    fwd[i] = def.flops.fwd(p);
    const flags = w[Field.flags];
    if (!(flags & Flag.gradOut)) continue;
    const flagged = grads.map((g, k) => (flags & g ? k : -1)).filter((k) => k >= 0);
    for (const k of flagged) bwd[i] += def.flops.bwd[k]?.(p) ?? 0;
    if (def.tangent === 'diagonal') tangent[i] = bwd[i];
    else if (def.tangent === 'linear') tangent[i] = fwd[i];
    else if (def.tangent === 'bilinear')
      // one forward rule per term, and adding the second term into the first
      tangent[i] = flagged.length * fwd[i] + (flagged.length > 1 ? sizeOf(def.extent.out.map((q) => p[q])) : 0);
    else if (def.tangent === 'custom') tangent[i] = def.flops.tangent?.(p) ?? 0;
  }
  return { fwd, bwd, tangent };
}

/**
 * `value`: one evaluation. `reverse`: one evaluation plus the backward sweep. `forward`: one
 * evaluation plus N tangent sweeps (forward-mode AD, one per parameter). `fd-forward`: the value
 * plus N perturbed evaluations; `fd-central`: the value plus 2N. With `reuse` (the default) each
 * tangent sweep or perturbed evaluation costs only the tape suffix that its parameter reaches.
 */
export function costOf(tape: Tape, method: Method | 'value', reuse = true): Cost {
  const { fwd, bwd, tangent } = instructionFlops(tape);
  const suffixOf = (per: Float64Array) => {
    const suffix = new Float64Array(tape.nInstr + 1);
    for (let i = tape.nInstr - 1; i >= 0; i--) suffix[i] = suffix[i + 1] + per[i];
    return suffix;
  };
  const suffix = suffixOf(method === 'forward' ? tangent : fwd);
  const value = fwd.reduce((s, x) => s + x, 0);
  let flops = value;
  let evaluations = 1;
  if (method === 'reverse') flops += bwd.reduce((s, x) => s + x, 0);
  if (method === 'forward' || method === 'fd-forward' || method === 'fd-central') {
    const runs = method === 'fd-central' ? 2 : 1;
    for (let k = 0; k < tape.fdPlan.length; k += 3) {
      const [start, end, first] = [tape.fdPlan[k], tape.fdPlan[k + 1], tape.fdPlan[k + 2]];
      flops += runs * (end - start) * (reuse ? suffix[first] : suffix[0]);
    }
    evaluations += runs * tape.nParams;
  }
  return { evaluations, flops, relative: value > 0 ? flops / value : evaluations };
}
