/**
 * The native reverse sweep's two load decisions (native/core/program.cpp): a rule that is the
 * first to touch an operand's adjoint stores its contribution rather than adding it to a zeroed
 * adjoint (planStores, FLAG_SET_*), and an elementwise op whose output only a matmul reads runs
 * its backward rule inside that matmul's dA, block by block (fuseThen, matmul_abt_then); a row
 * repeated by a broadcast (a bias) is folded into the add that reads it (fuseScalarBroadcasts). Each
 * case is built to take a path or to be refused one (an activation read twice, its input read
 * twice, a weight used twice, x * x); every gradient must agree with the js reference to 1e-12
 * and be the same bits on 1, 2 and 3 threads. The float32 programs take the same paths: their
 * gradients must be within the float32 bound of test/f32-tolerance.ts of the float64 reference
 * on the rounded parameters and inputs, and the same bits on 1, 2 and 3 threads. Speed is
 * measured in bench/large.ts, not here.
 */
import { describe, expect, it } from 'vitest';
import { backend, define, softmaxCrossEntropy, type Compiled } from '../src/index.js';
import type { Tensor } from '../src/trace/tensor.js';
import { random, TEST_BACKENDS } from './harness.js';
import { expectWithin, roundings, vectorBound } from './f32-tolerance.js';

const js = await backend('js');

interface Case {
  readonly name: string;
  readonly f: ReturnType<typeof define>;
  readonly params: Record<string, Float64Array>;
  readonly inputs: Record<string, Float64Array>;
}

/** an MLP layer pair around activation `act`, batch B, in -> H -> 7 */
function mlp(name: string, B: number, IN: number, H: number, act: (z: Tensor) => Tensor): Case {
  const f = define(
    { params: { W1: [IN, H], b1: [H], W2: [H, 7] }, inputs: { X: [B, IN], Y: [B, 7] } },
    ({ W1, b1, W2 }, { X, Y }) => softmaxCrossEntropy(act(X.matmul(W1).add(b1)).matmul(W2), Y).mean(),
  );
  const Y = new Float64Array(B * 7);
  for (let r = 0; r < B; r++) Y[r * 7 + ((r * 3) % 7)] = 1;
  return {
    name,
    f,
    params: { W1: random(IN * H, 1, -0.3, 0.3), b1: random(H, 2, -0.5, 0.5), W2: random(H * 7, 3, -0.4, 0.4) },
    inputs: { X: random(B * IN, 4, -1, 1), Y },
  };
}

const cases: Case[] = [
  // k = 700: blocks of 46 rows of dA, the last one short; pieces of 16 rows on the pool
  mlp('tanh, 100 x 700 hidden (several blocks)', 100, 20, 700, (z) => z.tanh()),
  mlp('relu', 33, 9, 50, (z) => z.relu()),
  mlp('sigmoid', 33, 9, 50, (z) => z.sigmoid()),
  mlp('gelu', 33, 9, 50, (z) => z.gelu()),
  mlp('softplus', 33, 9, 50, (z) => z.softplus()),
  mlp('exp', 33, 9, 50, (z) => z.mul(0.1).exp()),
  // the activation's output also read by a sum: its adjoint has two writers, no fusion
  mlp('tanh read twice', 40, 11, 30, (z) => {
    const h = z.tanh();
    return h.add(h.sum().mul(0.01));
  }),
  // the activation's input also read: its input adjoint has two writers, no fusion
  mlp('tanh input read twice', 40, 11, 30, (z) => z.tanh().add(z.square().mul(0.1))),
  (() => {
    // one weight in two products: its adjoint is stored by the later product, added to by the other
    const f = define({ params: { W: [24, 24] }, inputs: { X: [30, 24] } }, ({ W }, { X }) =>
      X.matmul(W).tanh().matmul(W).square().sum(),
    );
    return { name: 'a weight used twice', f, params: { W: random(576, 5, -0.3, 0.3) }, inputs: { X: random(720, 6) } };
  })(),
  (() => {
    // x * x: the rule stores a's adjoint, then adds b's (the same range) to it
    const f = define({ params: { x: [300] } }, ({ x }) => x.mul(x).tanh().sum());
    return { name: 'x * x', f, params: { x: random(300, 7) }, inputs: {} };
  })(),
  (() => {
    // rows of 100 repeated over 300 rows (30,000 elements: pieces of 8,192 on the pool, which
    // start inside rows), folded into add, sub (the row as operand a), mul and div
    const f = define(
      { params: { W: [20, 100], b: [100], s: [100] }, inputs: { X: [300, 20] } },
      ({ W, b, s }, { X }) => {
        const z = X.matmul(W).add(b);
        return b.sub(z).mul(s).div(s.square().add(1)).tanh().square().sum();
      },
    );
    return {
      name: 'rows folded into add, sub, mul and div',
      f,
      params: { W: random(2000, 11, -0.3, 0.3), b: random(100, 12), s: random(100, 13) },
      inputs: { X: random(6000, 14) },
    };
  })(),
  (() => {
    // the activation is operand b of the matmul: not fused
    const f = define({ params: { W: [12, 9], P: [5, 12] }, inputs: { X: [12, 12] } }, ({ W, P }, { X }) =>
      P.matmul(X.matmul(W).tanh()).square().sum(),
    );
    return {
      name: 'activation as the right operand',
      f,
      params: { W: random(108, 8), P: random(60, 9) },
      inputs: { X: random(144, 10) },
    };
  })(),
];

