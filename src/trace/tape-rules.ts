import { INSTR_WIDTH } from '../ops/opset.js';

/**
 * The tape validation contract: the rules every backend (js `check-tape.ts`, wasm
 * `assembly/program.ts`, native `native/core/program.cpp`) applies to a tape before it runs it,
 * in this order, with these messages. The C++ and AssemblyScript tables (rule numbers and texts)
 * are generated from this list by `npm run gen`, like the opcode tables; test/validation.test.ts
 * feeds the same crafted tapes to every backend and expects the same rule named.
 *
 * Why each rule: outputs and scratch only in the temporaries, so a tape cannot overwrite its
 * parameters, inputs or constants; no output overlapping its operands or scratch, because the
 * kernels read operands while they write and the backward rules read saved values (an
 * overlapping tape gave different results on different backends); every size parameter >= 1, so
 * the operand extents (all inside the arena) bound every kernel's loops and a crafted tape cannot
 * spin for minutes over empty operands.
 */
export const TAPE_RULES = [
  // the layout: checked before any instruction
  {
    id: 'layout_sizes',
    text: 'nInstr, nParams, nInputs, constStart, tempStart, arenaSize and output must be integers in [0, 2^31)',
  },
  { id: 'layout_code', text: `code must hold nInstr * ${INSTR_WIDTH} words` },
  {
    id: 'layout_regions',
    text: 'the arena regions do not line up (constStart = nParams + nInputs, tempStart = constStart + constInit.length <= arenaSize)',
  },
  { id: 'layout_inputs', text: 'inputSizes must be >= 0 and sum to nInputs' },
  { id: 'layout_output', text: 'the result offset is outside the arena' },
  { id: 'layout_outputs', text: 'outputs must be (offset, size) pairs inside the temporaries' },
  // each instruction, in this order
  { id: 'opcode', text: 'unknown opcode' },
  { id: 'flags', text: 'unknown flag bits' },
  { id: 'grad_operand', text: 'gradB or gradC is set on an op without that operand' },
  { id: 'size', text: 'a size parameter is below 1, another parameter is negative, or an unused one is not 0' },
  { id: 'limit', text: 'a parameter is out of its range (an offset past the end of its operand)' },
  { id: 'out', text: 'the output reaches outside the temporaries' },
  { id: 'a', text: 'operand a reaches outside the arena' },
  { id: 'b', text: 'operand b reaches outside the arena' },
  { id: 'c', text: 'operand c reaches outside the arena' },
  { id: 'extra', text: 'the scratch region reaches outside the temporaries' },
  { id: 'out_overlap', text: 'the output overlaps an operand' },
  { id: 'extra_overlap', text: 'the scratch region overlaps the output or an operand' },
] as const;

export type TapeRuleId = (typeof TAPE_RULES)[number]['id'];

/** Rule number of each id (the index in TAPE_RULES; the generated tables use the same numbers). */
export const RULE = Object.fromEntries(TAPE_RULES.map((r, i) => [r.id, i])) as Readonly<Record<TapeRuleId, number>>;

/** The message of a broken rule, the same on every backend: `instruction 3 (mul): the output ...`. */
export function ruleMessage(rule: number, instruction = -1, opName = ''): string {
  const text = TAPE_RULES[rule]?.text ?? `rule ${rule}`;
  return instruction < 0 ? text : `instruction ${instruction}${opName ? ` (${opName})` : ''}: ${text}`;
}
