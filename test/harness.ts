/**
 * The conformance harness: every test file runs its cases on every backend in TEST_BACKENDS, and
 * `expectAD` checks one function on one backend against the js reference.
 */
import { beforeAll, describe, expect } from 'vitest';
import {
  backend,
  METHODS,
  type Backend,
  type BackendName,
  type Compiled,
  type Defined,
  type Method,
  type Values,
} from '../src/index.js';
import { difference } from '../src/api/compare.js';
import { AGREEMENT } from '../src/crosscheck.js';

/**
 * The backends under test. A backend in this list that fails to load fails every test of it by
 * name; nothing is skipped. TAPEGRAD_TEST_BACKENDS=js,wasm narrows the list explicitly.
 */
export const TEST_BACKENDS: readonly BackendName[] = (process.env.TAPEGRAD_TEST_BACKENDS?.split(',') as
  BackendName[] | undefined) ?? ['native', 'wasm', 'js'];

/** One describe block per backend; `be()` is that backend, loaded before the block's tests. */
export function describeEachBackend(title: string, body: (be: () => Backend, name: BackendName) => void): void {
  for (const name of TEST_BACKENDS) {
    describe(`${title} [${name}]`, () => {
      let be: Backend | undefined;
      let why: unknown;
      // a load failure is kept, not thrown here: each test then fails by name with the reason
      beforeAll(async () => {
        be = await backend(name).catch((e: unknown) => ((why = e), undefined));
      });
      body(() => {
        if (!be)
          throw new Error(`backend ${name} did not load: ${(why as Error | undefined)?.message ?? 'not loaded yet'}`);
        return be;
      }, name);
    });
  }
}

let reference: Backend | undefined;
async function js(): Promise<Backend> {
  return (reference ??= await backend('js'));
}

export interface Oracle {
  /** the exact value, from an independent formula */
  readonly value?: number;
  /** the exact gradient per parameter, from an independent formula */
  readonly grad?: Readonly<Record<string, ArrayLike<number>>>;
  /** tolerance against the oracle (normwise relative; default 1e-12) */
  readonly tol?: number;
  /** tolerance of the reverse gradient against central differences (default 1e-6); 0 skips it */
  readonly fdTol?: number;
  /**
   * the gradient methods compared with the reference (default all); without 'reverse', value()
   * is not compared either (it shares the reverse sweep's forward kernels), only each method's value
   */
  readonly methods?: readonly Method[];
  /**
   * false skips the forward-vs-reverse check on one backend (the fuzz test, on graphs where
   * cancellation inside the sweeps makes the two exact methods' roundings differ by far more than
   * the function's conditioning suggests)
   */
  readonly forwardVsReverse?: false;
}

/** Calls `run` on the backend and on the reference: both throw, or both return. */
function alike<T>(run: (c: Compiled) => T, c: Compiled, ref: Compiled): [T, T] | undefined {
  let want: T | undefined, wantError: unknown;
  try {
    want = run(ref);
  } catch (e) {
    wantError = e;
  }
  if (wantError !== undefined) {
    expect(() => run(c), `the reference threw ${String(wantError)}`).toThrow();
    return undefined;
  }
  return [run(c), want as T];
}

const flat = (c: Compiled, g: Record<string, Float64Array>) => c.flatten(g);

/**
 * Checks `f` on backend `be`: value and every gradient method against the js reference
 * (AGREEMENT tolerances), the reverse gradient against central differences, suffix reuse against
 * the naive loop, and both against an optional oracle.
 */
