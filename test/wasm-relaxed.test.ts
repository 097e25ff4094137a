/**
 * The two wasm modules: dist/tapegrad.wasm and dist/tapegrad-relaxed.wasm (built with relaxed
 * SIMD: value() and reverse() fuse multiply-adds). The loader picks the relaxed one where the
 * engine validates relaxed SIMD; the conformance suite runs on whichever this Node picks, and this
 * file runs the other one too: in a child process with --experimental-wasm-relaxed-simd where
 * this Node lacks relaxed SIMD (Node 20), and the plain module, given by URL, in this process. Both must agree with the js reference as the suite requires (value and reverse to
 * 1e-12), and their finite differences, which run the exact forward rules, must be the same bits.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backend, define } from '../src/index.js';
import { defaultWasmUrl, relaxedSimdSupported } from '../src/backends/wasm/loader.js';
import { runConformance } from './browser/apps/shared/conformance.js';
import { difference } from '../src/api/compare.js';
import { AGREEMENT } from '../src/crosscheck.js';

const root = fileURLToPath(new URL('..', import.meta.url));
type Row = Record<string, number | number[]>;
interface Run {
  relaxedSimdSupported: boolean;
  features: string[];
  results: Record<string, Record<string, Row>>;
  /** as strings: JSON has no Infinity */
  overflow: { wasm: string[]; js: string[] };
}

/** the fixture in a child process with relaxed SIMD (enabled by flag where this Node lacks it) */
function relaxedChild(): Run {
  const flags = relaxedSimdSupported() ? [] : ['--experimental-wasm-relaxed-simd'];
  const out = execFileSync(process.execPath, [...flags, '--import', 'tsx', 'test/fixtures/wasm-module-run.ts'], {
    cwd: root,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!) as Run;
}

const flat = (x: number | number[]) => (Array.isArray(x) ? x : [x]);

describe('the two wasm modules', () => {
  it('the loader picks the module by what the engine validates, and the backend says which', async () => {
    const be = await backend('wasm');
    expect(be.features).toEqual(relaxedSimdSupported() ? ['simd', 'relaxed-simd'] : ['simd']);
    expect(defaultWasmUrl(true).pathname).toMatch(/dist\/tapegrad-relaxed\.wasm$/);
    expect(defaultWasmUrl(false).pathname).toMatch(/dist\/tapegrad\.wasm$/);
  });

  it('a module given by the user is used as given, whichever it is', async () => {
    for (const relaxed of relaxedSimdSupported() ? [false, true] : [false]) {
      const be = await backend('wasm', { wasm: new Uint8Array(readFileSync(defaultWasmUrl(relaxed))) });
      expect(be.features.includes('relaxed-simd')).toBe(relaxed);
    }
  });

  it("the relaxed-SIMD module agrees with the js reference, and its finite differences are the plain module's bits", async () => {
    const relaxed = relaxedChild();
    expect(relaxed.relaxedSimdSupported).toBe(true);
    expect(relaxed.features).toEqual(['simd', 'relaxed-simd']);
    // the plain module, here or (where this engine picks the relaxed one) given by URL
    const plainBackend = await backend('wasm', { wasm: defaultWasmUrl(false) });
    expect(plainBackend.features).toEqual(['simd']);
    const plain = await runConformance(
      {
        define,
        backends: async () => ['wasm'],
        backend: async () => plainBackend,
      },
      ['wasm'],
    );
    const js = relaxed.results.js;
    for (const [model, row] of Object.entries(relaxed.results.wasm) as [string, Row][]) {
      for (const what of ['value', 'reverse'])
        expect(difference(flat(row[what]), flat(js[model][what])).normRel, `${model} ${what}`).toBeLessThanOrEqual(
          AGREEMENT.reverse,
        );
      for (const what of ['fd-forward', 'fd-central'])
        expect(flat(row[what]), `${model} ${what}: the same bits in both modules`).toEqual(
          flat(plain.results.wasm[model][what]),
        );
    }
    // a fused multiply-add would give MAX/2 here; the reference's multiply-then-add gives Inf
    expect(relaxed.overflow.js).toEqual(['Infinity', 'Infinity']);
    expect(relaxed.overflow.wasm).toEqual(relaxed.overflow.js);
  });
});
