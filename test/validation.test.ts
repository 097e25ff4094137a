/**
 * One validation contract on every backend (src/trace/tape-rules.ts): the same crafted bad
 * tapes, each refused by every backend with an error naming the rule it breaks; the same good
 * tapes accepted. Then the checks of a call: lengths read from the array itself (a spoofed
 * `length` must not pass), a finite-difference step that cannot vanish, size limits named at
 * define time, and nothing usable after dispose().
 */
import { describe, expect, it } from 'vitest';
import { concat, define, softmaxCrossEntropy, where, OPS, type Defined } from '../src/index.js';
import { Field, INSTR_WIDTH, OPCODE } from '../src/ops/opset.js';
import type { Tape } from '../src/trace/compile.js';
import { load } from '../src/backends/registry.js';
import { TAPE_RULES, type TapeRuleId } from '../src/trace/tape-rules.js';
import { ELEMENTWISE } from './cases/elementwise.js';
import { BINARY, SELECTION, WHERE } from './cases/binary.js';
import { REDUCE } from './cases/reduce.js';
import { CONV } from './cases/conv.js';
import { EXTREMUM } from './cases/extremum.js';
import { MATMUL } from './cases/matmul.js';
import { LOSS } from './cases/loss.js';
import { STRUCTURE } from './cases/structure.js';
import { describeEachBackend, expectClose, random } from './harness.js';

/** x A + b, exp, sum, times 2: matmul, add, exp, sum, mul */
const T = define({ params: { A: [3, 4], b: [4] }, inputs: { x: [3] } }, (p, i) =>
  i.x.matmul(p.A).add(p.b).exp().sum().mul(2),
).tape;
/** b + x A: an add whose operand b is a temporary */
const T2 = define({ params: { A: [3, 4], b: [4] }, inputs: { x: [3] } }, (p, i) =>
  p.b.add(i.x.matmul(p.A)).exp().sum(),
).tape;
/** softmax cross-entropy: an op with a scratch region (p2) */
const L = define({ params: { z: [2, 3] }, inputs: { y: [2, 3] } }, (p, i) => softmaxCrossEntropy(p.z, i.y).sum()).tape;
/** where(c, x, y): an op with operand c */
const W = define({ params: { x: [4], y: [4] }, inputs: { c: [4] } }, (p, i) => where(i.c, p.x, p.y).sum()).tape;
/** a scalar broadcast to [4] */
const B = define({ params: { a: [] }, inputs: { x: [4] } }, (p, i) => p.a.mul(i.x).sum()).tape;
/** a slice of [3,4] (params: dims p0..p5, begins p6..p11, sizes p12..p17; the last axis in p5, p11, p17) and a concat */
const S = define({ params: { a: [3, 4] } }, (p) => concat([p.a.slice([0, 1], [3, 2]), p.a], 1).sum()).tape;

/** index of the first instruction with this op */
function find(t: Tape, op: string): number {
  for (let i = 0; i < t.nInstr; i++) if (t.code[i * INSTR_WIDTH + Field.op] === OPCODE[op]) return i;
  throw new Error(`no ${op} in the tape`);
}
const word = (t: Tape, op: string, field: keyof typeof Field) => t.code[find(t, op) * INSTR_WIDTH + Field[field]];
/** the tape with instruction `op`'s fields replaced */
function edit(t: Tape, op: string, fields: Partial<Record<keyof typeof Field, number>>): Tape {
  const code = t.code.slice();
  const at = find(t, op) * INSTR_WIDTH;
  for (const [k, v] of Object.entries(fields)) code[at + Field[k as keyof typeof Field]] = v;
  return { ...t, code };
}

/** the tape with params p<q> of instruction `op` replaced */
function editP(t: Tape, op: string, params: Record<number, number>): Tape {
  const code = t.code.slice();
  const at = find(t, op) * INSTR_WIDTH + Field.p0;
  for (const [q, v] of Object.entries(params)) code[at + Number(q)] = v;
  return { ...t, code };
}

