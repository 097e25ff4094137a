/**
 * The dtype option of compile (src/api/dtype.ts has the float32 contract): what a float32
 * function takes and returns, the errors that name float32, FD's float32 steps to the bit, and
 * what training refuses. The numerical conformance of float32 is test/float32.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { adam, backend, define, minimize, sgd, type Compiled } from '../src/index.js';
import { defaultStep, EPS } from '../src/api/dtype.js';
import { collectInputs } from '../src/api/validate.js';
import { describeEachBackend, random } from './harness.js';
import { expectWithin, lossBound, roundings, vectorBound } from './f32-tolerance.js';

/** A small model with two parameters, an input, a named output and a symbolic batch (or a fixed one). */
const model = (batch: number | string = 'batch') =>
  define({ params: { w: [3, 2], b: [2] }, inputs: { x: [batch, 3] } }, (p, i) => {
    const h = i.x.matmul(p.w).add(p.b).tanh();
    return { loss: h.square().sum(), h };
  });
const W = random(6, 1, -1, 1),
  B = random(2, 2, -1, 1);
const X = (n: number) => random(3 * n, 3 + n, -2, 2);

describe('dtype option', () => {
  it('an unknown dtype, or options that are not an object, are TypeErrors naming the choices', async () => {
    const js = await backend('js');
    expect(() => js.compile(model(), { dtype: 'float16' as never })).toThrow(
      /compile: unknown dtype 'float16' \(expected 'float64' or 'float32'\)/,
    );
    expect(() => js.compile(model(), { dtype: 32 as never })).toThrow(TypeError);
    expect(() => js.compile(model(), 'float32' as never)).toThrow(/compile: options must be an object/);
    expect(js.compile(model()).dtype).toBe('float64');
    expect(js.compile(model(), {}).dtype).toBe('float64');
  });

  it("float32's epsilon and default FD steps: sqrt and cbrt of 2^-23", () => {
    expect(EPS.float32).toBe(2 ** -23);
    expect(defaultStep('fd-forward', 'float32')).toBe(Math.sqrt(2 ** -23));
    expect(defaultStep('fd-central', 'float32')).toBe(Math.cbrt(2 ** -23));
    expect(defaultStep('fd-forward', 'float64')).toBe(Math.sqrt(2 ** -52));
  });

  it('a Float32Array input is used in place; other arrays are copied, rounded to float32', () => {
    const leaves = model(2).inputs;
    const x32 = Float32Array.from(X(2));
    const out: (Float32Array | Float64Array)[] = [];
    collectInputs(leaves, { x: x32 }, out, 'float32');
    expect(out[0]).toBe(x32);
    const x64 = X(2);
    collectInputs(leaves, { x: x64 }, out, 'float32');
    expect(out[0]).toBeInstanceOf(Float32Array);
    expect(Array.from(out[0])).toEqual(Array.from(x64, Math.fround));
    expect(Array.from(out[0])).not.toEqual(Array.from(x64)); // the values were rounded, not kept
    collectInputs(leaves, { x: Array.from(x64) }, out, 'float32');
    expect(Array.from(out[0])).toEqual(Array.from(x64, Math.fround));
    // and float64 functions keep their contract: Float64Array in place, Float32Array copied
    collectInputs(leaves, { x: x64 }, out, 'float64');
    expect(out[0]).toBe(x64);
    collectInputs(leaves, { x: x32 }, out, 'float64');
    expect(out[0]).toBeInstanceOf(Float64Array);
  });
});

