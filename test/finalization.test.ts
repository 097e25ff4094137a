/**
 * A compiled function dropped without dispose() gives its backend memory back when the garbage
 * collector takes it (FinalizationRegistry): thousands of compile-and-drop cycles keep the
 * backend's memory flat. Each backend runs in a child process with --expose-gc.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { TEST_BACKENDS } from './harness.js';

const root = fileURLToPath(new URL('..', import.meta.url));
function run(name: string, rounds: number): { warm: number; end: number; sum: number } {
  // under AddressSanitizer (npm run test:asan) freed memory waits in ASan's quarantine (256 MB)
  // before reuse, which would read as growth: this child reuses it at once
  const asan = process.env.ASAN_OPTIONS;
  const env = {
    ...process.env,
    TAPEGRAD_BACKEND: '',
    ...(asan ? { ASAN_OPTIONS: `${asan}:quarantine_size_mb=0` } : {}),
  };
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'test/fixtures/compile-and-drop.ts', name, String(rounds)],
    { cwd: root, encoding: 'utf8', env },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

for (const name of TEST_BACKENDS.filter((n) => n !== 'js')) {
  it(`${name}: 4000 compiled functions dropped without dispose() leave memory flat`, () => {
    const r = run(name, 4000);
    expect(Number.isFinite(r.sum)).toBe(true);
    if (name === 'wasm')
      expect(r.end).toBeLessThanOrEqual(r.warm); // the module's heap: exact bytes in use
    // 4000 leaked programs would hold ~100 MB of arenas; allow the allocator and V8 some slack
    else expect(r.end - r.warm).toBeLessThan(30 * 2 ** 20);
  });
}
