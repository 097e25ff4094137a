#!/usr/bin/env node
/**
 * Runs the conformance suite on the native backend once per kernel build this CPU supports
 * (baseline, avx2, avx512), forcing each with TAPEGRAD_NATIVE_ISA: every build must pass, not
 * only the one dispatch picks here. Extra arguments go to vitest (e.g. a test file filter).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const addonPath =
  process.env.TAPEGRAD_NATIVE_PATH || fileURLToPath(new URL('../build/Release/tapegrad.node', import.meta.url));
const { supportedIsas } = require(addonPath);
let failed = 0;
for (const isa of supportedIsas) {
  console.log(`\n== native kernels: ${isa} ==`);
  const r = spawnSync('npx', ['vitest', 'run', ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TAPEGRAD_NATIVE_ISA: isa, TAPEGRAD_TEST_BACKENDS: 'native' },
  });
  if (r.status !== 0) failed++;
}
console.log(`\nkernel builds tested: ${supportedIsas.join(', ')}; ${failed ? `${failed} failed` : 'all passed'}`);
process.exit(failed ? 1 : 0);
