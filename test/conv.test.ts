/**
 * conv2d, maxPool2d and avgPool2d: the conformance cases on every backend (against a naive
 * oracle over a padded copy of the input), shape errors at trace time, and crafted tapes whose
 * windows reach past the input (the loader bounds the operands, not the relation between the
 * sizes): every backend reads padding there and agrees with js.
 */
import { describe, expect, it } from 'vitest';
import { avgPool2d, conv2d, define, maxPool2d, ShapeError } from '../src/index.js';
import { Field, INSTR_WIDTH, OPCODE } from '../src/ops/opset.js';
import type { Tape } from '../src/trace/compile.js';
import { load } from '../src/backends/registry.js';
import { CONV } from './cases/conv.js';
import { runCases } from './cases/case.js';
import { describeEachBackend, expectVector, random } from './harness.js';

runCases('convolution and pooling', CONV);

const trace = (x: number[], w: number[], opts = {}) => define({ params: { x, w } }, (p) => p.x.conv2d(p.w, opts).sum());

describe('conv2d and pooling shape errors name the op and the shapes', () => {
  it('conv2d', () => {
    expect(() => trace([1, 3, 8, 8], [4, 2, 3, 3])).toThrow(ShapeError);
    expect(() => trace([1, 3, 8, 8], [4, 2, 3, 3])).toThrow(/conv2d: input \[1,3,8,8\] and weights \[4,2,3,3\]/);
    expect(() => trace([3, 8, 8], [4, 3, 3, 3])).toThrow(/conv2d: the input must be 4-D \[N, C, H, W\], got \[3,8,8\]/);
    expect(() => trace([1, 3, 8, 8], [4, 3, 3])).toThrow(/conv2d: the weights must be 4-D/);
    expect(() => trace([1, 3, 4, 4], [4, 3, 5, 5])).toThrow(
      /conv2d: the kernel \(dilated\) is larger than the padded input/,
    );
    expect(() => trace([1, 3, 8, 8], [4, 3, 3, 3], { dilation: 4 })).toThrow(/larger than the padded input/);
    expect(() => trace([1, 4, 8, 8], [6, 2, 3, 3], { groups: 3 })).toThrow(/conv2d: 3 groups do not divide/);
    expect(() => trace([1, 3, 8, 8], [4, 3, 3, 3], { stride: 0 })).toThrow(/conv2d: stride must be an integer >= 1/);
    expect(() => trace([1, 3, 8, 8], [4, 3, 3, 3], { padding: -1 })).toThrow(/conv2d: padding must be an integer >= 0/);
    expect(() => trace([1, 3, 8, 8], [4, 3, 3, 3], { padding: [1, 2, 3] })).toThrow(/padding must be/);
    expect(() => trace([1, 3, 8, 8], [4, 3, 4, 4], { padding: 'same' })).toThrow(/conv2d: padding 'same' .*uneven/);
    expect(() => trace([1, 3, 8, 8], [4, 3, 3, 3], { padding: 'same', stride: 2 })).toThrow(/needs stride 1/);
    expect(
      trace([2, 3, 8, 8], [4, 3, 3, 3], { padding: 'same' }).graph.nodes.find((n) => n.op === 'conv2d')?.shape,
    ).toEqual([2, 4, 8, 8]);
  });
  it('pooling', () => {
    const pool = (x: number[], k: number, opts = {}, kind: 'maxPool2d' | 'avgPool2d' = 'maxPool2d') =>
      define({ params: { x } }, (p) => p.x[kind](k, opts).sum());
    expect(() => pool([4], 2)).toThrow(/maxPool2d: the input must have at least 2 dimensions/);
    expect(() => pool([1, 1, 3, 3], 4)).toThrow(
      /maxPool2d: the kernel \[4,4\] is larger than the padded input \[1,1,3,3\]/,
    );
    expect(() => pool([1, 1, 8, 8], 2, { padding: 2 }, 'avgPool2d')).toThrow(
      /avgPool2d: padding \[2,2\] must be at most half/,
    );
    expect(() => pool([1, 1, 8, 8], 0)).toThrow(/maxPool2d: the kernel size must be an integer >= 1/);
    const nodes = define({ params: { x: [5, 7] } }, (p) => p.x.maxPool2d([2, 3]).sum()).graph.nodes;
    expect(nodes.find((n) => n.op === 'max_pool2d')?.shape).toEqual([2, 2]);
  });
});

describe('free functions', () => {
  it('conv2d, maxPool2d and avgPool2d trace the same ops as the methods; a non-tensor input is a TypeError', () => {
    const ops = (f: ReturnType<typeof define>) => f.graph.nodes.map((n) => `${n.op}${JSON.stringify(n.attrs)}`);
    const spec = { params: { x: [2, 3, 8, 8], w: [4, 3, 3, 3] } };
    const free = define(spec, (p) => avgPool2d(maxPool2d(conv2d(p.x, p.w, { padding: 1 }), 2), [2, 1]).sum());
    const method = define(spec, (p) => p.x.conv2d(p.w, { padding: 1 }).maxPool2d(2).avgPool2d([2, 1]).sum());
    expect(ops(free)).toEqual(ops(method));
    expect(() => define(spec, (p) => conv2d([1, 2] as never, p.w).sum())).toThrow(/conv2d: the input must be a Tensor/);
  });
});

