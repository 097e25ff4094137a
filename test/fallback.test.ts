/**
 * A backend that exists but does not load is never a silent fallback: backend() warns once per
 * backend with the reason and a fix that works in a consumer project; `tapegrad doctor` reports
 * the same. The wasm module can be given explicitly in every form the README lists.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { backend, define } from '../src/index.js';
import { defaultWasmUrl } from '../src/backends/wasm/loader.js';

const root = new URL('..', import.meta.url);

/** Runs a script in a fresh process (backend choice and warnings are per process): stdout and stderr. */
function child(script: string, env: Record<string, string>): { out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    env: { ...process.env, TAPEGRAD_BACKEND: '', ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`child exited with ${r.status}: ${r.stderr}`);
  return { out: r.stdout.trim(), err: r.stderr };
}

const warnings = (err: string) => err.split('\n').filter((l) => l.includes('TAPEGRAD_FALLBACK'));
const missingAddon = { TAPEGRAD_NATIVE_PATH: '/nonexistent/tapegrad.node' };

describe('fallback warnings', () => {
  it('falling back from native warns once, naming the reason and `npm rebuild tapegrad`', () => {
    const { out, err } = child(
      `
      const t = await import('./src/index.ts');
      const names = [];
      for (let i = 0; i < 3; i++) names.push((await t.backend()).name);
      console.log(names.join(','));`,
      missingAddon,
    );
    expect(out).toBe('wasm,wasm,wasm');
    const w = warnings(err);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/native backend did not load, using wasm/);
    expect(w[0]).toMatch(/Why: cannot load \/nonexistent\/tapegrad\.node/);
    expect(w[0]).toMatch(/Fix: run `npm rebuild tapegrad` in your project/);
    expect(w[0]).toMatch(/C\+\+17 compiler/);
    expect(err).not.toMatch(/build:native/); // a script a consumer project does not have
  });

  it('falling back from wasm warns too, once, with the reason', () => {
    const { out, err } = child(
      `
      const t = await import('./src/index.ts');
      const opts = { wasm: '/nonexistent/tapegrad.wasm' };
      console.log((await t.backend(undefined, opts)).name, (await t.backend(undefined, opts)).name);`,
      missingAddon,
    );
    expect(out).toBe('js js');
    const w = warnings(err);
    expect(w).toHaveLength(2);
    expect(w[1]).toMatch(
      /wasm backend did not load, using js .*Why: cannot read \/nonexistent\/tapegrad\.wasm.*Fix: reinstall tapegrad/,
    );
  });

  it('no warning when the best backend loads, or when a backend is asked for by name', () => {
    const { err } = child(
      `
      const t = await import('./src/index.ts');
      await t.backend('wasm'); await t.backend('js');`,
      missingAddon,
    );
    expect(warnings(err)).toEqual([]);
  });

  it('asking for a backend that does not load is an Error with the reason and the fix', async () => {
    await expect(backend('wasm', { wasm: new URL('./no-such.wasm', import.meta.url) })).rejects.toThrow(
      /backend 'wasm' is not available here: cannot read .*no-such\.wasm.*Fix: reinstall tapegrad/,
    );
    await expect(backend('wasm', { wasm: 42 as never })).rejects.toThrow(
      /expected a URL, a string, a Response, an ArrayBuffer/,
    );
  });
});

describe("backend('wasm', { wasm })", () => {
  const f = define({ params: { a: [], b: [] }, inputs: { x: [100] } }, ({ a, b }, { x }) =>
    b.mul(a.mul(x).sigmoid()).sum(),
  );
  const x = Float64Array.from({ length: 100 }, (_, i) => Math.sin(i));

  it('takes a URL, a path, a Response, an ArrayBuffer, a typed array or a Module, and computes the same bits', async () => {
    const url = defaultWasmUrl();
    const bytes = await readFile(url);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const sources = {
      url,
      path: url.pathname,
      response: new Response(buffer.slice(0), { headers: { 'content-type': 'application/wasm' } }),
      arrayBuffer: buffer,
      bytes: new Uint8Array(buffer),
      module: await WebAssembly.compile(buffer),
    };
    const want = (await backend('wasm')).compile(f).grad({ a: 0.7, b: -1.3 }, { x });
    for (const [kind, wasm] of Object.entries(sources)) {
      const be = await backend('wasm', { wasm });
      expect(be.name, kind).toBe('wasm');
      const got = be.compile(f).grad({ a: 0.7, b: -1.3 }, { x });
      expect([got.value, got.grad.a[0], got.grad.b[0]], kind).toEqual([want.value, want.grad.a[0], want.grad.b[0]]);
    }
  });
});

describe('tapegrad doctor', () => {
  const doctor = (env: Record<string, string>) =>
    execFileSync(process.execPath, ['--import', 'tsx', 'src/app/cli.ts', 'doctor'], {
      cwd: root,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });

  it('lists the backends that load, the wasm file, and exits 0', () => {
    const out = doctor({});
    expect(out).toMatch(/^ {2}wasm {4}loads: .*tapegrad\.wasm \(\d+ KiB/m);
    expect(out).toMatch(/^ {2}js {6}loads/m);
    expect(out).toMatch(/^backend\(\) picks: (native|wasm)$/m);
  });

  it('says why native did not load, with the fix, and still exits 0', () => {
    const out = doctor(missingAddon); // execFileSync throws on a non-zero exit
    expect(out).toMatch(/^ {2}native {2}DOES NOT LOAD: cannot load \/nonexistent\/tapegrad\.node/m);
    expect(out).toMatch(/fix: run `npm rebuild tapegrad`/);
    expect(out).toMatch(/TAPEGRAD_NATIVE_PATH=\/nonexistent\/tapegrad\.node is set/);
    expect(out).toMatch(/^backend\(\) picks: wasm$/m);
  });

  it.runIf(process.env.TAPEGRAD_TEST_BACKENDS === undefined || process.env.TAPEGRAD_TEST_BACKENDS.includes('native'))(
    'names the native kernel build (ISA level) when the addon loads',
    () => {
      expect(doctor({})).toMatch(
        /^ {2}native {2}loads: kernel build (baseline|avx2|avx512) \(this CPU runs: baseline/m,
      );
    },
  );
});
