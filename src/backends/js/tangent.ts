import type { FloatArray } from '../../api/dtype.js';
import { Field, Flag, INSTR_WIDTH, OPS, sizeOf, type OpDef } from '../../ops/opset.js';
import type { Tape } from '../../trace/compile.js';
import { lseParts, type Kernel } from './kernels.js';
import { SELECTION_TANGENTS } from './selection-tangent.js';

/**
 * Forward mode on the js backend: the tangent sweep. The tangent arena `t` has the value arena's
 * layout (t[i] = d v[i] / d direction); parameters hold the direction, inputs and constants 0.
 * Each instruction that takes part in differentiation (gradOut) gets its output tangent by its
 * op's tangent mode (OpDef.tangent), from the rules the op already has:
 * - diagonal: the backward rule with the operand's tangent as the output adjoint (J = J^T);
 * - linear: the forward rule on the tangent arena;
 * - bilinear: the forward rule with one operand replaced by its tangent, per operand with a
 *   gradient, summed;
 * - custom: a tangent rule of the op's own (below).
 */

/** A custom tangent rule: writes t[o..] from values v and operand tangents t, as `flags` says. */
export type TangentRule = (
  v: FloatArray,
  t: FloatArray,
  flags: number,
  o: number,
  a: number,
  b: number,
  p0: number,
  p1: number,
  p2: number,
  p: Int32Array,
) => void;

export const TANGENT_RULES: Readonly<Record<string, TangentRule>> = {
  ...SELECTION_TANGENTS,
  // out' = sum_j exp(a - out) a', with exp(a - out) as exp((a - m) - l), as the backward rule
  logsumexp(v, t, _f, o, a, _b, outer, n, inner) {
    for (let s = 0; s < outer; s++)
      for (let i = 0; i < inner; i++) {
        let [m, l] = lseParts(v, a + s * n * inner + i, n, inner);
        if (Number.isNaN(l)) [m, l] = [v[o + s * inner + i], 0];
        let d = 0;
        for (let j = 0; j < n; j++) {
          const at = a + (s * n + j) * inner + i;
          d += Math.exp(v[at] - m - l) * t[at];
        }
        t[o + s * inner + i] = d;
      }
  },
  // per row: (sum_c b)(sum_c p a') - sum_c b a' for a, and sum_c b' (lse - a) for b
  softmax_xent(v, t, f, o, a, b, rows, c, probs) {
    for (let r = 0; r < rows; r++) {
      const z = a + r * c,
        y = b + r * c,
        p = probs + r * c;
      let d = 0;
      if (f & Flag.gradA) {
        let sy = 0,
          pz = 0,
          yz = 0;
        for (let j = 0; j < c; j++) {
          sy += v[y + j];
          pz += v[p + j] * t[z + j];
          yz += v[y + j] * t[z + j];
        }
        d += sy * pz - yz;
      }
      if (f & Flag.gradB) {
        let m = -Infinity;
        for (let j = 0; j < c; j++) if (v[z + j] > m) m = v[z + j];
        let s = 0;
        for (let j = 0; j < c; j++) s += Math.exp(v[z + j] - m);
        const ls = Math.log(s);
        for (let j = 0; j < c; j++) d += t[y + j] * (m - v[z + j] + ls);
      }
      t[o + r] = d;
    }
  },
};

const OPERANDS = [
  [Field.a, Flag.gradA],
  [Field.b, Flag.gradB],
  [Field.c, Flag.gradC],
] as const;

/** What a tangent sweep needs of each instruction, computed once per program: op and extents. */
export interface TangentPlan {
  readonly defs: readonly OpDef[];
  /** elements of out, a, b, c and the extra region, per instruction (0: no such operand) */
  readonly sizes: readonly (readonly number[])[];
  /** the largest operand of a bilinear instruction (m holds it past the arena) */
  readonly scratch: number;
}

