import { describe, expect, it } from 'vitest';
import { concat, constant, define, stack, sub, pow, ShapeError, type Tensor } from '../src/index.js';
import { Field, INSTR_WIDTH, OPS, OPCODE } from '../src/ops/opset.js';
import { backend } from '../src/index.js';
import { explain, formatExplain } from '../src/app/answer/explain.js';
import { runCases } from './cases/case.js';
import { STRUCTURE } from './cases/structure.js';
import { describeEachBackend, random } from './harness.js';

runCases('structure ops', STRUCTURE);

/** op names of a traced function's instructions */
const ops = (f: { tape: { code: Int32Array; nInstr: number } }) =>
  Array.from({ length: f.tape.nInstr }, (_, i) => OPS[f.tape.code[i * INSTR_WIDTH + Field.op]].name);

describeEachBackend('structure ops copy every value exactly', (be) => {
  // -0, NaN, infinities and subnormals through every copy: the same bits out (Object.is)
  const SPECIAL = [-0, NaN, Infinity, -Infinity, 5e-324, -2.5, 1e308, 0];
  it('slice, concat, gather and transpose pass -0, NaN, Inf and subnormals through', () => {
    const f = define({ params: { w: [] }, inputs: { x: [2, 4], ids: [3] } }, (p, i) => ({
      loss: p.w.square(),
      slice: i.x.slice([0, 1], [2, 2]),
      concat: concat([i.x, i.x.slice([1, 0], [1, 4])], 0),
      gather: i.x.gather(i.ids, 1),
      transpose: i.x.transpose(),
      stack: stack([i.x, i.x], 1),
    }));
    const c = be().compile(f);
    const out = c.run({ w: 1 }, { x: SPECIAL, ids: [3, 0, 3] });
    const x = (r: number, k: number) => SPECIAL[r * 4 + k];
    const want = {
      slice: [x(0, 1), x(0, 2), x(1, 1), x(1, 2)],
      concat: [...SPECIAL, ...SPECIAL.slice(4)],
      gather: [x(0, 3), x(0, 0), x(0, 3), x(1, 3), x(1, 0), x(1, 3)],
      transpose: [0, 1, 2, 3].flatMap((k) => [x(0, k), x(1, k)]),
      stack: [...SPECIAL.slice(0, 4), ...SPECIAL.slice(0, 4), ...SPECIAL.slice(4), ...SPECIAL.slice(4)],
    };
    for (const [k, v] of Object.entries(want)) {
      const got = Array.from(out[k]);
      expect(got.length, k).toBe(v.length);
      got.forEach((g, q) => expect(Object.is(g, v[q]), `${k}[${q}]: got ${g}, expected ${v[q]}`).toBe(true));
    }
    c.dispose();
  });

  it('an index input out of range, or not an integer, is an error before any backend reads it', () => {
    const f = define({ params: { t: [5, 2] }, inputs: { ids: [3] } }, (p, i) => p.t.gather(i.ids).sum());
    const c = be().compile(f);
    const t = random(10, 1);
    expect(() => c.grad({ t }, { ids: [0, 5, 1] })).toThrow(/input 'ids': element 1 is 5, not an index in \[0, 5\)/);
    expect(() => c.value({ t }, { ids: [0, 1, -1] })).toThrow(/element 2 is -1/);
    expect(() => c.value({ t }, { ids: [0.5, 1, 1] })).toThrow(/element 0 is 0.5/);
    expect(() => c.value({ t }, { ids: [NaN, 1, 1] })).toThrow(/element 0 is NaN/);
    expect(c.value({ t }, { ids: Int32Array.of(4, 4, 0) })).toBe(c.value({ t }, { ids: [4, 4, 0] }));
    c.dispose();
  });

  it('a computed index out of range gives a NaN row, never a read outside the table', () => {
    const f = define({ params: { t: [3, 2] }, inputs: { k: [2] } }, (p, i) => ({
      loss: p.t.gather(i.k.add(1)).sum(),
      rows: p.t.gather(i.k.add(1)),
    }));
    const c = be().compile(f);
    const t = [1, 2, 3, 4, 5, 6];
    expect(Array.from(c.run({ t }, { k: [1, -1] }).rows)).toEqual([5, 6, 1, 2]);
    const r = c.run({ t }, { k: [2, 0.5] }).rows; // 3 is past the end, 1.5 not an integer
    expect(Array.from(r).every(Number.isNaN)).toBe(true);
    expect(c.value({ t }, { k: [-2, 0] })).toBeNaN();
    // no gradient flows from a NaN row into the table
    expect(Array.from(c.grad({ t }, { k: [-2, 0] }).grad.t)).toEqual([0, 0, 1, 1, 0, 0]);
    c.dispose();
  });
});