function grad<A extends Float64Array | Float32Array>(
  c: Compiled<A>,
  theta: A,
  inputs: Record<string, A>,
  make: (n: number) => A = (n) => new Float64Array(n) as A,
): A {
  const g = make(c.paramCount);
  c.gradFlat(theta, inputs, g);
  // a second call: stored adjoints must not depend on what the last call left in the arena
  const again = make(c.paramCount);
  c.gradFlat(theta, inputs, again);
  expect(Array.from(again)).toEqual(Array.from(g));
  return g;
}

describe.runIf(TEST_BACKENDS.includes('native'))('native reverse sweep: stored adjoints, fused activations', () => {
  for (const k of cases)
    it(k.name, async () => {
      const cj = js.compile(k.f);
      const theta = cj.flatten(k.params);
      const want = grad(cj, theta, k.inputs);
      let first: Float64Array | undefined;
      for (const threads of [1, 2, 3]) {
        const c = (await backend('native', { threads })).compile(k.f);
        const got = grad(c, theta, k.inputs);
        c.dispose();
        let [num, den] = [0, 0];
        for (let i = 0; i < got.length; i++) [num, den] = [num + (got[i] - want[i]) ** 2, den + want[i] ** 2];
        expect(Math.sqrt(num / den), `${threads} threads`).toBeLessThan(1e-12);
        if (first) expect(Array.from(got), `${threads} threads`).toEqual(Array.from(first));
        first = got;
      }
    });

  it('folded rows keep the exact forward values: finite differences equal js bit for bit', async () => {
    const k = cases.find((c) => c.name.startsWith('rows folded'))!;
    const cj = js.compile(k.f);
    const theta = cj.flatten(k.params);
    const coordinates = [0, 1999, 2000, 2050, 2099, 2100, 2199];
    const fd = (c: Compiled) => {
      const g = new Float64Array(c.paramCount);
      c.gradFlat(theta, k.inputs, g, { method: 'fd-central', coordinates });
      return coordinates.map((i) => g[i]);
    };
    const want = fd(cj);
    for (const threads of [1, 2]) {
      const c = (await backend('native', { threads })).compile(k.f);
      expect(fd(c), `${threads} threads`).toEqual(want);
      c.dispose();
    }
  });
});

describe.runIf(TEST_BACKENDS.includes('native'))('native float32 reverse sweep: the same paths', () => {
  const to32 = (r: Record<string, Float64Array>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Float32Array.from(v)]));
  const widen = (r: Record<string, Float32Array>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Float64Array.from(v)]));
  for (const k of cases)
    it(k.name, async () => {
      const [params, inputs] = [to32(k.params), to32(k.inputs)];
      const cj = js.compile(k.f);
      const want = grad(cj, cj.flatten(widen(params)), widen(inputs));
      const { forward, backward } = roundings(k.f.tape);
      let first: Float32Array | undefined;
      for (const threads of [1, 2, 3]) {
        const c = (await backend('native', { threads })).compile(k.f, { dtype: 'float32' });
        const got = grad(c, c.flatten(params), inputs, (n) => new Float32Array(n));
        c.dispose();
        expectWithin(got, want, vectorBound(forward + backward, want), `${threads} threads vs float64`);
        if (first) expect(Array.from(got), `${threads} threads`).toEqual(Array.from(first));
        first = got;
      }
    });
});