/** the instruction of `op` in the tape with some params replaced */
function withParams(t: Tape, op: string, params: Record<number, number>): Tape {
  const code = t.code.slice();
  for (let i = 0; i < t.nInstr; i++)
    if (code[i * INSTR_WIDTH + Field.op] === OPCODE[op])
      for (const [q, v] of Object.entries(params)) code[i * INSTR_WIDTH + Field.p0 + Number(q)] = v;
  return { ...t, code };
}

describeEachBackend('crafted conv and pooling params: windows past the input read padding', (_be, name) => {
  const conv = define({ params: { w: [2, 1, 2, 2] }, inputs: { x: [1, 1, 4, 4] } }, (p, i) =>
    i.x.conv2d(p.w).sum(),
  ).tape;
  const pool = define({ params: { s: [1, 2, 4, 4] }, inputs: { x: [1, 2, 4, 4] } }, (p, i) => {
    const y = i.x.mul(p.s);
    return y.maxPool2d(2).add(y.avgPool2d(2)).sum();
  }).tape;
  const crafted: [string, Tape][] = [
    ['conv2d with padding 2^30', withParams(conv, 'conv2d', { 12: 2 ** 30, 13: 2 ** 30 })],
    [
      'conv2d with stride and dilation 2^31-1 (64-bit index arithmetic)',
      withParams(conv, 'conv2d', { 10: 2 ** 31 - 1, 11: 2 ** 31 - 1, 14: 2 ** 31 - 1, 15: 2 ** 31 - 1 }),
    ],
    ['conv2d with stride 3 and padding 5', withParams(conv, 'conv2d', { 10: 3, 11: 3, 12: 5, 13: 5 })],
    [
      'pooling with padding larger than the kernel',
      withParams(withParams(pool, 'max_pool2d', { 9: 3, 10: 1 }), 'avg_pool2d', { 9: 7, 10: 7 }),
    ],
    [
      'pooling with stride 2^31-1',
      withParams(withParams(pool, 'max_pool2d', { 7: 2 ** 31 - 1 }), 'avg_pool2d', { 8: 2 ** 31 - 1 }),
    ],
  ];
  for (const [what, t] of crafted)
    it(what, async () => {
      const [engine, js] = await Promise.all([load(name), load('js')]);
      const theta = random(t.nParams, 1, -1, 1);
      const inputs = Array.from(t.inputSizes, (n, k) => random(n, 2 + k, -1, 1));
      const [p, q] = [engine.load(t), js.load(t)];
      try {
        const g = new Float64Array(t.nParams),
          h = new Float64Array(t.nParams);
        const got = p.reverse(theta, inputs, g),
          want = q.reverse(theta, inputs, h);
        expect(Object.is(got, want) || Math.abs(got - want) <= 1e-12 * Math.abs(want)).toBe(true);
        expectVector(g, h, 1e-12, `gradient on ${name}`);
      } finally {
        p.dispose();
        q.dispose();
      }
    });
});

describeEachBackend('conv2d forward on the finite-difference path is bit-identical to js', (_be, name) => {
  // K = 12*5*5 = 300 > 256: the wasm gemm's K blocks store and reload partial sums (exactly)
  const shapes: [string, number[], number[], object][] = [
    ['LeNet conv2 (6 -> 16, 5x5) on 14x14', [3, 6, 14, 14], [16, 6, 5, 5], {}],
    ['12 -> 5 channels, 5x5, padding 2, stride 2', [2, 12, 9, 11], [5, 12, 5, 5], { padding: 2, stride: 2 }],
    ['groups 2, dilation 2, padding [3,1]', [2, 4, 9, 8], [6, 2, 3, 3], { groups: 2, dilation: 2, padding: [3, 1] }],
  ];
  for (const [what, xs, ws, opts] of shapes)
    it(what, async () => {
      const f = define({ params: { w: ws }, inputs: { x: xs } }, (p, i) => {
        const y = i.x.conv2d(p.w, opts);
        return y.mul(y).sum();
      });
      const t = f.tape;
      const [engine, js] = await Promise.all([load(name), load('js')]);
      const theta = random(t.nParams, 5, -1, 1);
      const inputs = [random(t.inputSizes[0], 6, -1, 1)];
      const [p, q] = [engine.load(t), js.load(t)];
      try {
        const g = new Float64Array(t.nParams);
        // an empty plan: f(theta) only, on the exact kernels
        const got = p.fd(theta, inputs, g, false, 1e-6, true, new Int32Array(0));
        expect(got).toBe(q.value(theta, inputs));
      } finally {
        p.dispose();
        q.dispose();
      }
    });
});