describe('structure ops at trace time', () => {
  const trace = (shapes: Record<string, number[]>, fn: (p: Record<string, Tensor>) => Tensor) => () =>
    define({ params: shapes }, (p) => fn(p).sum());

  it.each([
    [
      'slice past the end',
      trace({ a: [3, 4] }, (p) => p.a.slice([1, 2], [2, 3])),
      /slice: begin \[1,2\] and size \[2,3\] do not fit shape \[3,4\] at axis 1/,
    ],
    [
      'slice begin past the end',
      trace({ a: [3, 4] }, (p) => p.a.slice([3])),
      /slice: begin \[3,0\].*shape \[3,4\] at axis 0/,
    ],
    ['slice size 0', trace({ a: [3, 4] }, (p) => p.a.slice([0, 0], [0, 1])), /slice:.*at axis 0/],
    [
      'slice too many axes',
      trace({ a: [3] }, (p) => p.a.slice([0, 0])),
      /slice: begin .* at most 1 integers for shape \[3\]/,
    ],
    ['slice of a scalar', trace({ a: [] }, (p) => p.a.slice(0)), /slice: a scalar/],
    [
      'concat shapes',
      trace({ a: [2, 3], b: [3, 3] }, (p) => concat([p.a, p.b], 1)),
      /concat: shapes \[2,3\], \[3,3\] differ outside axis 1/,
    ],
    [
      'concat ranks',
      trace({ a: [2, 3], b: [6] }, (p) => concat([p.a, p.b])),
      /concat: shapes \[2,3\], \[6\] differ outside axis 0/,
    ],
    [
      'concat axis',
      trace({ a: [2, 3] }, (p) => concat([p.a, p.a], 2)),
      /concat: axis 2 is out of range for shapes \[2,3\], \[2,3\]/,
    ],
    [
      'stack shapes',
      trace({ a: [2, 3], b: [3, 2] }, (p) => stack([p.a, p.b])),
      /stack: shapes \[2,3\], \[3,2\] differ/,
    ],
    [
      'stack axis',
      trace({ a: [2, 3] }, (p) => stack([p.a], 4)),
      /stack: axis 4 is out of range for shape \[2,3\] \(0\.\.2\)/,
    ],
    [
      'gather axis',
      trace({ a: [2, 3] }, (p) => p.a.gather([0], 2)),
      /gather: axis 2 is out of range for shape \[2,3\]/,
    ],
    [
      'gather constant index',
      trace({ a: [2, 3] }, (p) => p.a.gather([0, 2])),
      /gather: index 2 \(element 1\) is not an integer in \[0, 2\) for axis 0 of \[2,3\]/,
    ],
    [
      'transpose perm',
      trace({ a: [2, 3, 4] }, (p) => p.a.transpose([0, 0, 1])),
      /transpose: array \[0, 0, 1\] is not a permutation of the 3 axes of \[2,3,4\]/,
    ],
    [
      'transpose perm length',
      trace({ a: [2, 3] }, (p) => p.a.transpose([1, 0, 2])),
      /transpose: .* not a permutation of the 2 axes of \[2,3\]/,
    ],
    [
      'matmul batch',
      trace({ a: [2, 3, 4], b: [3, 4, 5] }, (p) => p.a.matmul(p.b)),
      /matmul: batch axes differ: \[2,3,4\] x \[3,4,5\]/,
    ],
    [
      'matmul inner, batched',
      trace({ a: [2, 3, 4], b: [2, 3, 5] }, (p) => p.a.matmul(p.b)),
      /matmul: inner dimensions differ: \[2,3,4\] x \[2,3,5\]/,
    ],
    [
      'constant size',
      trace({ a: [2] }, () => constant([1, 2, 3], [2, 2])),
      /constant: shape \[2,2\] needs 4 values, got 3/,
    ],
  ])('%s', (_, f, message) => {
    expect(f).toThrow(ShapeError);
    expect(f).toThrow(message);
  });

  it('free functions check their operands; constant() works only inside a trace', () => {
    expect(() => constant([1, 2])).toThrow(/constant: call it inside the function given to define/);
    expect(() => define({ params: { a: [2] } }, () => sub(1, 2 as never))).toThrow(
      /sub: at least one operand must be a Tensor, got 1 and 2/,
    );
    expect(() => define({ params: { a: [2] } }, (p) => sub('1' as never, p.a).sum())).toThrow(
      /sub: expected a Tensor or a number, got '1'/,
    );
    expect(() => define({ params: { a: [2] } }, () => pow(2, 3 as never))).toThrow(
      /pow: at least one operand must be a Tensor/,
    );
    expect(() => define({ params: { a: [2] } }, () => concat([]))).toThrow(
      /concat: expected a non-empty array of Tensors/,
    );
    expect(() => define({ params: { a: [2] } }, (p) => concat([p.a, 3 as never]))).toThrow(
      /concat: element 1 is 3, not a Tensor/,
    );
    expect(() => define({ params: { a: [2] } }, (p) => p.a.gather('x' as never).sum())).toThrow(
      /gather: indices must be a Tensor/,
    );
  });

  it('transpose and slice refuse arguments of the wrong type', () => {
    expect(() => define({ params: { a: [2, 3] } }, (p) => p.a.transpose(5 as never).sum())).toThrow(
      /transpose: 5 is not a permutation of the 2 axes of \[2,3\]/,
    );
    expect(() => define({ params: { a: [2, 3] } }, (p) => p.a.slice('1' as never).sum())).toThrow(
      /slice: begin '1' must be an integer or at most 2 integers for shape \[2,3\]/,
    );
  });

  it('a permutation takes one block exchange per misplaced run of axes', () => {
    const count = (s: number[], perm?: number[]) =>
      ops(define({ params: { x: s } }, (p) => p.x.transpose(perm).sum())).filter((o) => o === 'transpose').length;
    expect(count([3, 4])).toBe(1);
    expect(count([2, 3, 4], [0, 2, 1])).toBe(1); // [B,M,N] -> [B,N,M]
    expect(count([2, 3, 4, 5], [0, 2, 3, 1])).toBe(1); // NCHW -> NHWC
    expect(count([2, 3, 4, 5], [0, 3, 1, 2])).toBe(1); // NHWC -> NCHW
    expect(count([2, 3, 4], [0, 1, 2])).toBe(0);
    expect(count([2, 3, 4])).toBe(2);
    expect(count([2, 3, 4, 5, 6])).toBe(4);
  });

  it('a slice merges the axes it takes whole: one instruction up to 6 cut axes', () => {
    const f = define({ params: { x: [2, 3, 4, 5, 6, 7, 8, 9] } }, (p) =>
      p.x.slice([0, 1, 0, 1, 0, 1, 0, 1], [-1, 1, -1, 2, -1, 3, -1, 4]).sum(),
    );
    expect(ops(f).filter((o) => o === 'slice')).toHaveLength(1);
  });

  it('concat of many tensors copies each element about log2(count) times, not once per tensor', () => {
    for (const count of [2, 3, 64, 100]) {
      const f = define({ params: { x: [3, 5] } }, (p) =>
        concat(
          Array.from({ length: count }, () => p.x),
          0,
        ).sum(),
      );
      const t = f.tape;
      let copied = 0;
      for (let i = 0; i < t.nInstr; i++) {
        const w = t.code.subarray(i * INSTR_WIDTH + Field.p0);
        if (t.code[i * INSTR_WIDTH] === OPCODE.concat) copied += w[0] * w[3] * w[4];
      }
      expect(ops(f).filter((o) => o === 'concat')).toHaveLength(count - 1);
      expect(copied).toBeLessThanOrEqual(15 * count * Math.ceil(Math.log2(count)));
    }
  });

  it('explain lists the structure ops with their shapes; copies count 0 FLOPs, their backward rules one add per element', async () => {
    const f = define({ params: { t: [5, 4], w: [2, 4, 3] }, inputs: { ids: [6] } }, (p, i) => {
      const e = p.t.gather(i.ids).reshape([2, 3, 4]); // [2,3,4]
      const h = e.slice([0, 1, 0], [2, 2, 4]).matmul(p.w); // [2,2,3]
      return concat(
        [
          h,
          h
            .transpose([0, 2, 1])
            .slice([0, 0, 0], [2, 2, 2])
            .mul(constant([1, 2], [2])),
        ],
        2,
      ).sum();
    });
    const c = (await backend('js')).compile(f);
    const text = formatExplain('structure', c);
    expect(text).toMatch(/t\d+ = gather\(t, ids\)  \[6,4\]\s+0\n/);
    expect(text).toMatch(/t\d+ = slice\(t\d+\)  \[2,8\]\s+0\n/);
    expect(text).toMatch(/t\d+ = batch_matmul\(t\d+, w\)  \[2,2,3\]\s+96\n/);
    expect(text).toMatch(/t\d+ = transpose\(t\d+\)  \[2,3,2\]\s+0\n/);
    expect(text).toMatch(/t\d+ = concat\(t\d+, t\d+\)  \[2,2,5\]\s+0\n/);
    expect(text).toMatch(/gather backward: dt\d+ -> dt\s+24\n/);
    expect(text).toMatch(/broadcast\(const\[2\]\)/);
    const e = explain(c);
    expect(e.totals.reverse).toBe(c.cost('reverse').flops);
    c.dispose();
  });
});