export async function expectAD(
  be: Backend,
  f: Defined,
  params: Values,
  inputs?: Values,
  oracle: Oracle = {},
): Promise<void> {
  const ref = (await js()).compile(f);
  const c = be.compile(f);
  try {
    const methods = oracle.methods ?? METHODS;
    if (methods.includes('reverse')) {
      const v = alike((x) => x.value(params, inputs), c, ref);
      if (!v) return;
      expectClose(v[0], v[1], AGREEMENT.reverse, `value on ${be.name} vs js`);
      if (oracle.value !== undefined) expectClose(v[0], oracle.value, oracle.tol ?? 1e-12, 'value vs oracle');
      const outs = alike((x) => x.run(params, inputs), c, ref);
      for (const [name, want] of Object.entries(outs?.[1] ?? {}))
        expectVector(outs![0][name], want, AGREEMENT.reverse, `output '${name}' on ${be.name} vs js`);
    }

    // forward mode and reverse mode are both exact: on the same backend they agree to 1e-13
    // normwise, where every value is finite. With an infinite intermediate they may differ as
    // IEEE says: forward mode multiplies each partial by a tangent that is 0 for the other
    // coordinates (Inf * 0 = NaN) where reverse mode multiplies it by the adjoint
    if (methods.includes('forward') && methods.includes('reverse') && oracle.forwardVsReverse !== false) {
      const r = c.grad(params, inputs, { method: 'reverse' });
      const finite = (x: ArrayLike<number>) => Array.from(x).every(Number.isFinite);
      const leaves = [c.flatten(params), ...Object.values(inputs ?? {}).map((x) => Float64Array.from(toArray(x)))];
      if (Number.isFinite(r.value) && leaves.every(finite) && finite(flat(c, r.grad))) {
        const f = c.grad(params, inputs, { method: 'forward' });
        expectVector(flat(c, f.grad), flat(c, r.grad), FORWARD_VS_REVERSE, `forward vs reverse on ${be.name}`);
      }
    }
    for (const method of methods) {
      for (const reuse of [true, false]) {
        const r = alike((x) => x.grad(params, inputs, { method, reuse }), c, ref);
        if (!r) continue;
        const [got, want] = r;
        expectClose(got.value, want.value, AGREEMENT.reverse, `${method} value on ${be.name} vs js`);
        expectVector(
          flat(c, got.grad),
          flat(ref, want.grad),
          AGREEMENT[method],
          `${method} (reuse ${reuse}) on ${be.name} vs js`,
        );
        if (method === 'reverse' && reuse) {
          if (oracle.grad)
            expectVector(flat(c, got.grad), c.flatten(toValues(oracle.grad)), oracle.tol ?? 1e-12, 'reverse vs oracle');
          const fd = ref.grad(params, inputs, { method: 'fd-central' });
          const g = flat(c, got.grad);
          const fdTol = oracle.fdTol ?? 1e-6;
          if (fdTol > 0 && g.every(Number.isFinite))
            expectVector(g, flat(ref, fd.grad), fdTol, 'reverse vs central differences');
        }
      }
    }
  } finally {
    c.dispose();
    ref.dispose();
  }
}

function toValues(g: Readonly<Record<string, ArrayLike<number>>>): Values {
  return Object.fromEntries(Object.entries(g).map(([k, x]) => [k, Float64Array.from(x)]));
}

export function expectClose(got: number, want: number, tol: number, what: string): void {
  const d = difference([got], [want]);
  if (!(d.normRel <= tol))
    expect.fail(`${what}: got ${got}, expected ${want} (relative error ${d.normRel}, tolerance ${tol})`);
}

export function expectVector(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const d = difference(got, want);
  if (!(d.normRel <= tol))
    expect.fail(
      `${what}: normwise relative error ${d.normRel} > ${tol}; worst element ${d.worst}: got ${got[d.worst]}, expected ${want[d.worst]}`,
    );
}

const toArray = (x: unknown): ArrayLike<number> => (typeof x === 'number' ? [x] : (x as ArrayLike<number>));

/** forward-mode vs reverse-mode gradients on one backend, normwise relative */
export const FORWARD_VS_REVERSE = 1e-13;

/** Deterministic pseudo-random numbers in [lo, hi). */
export { uniform as random } from '../src/models/random.js';
