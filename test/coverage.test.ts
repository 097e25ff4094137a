import { describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';
import { AGREEMENT } from '../src/crosscheck.js';
import { Field, Flag, INSTR_WIDTH, OPS } from '../src/ops/opset.js';
import { BINARY, BINARY_EDGES, SELECTION, WHERE } from './cases/binary.js';
import type { Case } from './cases/case.js';
import { ELEMENTWISE } from './cases/elementwise.js';
import { LOSS } from './cases/loss.js';
import { MATMUL } from './cases/matmul.js';
import { REDUCE } from './cases/reduce.js';
import { CONV } from './cases/conv.js';
import { EXTREMUM } from './cases/extremum.js';
import { STRUCTURE } from './cases/structure.js';
import { describeEachBackend, expectClose, expectVector } from './harness.js';

const ALL: readonly Case[] = [
  ...ELEMENTWISE,
  ...BINARY,
  ...BINARY_EDGES,
  ...SELECTION,
  ...WHERE,
  ...REDUCE,
  ...MATMUL,
  ...LOSS,
  ...CONV,
  ...EXTREMUM,
  ...STRUCTURE,
];

/** The cases whose tape uses each op (with the op in the backward sweep too, where it has one). */
function casesByOp(): Map<string, Case[]> {
  const by = new Map<string, Case[]>(OPS.map((o) => [o.name, []]));
  for (const c of ALL) {
    const { code, nInstr } = c.f().tape;
    for (let i = 0; i < nInstr; i++) by.get(OPS[code[i * INSTR_WIDTH + Field.op]].name)!.push(c);
  }
  return by;
}

describe('coverage', () => {
  it('every op of the op set is used by at least one conformance case', () => {
    const missing = [...casesByOp()].filter(([, cs]) => cs.length === 0).map(([op]) => op);
    expect(missing, 'ops without a conformance case').toEqual([]);
  });
});

// A backend that lacks a kernel fails here with the op's name, before the family files run it:
// each op's value, reverse gradient and central differences against the js reference. The case
// chosen is one where the op takes part in the backward sweep when any case has it there.
describeEachBackend('every op has a kernel that agrees with js', (be) => {
  for (const [op, cases] of casesByOp()) {
    const inSweep = cases.find((c) => {
      const { code, nInstr } = c.f().tape;
      for (let i = 0; i < nInstr; i++)
        if (OPS[code[i * INSTR_WIDTH + Field.op]].name === op && code[i * INSTR_WIDTH + Field.flags] & Flag.gradOut)
          return true;
      return false;
    });
    const k = inSweep ?? cases[0];
    it(op, async () => {
      const c = be().compile(k.f());
      const ref = (await backend('js')).compile(k.f());
      try {
        expectClose(c.value(k.params, k.inputs), ref.value(k.params, k.inputs), AGREEMENT.reverse, `${op}: value`);
        for (const method of ['reverse', 'fd-central'] as const) {
          const got = c.grad(k.params, k.inputs, { method });
          const want = ref.grad(k.params, k.inputs, { method });
          expectVector(c.flatten(got.grad), ref.flatten(want.grad), AGREEMENT[method], `${op}: ${method} gradient`);
        }
      } finally {
        c.dispose();
        ref.dispose();
      }
    });
  }
});
