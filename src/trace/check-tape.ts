import { Field, INSTR_WIDTH, OPS, type Extent } from '../ops/opset.js';
import type { Tape } from './compile.js';

const extent = (e: Extent, p: readonly number[]) => e.reduce((s: number, i) => s * p[i], 1);

/**
 * Throws unless every instruction of the tape stays inside its arena: the same rules the native
 * and wasm backends apply (from the generated extent tables) before they run a tape.
 */
export function checkTape(t: Tape): void {
  const fail = (why: string) => { throw new Error(`invalid tape: ${why}`); };
  const int = (x: number) => Number.isInteger(x) && x >= 0;
  if (![t.nInstr, t.nParams, t.nInputs, t.constStart, t.tempStart, t.arenaSize].every(int)) fail('negative or fractional sizes');
  if (t.code.length !== t.nInstr * INSTR_WIDTH) fail(`code has ${t.code.length} words for ${t.nInstr} instructions`);
  if (t.constStart !== t.nParams + t.nInputs || t.tempStart !== t.constStart + t.constInit.length || t.tempStart > t.arenaSize)
    fail('the arena regions do not line up');
  if (t.inputSizes.reduce((s, n) => s + n, 0) !== t.nInputs) fail('input sizes do not add up to nInputs');
  if (!int(t.output) || t.output >= t.arenaSize) fail(`output ${t.output} is outside the arena`);
  const inside = (what: string, at: number, size: number, from = 0) => {
    if (!Number.isInteger(at) || at < from || at + size > t.arenaSize) fail(what);
  };
  for (let i = 0; i < t.nInstr; i++) {
    const w = t.code.subarray(i * INSTR_WIDTH, (i + 1) * INSTR_WIDTH);
    const def = OPS[w[Field.op]];
    if (!def) fail(`instruction ${i}: unknown opcode ${w[Field.op]}`);
    const p = [w[Field.p0], w[Field.p1], w[Field.p2]];
    if (!p.every(int)) fail(`instruction ${i} (${def.name}): negative parameter`);
    const at = `instruction ${i} (${def.name})`;
    inside(`${at} writes outside the temporaries`, w[Field.out], extent(def.extent.out, p), t.tempStart);
    inside(`${at} reads a outside the arena`, w[Field.a], extent(def.extent.a, p));
    if (def.extent.b) inside(`${at} reads b outside the arena`, w[Field.b], extent(def.extent.b, p));
    const x = def.extent.extra;
    if (x) inside(`${at} uses scratch outside the temporaries`, p[x.at], extent(x.size, p), t.tempStart);
  }
  if (t.outputs.length % 2 !== 0) fail('outputs is not a list of (offset, size) pairs');
  for (let k = 0; k < t.outputs.length; k += 2) inside(`output ${k / 2} is outside the temporaries`, t.outputs[k], t.outputs[k + 1], t.tempStart);
  if (t.indexChecks.length % 2 !== 0) fail('indexChecks is not a list of (input, classes) pairs');
  for (let k = 0; k < t.indexChecks.length; k += 2)
    if (!(t.indexChecks[k] >= 0 && t.indexChecks[k] < t.inputSizes.length)) fail(`indexChecks names input ${t.indexChecks[k]}`);
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