const BIG = 2 ** 31 - 1;
/** [what, the rule it breaks, the instruction it breaks it at (-1: the layout), the tape] */
const BAD: readonly [string, TapeRuleId, number, Tape][] = [
  ['nParams past int32', 'layout_sizes', -1, { ...T, nParams: 2 ** 31 }],
  ['a fractional arena size', 'layout_sizes', -1, { ...T, arenaSize: T.arenaSize + 0.5 }],
  ['code shorter than nInstr', 'layout_code', -1, { ...T, code: T.code.slice(0, INSTR_WIDTH) }],
  ['constants that do not fit their region', 'layout_regions', -1, { ...T, constInit: new Float64Array(3) }],
  ['temporaries past the arena', 'layout_regions', -1, { ...T, arenaSize: T.tempStart - 1, output: 0 }],
  ['input sizes that do not add up', 'layout_inputs', -1, { ...T, inputSizes: Int32Array.of(1) }],
  ['a negative input size', 'layout_inputs', -1, { ...T, inputSizes: Int32Array.of(-1, 4) }],
  ['result offset past the arena', 'layout_output', -1, { ...T, output: T.arenaSize }],
  ['a named output in the parameters', 'layout_outputs', -1, { ...T, outputs: Int32Array.of(0, 1) }],
  ['a named output without its size', 'layout_outputs', -1, { ...T, outputs: Int32Array.of(T.tempStart) }],
  ['unknown opcode', 'opcode', find(T, 'exp'), edit(T, 'exp', { op: OPS.length })],
  ['negative opcode', 'opcode', find(T, 'exp'), edit(T, 'exp', { op: -1 })],
  ['unknown flag bits', 'flags', find(T, 'exp'), edit(T, 'exp', { flags: 16 | 4 | 1 })],
  ['gradC on a binary op', 'grad_operand', find(T, 'add'), edit(T, 'add', { flags: 8 | 4 | 1 })],
  ['gradB on a unary op', 'grad_operand', find(T, 'exp'), edit(T, 'exp', { flags: 4 | 2 | 1 })],
  ['a zero size', 'size', find(T, 'exp'), edit(T, 'exp', { p0: 0 })],
  ['a zero inner dimension of matmul', 'size', find(T, 'matmul'), edit(T, 'matmul', { p1: 0 })],
  // zero-size operands with a huge loop count: accepted before, and ran for minutes
  ['broadcast (2^31-1, 2^31-1, 0)', 'size', find(B, 'broadcast'), edit(B, 'broadcast', { p0: BIG, p1: BIG, p2: 0 })],
  ['a negative unused parameter', 'size', find(T, 'exp'), edit(T, 'exp', { p1: -1 })],
  // bounds between params: an offset inside its operand that would read past it
  ['a slice whose begin + size passes its dim', 'limit', find(S, 'slice'), editP(S, 'slice', { 11: 3 })],
  ['a slice of more elements than its dim', 'limit', find(S, 'slice'), editP(S, 'slice', { 17: 5, 16: 1 })],
  ['a concat whose parts overflow its rows', 'limit', find(S, 'concat'), editP(S, 'concat', { 2: 5 })],
  ['a slice with a zero dim', 'size', find(S, 'slice'), editP(S, 'slice', { 0: 0 })],
  ['output past the arena', 'out', find(T, 'exp'), edit(T, 'exp', { out: T.arenaSize })],
  ['output written into the parameters', 'out', find(T, 'exp'), edit(T, 'exp', { out: 0 })],
  ['output written over a constant', 'out', find(T, 'exp'), edit(T, 'exp', { out: T.constStart })],
  ['a size parameter too large for the arena', 'out', find(T, 'exp'), edit(T, 'exp', { p0: 1 << 30 })],
  ['operand a past the arena', 'a', find(T, 'matmul'), edit(T, 'matmul', { a: T.arenaSize - 1 })],
  ['a negative operand', 'a', find(T, 'exp'), edit(T, 'exp', { a: -5 })],
  ['operand b past the arena', 'b', find(T, 'matmul'), edit(T, 'matmul', { b: T.arenaSize - 1 })],
  ['operand c past the arena', 'c', find(W, 'where'), edit(W, 'where', { c: W.arenaSize - 1 })],
  ['a negative operand c', 'c', find(W, 'where'), edit(W, 'where', { c: -3 })],
  ['scratch in the parameters', 'extra', find(L, 'softmax_xent'), edit(L, 'softmax_xent', { p2: 0 })],
  ['scratch past the arena', 'extra', find(L, 'softmax_xent'), edit(L, 'softmax_xent', { p2: L.arenaSize - 1 })],
  // accepted by wasm and js before (native refused them), one with a different gradient
  [
    'an in-place unary op (output = operand a)',
    'out_overlap',
    find(T, 'exp'),
    edit(T, 'exp', { out: word(T, 'exp', 'a') }),
  ],
  [
    'an output overlapping operand a by all but one element',
    'out_overlap',
    find(T, 'exp'),
    edit(T, 'exp', { out: word(T, 'exp', 'a') + 1 }),
  ],
  ['an output over operand b', 'out_overlap', find(T2, 'add'), edit(T2, 'add', { out: word(T2, 'add', 'b') })],
  [
    'scratch over the output',
    'extra_overlap',
    find(L, 'softmax_xent'),
    edit(L, 'softmax_xent', { p2: word(L, 'softmax_xent', 'out') }),
  ],
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** what the error must say: the rule's text, at its instruction and op */
function expected(rule: TapeRuleId, at: number, t: Tape): RegExp {
  // native's binding reads the layout fields itself and words this one rule its own way
  if (rule === 'layout_sizes') return /must be (an integer|integers) in \[0, 2\^31\)/;
  const text = escape(TAPE_RULES.find((r) => r.id === rule)!.text);
  if (at < 0) return new RegExp(`invalid tape: ${text}`);
  const op = OPS[t.code[at * INSTR_WIDTH + Field.op]]?.name;
  return new RegExp(`invalid tape: instruction ${at}${op ? ` \\(${op}\\)` : ''}: ${text}`);
}

describe('the validation contract', () => {
  it('every rule has a crafted tape that breaks it', () => {
    // the rules of features no op has yet (a third operand, limits between params) wait for the
    // first op that has them: from then on they need a crafted tape too
    const unused = new Set<TapeRuleId>([
      ...(OPS.some((o) => o.extent.c) ? [] : (['c'] as const)),
      ...(OPS.some((o) => o.limits?.length) ? [] : (['limit'] as const)),
    ]);
    const rules = TAPE_RULES.map((r) => r.id).filter((id) => !unused.has(id));
    expect(new Set(BAD.map(([, rule]) => rule))).toEqual(new Set(rules));
  });
});

describeEachBackend('the validation contract', (_be, name) => {
  for (const [what, rule, at, tape] of BAD)
    it(`refuses ${what}: rule ${rule}`, async () => {
      const engine = await load(name);
      expect(() => engine.load(tape)).toThrow(expected(rule, at, tape));
    });

  it('accepts every conformance tape and the base tapes, and computes what js computes', async () => {
    const [engine, js] = await Promise.all([load(name), load('js')]);
    const cases: Defined[] = [
      ...ELEMENTWISE,
      ...BINARY,
      ...SELECTION,
      ...WHERE,
      ...REDUCE,
      ...MATMUL,
      ...LOSS,
      ...CONV,
      ...EXTREMUM,
      ...STRUCTURE,
    ].map((c) => c.f());
    const tapes = [T, T2, L, B, W, S, ...cases.map((f) => f.tape)];
    for (const t of tapes) {
      const theta = random(t.nParams, 1, -1, 1);
      const inputs = Array.from(t.inputSizes, (n, k) => random(n, 2 + k, -1, 1));
      const [p, q] = [engine.load(t), js.load(t)];
      expectClose(p.value(theta, inputs), q.value(theta, inputs), 1e-12, `value of a good tape on ${name}`);
      p.dispose();
      q.dispose();
    }
  });
});

/** f = sum(a) + sum(x) + 100: the constant 100 sits right after the input x in the arena */
const withConstant = () =>
  define({ params: { a: [2] }, inputs: { x: [3] } }, (p, i) => p.a.sum().add(i.x.sum()).add(100));

class LongerThanItSays extends Float64Array {
  override get length() {
    return 3;
  }
}

describeEachBackend('lengths are read from the array, not its length property', (be) => {
  const a = Float64Array.of(1, 2),
    x = Float64Array.of(0.5, 0.25, 0.125);
  const want = 3 + 0.875 + 100;

  it('an own length property, a subclass getter or a fake prototype does not pass for an input', () => {
    const c = be().compile(withConstant());
    expect(c.value({ a }, { x })).toBe(want);
    const longer = Float64Array.of(1, 2, 3, 5e6);
    Object.defineProperty(longer, 'length', { value: 3 });
    const shorter = Float64Array.of(7, 8);
    Object.defineProperty(shorter, 'length', { get: () => 3 });
    expect(() => c.value({ a }, { x: longer })).toThrow(/input 'x' .*got 4 elements/);
    expect(() => c.value({ a }, { x: shorter })).toThrow(/input 'x' .*got 2 elements/);
    expect(() => c.value({ a }, { x: new LongerThanItSays(4) })).toThrow(/input 'x' .*got 4 elements/);
    expect(() =>
      c.value({ a }, { x: Object.setPrototypeOf({ length: 3 }, Float64Array.prototype) as Float64Array }),
    ).toThrow(TypeError);
    // the constant was not overwritten (js) and no stale input is reused (wasm)
    expect(c.value({ a }, { x })).toBe(want);
    expect(c.value({ a }, { x: Float64Array.of(1, 1, 1) })).toBe(3 + 3 + 100);
    // a subclass of the right length is still a Float64Array
    class Tagged extends Float64Array {}
    expect(c.value({ a }, { x: Tagged.from(x) })).toBe(want);
    c.dispose();
  });

  it('neither does a spoofed theta or gradient buffer in the flat calls', () => {
    const c = be().compile(withConstant());
    const theta = Float64Array.of(1, 2, 3);
    Object.defineProperty(theta, 'length', { value: 2 });
    const out = new Float64Array(1);
    Object.defineProperty(out, 'length', { value: 2 });
    expect(() => c.valueFlat(theta, { x })).toThrow(/theta must have 2 elements, got 3/);
    expect(() => c.gradFlat(Float64Array.of(1, 2), { x }, out)).toThrow(/gradient buffer must have 2 elements, got 1/);
    expect(() => c.unflatten(theta)).toThrow(/theta must have 2 elements, got 3/);
    expect(c.valueFlat(Float64Array.of(1, 2), { x })).toBe(want);
    c.dispose();
  });
});

describeEachBackend('a finite-difference step that vanishes is refused', (be) => {
  it('eps with 1 + eps === 1 is a RangeError; the smallest step that moves theta is accepted', () => {
    const c = be().compile(define({ params: { a: [2] } }, (p) => p.a.square().sum()));
    for (const eps of [1e-17, 2 ** -53, 1e-300])
      for (const method of ['fd-forward', 'fd-central'] as const)
        expect(() => c.grad({ a: [1, 2] }, undefined, { method, eps })).toThrow(
          /eps = .* is too small: .*the step vanishes/,
        );
    const g = c.grad({ a: [1, 2] }, undefined, { method: 'fd-central', eps: 2 ** -52 }).grad.a;
    expect(Array.from(g).every(Number.isFinite)).toBe(true);
    c.dispose();
  });
});

describeEachBackend('after dispose()', (be) => {
  it('every method throws, cost() and unflatten() included', () => {
    const c = be().compile(define({ params: { a: [2] } }, (p) => p.a.square().sum()));
    expect(c.cost('reverse').evaluations).toBe(1);
    c.dispose();
    for (const call of [
      () => c.cost('reverse'),
      () => c.cost('value'),
      () => c.unflatten(new Float64Array(2)),
      () => c.flatten({ a: [1, 2] }),
      () => c.value({ a: [1, 2] }),
      () => c.grad({ a: [1, 2] }),
    ])
      expect(call).toThrow(/disposed/);
  });
});

describe('size limits are named at define time', () => {
  it('a parameter or input of more than 2^31-1 elements', () => {
    expect(() => define({ params: { w: [65536, 32768] } }, (p) => p.w.sum())).toThrow(
      /param 'w' of shape \[65536,32768\] has 2147483648 elements, more than the 2147483647 \(2\^31-1\)/,
    );
    expect(() => define({ params: { a: [] }, inputs: { x: [2 ** 31] } }, (p) => p.a)).toThrow(
      /input 'x' .* more than the 2147483647/,
    );
  });

  it('an operation whose result has more than 2^31-1 elements', () => {
    expect(() => define({ params: { u: [65536, 1], v: [1, 65536] } }, (p) => p.u.matmul(p.v).sum())).toThrow(
      /matmul: the result \[65536,65536\] has 4294967296 elements, more than the 2147483647 \(2\^31-1\) a tape can address/,
    );
  });

  it('an arena of more than 2^31-1 elements', () => {
    const f = define({ params: { u: [2 ** 30], v: [2 ** 30] } }, (p) => p.u.sum().add(p.v.sum()));
    expect(() => f.tape).toThrow(
      /the tape's arena needs 2147483651 float64 elements .* more than the 2147483647 \(2\^31-1\)/,
    );
  });
});
