/**
 * Memory of the wasm backend: compiled tapes own their arenas and dispose() gives them back, so
 * compiling and disposing in a loop does not grow the module's memory; JS views of the memory are
 * re-created after another tape's load grows (and so detaches) it; a tape too large for wasm
 * memory is an Error, not a trap.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  backend,
  Compiled,
  define,
  softmaxCrossEntropy,
  type Backend,
  type Defined,
  type Values,
} from '../src/index.js';
import { load } from '../src/backends/registry.js';
import { instantiateWasm, wasmEngine, wasmInstance, type WasmExports } from '../src/backends/wasm/engine.js';
import { random } from './harness.js';

let wasm: Backend, js: Backend, w: WasmExports;
beforeAll(async () => {
  [wasm, js, w] = await Promise.all([backend('wasm'), backend('js'), wasmInstance()]);
});

interface Case {
  f: Defined;
  params: Values;
  inputs: Values;
}
function mlp(batch: number, d: number, h: number, seed: number): Case {
  const f = define(
    { params: { W1: [d, h], b1: [h], W2: [h, 3] }, inputs: { X: [batch, d], Y: [batch, 3] } },
    ({ W1, b1, W2 }, { X, Y }) => softmaxCrossEntropy(X.matmul(W1).add(b1).tanh().matmul(W2), Y).mean(),
  );
  const Y = new Float64Array(batch * 3).map((_, i) => (i % 3 === (i / 3) % 3 ? 1 : 0));
  return {
    f,
    params: { W1: random(d * h, seed), b1: random(h, seed + 1), W2: random(h * 3, seed + 2) },
    inputs: { X: random(batch * d, seed + 3), Y },
  };
}
function sized(n: number, seed: number): Case {
  const f = define({ params: { a: [n] }, inputs: { x: [n] } }, (p, i) => p.a.mul(i.x).exp().sum());
  return { f, params: { a: random(n, seed) }, inputs: { x: random(n, seed + 1) } };
}

/** runs the case on wasm and checks value and gradient against js */
function checkAgainstJs(c: Case): void {
  const a = wasm.compile(c.f),
    b = js.compile(c.f);
  try {
    const [ga, gb] = [a.grad(c.params, c.inputs), b.grad(c.params, c.inputs)];
    expect(ga.value).toBe(gb.value);
    for (const k of Object.keys(gb.grad)) {
      const [x, y] = [ga.grad[k], gb.grad[k]];
      let num = 0,
        den = 0;
      for (let i = 0; i < y.length; i++) {
        num += (x[i] - y[i]) ** 2;
        den += y[i] ** 2;
      }
      expect(Math.sqrt(num / den)).toBeLessThan(1e-12);
    }
  } finally {
    a.dispose();
    b.dispose();
  }
}

describe('wasm memory', () => {
  it('compiling and disposing tapes in a loop does not grow memory', () => {
    const cases = [mlp(8, 20, 16, 1), sized(5000, 2), sized(17, 3), mlp(3, 7, 5, 4), sized(60_000, 5)];
    const cycle = () => {
      for (const c of cases) {
        const k = wasm.compile(c.f);
        k.grad(c.params, c.inputs);
        k.dispose();
      }
    };
    cycle();
    const bytes = w.memory.buffer.byteLength,
      heap = w.heapInUse();
    for (let r = 0; r < 200; r++) cycle();
    expect(w.memory.buffer.byteLength).toBe(bytes);
    expect(w.heapInUse()).toBeLessThanOrEqual(heap);
  });

  it('tapes of interleaved lifetimes reuse freed space and keep their own values', () => {
    const live: { c: ReturnType<Backend['compile']>; k: Case; v: number }[] = [];
    let seed = 100;
    for (let round = 0; round < 60; round++) {
      const k = round % 3 === 0 ? mlp(4 + (round % 5), 9, 6, seed++) : sized(1 + ((round * 7919) % 3000), seed++);
      const c = wasm.compile(k.f);
      live.push({ c, k, v: c.value(k.params, k.inputs) });
      if (round % 2 === 1) {
        const [gone] = live.splice((round * 31) % live.length, 1);
        gone.c.dispose();
      }
      // every live tape still computes what it computed when it was loaded
      for (const t of live) expect(t.c.value(t.k.params, t.k.inputs)).toBe(t.v);
    }
    for (const t of live) t.c.dispose();
    checkAgainstJs(mlp(5, 11, 7, 999));
  });

  it('views are re-created after another tape grows the memory', () => {
    const small = sized(10, 7);
    const c = wasm.compile(small.f);
    const before = c.grad(small.params, small.inputs);
    const bytes = w.memory.buffer.byteLength;
    const big = sized(3_000_000, 8); // 2 x 24 MB of arenas: the memory must grow
    const cb = wasm.compile(big.f);
    expect(w.memory.buffer.byteLength).toBeGreaterThan(bytes);
    const after = c.grad(small.params, small.inputs);
    expect(after.value).toBe(before.value);
    expect(Array.from(after.grad.a)).toEqual(Array.from(before.grad.a));
    expect(Number.isFinite(cb.value(big.params, big.inputs))).toBe(true);
    cb.dispose();
    c.dispose();
  });

  it('a tape too large for wasm memory is an Error naming the size it needs, and the backend stays usable', async () => {
    const t = sized(4, 9).f.tape;
    const engine = await load('wasm');
    expect(() => engine.load({ ...t, arenaSize: 2 ** 28, output: t.output })).toThrow(
      /the tape needs 4\.00 GiB of wasm memory \(two arenas of 268435456 float64 and the code\): too large for wasm memory \(wasm32 addresses at most 4 GiB\)/,
    );
    checkAgainstJs(sized(33, 10));
  });

  it('past 2 GiB of wasm memory tapes still load and compute (addresses are unsigned), until memory runs out', async () => {
    // a private instance, dropped at the end. The big tape's arenas are fresh memory, which the
    // module never writes (already zero), so this holds about 2 GiB of address space, not of RAM.
    const w2 = await instantiateWasm();
    const engine = wasmEngine(w2);
    const base = sized(4, 12).f.tape;
    const big = engine.load({ ...base, arenaSize: 2 ** 27 }); // two arenas of 1 GiB, valid: the end is unused
    expect(w2.heapInUse()).toBeGreaterThan(2 ** 31);
    const small = sized(50, 13);
    const c = new Compiled(small.f, engine); // its blocks sit above 2 GiB
    const ref = js.compile(small.f);
    const [got, want] = [c.grad(small.params, small.inputs), ref.grad(small.params, small.inputs)];
    expect(got.value).toBe(want.value);
    expect(Array.from(got.grad.a)).toEqual(Array.from(want.grad.a));
    expect(c.grad(small.params, small.inputs, { method: 'fd-central', coordinates: [3, 7] }).grad.a[7]).toBeCloseTo(
      want.grad.a[7],
      6,
    );
    // another 2 GiB cannot fit in the 4 GiB: a clear Error with the size, and nothing breaks
    expect(() => engine.load({ ...base, arenaSize: 2 ** 27 }).dispose()).toThrow(
      /the tape needs 2\.00 GiB of wasm memory .*memory cannot grow that far \(2\.00 GiB in use/,
    );
    expect(c.value(small.params, small.inputs)).toBe(want.value);
    c.dispose();
    ref.dispose();
    big.dispose();
  });
});
