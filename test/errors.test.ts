import { describe, expect, it } from 'vitest';
import {
  backend,
  define,
  softmaxCrossEntropy,
  ShapeError,
  type Compiled,
  type Tensor,
  type Returned,
} from '../src/index.js';
import { describeEachBackend } from './harness.js';

const trace = (shapes: Record<string, number[]>, fn: (p: Record<string, Tensor>) => Returned) => () =>
  define({ params: shapes }, fn);

describe('shape errors are thrown at trace time, naming the op and the shapes', () => {
  it.each([
    [
      'add',
      trace({ a: [2, 3], b: [4] }, (p) => p.a.add(p.b).sum()),
      /add: shapes \[2,3\] and \[4\] cannot be broadcast/,
    ],
    ['mul', trace({ a: [2, 3], b: [3, 2] }, (p) => p.a.mul(p.b).sum()), /mul: shapes \[2,3\] and \[3,2\]/],
    [
      'matmul inner',
      trace({ a: [2, 3], b: [4, 5] }, (p) => p.a.matmul(p.b).sum()),
      /matmul: inner dimensions differ: \[2,3\] x \[4,5\]/,
    ],
    [
      'matmul vector',
      trace({ a: [2, 3], b: [4] }, (p) => p.a.matmul(p.b).sum()),
      /matmul: inner dimensions differ: \[2,3\] x \[4\]/,
    ],
    [
      'matmul rank',
      trace({ a: [2, 3, 4], b: [3, 4, 5] }, (p) => p.a.matmul(p.b).sum()),
      /matmul: batch axes differ: \[2,3,4\] x \[3,4,5\]/,
    ],
    [
      'transpose',
      trace({ a: [2, 3, 4] }, (p) => p.a.transpose([2, 1]).sum()),
      /transpose: array \[2, 1\] is not a permutation of the 3 axes of \[2,3,4\]/,
    ],
    [
      'softmaxCrossEntropy',
      trace({ z: [4, 3], y: [4, 2] }, (p) => softmaxCrossEntropy(p.z, p.y).sum()),
      /softmaxCrossEntropy: logits \[4,3\] and labels \[4,2\] differ/,
    ],
    ['sum axis', trace({ a: [2, 3] }, (p) => p.a.sum(2).sum()), /sum: axis 2 is out of range for shape \[2,3\]/],
    ['mean axis', trace({ a: [2, 3] }, (p) => p.a.mean(-3).sum()), /mean: axis -3 is out of range for shape \[2,3\]/],
    ['logSumExp axis', trace({ a: [2, 3] }, (p) => p.a.logSumExp(1.5).sum()), /logSumExp: axis 1.5 is out of range/],
    ['reshape', trace({ a: [2, 3] }, (p) => p.a.reshape([4, 2]).sum()), /reshape: cannot reshape \[2,3\] to \[4,2\]/],
    [
      'reshape -1',
      trace({ a: [2, 3] }, (p) => p.a.reshape([-1, 4]).sum()),
      /reshape: cannot reshape \[2,3\] to \[-1,4\]/,
    ],
  ])('%s', (_, f, message) => {
    expect(f).toThrow(ShapeError);
    expect(f).toThrow(message);
  });

  it('a function that does not return a scalar, or no tensor, is an error', () => {
    expect(trace({ a: [3] }, (p) => p.a.exp())).toThrow(/the loss must be a scalar \(shape \[\]\), got shape \[3\]/);
    expect(trace({ a: [3] }, (p) => ({ loss: p.a.exp() }))).toThrow(/the loss must be a scalar/);
    expect(trace({ a: [3] }, () => ({}))).toThrow(/empty object/);
    expect(trace({ a: [3] }, (p) => ({ loss: p.a.sum(), y: 3 as unknown as Tensor }))).toThrow(
      /output 'y' must be a Tensor/,
    );
    expect(trace({ a: [3] }, () => 3 as unknown as Tensor)).toThrow(/must return a Tensor/);
  });

  it('bad specs, exponents and operands are errors', () => {
    expect(() => define({ params: { a: [0] } }, (p) => p.a.sum())).toThrow(
      /shape of param 'a' must be an array of positive integers/,
    );
    expect(() => define({ params: { a: [2] }, inputs: { a: [2] } }, (p) => p.a.sum())).toThrow(/'a' is used twice/);
    expect(() => define(null as never, (p) => p)).toThrow(/first argument/);
    expect(trace({ a: [2] }, (p) => p.a.pow(NaN).sum())).toThrow(/pow: the exponent must be a finite number, got NaN/);
    expect(trace({ a: [2] }, (p) => p.a.pow('2' as never).sum())).toThrow(
      /pow: expected a Tensor or a number, got '2'/,
    );
    expect(trace({ a: [2] }, (p) => p.a.add('1' as never).sum())).toThrow(
      /add: expected a Tensor or a number, got '1'/,
    );
    let other: Tensor | undefined;
    define({ params: { b: [2] } }, (p) => ((other = p.b), p.b.sum()));
    expect(trace({ a: [2] }, (p) => p.a.add(other!).sum())).toThrow(/different traces/);
  });
});

