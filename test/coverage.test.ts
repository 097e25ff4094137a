import { describe, expect, it } from 'vitest';
import { Field, INSTR_WIDTH, OPS } from '../src/ops/opset.js';
import { BINARY, BINARY_EDGES } from './cases/binary.js';
import type { Case } from './cases/case.js';
import { ELEMENTWISE } from './cases/elementwise.js';
import { LOSS } from './cases/loss.js';
import { MATMUL } from './cases/matmul.js';
import { REDUCE } from './cases/reduce.js';
import { STRUCTURE } from './cases/structure.js';
import { describeEachBackend } from './harness.js';

const ALL: readonly Case[] = [...ELEMENTWISE, ...BINARY, ...BINARY_EDGES, ...REDUCE, ...MATMUL, ...LOSS, ...STRUCTURE];

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

// A backend that lacks a kernel fails here with the op's name, before the family files run it.
describeEachBackend('every op has a kernel', (be) => {
  for (const [op, cases] of casesByOp()) {
    it(op, () => {
      const c = be().compile(cases[0].f());
      try {
        const r = c.grad(cases[0].params, cases[0].inputs);
        expect(typeof r.value).toBe('number');
      } finally {
        c.dispose();
      }
    });
  }
});