describeEachBackend('float32 functions', (be) => {
  const compile32 = () => be().compile(model(), { dtype: 'float32' });

  it('take named values of any array type (rounded) and give Float32Array views', () => {
    const c: Compiled<Float32Array> = compile32();
    expect(c.dtype).toBe('float32');
    const x = X(4);
    const r = c.grad({ w: W, b: Array.from(B) }, { x });
    expect(r.grad.w).toBeInstanceOf(Float32Array);
    expect(r.grad.b).toBeInstanceOf(Float32Array);
    expect(r.grad.w.buffer).toBe(r.grad.b.buffer); // views of one buffer
    expect([r.grad.w.length, r.grad.b.length]).toEqual([6, 2]);
    expect(r.outputs.h).toBeInstanceOf(Float32Array);
    expect(r.outputs.h.length).toBe(8);
    expect(r.value).toBe(Math.fround(r.value)); // a float32 loss
    const theta = c.flatten({ w: W, b: B });
    expect(theta).toBeInstanceOf(Float32Array);
    expect(Array.from(theta)).toEqual([...Array.from(W, Math.fround), ...Array.from(B, Math.fround)]);
    // the flat vector, Float32Array inputs and rounded Float64Array ones: the same call
    const x32 = Float32Array.from(x);
    expect(c.value(theta, { x: x32 })).toBe(r.value);
    expect(c.valueFlat(theta, { x })).toBe(r.value);
    const u = c.unflatten(theta);
    expect(u.w).toBeInstanceOf(Float32Array);
    expect(u.w.buffer).toBe(theta.buffer);
    const out = c.run(theta, { x: x32 });
    expect(out.h).toBeInstanceOf(Float32Array);
    expect(Array.from(out.h)).toEqual(Array.from(r.outputs.h));
    c.dispose();
  });

  it('agree with the float64 function on the rounded arguments, within the float32 bounds', () => {
    const f = model();
    const c32 = be().compile(f, { dtype: 'float32' });
    const c64 = be().compile(f);
    const x = X(5);
    const r32 = c32.grad({ w: W, b: B }, { x });
    const round = (a: Float64Array) => Float64Array.from(a, Math.fround);
    const r64 = c64.grad({ w: round(W), b: round(B) }, { x: round(x) });
    const { forward: K, backward: Kb } = roundings(f.at({ batch: 5 }).tape);
    const g64 = c64.flatten(r64.grad);
    const theta = c64.flatten({ w: round(W), b: round(B) });
    const cond = g64.reduce((s, g, i) => s + Math.abs(g * theta[i]), 0);
    expectWithin([r32.value], [r64.value], lossBound(K, r64.value, cond), 'loss');
    expectWithin(c32.flatten(r32.grad), g64, vectorBound(K + Kb, g64), 'gradient');
    expectWithin(r32.outputs.h, r64.outputs.h, vectorBound(K, r64.outputs.h), 'output h');
    c32.dispose();
    c64.dispose();
  });

  it('refuse Float64Array flat vectors and buffers with a TypeError that names float32', () => {
    const c = compile32();
    const x = { x: X(2) };
    const n = c.paramCount;
    const named = /must be a Float32Array \(this function is float32\), got Float64Array/;
    expect(() => c.valueFlat(new Float64Array(n) as never, x)).toThrow(named);
    expect(() => c.value(new Float64Array(n) as never, x)).toThrow(named);
    expect(() => c.grad(new Float64Array(n) as never, x)).toThrow(named);
    expect(() => c.run(new Float64Array(n) as never, x)).toThrow(named);
    expect(() => c.jvp(new Float32Array(n), new Float64Array(n) as never, x)).toThrow(named);
    expect(() => c.gradFlat(new Float32Array(n), x, new Float64Array(n) as never)).toThrow(
      /the gradient buffer must be a Float32Array \(this function is float32\)/,
    );
    expect(() => c.unflatten(new Float64Array(n) as never)).toThrow(named);
    // an input that is no array: the message names the float32 choice (the symbolic batch's path too)
    expect(() => c.value(c.flatten({ w: W, b: B }), { x: 'x' as never })).toThrow(
      /input 'x': expected a Float32Array, number\[\] or number, got/,
    );
    expect(() =>
      c.gradFlat(new Float32Array(n), x, new Float32Array(n), { outputs: new Float64Array(1 + 4) as never }),
    ).toThrow(/outputs must be a Float32Array, got Float64Array/);
    expect(() => c.gradFlat(new Float32Array(n + 1), x, new Float32Array(n))).toThrow(
      new RegExp(`theta must have ${n} elements, got ${n + 1}`),
    );
    // a float64 function refuses Float32Arrays the same way
    const c64 = be().compile(model());
    expect(() => c64.valueFlat(new Float32Array(n) as never, x)).toThrow(
      /theta must be a Float64Array, got Float32Array/,
    );
    expect(() => c64.jvp(new Float64Array(n), new Float32Array(n) as never, x)).toThrow(
      /tangents must be a Float64Array, got Float32Array/,
    );
    // and still work after the refusals
    expect(Number.isFinite(c.valueFlat(new Float32Array(n), x))).toBe(true);
    const out = new Float32Array(1 + 4); // loss, then h
    c.gradFlat(c.flatten({ w: W, b: B }), x, new Float32Array(n), { outputs: out });
    expect(Array.from(out.subarray(1))).toEqual(Array.from(c.run({ w: W, b: B }, x).h));
    c.dispose();
    c64.dispose();
  });

  it('reject an FD step too small for float32, and take the default steps from its epsilon', () => {
    const c = compile32();
    const x = { x: X(3) };
    const p = { w: W, b: B };
    expect(() => c.grad(p, x, { method: 'fd-forward', eps: 2 ** -24 })).toThrow(
      /eps = 5\.96\d*e-8 is too small: .* rounds back to theta in float32.*2\^-23/,
    );
    expect(() => c.grad(p, x, { method: 'fd-central', eps: 1e-8 })).toThrow(/too small/);
    expect(() => c.grad(p, x, { method: 'fd-forward', eps: 2 ** -23 })).not.toThrow();
    for (const method of ['fd-forward', 'fd-central'] as const) {
      const byDefault = c.flatten(c.grad(p, x, { method }).grad);
      const explicit = c.flatten(c.grad(p, x, { method, eps: defaultStep(method, 'float32') }).grad);
      expect(Array.from(byDefault)).toEqual(Array.from(explicit));
    }
    c.dispose();
  });

  it("compute FD's float32 steps and quotients to the bit (fl32(x + eps max(1,|x|)) - x, fl32 of the quotient)", () => {
    const f = define({ params: { x: [] } }, (p) => p.x.square());
    const c = be().compile(f, { dtype: 'float32' });
    for (const x of [1.5, -0.75, 3]) {
      const f0 = Math.fround(x * x);
      const hf = Math.fround(x + defaultStep('fd-forward', 'float32') * Math.max(1, Math.abs(x))) - x;
      const forward = Math.fround((Math.fround((x + hf) ** 2) - f0) / hf);
      expect(c.grad({ x }, undefined, { method: 'fd-forward' }).grad.x[0]).toBe(forward);
      const hc = Math.fround(x + defaultStep('fd-central', 'float32') * Math.max(1, Math.abs(x))) - x;
      const central = Math.fround((Math.fround((x + hc) ** 2) - Math.fround(Math.fround(x - hc) ** 2)) / (2 * hc));
      expect(c.grad({ x }, undefined, { method: 'fd-central' }).grad.x[0]).toBe(central);
      expect(c.grad({ x }).grad.x[0]).toBe(Math.fround(2 * x));
    }
    c.dispose();
  });

  it('serve every batch size of a symbolic dimension, each with the fixed-size float32 results', () => {
    const c = compile32();
    for (const n of [1, 7, 64, 3]) {
      const fixed = be().compile(model(n), { dtype: 'float32' });
      const args = { x: X(n) };
      const [a, b] = [c.grad({ w: W, b: B }, args), fixed.grad({ w: W, b: B }, args)];
      expect(a.value).toBe(b.value);
      expect(Array.from(c.flatten(a.grad))).toEqual(Array.from(fixed.flatten(b.grad)));
      expect(a.outputs.h).toBeInstanceOf(Float32Array);
      expect(a.outputs.h.length).toBe(2 * n);
      expect(c.outputShapes(args)).toEqual({ loss: [], h: [n, 2] });
      fixed.dispose();
    }
    c.dispose();
  });

  it('gradAsync resolves to the synchronous float32 gradient, in Float32Arrays', async () => {
    const c = compile32();
    const x = { x: X(6) };
    for (const method of ['reverse', 'forward', 'fd-central'] as const) {
      const want = c.grad({ w: W, b: B }, x, { method });
      const got = await c.gradAsync({ w: W, b: B }, x, { method });
      expect(got.value).toBe(want.value);
      expect(got.grad.w).toBeInstanceOf(Float32Array);
      expect(Array.from(c.flatten(got.grad))).toEqual(Array.from(c.flatten(want.grad)));
    }
    const out = new Float32Array(c.paramCount);
    const theta = c.flatten({ w: W, b: B });
    await expect(c.gradFlatAsync(theta, x, new Float64Array(c.paramCount) as never)).rejects.toThrow(
      /Float32Array \(this function is float32\)/,
    );
    expect(await c.gradFlatAsync(theta, x, out)).toBe(c.value(theta, x));
    c.dispose();
  });

  it('jvp takes float32 tangents, named or flat', () => {
    const c = compile32();
    const x = { x: X(4) };
    const t = { w: random(6, 9, -1, 1), b: random(2, 10, -1, 1) };
    const flat = c.flatten(t);
    const a = c.jvp({ w: W, b: B }, t, x);
    const b = c.jvp(c.flatten({ w: W, b: B }), flat, x);
    expect(a).toEqual(b);
    expect(a.value).toBe(c.value({ w: W, b: B }, x));
    c.dispose();
  });

  it('dispose releases the program; later calls throw', () => {
    const c = compile32();
    c.dispose();
    c.dispose();
    expect(c.disposed).toBe(true);
    expect(() => c.value({ w: W, b: B }, { x: X(2) })).toThrow(/disposed/);
    expect(() => c.grad({ w: W, b: B }, { x: X(2) })).toThrow(/disposed/);
  });

  it('minimize (L-BFGS) refuses a float32 function by name; the optimizers bind to one', () => {
    const c = compile32();
    const refused = /minimize: runs on float64 compiled functions only; this one is float32/;
    expect(() => minimize(c as never, new Float64Array(c.paramCount), { x: X(2) })).toThrow(refused);
    for (const opt of [sgd({ lr: 0.1 }), adam()]) opt.bind(c).dispose();
    c.dispose();
  });
});
