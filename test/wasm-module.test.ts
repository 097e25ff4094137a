/**
 * The wasm module's own defences, called directly: program ids are looked up, never trusted;
 * layouts and plans are validated in wasm; errors come back as codes the engine turns into Errors.
 * Also the loader (SIMD detection, a missing file) and where wasm sits in backend selection.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { backend, backends, define } from '../src/index.js';
import { compileWasm, defaultWasmUrl, simdSupported } from '../src/backends/wasm/loader.js';
import { instantiateWasm, type WasmExports } from '../src/backends/wasm/engine.js';
import { Field, INSTR_WIDTH } from '../src/ops/opset.js';
import { RULE } from '../src/trace/tape-rules.js';
import { random } from './harness.js';

let w: WasmExports;
beforeAll(async () => {
  w = await instantiateWasm(); // a private instance: these tests poke at raw exports
});

const tape = () => define({ params: { a: [3] }, inputs: { x: [3] } }, (p, i) => p.a.mul(i.x).sum()).tape;

/** loads a tape by hand, as the engine does; returns its id */
function loadRaw(t = tape()): number {
  const id = w.create(t.nInstr, t.fdPlan.length / 3, t.arenaSize, t.nParams, t.constStart, t.tempStart, t.output, 8);
  expect(id).toBeGreaterThan(0);
  new Int32Array(w.memory.buffer, w.codeAt(id), t.code.length).set(t.code);
  new Int32Array(w.memory.buffer, w.planAt(id), t.fdPlan.length).set(t.fdPlan);
  return id;
}

describe('wasm module defences', () => {
  it('refuses ids it did not hand out, or has taken back', () => {
    for (const id of [0, -1, 7777, 2 ** 31 - 1]) {
      expect(w.value(id)).toBeNaN();
      expect(w.lastError()).toBe(1);
      expect(w.reverse(id)).toBeNaN();
      expect(w.fd(id, 1, 1e-6, 1)).toBeNaN();
      expect(w.codeAt(id)).toBe(0);
      expect(w.dispose(id)).toBeLessThan(0);
    }
    const id = loadRaw();
    expect(w.validate(id)).toBe(0);
    expect(w.dispose(id)).toBe(0);
    expect(w.dispose(id)).toBe(-1);
    expect(w.value(id)).toBeNaN();
    expect(w.lastError()).toBe(1);
  });

  it('runs nothing before validation', () => {
    const id = loadRaw();
    expect(w.value(id)).toBeNaN();
    expect(w.lastError()).toBe(2);
    expect(w.validate(id)).toBe(0);
    new Float64Array(w.memory.buffer, w.valuesAt(id), 6).set([1, 2, 3, 4, 5, 6]);
    expect(w.value(id)).toBe(1 * 4 + 2 * 5 + 3 * 6);
    expect(w.lastError()).toBe(0);
    w.dispose(id);
  });

  it.each([
    ['no arena', [0, 0, 0, 0, 0, 0, 0]],
    ['output past the arena', [0, 0, 4, 1, 1, 1, 4]],
    ['negative output', [0, 0, 4, 1, 1, 1, -1]],
    ['inputs before parameters', [0, 0, 4, 2, 1, 1, 0]],
    ['temporaries past the arena', [0, 0, 4, 1, 1, 5, 0]],
    ['negative instruction count', [-1, 0, 4, 1, 1, 1, 0]],
    ['an element of 2 bytes', [0, 0, 4, 1, 1, 1, 0, 2]],
    ['an element of 0 bytes', [0, 0, 4, 1, 1, 1, 0, 0]],
  ])('refuses a layout with %s', (_, args) => {
    const [a, b, c, d, e, f, g, elem = 8] = args;
    expect(w.create(a, b, c, d, e, f, g, elem)).toBe(-4);
    expect(w.lastError()).toBe(4);
  });

  it('validates a caller FD plan in wasm before running it', () => {
    const id = loadRaw();
    expect(w.validate(id)).toBe(0);
    const stage = (p: number[]) => new Int32Array(w.memory.buffer, w.planBuffer(p.length / 3), p.length).set(p);
    stage([0, 4, 0]); // past the 3 parameters
    expect(w.fdPlan(id, 0, 1e-6, 1, 1)).toBeNaN();
    expect([w.lastError(), w.errorInstruction()]).toEqual([10, 0]);
    stage([0, 1, 0, 1, 2, 1]); // firstInstr increasing
    expect(w.fdPlan(id, 0, 1e-6, 1, 2)).toBeNaN();
    expect([w.lastError(), w.errorInstruction()]).toEqual([10, 1]);
    expect(w.fdPlan(id, 0, 1e-6, 1, 1 << 20)).toBeNaN(); // more triples than were staged
    expect(w.lastError()).toBe(10);
    stage([2, 3, 0]);
    new Float64Array(w.memory.buffer, w.valuesAt(id), 6).set([1, 2, 3, 4, 5, 6]);
    expect(w.fdPlan(id, 1, 1e-6, 1, 1)).toBe(32);
    const g = new Float64Array(w.memory.buffer, w.adjointsAt(id), 3);
    expect([g[0], g[1]]).toEqual([0, 0]); // outside the plan: untouched (zero)
    expect(g[2]).toBeCloseTo(6, 8);
    w.dispose(id);
  });

  it('names the instruction and the rule it breaks', () => {
    const t = tape();
    const id = loadRaw({ ...t, code: t.code.map((x, k) => (k === INSTR_WIDTH + Field.a ? t.arenaSize - 1 : x)) }); // 2nd instruction, operand a
    expect(w.validate(id)).toBe(-(100 + RULE.a));
    expect(w.errorInstruction()).toBe(1);
    expect(w.value(id)).toBeNaN(); // still not runnable
    w.dispose(id);
  });
});

describe('wasm loading and selection', () => {
  it('this engine has wasm SIMD, and the module compiles', async () => {
    expect(simdSupported()).toBe(true);
    await expect(compileWasm()).resolves.toBeInstanceOf(WebAssembly.Module);
  });

  it('an engine without wasm SIMD gets an Error that says so (backend() then moves on to js)', async () => {
    const validate = vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    const compile = vi
      .spyOn(WebAssembly, 'compile')
      .mockRejectedValue(new WebAssembly.CompileError('invalid opcode 0xfd'));
    try {
      expect(simdSupported()).toBe(false);
      await expect(compileWasm(defaultWasmUrl())).rejects.toThrow(/lacks WebAssembly SIMD/);
    } finally {
      validate.mockRestore();
      compile.mockRestore();
    }
  });

  it('a missing module file is a clear Error', async () => {
    await expect(compileWasm(new URL('./no-such.wasm', import.meta.url))).rejects.toThrow(
      /cannot read .*no-such\.wasm .*build:wasm/,
    );
  });

  it('backend("wasm") selects it, and backend() takes the first backend that loads (native, else wasm)', async () => {
    const names = await backends();
    expect(names).toContain('wasm');
    expect(names.indexOf('wasm')).toBeLessThan(names.indexOf('js'));
    expect((await backend('wasm')).name).toBe('wasm');
    if (!process.env.TAPEGRAD_BACKEND) expect((await backend()).name).toBe(names[0]);
  });

  it('a disposed compiled function refuses calls on wasm too', async () => {
    const c = (await backend('wasm')).compile(define({ params: { a: [2] } }, (p) => p.a.square().sum()));
    expect(c.value({ a: [1, 2] })).toBe(5);
    c.dispose();
    expect(() => c.value({ a: random(2, 1) })).toThrow(/disposed/);
  });
});
