import { Field, Flag, INSTR_WIDTH, MAX_PARAMS, OPS, sizeParams, type Extent } from '../ops/opset.js';
import type { Tape } from './compile.js';
import { RULE, ruleMessage } from './tape-rules.js';
import { isFloat64Array, isInt32Array, lengthOf } from '../api/typed-array.js';

const extent = (e: Extent, p: ArrayLike<number>) => e.reduce((s: number, i) => s * p[i], 1);
const MAX_INT32 = 2 ** 31 - 1;
const overlaps = (x: number, lx: number, y: number, ly: number) => lx > 0 && ly > 0 && x < y + ly && y < x + lx;

function fail(rule: number, instruction = -1, opName = ''): never {
  throw new Error(`invalid tape: ${ruleMessage(rule, instruction, opName)}`);
}

/**
 * Throws unless the tape's layout (sizes, code length, arena regions, inputs, result, outputs) is
 * consistent: the first rules of the contract (tape-rules.ts). The wasm backend applies these
 * before it reserves memory; checkTape applies them first.
 */
export function checkLayout(t: Tape): void {
  for (const [key, is, type] of [
    ['code', isInt32Array, 'Int32Array'],
    ['inputSizes', isInt32Array, 'Int32Array'],
    ['constInit', isFloat64Array, 'Float64Array'],
    ['fdPlan', isInt32Array, 'Int32Array'],
    ['outputs', isInt32Array, 'Int32Array'],
  ] as const)
    if (!is(t[key])) throw new TypeError(`invalid tape: tape.${key} must be an ${type}`);
  const int = (x: number) => Number.isInteger(x) && x >= 0 && x <= MAX_INT32;
  if (![t.nInstr, t.nParams, t.nInputs, t.constStart, t.tempStart, t.arenaSize, t.output].every(int))
    fail(RULE.layout_sizes);
  if (lengthOf(t.code) !== t.nInstr * INSTR_WIDTH) fail(RULE.layout_code);
  if (
    t.constStart !== t.nParams + t.nInputs ||
    t.tempStart !== t.constStart + lengthOf(t.constInit) ||
    t.tempStart > t.arenaSize
  )
    fail(RULE.layout_regions);
  let inputs = 0;
  for (const n of t.inputSizes) inputs += n < 0 ? NaN : n;
  if (inputs !== t.nInputs) fail(RULE.layout_inputs);
  if (t.output >= t.arenaSize) fail(RULE.layout_output);
  const o = t.outputs;
  if (lengthOf(o) % 2 !== 0) fail(RULE.layout_outputs);
  for (let k = 0; k < o.length; k += 2)
    if (!(o[k] >= t.tempStart && o[k + 1] >= 0 && o[k] + o[k + 1] <= t.arenaSize)) fail(RULE.layout_outputs);
}

/**
 * Throws unless the tape obeys the validation contract (src/trace/tape-rules.ts), the rules that
 * the native and wasm backends apply from the generated tables before they run a tape: every
 * instruction stays inside its arena, writes only temporaries, overlaps none of its operands, and
 * has every size parameter >= 1.
 */
export function checkTape(t: Tape): void {
  checkLayout(t);
  for (let i = 0; i < t.nInstr; i++) {
    const w = t.code.subarray(i * INSTR_WIDTH, (i + 1) * INSTR_WIDTH);
    const def = OPS[w[Field.op]];
    if (!def) fail(RULE.opcode, i);
    const rule = (r: number) => fail(r, i, def.name);
    const flags = w[Field.flags];
    if (flags & ~(Flag.gradA | Flag.gradB | Flag.gradC | Flag.gradOut)) rule(RULE.flags);
    if ((def.arity < 2 && flags & Flag.gradB) || (def.arity < 3 && flags & Flag.gradC)) rule(RULE.grad_operand);
    const p = w.subarray(Field.p0, Field.p0 + MAX_PARAMS);
    const sizes = sizeParams(def);
    if (p.some((x, q) => x < 0 || (q >= def.params.length && x !== 0) || (x < 1 && sizes.includes(q)))) rule(RULE.size);
    if (def.limits?.some((l) => l.sum.reduce((s, q) => s + p[q], 0) > p[l.max])) rule(RULE.limit);
    const x = def.extent;
    const out = w[Field.out];
    const eOut = extent(x.out, p);
    const inside = (at: number, size: number, from: number) => at >= from && at + size <= t.arenaSize;
    if (!inside(out, eOut, t.tempStart)) rule(RULE.out);
    // the operands a, b, c that the op has: [offset, extent]
    const operands: [number, number][] = [];
    for (const [key, r] of [
      ['a', RULE.a],
      ['b', RULE.b],
      ['c', RULE.c],
    ] as const) {
      const e = x[key];
      if (!e) continue;
      const at = w[Field[key]];
      if (!inside(at, extent(e, p), 0)) rule(r);
      operands.push([at, extent(e, p)]);
    }
    const [at, eX] = x.extra ? [p[x.extra.at], extent(x.extra.size, p)] : [0, 0];
    if (x.extra && !inside(at, eX, t.tempStart)) rule(RULE.extra);
    if (operands.some(([o, e]) => overlaps(out, eOut, o, e))) rule(RULE.out_overlap);
    if (overlaps(at, eX, out, eOut) || operands.some(([o, e]) => overlaps(at, eX, o, e))) rule(RULE.extra_overlap);
  }
  // read by the TS layer only (api/validate.ts checkIndices), never by a backend
  const ix = t.indexChecks;
  if (ix.length % 2 !== 0) throw new Error('invalid tape: indexChecks is not a list of (input, classes) pairs');
  for (let k = 0; k < ix.length; k += 2)
    if (!(ix[k] >= 0 && ix[k] < t.inputSizes.length)) throw new Error(`invalid tape: indexChecks names input ${ix[k]}`);
  checkPlan(t.fdPlan, t);
}

/**
 * Throws unless `plan` is a valid finite-difference plan for the tape: triples (start, end,
 * firstInstr) inside the parameters and the code, firstInstr not increasing (the order that keeps
 * suffix reuse correct).
 */
export function checkPlan(plan: Int32Array, t: Pick<Tape, 'nParams' | 'nInstr'>): void {
  if (plan.length % 3 !== 0) throw new Error('invalid tape: the FD plan is not a list of triples');
  for (let k = 0; k < plan.length; k += 3) {
    const [s, e, f] = [plan[k], plan[k + 1], plan[k + 2]];
    if (!(s >= 0 && s <= e && e <= t.nParams && f >= 0 && f <= t.nInstr && (k === 0 || f <= plan[k - 1])))
      throw new Error(`invalid tape: FD plan entry ${k / 3} (${s}, ${e}, ${f}) is out of range or out of order`);
  }
}
