/**
 * Forward-mode AD (c.jvp and grad's method 'forward') on every backend: the directional derivative
 * equals the reverse gradient dotted with the direction, a forward gradient equals the reverse one
 * on the built-in models, coordinates and reuse behave as for finite differences, and bad tangents
 * are refused with a clear error. The per-op agreement (forward = reverse to 1e-13 on every case
 * of test/cases) is in the harness (expectAD).
 */
import { expect, it } from 'vitest';
import { define, softmaxCrossEntropy } from '../src/index.js';
import { logistic, mlp, seed, softmaxRegression } from '../src/models/models.js';
import { breastCancer, digits, head } from '../src/data/datasets.js';
import { describeEachBackend, expectClose, expectVector, FORWARD_VS_REVERSE, random } from './harness.js';

const models = [
  () => seed(50),
  () => logistic(head(breastCancer(), 40)),
  () => softmaxRegression(head(digits(), 30)),
  () => mlp(head(digits(), 20), 8),
];

describeEachBackend('forward mode', (be) => {
  it('a forward gradient equals the reverse gradient on the built-in models, with and without reuse', () => {
    for (const build of models) {
      const m = build();
      const c = be().compile(m.f);
      const r = c.grad(m.params, m.inputs);
      for (const reuse of [true, false]) {
        const f = c.grad(m.params, m.inputs, { method: 'forward', reuse });
        expect(f.value).toBe(r.value);
        expectVector(c.flatten(f.grad), c.flatten(r.grad), FORWARD_VS_REVERSE, `${m.name} (reuse ${reuse})`);
      }
      c.dispose();
    }
  });

  it('jvp gives the value and the reverse gradient dotted with the direction, named or flat', () => {
    const m = mlp(head(digits(), 20), 8);
    const c = be().compile(m.f);
    const r = c.grad(m.params, m.inputs);
    const g = c.flatten(r.grad);
    const t = random(c.paramCount, 7, -1, 1);
    const dot = g.reduce((s, x, i) => s + x * t[i], 0);
    const flat = c.jvp(m.params, t, m.inputs);
    expect(flat.value).toBe(r.value);
    expectClose(flat.derivative, dot, 1e-12, 'jvp vs grad . t');
    const named = c.jvp(m.params, c.unflatten(t), m.inputs);
    expect(named.derivative).toBe(flat.derivative);
    // linear in the direction
    expectClose(
      c.jvp(
        m.params,
        t.map((x) => 3 * x),
        m.inputs,
      ).derivative,
      3 * dot,
      1e-12,
      'jvp(3t)',
    );
    expect(c.jvp(m.params, new Float64Array(c.paramCount), m.inputs).derivative).toBe(0);
    c.dispose();
  });

  it('computes only the requested coordinates, and the same numbers as the whole gradient', () => {
    const m = softmaxRegression(head(digits(), 30));
    const c = be().compile(m.f);
    const all = c.flatten(c.grad(m.params, m.inputs, { method: 'forward' }).grad);
    const some = [3, 0, 64 * 10 + 2, c.paramCount - 1];
    const out = new Float64Array(c.paramCount).fill(-7);
    c.gradFlat(c.flatten(m.params), m.inputs, out, { method: 'forward', coordinates: some });
    for (let i = 0; i < c.paramCount; i++) expect(out[i]).toBe(some.includes(i) ? all[i] : -7);
    c.dispose();
  });

  it('differentiates through x.matmul(x), x * x and a shared scalar (operands that alias)', () => {
    const f = define({ params: { x: [3, 3], s: [] }, inputs: { y: [3, 3] } }, (p, i) =>
      softmaxCrossEntropy(p.x.matmul(p.x).mul(p.x).mul(p.s), i.y).sum().add(p.s.mul(p.s)),
    );
    const c = be().compile(f);
    const params = { x: random(9, 3, -1, 1), s: 0.7 };
    const inputs = { y: Float64Array.of(1, 0, 0, 0, 1, 0, 0.5, 0.5, 0) };
    const r = c.flatten(c.grad(params, inputs).grad);
    expectVector(c.flatten(c.grad(params, inputs, { method: 'forward' }).grad), r, FORWARD_VS_REVERSE, 'aliases');
    c.dispose();
  });

  it('refuses bad tangents with a clear error, and works after one', () => {
    const m = seed(10);
    const c = be().compile(m.f);
    expect(() => c.jvp(m.params, new Float64Array(3), m.inputs)).toThrow(/tangents must have 2 elements, got 3/);
    expect(() => c.jvp(m.params, { a: 1 }, m.inputs)).toThrow(/missing tangent 'b'/);
    expect(() => c.jvp(m.params, { a: 1, b: 2, c: 3 }, m.inputs)).toThrow(/unknown tangent 'c'/);
    expect(() => c.jvp(m.params, [1, 2] as never, m.inputs)).toThrow(/tangents must be an object/);
    expect(Number.isFinite(c.jvp(m.params, { a: 1, b: 0 }, m.inputs).derivative)).toBe(true);
    c.dispose();
    expect(() => c.jvp(m.params, { a: 1, b: 0 }, m.inputs)).toThrow(/disposed/);
  });

  it('gradAsync with method forward resolves to the synchronous result', async () => {
    const m = logistic(head(breastCancer(), 40));
    const c = be().compile(m.f);
    const want = c.grad(m.params, m.inputs, { method: 'forward' });
    const got = await c.gradAsync(m.params, m.inputs, { method: 'forward' });
    expect(got.value).toBe(want.value);
    expect(c.flatten(got.grad)).toEqual(c.flatten(want.grad));
    c.dispose();
  });
});
