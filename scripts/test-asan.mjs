#!/usr/bin/env node
/**
 * Runs the conformance suite on the native backend built with AddressSanitizer and
 * UndefinedBehaviorSanitizer (`npm run build:cmake:asan` first). Node itself is not
 * instrumented, so the ASan runtime is preloaded; leak checking is off (Node keeps memory alive
 * at exit by design); any UB report aborts (built with -fno-sanitize-recover=undefined).
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const addon = fileURLToPath(new URL('../build-asan/Debug/tapegrad.node', import.meta.url));
if (!existsSync(addon)) {
  console.error(`${addon} is missing: run \`npm run build:cmake:asan\` first`);
  process.exit(1);
}
const libasan = execFileSync(process.env.CXX || 'g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
const r = spawnSync('npx', ['vitest', 'run', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: {
    ...process.env,
    LD_PRELOAD: libasan,
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1',
    UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
    TAPEGRAD_NATIVE_PATH: addon,
    TAPEGRAD_TEST_BACKENDS: 'native',
  },
});
process.exit(r.status ?? 1);
