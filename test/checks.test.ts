import { describe, expect, it } from 'vitest';
import { backend, backends, crossCheck, define, gradcheck, METHODS, type Compiled } from '../src/index.js';
import { difference } from '../src/api/compare.js';
import { random } from './harness.js';

const f = () =>
  define({ params: { W: [3, 4], b: [4] }, inputs: { x: [5, 3] } }, (p, i) =>
    i.x.matmul(p.W).add(p.b).tanh().square().sum(),
  );
const params = { W: random(12, 1), b: random(4, 2) };
const inputs = { x: random(15, 3) };

/** A compiled function whose reverse gradient is wrong: one element shifted (at >= 0), or all doubled. */
function broken(c: Compiled, at: number, by: number): Compiled {
  return Object.assign(Object.create(c) as Compiled, {
    gradFlat(theta: Float64Array, inp: never, out: Float64Array, opts?: { method?: string }) {
      const v = c.gradFlat(theta, inp, out, opts as never);
      if ((opts?.method ?? 'reverse') === 'reverse') {
        if (at >= 0) out[at] += by;
        else out.forEach((g, i) => (out[i] = 2 * g));
      }
      return v;
    },
  });
}

describe('gradcheck', () => {
  it('passes a correct gradient, in full and in fast mode', async () => {
    const c = (await backend('js')).compile(f());
    for (const fast of [false, true]) {
      const r = gradcheck(c, params, inputs, { fast });
      expect(r.ok).toBe(true);
      expect(r.maxAbsError).toBeLessThan(1e-8);
    }
    c.dispose();
  });

  it('fails a wrong gradient and names the worst parameter and index', async () => {
    const c = (await backend('js')).compile(f());
    const r = gradcheck(broken(c, 12 + 2, 0.1), params, inputs);
    expect(r.ok).toBe(false);
    expect(r.worst).toEqual({ param: 'b', index: 2 });
    expect(r.maxAbsError).toBeCloseTo(0.1, 6);
    // fast mode sees an error only through one random direction: a doubled gradient shows in any
    expect(gradcheck(broken(c, -1, 0), params, inputs, { fast: true }).ok).toBe(false);
    c.dispose();
  });
});

describe('crossCheck', () => {
  it('reports every loaded backend and method against the js reference, all within the conformance bar', async () => {
    const rows = await crossCheck(f(), params, inputs);
    const loaded = await backends();
    expect(rows.map((r) => `${r.backend}/${r.method}`)).toEqual(loaded.flatMap((b) => METHODS.map((m) => `${b}/${m}`)));
    for (const r of rows) {
      expect(r.ok, JSON.stringify(r)).toBe(true);
      expect(r.gradNormRel).toBeLessThanOrEqual(r.method === 'reverse' ? 1e-12 : 1e-9);
    }
    expect(rows.find((r) => r.backend === 'js')!.gradMaxAbs).toBe(0);
  });
});

describe('difference (the comparison behind crossCheck and the harness)', () => {
  it('measures values near the float64 limit without overflowing (found by the fuzz test)', () => {
    // squares of 1.8e308 overflow: the normwise error was Inf/Inf = NaN, a false failure
    const d = difference([1.7976930777482108e308], [1.797693077748211e308]);
    expect(d.normRel).toBeCloseTo(1.1e-16, 17);
    expect(difference([1e200, 3e200], [1e200, 4e200]).normRel).toBeCloseTo(1e200 / Math.hypot(1e200, 4e200), 12);
    expect(difference([2e-320, 0], [1e-320, 0]).normRel).toBeCloseTo(1, 2);
    // and a difference far larger than a subnormal reference is relative to it, not absolute
    expect(difference([1e-13], [-5e-324]).normRel).toBeGreaterThan(1e300);
  });

  it('NaN against a number, or opposite infinities, differ infinitely; equal NaNs and zeros agree', () => {
    expect(difference([NaN, 1], [1, 1]).normRel).toBe(Infinity);
    expect(difference([Infinity], [-Infinity]).normRel).toBe(Infinity);
    expect(difference([NaN, Infinity, 0], [NaN, Infinity, -0]).normRel).toBe(0);
    expect(difference([1e-3], [0]).normRel).toBe(1e-3); // absolute where the reference is zero
  });
});