describe('backend selection', () => {
  it('an unknown backend name is an error that lists the known ones', async () => {
    await expect(backend('cuda' as never)).rejects.toThrow(
      /unknown backend 'cuda' \(expected 'native', 'wasm', 'js'\)/,
    );
  });
});

describeEachBackend('bad arguments throw clear errors and leave the compiled function usable', (be) => {
  const f = () => define({ params: { a: [], w: [3] }, inputs: { x: [3] } }, (p, i) => p.w.mul(i.x).sum().mul(p.a));
  const params = { a: 2, w: [1, 2, 3] };
  const inputs = { x: new Float64Array([0.5, -1, 2]) };
  const expected = 2 * (0.5 - 2 + 6);

  const bad: [string, (c: Compiled) => unknown, RegExp][] = [
    ['unknown parameter', (c) => c.value({ ...params, z: 1 }, inputs), /unknown parameter 'z' \(expected 'a', 'w'\)/],
    ['missing parameter', (c) => c.value({ a: 2 } as never, inputs), /missing parameter 'w'/],
    ['missing input', (c) => c.value(params, {}), /missing input 'x'/],
    ['no inputs at all', (c) => c.value(params), /missing input 'x'/],
    [
      'wrong length',
      (c) => c.value({ a: 2, w: [1, 2] }, inputs),
      /parameter 'w' \(shape \[3\], 3 elements\): got 2 elements/,
    ],
    ['number for a vector', (c) => c.value({ a: 2, w: 1 }, inputs), /a number fits only a one-element shape/],
    [
      'non-numeric value',
      (c) => c.value({ a: 'two' as never, w: [1, 2, 3] }, inputs),
      /expected a Float64Array, number\[\] or number, got 'two'/,
    ],
    [
      'non-numeric element',
      (c) => c.value({ a: 2, w: [1, '2', 3] as never }, inputs),
      /element 1 is '2', not a number/,
    ],
    ['BigInt64Array', (c) => c.value({ a: 2, w: new BigInt64Array(3) as never }, inputs), /got BigInt64Array/],
    ['params not an object', (c) => c.value([1, 2] as never, inputs), /parameters must be an object/],
    [
      'NaN step',
      (c) => c.grad(params, inputs, { method: 'fd-central', eps: NaN }),
      /eps must be a positive finite number, got NaN/,
    ],
    [
      'negative step',
      (c) => c.grad(params, inputs, { method: 'fd-forward', eps: -1e-6 }),
      /eps must be a positive finite number/,
    ],
    ['unknown method', (c) => c.grad(params, inputs, { method: 'bfgs' as never }), /unknown method 'bfgs'/],
    [
      'options not an object (found by the fuzz test)',
      (c) => c.grad(params, inputs, 1 as never),
      /options must be an object, got 1/,
    ],
    [
      'reuse not boolean',
      (c) => c.grad(params, inputs, { method: 'fd-forward', reuse: 1 as never }),
      /reuse must be a boolean/,
    ],
    ['flat theta wrong length', (c) => c.valueFlat(new Float64Array(3), inputs), /theta must have 4 elements, got 3/],
    [
      'flat theta wrong type',
      (c) => c.gradFlat([1, 2, 3, 4] as never, inputs, new Float64Array(4)),
      /theta must be a Float64Array/,
    ],
    [
      'gradient buffer wrong length',
      (c) => c.gradFlat(new Float64Array(4), inputs, new Float64Array(5)),
      /gradient buffer must have 4 elements, got 5/,
    ],
    ['cost of an unknown method', (c) => c.cost('newton' as never), /unknown method 'newton'/],
  ];

  for (const [what, call, message] of bad)
    it(what, () => {
      const c = be().compile(f());
      expect(() => call(c)).toThrow(message);
      expect(c.value(params, inputs)).toBe(expected);
      expect(c.grad(params, inputs).grad.w).toEqual(Float64Array.from([0.5, -1, 2].map((x) => 2 * x)));
      c.dispose();
    });

  it('every call after dispose() throws; dispose() twice is harmless', () => {
    const c = be().compile(f());
    c.dispose();
    c.dispose();
    expect(c.disposed).toBe(true);
    expect(() => c.value(params, inputs)).toThrow(/was disposed/);
    expect(() => c.grad(params, inputs)).toThrow(/was disposed/);
    expect(() => c.gradFlat(new Float64Array(4), inputs, new Float64Array(4))).toThrow(/was disposed/);
    expect(() => c.valueFlat(new Float64Array(4), inputs)).toThrow(/was disposed/);
  });

  it('compile rejects something that is not a defined function', () => {
    expect(() => be().compile({} as never)).toThrow(/expected the result of define\(\)/);
  });
});
