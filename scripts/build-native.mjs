#!/usr/bin/env node
/**
 * Builds the native addon with node-gyp (binding.gyp), offline: npm runs this as the package's
 * install script, as it would run `node-gyp rebuild` by itself. A failed build is not a failed
 * install: one warning line, and tapegrad falls back to the wasm and js backends.
 * `--strict` (npm run build:native) shows node-gyp's output and fails when the build fails.
 * TAPEGRAD_SKIP_NATIVE=1 skips the build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');
if (process.env.TAPEGRAD_SKIP_NATIVE && !strict) process.exit(0);

// npm's own node-gyp: npm names it in the environment of its scripts; else next to npm; else PATH
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ];
  const js = candidates.find((p) => p && existsSync(p));
  return js ? [process.execPath, [js]] : ['node-gyp', []];
}

const [cmd, pre] = nodeGyp();
// configure + build, not rebuild: rebuild deletes build/ (the wasm lives in dist/, outside it).
// npm passes --nodedir (local headers) to scripts as npm_config_nodedir; node-gyp reads it itself.
const run = (...args) =>
  spawnSync(cmd, [...pre, ...args], { cwd: root, stdio: strict ? 'inherit' : 'pipe', encoding: 'utf8', shell: process.platform === 'win32' });
let r = run('configure');
if (r.status === 0) {
  const out = r;
  r = run('build', `--jobs=${process.env.JOBS ?? 'max'}`);
  r.stdout = `${out.stdout ?? ''}${r.stdout ?? ''}`;
  r.stderr = `${out.stderr ?? ''}${r.stderr ?? ''}`;
}
const log = join(root, 'build-native.log');
if (r.status === 0) {
  rmSync(log, { force: true }); // an earlier failure's output no longer applies
  if (!strict) console.log('tapegrad: native addon built (build/Release/tapegrad.node)');
  process.exit(0);
}
if (strict) process.exit(r.status ?? 1);
try {
  writeFileSync(log, `${r.stdout ?? ''}\n${r.stderr ?? ''}\n${r.error ? String(r.error) : ''}`);
} catch {
  // the warning below still says what happened
}
const why = r.error ? r.error.message : `node-gyp exited with ${r.status}`;
console.warn(`tapegrad: warning: the native addon did not build (${why}; details in build-native.log); the wasm and js backends will be used`);
process.exit(0);
