/**
 * The native binding checks every argument itself, even behind the TS layer (a caller of the
 * engine, or a bug above it, must not reach C++ with a wrong buffer), and the loader and
 * TAPEGRAD_BACKEND / TAPEGRAD_NATIVE_PATH / TAPEGRAD_NATIVE_ISA select or refuse it cleanly.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { define } from '../src/index.js';
import { load } from '../src/backends/registry.js';
import { describeEachBackend, expectVector, random, TEST_BACKENDS } from './harness.js';

const f = () =>
  define({ params: { w: [3], c: [] }, inputs: { x: [3], y: [2] } }, ({ w, c }, { x, y }) =>
    w.mul(x).sum().mul(c).add(y.sum()),
  );
const theta = Float64Array.of(1, 2, 3, 0.5);
const inputs = [Float64Array.of(0.1, 0.2, 0.3), Float64Array.of(1, 2)];

describe.runIf(TEST_BACKENDS.includes('native'))('the native binding validates its own arguments', () => {
  it('throws TypeError for wrong types and RangeError for wrong lengths, naming the argument', async () => {
    const p = (await load('native')).load(f().tape);
    const g = new Float64Array(4);
    expect(() => p.value(new Float32Array(4) as never, inputs)).toThrow(TypeError);
    expect(() => p.value([1, 2, 3, 4] as never, inputs)).toThrow(/theta must be a Float64Array/);
    expect(() => p.value(new Float64Array(3), inputs)).toThrow(RangeError);
    expect(() => p.value(theta, inputs.slice(0, 1))).toThrow(/expected 2 inputs, got 1/);
    expect(() => p.value(theta, 'x' as never)).toThrow(TypeError);
    expect(() => p.value(theta, [inputs[0], new Float64Array(3)])).toThrow(/input 1 must have 2 elements, got 3/);
    expect(() => p.reverse(theta, inputs, new Float64Array(5))).toThrow(/gradient buffer must have 4 elements/);
    expect(() => p.reverse(theta, inputs, undefined as never)).toThrow(TypeError);
    expect(() => p.fd(theta, inputs, g, 'yes' as never, 1e-6, true)).toThrow(/central must be a boolean/);
    expect(() => p.fd(theta, inputs, g, true, -1, true)).toThrow(/relStep must be a positive finite number/);
    expect(() => p.fd(theta, inputs, g, true, NaN, true)).toThrow(RangeError);
    expect(() => p.fd(theta, inputs, g, true, 1e-6, 1 as never)).toThrow(/reuse must be a boolean/);
    expect(() => p.fd(theta, inputs, g, true, 1e-6, true, [0, 1, 0] as never)).toThrow(/plan must be an Int32Array/);
    expect(Number.isFinite(p.value(theta, inputs))).toBe(true); // still usable
    p.dispose();
    expect(() => p.value(theta, inputs)).toThrow(/disposed/);
    p.dispose(); // twice is fine
  });

  it('reads a detached buffer as a length error, not as memory', async () => {
    const p = (await load('native')).load(f().tape);
    const t = Float64Array.from(theta);
    structuredClone(t.buffer, { transfer: [t.buffer] });
    expect(() => p.value(t, inputs)).toThrow(RangeError);
    p.dispose();
  });
});

describeEachBackend('a gradient buffer that is also theta or an input', (be) => {
  it('gives the gradient at the theta passed in', () => {
    const c = be().compile(f());
    const x = { x: inputs[0], y: inputs[1] };
    const want = new Float64Array(4);
    const value = c.gradFlat(theta, x, want);
    const t = Float64Array.from(theta);
    expect(c.gradFlat(t, x, t)).toBe(value);
    expectVector(t, want, 0, 'out === theta');
    const shared = Float64Array.from(theta);
    const g = shared.subarray(0, 4);
    expect(c.gradFlat(g, x, g, { method: 'fd-central' })).toBe(
      c.gradFlat(theta, x, new Float64Array(4), { method: 'fd-central' }),
    );
    c.dispose();
  });

  it('gives the gradient for the inputs passed in when the buffer is an input too', () => {
    const g2 = define({ params: { w: [3] }, inputs: { x: [3] } }, ({ w }, { x }) => w.mul(x).square().sum());
    const c = be().compile(g2);
    const w = random(3, 1),
      x = random(3, 2);
    const want = new Float64Array(3);
    const value = c.gradFlat(w, { x }, want);
    const buf = Float64Array.from(x);
    expect(c.gradFlat(w, { x: buf }, buf)).toBe(value);
    expectVector(buf, want, 0, 'out === input x');
    c.dispose();
  });
});

/** Runs a fresh process (the backend choice is per process) and returns what it prints. */
function child(env: Record<string, string>): string {
  const script =
    "import('./src/index.ts').then(async (t) => { try { console.log((await t.backend()).name); } catch (e) { console.log('error: ' + e.message); } try { console.log((await t.backends()).join(',')); } catch (e) { console.log('error: ' + e.message); } })";
  return execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  }).trim();
}

describe.runIf(TEST_BACKENDS.includes('native'))(
  'backend selection with the native addon',
  () => {
    it('picks native first; TAPEGRAD_BACKEND forces another for the process', () => {
      expect(child({})).toMatch(/^native\nnative,/);
      expect(child({ TAPEGRAD_BACKEND: 'js' })).toMatch(/^js\n/);
      expect(child({ TAPEGRAD_BACKEND: 'native' })).toMatch(/^native\n/);
    });

    it('falls back when the addon cannot load, and says why when native is asked for', () => {
      const missing = { TAPEGRAD_NATIVE_PATH: '/nonexistent/tapegrad.node' };
      const out = child(missing).split('\n');
      expect(out[0]).not.toBe('native');
      expect(out[1]).not.toMatch(/native/);
      expect(child({ ...missing, TAPEGRAD_BACKEND: 'native' })).toMatch(
        /^error: backend 'native' is not available here: cannot load \/nonexistent\/tapegrad.node/,
      );
      expect(child({ TAPEGRAD_NATIVE_ISA: 'sse9', TAPEGRAD_BACKEND: 'native' })).toMatch(
        /unknown instruction set 'sse9'/,
      );
    });
  },
  60_000,
);
