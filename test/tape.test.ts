import { describe, expect, it } from 'vitest';
import { define, softmaxCrossEntropy } from '../src/index.js';
import { Field, INSTR_WIDTH, OPCODE } from '../src/ops/opset.js';
import { checkTape } from '../src/trace/check-tape.js';
import { costOf } from '../src/trace/cost.js';
import { load } from '../src/backends/registry.js';
import { ELEMENTWISE } from './cases/elementwise.js';
import { BINARY } from './cases/binary.js';
import { REDUCE } from './cases/reduce.js';
import { MATMUL } from './cases/matmul.js';
import { LOSS } from './cases/loss.js';
import { describeEachBackend, random } from './harness.js';

const mlp = () =>
  define(
    { params: { W1: [6, 5], b1: [5], W2: [5, 3], b2: [3] }, inputs: { X: [4, 6], Y: [4, 3] } },
    ({ W1, b1, W2, b2 }, { X, Y }) => softmaxCrossEntropy(X.matmul(W1).add(b1).tanh().matmul(W2).add(b2), Y).mean(),
  );

describe('tape compiler', () => {
  it('every conformance tape stays inside its arena', () => {
    for (const c of [...ELEMENTWISE, ...BINARY, ...REDUCE, ...MATMUL, ...LOSS])
      expect(() => checkTape(c.f().tape), c.name).not.toThrow();
  });

  it('lays out params, inputs, constants and temporaries in that order', () => {
    const t = define({ params: { a: [2], b: [] }, inputs: { x: [2] } }, (p, i) =>
      p.a.mul(i.x).add(3).sum().mul(p.b),
    ).tape;
    expect([t.nParams, t.nInputs, t.constStart, t.tempStart]).toEqual([3, 2, 5, 6]);
    expect(Array.from(t.constInit)).toEqual([3]);
    expect(Array.from(t.inputSizes)).toEqual([2]);
    expect(t.output).toBe(t.arenaSize - 1);
  });

  it('a reshape is a view: no instruction, same arena offset', () => {
    const t = define({ params: { a: [2, 3] } }, (p) => p.a.reshape([6]).reshape([3, 2]).sum()).tape;
    expect(t.nInstr).toBe(1); // only the sum is an instruction
    expect(t.code[Field.op]).toBe(OPCODE.sum);
    expect(t.code[Field.a]).toBe(0);
  });

  it('sets gradient flags only where a parameter reaches', () => {
    const t = define({ params: { w: [3] }, inputs: { x: [3], y: [3] } }, (p, i) => i.x.mul(i.y).mul(p.w).sum()).tape;
    const flags = Array.from({ length: t.nInstr }, (_, k) => t.code[k * INSTR_WIDTH + Field.flags]);
    expect(flags).toEqual([0, 4 | 2, 4 | 1]); // x*y needs no adjoint; (x*y)*w: only w; sum: its input
  });

  it('schedules a light branch just before its consumer and orders the FD plan by first use, latest first', () => {
    const t = mlp().tape;
    const first = (name: string) => {
      const k = ['W1', 'b1', 'W2', 'b2'].indexOf(name);
      const start = [0, 30, 35, 50][k];
      for (let e = 0; e < t.fdPlan.length; e += 3) if (t.fdPlan[e] === start) return t.fdPlan[e + 2];
      return -1;
    };
    expect(first('W1')).toBe(0); // the first matmul
    expect(first('b1')).toBeGreaterThan(first('W1'));
    expect(first('W2')).toBeGreaterThan(first('b1'));
    expect(first('b2')).toBeGreaterThan(first('W2'));
    const firsts = Array.from({ length: t.fdPlan.length / 3 }, (_, e) => t.fdPlan[3 * e + 2]);
    expect(firsts).toEqual([...firsts].sort((x, y) => y - x));
  });
});

describe('cost model', () => {
  it('counts FLOPs by the stated conventions', () => {
    const n = 10;
    const tape = define({ params: { x: [n] }, inputs: { w: [n] } }, (p, i) => p.x.mul(i.w).sum()).tape;
    expect(tape.nInstr).toBe(2);
    expect(costOf(tape, 'value')).toEqual({ evaluations: 1, flops: 2 * n, relative: 1 });
    // backward: mul (only x: 2 per element) + sum (1 per element)
    expect(costOf(tape, 'reverse')).toEqual({ evaluations: 1, flops: 5 * n, relative: 2.5 });
    expect(costOf(tape, 'fd-forward')).toEqual({ evaluations: n + 1, flops: (n + 1) * 2 * n, relative: n + 1 });
    expect(costOf(tape, 'fd-central', false)).toEqual({
      evaluations: 2 * n + 1,
      flops: (2 * n + 1) * 2 * n,
      relative: 2 * n + 1,
    });
  });

  it('matmul is 2mkn forward, and suffix reuse makes FD cheaper than N+1 evaluations', () => {
    const t = define({ params: { A: [3, 4], B: [4, 5] } }, (p) => p.A.matmul(p.B).sum()).tape;
    expect(costOf(t, 'value').flops).toBe(2 * 3 * 4 * 5 + 15);
    const m = mlp().tape;
    const naive = costOf(m, 'fd-forward', false),
      reuse = costOf(m, 'fd-forward', true);
    expect(naive.evaluations).toBe(m.nParams + 1);
    expect(reuse.flops).toBeLessThan(naive.flops);
    expect(naive.relative).toBe(m.nParams + 1);
  });
});

describeEachBackend('tape validation', (_be, name) => {
  const t = define({ params: { A: [3, 4], b: [4] }, inputs: { x: [3] } }, (p, i) =>
    i.x.matmul(p.A).add(p.b).exp().sum().mul(2),
  ).tape;
  it('accepts a good tape', async () => {
    const p = (await load(name)).load(t);
    expect(Number.isFinite(p.value(random(16, 1), [random(3, 2)]))).toBe(true);
    p.dispose();
  });
  it.each([
    ['out of order', Int32Array.of(0, 1, 0, 1, 2, 3)],
    ['past the parameters', Int32Array.of(0, t.nParams + 1, 0)],
    ['past the code', Int32Array.of(0, 1, t.nInstr + 1)],
    ['not triples', Int32Array.of(0, 1)],
  ])('refuses an FD plan %s', async (_, plan) => {
    const p = (await load(name)).load(t);
    expect(() => p.fd(random(16, 1), [random(3, 2)], new Float64Array(16), false, 1e-6, true, plan)).toThrow(/plan/);
    p.dispose();
  });
  // crafted bad tapes, rule by rule: test/validation.test.ts
});