export function tangentPlan(tape: Tape, params: readonly Int32Array[]): TangentPlan {
  const defs: OpDef[] = [];
  const sizes: number[][] = [];
  let scratch = 0;
  for (let i = 0; i < tape.nInstr; i++) {
    const def = OPS[tape.code[i * INSTR_WIDTH + Field.op]];
    if (def.tangent === 'custom' && !TANGENT_RULES[def.name])
      throw new Error(`js backend: no tangent rule for op '${def.name}'`);
    const p = params[i];
    const x = def.extent;
    const n = [x.out, x.a, x.b, x.c, x.extra?.size].map((e) => (e ? sizeOf(e.map((q) => p[q])) : 0));
    if (def.tangent === 'bilinear') scratch = Math.max(scratch, n[1], n[2], n[3]);
    defs.push(def);
    sizes.push(n);
  }
  return { defs, sizes, scratch };
}

/**
 * Runs the tangent sweep of instructions from..nInstr-1 over the values `v` (a forward sweep has
 * filled them). `g` is scratch of the arena's size (the adjoint arena, unused meanwhile) and `m`
 * scratch of the arena's size plus plan.scratch: a bilinear term reads one operand's tangent from
 * m past the arena, so it never overwrites the other operand's values (x.matmul(x)).
 */
export function tangentSweep(
  tape: Tape,
  plan: TangentPlan,
  kernels: readonly Kernel[],
  params: readonly Int32Array[],
  v: FloatArray,
  t: FloatArray,
  g: FloatArray,
  m: FloatArray,
  from: number,
): void {
  const code = tape.code;
  for (let i = from; i < tape.nInstr; i++) {
    const w = i * INSTR_WIDTH;
    const flags = code[w + Field.flags];
    if (!(flags & Flag.gradOut)) continue;
    const def = plan.defs[i];
    const [nOut, ...sizes] = plan.sizes[i]; // a, b, c, extra
    const p = params[i];
    const k = kernels[i];
    const o = code[w + Field.out],
      a = code[w + Field.a],
      b = code[w + Field.b],
      c = code[w + Field.c];
    if (def.tangent === 'linear') k.fwd(t, o, a, b, p[0], p[1], p[2], c, p);
    else if (def.tangent === 'custom') TANGENT_RULES[def.name](v, t, flags, o, a, b, p[0], p[1], p[2], p);
    else if (def.tangent === 'diagonal') {
      t.fill(0, o, o + nOut);
      for (let q = 0; q < 3; q++) {
        const [field, grad] = OPERANDS[q];
        // an operand of another size (pow's scalar exponent) takes no gradient
        if (!(flags & grad) || sizes[q] !== nOut) continue;
        const x = code[w + field];
        g.set(t.subarray(x, x + nOut), o); // the operand's tangent as the output adjoint
        g.fill(0, x, x + nOut);
        k.bwd(v, g, grad | Flag.gradOut, o, a, b, p[0], p[1], p[2], c, p);
        for (let j = 0; j < nOut; j++) t[o + j] += g[x + j];
      }
    } else if (def.tangent === 'bilinear') {
      t.fill(0, o, o + nOut);
      const at = tape.arenaSize; // where the tangent operand goes in m
      for (let q = 0; q < 3; q++) {
        const [field, grad] = OPERANDS[q];
        if (!(flags & grad)) continue;
        const offs = [a, b, c];
        // m holds the values of the other operands and this one's tangent past the arena
        for (let r = 0; r < 3; r++)
          if (r !== q && offs[r] >= 0) m.set(v.subarray(offs[r], offs[r] + sizes[r]), offs[r]);
        const x = code[w + field];
        m.set(t.subarray(x, x + sizes[q]), at);
        offs[q] = at;
        if (def.extent.extra) {
          const e = p[def.extent.extra.at];
          m.set(v.subarray(e, e + sizes[3]), e);
        }
        k.fwd(m, o, offs[0], offs[1], p[0], p[1], p[2], offs[2], p);
        for (let j = 0; j < nOut; j++) t[o + j] += m[o + j];
      }
    }
  }
}
