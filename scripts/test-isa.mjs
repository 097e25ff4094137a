#!/usr/bin/env node
/**
 * Runs the kernel suites on the native backend once per kernel build this CPU supports
 * (baseline, avx2, avx512), forcing each with TAPEGRAD_NATIVE_ISA: every build must pass, not
 * only the one dispatch picks here.
 *
 * Only the test files whose results depend on the kernel build run here (KERNEL_SUITES): the
 * op cases, matmul tiles, vector lanes, threads, forward mode, the fused optimizers, the
 * conformance of every gradient method on models, and the fuzz test (10 s per build here). The rest of the suite (the binding's argument
 * checks, teardown, validation, training, the CLI, wasm and js) runs the same code whatever the
 * build, and `npm test` runs it once with the build dispatch picks. native-math.test.ts is not
 * here either: it loads every build itself (supportedIsas), so `npm test` already covers each.
 *
 * `--all` runs the whole suite per build, as this script did before; other arguments go to
 * vitest, and a test file filter among them replaces KERNEL_SUITES (give an option's value as
 * --option=value so that it is not taken for one).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// test/<name>.test.ts; a new kernel suite (a new op family, float32 cases) belongs here
const KERNEL_SUITES = [
  // op cases (test/cases/*) through the conformance harness: value, reverse, FD, forward
  'binary',
  'elementwise',
  'extremum',
  'lanes',
  'loss',
  'matmul',
  'reduce',
  'structure',
  'conv',
  'accuracy',
  // blocking edges of the matmul tiles; the parallel sweeps (same bits for 1-3 threads)
  'matmul-tiles',
  'threads',
  // the reverse sweep's stored adjoints and activations fused into a product's dA
  'reverse-sweep',
  // the tangent kernels; FD loops; every gradient method on models; the fused optimizers
  'forward',
  'fd',
  'models',
  'checks',
  'coverage',
  'optimizers',
  // random graphs against the js reference, for TAPEGRAD_FUZZ_SECONDS per build (default 10
  // here; from the same fixed seed, so every build sees the same first cases)
  'fuzz',
];

const require = createRequire(import.meta.url);
const addonPath =
  process.env.TAPEGRAD_NATIVE_PATH || fileURLToPath(new URL('../build/Release/tapegrad.node', import.meta.url));
const { supportedIsas } = require(addonPath);

const args = process.argv.slice(2);
const all = args.includes('--all');
const rest = args.filter((a) => a !== '--all');
const filtered = rest.some((a) => !a.startsWith('-'));
const files = all || filtered ? [] : KERNEL_SUITES.map((n) => `test/${n}.test.ts`);
for (const f of files)
  if (!existsSync(fileURLToPath(new URL(`../${f}`, import.meta.url)))) {
    console.error(`test:isa: ${f} is listed in KERNEL_SUITES (scripts/test-isa.mjs) but does not exist`);
    process.exit(1);
  }

let failed = 0;
for (const isa of supportedIsas) {
  console.log(`\n== native kernels: ${isa} ==`);
  const started = Date.now();
  const r = spawnSync('npx', ['vitest', 'run', ...files, ...rest], {
    stdio: 'inherit',
    env: {
      TAPEGRAD_FUZZ_SECONDS: '10',
      ...process.env,
      TAPEGRAD_NATIVE_ISA: isa,
      TAPEGRAD_TEST_BACKENDS: 'native',
    },
  });
  console.log(
    `== ${isa}: ${r.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s ==`,
  );
  if (r.status !== 0) failed++;
}
console.log(`\nkernel builds tested: ${supportedIsas.join(', ')}; ${failed ? `${failed} failed` : 'all passed'}`);
process.exit(failed ? 1 : 0);
