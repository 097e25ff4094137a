import { expect, it } from 'vitest';
import { define, DEFAULT_STEP } from '../src/index.js';
import { breastCancer, digits, head } from '../src/data/datasets.js';
import { logistic, mlp } from '../src/models/models.js';
import { describeEachBackend } from './harness.js';

describeEachBackend('finite differences', (be) => {
  it('use the documented step: h = (x + eps max(1,|x|)) - x', () => {
    const c = be().compile(define({ params: { x: [3] } }, (p) => p.x.square().sum()));
    const x = Float64Array.of(3, -1e-3, 250);
    const fwd = c.grad({ x }, undefined, { method: 'fd-forward' }).grad.x;
    const cen = c.grad({ x }, undefined, { method: 'fd-central', eps: 1e-4 }).grad.x;
    const f = (v: Float64Array) => v.reduce((s, t) => s + t * t, 0);
    x.forEach((xi, i) => {
      const step = (eps: number) => xi + eps * Math.max(1, Math.abs(xi)) - xi;
      const at = (d: number) => f(x.map((t, j) => (j === i ? t + d : t)));
      const h = step(DEFAULT_STEP['fd-forward']);
      expect(fwd[i]).toBe((at(h) - f(x)) / h);
      const hc = step(1e-4);
      expect(cen[i]).toBe((at(hc) - at(-hc)) / (2 * hc));
    });
    c.dispose();
  });

  it('compute just the requested coordinates, equal to the full gradient there, others untouched', () => {
    const m = mlp(head(digits(), 50), 6);
    const c = be().compile(m.f);
    const theta = c.flatten(m.params);
    const coords = [0, 5, 383, 390, c.paramCount - 1, 5];
    for (const method of ['fd-forward', 'fd-central'] as const) {
      for (const reuse of [true, false]) {
        const full = new Float64Array(c.paramCount);
        c.gradFlat(theta, m.inputs, full, { method, reuse });
        const part = new Float64Array(c.paramCount).fill(42);
        c.gradFlat(theta, m.inputs, part, { method, reuse, coordinates: coords });
        part.forEach((g, i) => expect(g, `coordinate ${i}`).toBe(coords.includes(i) ? full[i] : 42));
      }
    }
    c.dispose();
  });

  it('reject coordinates that are not indices, or that come with reverse mode', () => {
    const m = logistic(head(breastCancer(), 20));
    const c = be().compile(m.f);
    expect(() => c.grad(m.params, m.inputs, { method: 'fd-forward', coordinates: [31] })).toThrow(
      /coordinates\[0\] = 31 is not an index in \[0, 31\)/,
    );
    expect(() => c.grad(m.params, m.inputs, { method: 'fd-forward', coordinates: [1.5] })).toThrow(
      /coordinates\[0\] = 1.5/,
    );
    expect(() => c.grad(m.params, m.inputs, { method: 'fd-forward', coordinates: 3 as never })).toThrow(
      /coordinates must be an array/,
    );
    expect(() => c.grad(m.params, m.inputs, { coordinates: [1] })).toThrow(/finite differences and forward mode only/);
    expect(c.value(m.params, m.inputs)).toBeGreaterThan(0);
    c.dispose();
  });
});
