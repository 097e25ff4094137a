import { describe, expect, it } from 'vitest';
import { backend, define, fans, init, type Tensor } from '../src/index.js';
import { TEST_BACKENDS } from './harness.js';

// a layer [in, out] = [400, 300] (120,000 draws), a conv weight [16, 8, 3, 3], a bias, a scalar
const model = define(
  { params: { w: [400, 300], b: [300], conv: [16, 8, 3, 3], s: [] }, inputs: { x: [2, 400] } },
  ({ w, b, conv, s }, { x }) => x.matmul(w).add(b).sum().add(conv.sum().mul(s)) as Tensor,
);
const slice = (theta: Float64Array, name: string) => {
  const l = model.params.find((p) => p.name === name)!;
  return theta.subarray(l.offset, l.offset + l.size);
};

/** bit-for-bit equality (vitest's toEqual walks 120,000 elements slowly) */
const bits = (x: Float64Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
const same = (a: Float64Array, b: Float64Array) => a.length === b.length && bits(a).equals(bits(b));

/** mean and variance (about 0) of the draws */
function moments(x: Float64Array) {
  let m = 0,
    v = 0;
  for (const t of x) {
    m += t;
    v += t * t;
  }
  return { mean: m / x.length, meanSquare: v / x.length };
}

/**
 * The sample moments against the scheme's variance, within 5 standard errors: the mean's standard
 * error is sd / sqrt(n), the mean square's sqrt((E x^4 - var^2) / n) with E x^4 = 9 var^2 / 5 for
 * a uniform and 3 var^2 for a normal. A wrong scale (a factor of 3 or 2, fan_in for fan_out) is
 * far outside these bounds at these sizes.
 */
function expectScale(x: Float64Array, variance: number, normal: boolean) {
  const n = x.length;
  const { mean, meanSquare } = moments(x);
  const kurt = normal ? 3 : 9 / 5;
  expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(variance / n));
  expect(Math.abs(meanSquare - variance)).toBeLessThan(5 * Math.sqrt(((kurt - 1) * variance * variance) / n));
  if (normal) {
    // the shape too: P(|x| < sd) = 0.6827 for a normal (0.577 for a uniform of the same variance)
    const p = 0.682689492137;
    const inside = x.filter((t) => Math.abs(t) < Math.sqrt(variance)).length / n;
    expect(Math.abs(inside - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
  } else {
    const a = Math.sqrt(3 * variance);
    expect(x.every((t) => Math.abs(t) <= a)).toBe(true);
    expect(Math.max(...x.map(Math.abs))).toBeGreaterThan(a * (1 - 10 / n));
  }
}

describe('init', () => {
  it('fans: [in, out] for rank 2, [out, in, kh, kw] for convolution weights, the size for biases', () => {
    expect(fans([400, 300])).toEqual({ fanIn: 400, fanOut: 300 });
    expect(fans([16, 8, 3, 3])).toEqual({ fanIn: 72, fanOut: 144 });
    expect(fans([16, 8, 5])).toEqual({ fanIn: 40, fanOut: 80 });
    expect(fans([300])).toEqual({ fanIn: 300, fanOut: 300 });
    expect(fans([])).toEqual({ fanIn: 1, fanOut: 1 });
  });

  it('is deterministic: the same seed gives the same bits, from a defined or a compiled function on every backend', async () => {
    const a = init(model, { seed: 7 });
    expect(a.length).toBe(model.paramCount);
    expect(same(init(model, { seed: 7 }), a)).toBe(true);
    const other = init(model, { seed: 8 });
    expect(other.some((x, i) => x !== a[i])).toBe(true);
    for (const name of TEST_BACKENDS) {
      const c = (await backend(name)).compile(model);
      expect(same(init(c, { seed: 7 }), a), name).toBe(true);
      expect(same(init(c, { seed: 7, scheme: 'he-normal' }), init(model, { seed: 7, scheme: 'he-normal' })), name).toBe(
        true,
      );
      c.dispose();
    }
  });

  it('a function with a symbolic batch dimension and named outputs (the contract MLP): N = 101,770, zero biases', () => {
    const mlp = define(
      { params: { w1: [784, 128], b1: [128], w2: [128, 10], b2: [10] }, inputs: { x: ['batch', 784], y: ['batch'] } },
      ({ w1, b1, w2, b2 }, { x, y }) => {
        const logits = x.matmul(w1).add(b1).tanh().matmul(w2).add(b2);
        return { loss: logits.softmaxCrossEntropy(y).mean(), logits };
      },
    );
    const theta = init(mlp, { seed: 1 });
    expect(theta.length).toBe(101_770);
    expect(theta.subarray(784 * 128, 784 * 128 + 128).every((x) => x === 0)).toBe(true);
    expectScale(theta.subarray(0, 784 * 128), 2 / (784 + 128), false);
  });

  it('the default: Glorot-uniform weights (rank 2 and conv), zero biases and scalars', () => {
    const theta = init(model, { seed: 1 });
    expectScale(slice(theta, 'w'), 2 / (400 + 300), false);
    expectScale(slice(theta, 'conv'), 2 / (72 + 144), false);
    expect(slice(theta, 'b').every((x) => x === 0)).toBe(true);
    expect(slice(theta, 's')[0]).toBe(0);
  });

  it.each([
    ['glorot-uniform', 2 / 700, false],
    ['glorot-normal', 2 / 700, true],
    ['he-uniform', 2 / 400, false],
    ['he-normal', 2 / 400, true],
  ] as const)('%s: mean 0 and variance %f within 5 standard errors; biases stay zero', (scheme, variance, normal) => {
    const theta = init(model, { seed: 3, scheme });
    expectScale(slice(theta, 'w'), variance, normal);
    expect(slice(theta, 'b').every((x) => x === 0)).toBe(true);
    expect(slice(theta, 's')[0]).toBe(0);
  });

  it('zeros, and a per-parameter map (a named bias gets its scheme with fan = its size; the others keep the default)', () => {
    expect(init(model, { seed: 1, scheme: 'zeros' }).every((x) => x === 0)).toBe(true);
    const base = init(model, { seed: 5 });
    const theta = init(model, { seed: 5, scheme: { b: 'he-normal', conv: 'zeros' } });
    expect(same(slice(theta, 'w'), slice(base, 'w'))).toBe(true); // each parameter draws from its own stream
    expect(slice(theta, 'conv').every((x) => x === 0)).toBe(true);
    const b = slice(theta, 'b');
    expect(b.every((x) => x !== 0)).toBe(true);
    const { meanSquare } = moments(b);
    expect(Math.abs(meanSquare - 2 / 300)).toBeLessThan(5 * Math.sqrt((2 * (2 / 300) ** 2) / 300));
  });

  it('bad options are errors naming what is wrong', () => {
    expect(() => init(model, undefined as never)).toThrow(/options must be \{ seed, scheme\? \}/);
    expect(() => init(model, {} as never)).toThrow(/seed must be an integer in \[0, 2\^32\), got undefined/);
    expect(() => init(model, { seed: -1 })).toThrow(/seed must be an integer/);
    expect(() => init(model, { seed: 1.5 })).toThrow(/seed must be an integer/);
    expect(() => init(model, { seed: 2 ** 32 })).toThrow(/seed must be an integer/);
    expect(() => init(model, { seed: 1, scheme: 'xavier' as never })).toThrow(
      /unknown scheme 'xavier' \(expected 'glorot-uniform'/,
    );
    expect(() => init(model, { seed: 1, scheme: { w: 'kaiming' as never } })).toThrow(
      /unknown scheme 'kaiming' for parameter 'w'/,
    );
    expect(() => init(model, { seed: 1, scheme: { w2: 'zeros' } })).toThrow(
      /unknown parameter 'w2' \(parameters: 'w', 'b', 'conv', 's'\)/,
    );
    expect(() => init(model, { seed: 1, scheme: 3 as never })).toThrow(/scheme must be a scheme name or/);
    expect(() => init(model, { seed: 1, gain: 2 } as never)).toThrow(/unknown option 'gain'/);
    expect(() => init({ params: [] } as never, { seed: 1 })).toThrow(/must be a defined or compiled function/);
  });
});
