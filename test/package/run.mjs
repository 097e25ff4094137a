#!/usr/bin/env node
/**
 * `npm run test:package`: the package as a consumer gets it. Packs it (npm pack, from the built
 * dist/), checks the tarball's file list, installs it OFFLINE into a fresh project (npm install
 * --offline, with its dependencies packed from node_modules; the install script builds the addon), then
 * imports it with ESM and with require(), runs `npx tapegrad doctor`, and checks that the wasm
 * backend survives the deletion of build/ (what `node-gyp rebuild` does). Bounded: 8 minutes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const deadline = Date.now() + 8 * 60_000;
const left = () => Math.max(1, deadline - Date.now());
const run = (cmd, args, cwd, env = {}) =>
  execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: left(),
    env: { ...process.env, TAPEGRAD_BACKEND: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
const node = (cwd, args, env) => run(process.execPath, args, cwd, env);

/** The directories of a package's dependencies and theirs, as Node would resolve them; one version of each. */
function runtimeDependencies(dir, seen = new Map()) {
  const { dependencies = {} } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const name of Object.keys(dependencies)) {
    let at = dir,
      found;
    for (;;) {
      const candidate = join(at, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) {
        found = candidate;
        break;
      }
      const up = dirname(at);
      if (up === at) throw new Error(`dependency ${name} of ${dir} is not installed`);
      at = up;
    }
    const { version } = JSON.parse(readFileSync(join(found, 'package.json'), 'utf8'));
    const had = seen.get(name);
    if (had && had.version !== version)
      throw new Error(`two versions of ${name} (${had.version}, ${version}): this offline install cannot place both`);
    if (!had) {
      seen.set(name, { dir: found, version });
      runtimeDependencies(found, seen);
    }
  }
  return [...seen.values()].map((d) => d.dir);
}

let failed = 0;
function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${ok || !detail ? '' : `: ${detail}`}`);
  if (!ok) failed++;
}

if (!existsSync(join(root, 'dist/index.js')) || !existsSync(join(root, 'dist/tapegrad.wasm')))
  throw new Error('build the package first: npm run build');
const tmp = mkdtempSync(join(tmpdir(), 'tapegrad-package-'));
try {
  // 1. the tarball: what ships, and nothing stray
  const [packed] = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], root));
  const files = packed.files.map((f) => f.path);
  for (const f of [
    'LICENSE',
    'README.md',
    'package.json',
    'dist/index.js',
    'dist/index.browser.js',
    'dist/index.d.ts',
    'dist/tapegrad.wasm',
    'dist/tapegrad-relaxed.wasm',
    'dist/worker.js',
    'cjs/index.cjs',
    'binding.gyp',
  ])
    check(files.includes(f), `the tarball has ${f}`);
  const stray = files.filter(
    (f) =>
      f.endsWith('.map') ||
      f.endsWith('.mk') ||
      f.startsWith('build/') ||
      f.startsWith('node_modules/') ||
      /(^|\/)\.|\.log$/.test(f),
  );
  check(
    stray.length === 0,
    'no source maps, makefiles, build/ output, logs or dotfiles in the tarball',
    stray.join(', '),
  );
  console.log(`     ${files.length} files, ${(packed.size / 1024).toFixed(0)} KiB packed`);

  // 2. a consumer project installs it offline (node-addon-api from npm's cache)
  const app = join(tmp, 'app');
  run('mkdir', ['-p', app], tmp);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  // npm's cache holds the dependencies' tarballs (npm ci) but not their registry metadata, which an
  // offline install of the tgz would need to resolve the ranges; so tapegrad's runtime
  // dependencies (transitively) are packed from this checkout's node_modules and installed
  // beside it, and the install needs nothing from the network
  const deps = runtimeDependencies(root);
  const tgzs = deps.map(
    (dir) =>
      JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp, dir], root))[0].filename,
  );
  run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', join(tmp, packed.filename), ...tgzs.map((f) => join(tmp, f))],
    app,
  );
  const pkg = join(app, 'node_modules/tapegrad');
  check(existsSync(join(pkg, 'dist/tapegrad.wasm')), 'installed: dist/tapegrad.wasm');
  check(existsSync(join(pkg, 'dist/tapegrad-relaxed.wasm')), 'installed: dist/tapegrad-relaxed.wasm');
  const top = readdirSync(pkg).sort();
  const expected = new Set([
    'CMakeLists.txt',
    'LICENSE',
    'README.md',
    'binding.gyp',
    'build',
    'build-native.log',
    'cjs',
    'data',
    'dist',
    'native',
    'package.json',
    'scripts',
  ]);
  check(
    top.every((f) => expected.has(f)),
    'installed: no stray files or folders (node-addon-api makefiles)',
    top.join(', '),
  );
  const native = existsSync(join(pkg, 'build/Release/tapegrad.node'));
  console.log(
    `     the install script ${native ? 'built the native addon' : 'did not build the native addon (build-native.log says why)'}`,
  );

  // 3. ESM import: the seed example gives the same numbers as this checkout's js backend
  const seed = `const x = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i));
    const f = t.define({ params: { a: [], b: [] }, inputs: { x: [1000] } }, ({ a, b }, i) => b.mul(a.mul(i.x).sigmoid()).sum());
    const names = await t.backends();
    const out = {};
    for (const n of names) { const r = (await t.backend(n)).compile(f).grad({ a: 0.7, b: -1.3 }, { x }); out[n] = [r.value, r.grad.a[0], r.grad.b[0]]; }
    console.log(JSON.stringify({ best: (await t.backend()).name, names, out }));`;
  const esm = JSON.parse(node(app, ['--input-type=module', '-e', `import * as t from 'tapegrad'; ${seed}`]));
  const want = JSON.parse(
    node(root, ['--input-type=module', '-e', `const t = await import('./dist/index.js'); ${seed}`]),
  ).out.js;
  check(esm.names.includes('wasm') && esm.names.includes('js'), `ESM import: backends ${esm.names.join(', ')}`);
  check(esm.best === (native ? 'native' : 'wasm'), `ESM import: backend() is ${esm.best}`);
  const close = (a, b) => a.every((v, i) => Math.abs(v - b[i]) <= 1e-12 * Math.max(1, Math.abs(b[i])));
  for (const n of esm.names)
    check(close(esm.out[n], want), `ESM import: the seed gradient on ${n} matches the checkout's js backend`);

  // 4. CommonJS: require() works where Node can require ES modules, else a clear Error
  const cjs = node(app, [
    '-e',
    "const t = require('tapegrad'); t.backend('wasm').then((b) => console.log(typeof t.define, b.name))",
  ]).trim();
  check(cjs === 'function wasm', `require('tapegrad') loads it (Node ${process.version})`, cjs);
  const noEsm = node(app, [
    '--no-experimental-require-module',
    '-e',
    "try { require('tapegrad'); console.log('loaded') } catch (e) { console.log(e.message) }",
  ]).trim();
  check(/^tapegrad is ESM; use import\(\)/.test(noEsm), 'require() without require(esm): a clear Error', noEsm);

  // 5. doctor, and the wasm backend without build/ (node-gyp rebuild deletes it)
  const doctor = run('npx', ['--offline', 'tapegrad', 'doctor'], app);
  check(/^ {2}wasm {4}loads/m.test(doctor) && /^backend\(\) picks: /m.test(doctor), 'npx tapegrad doctor', doctor);
  rmSync(join(pkg, 'build'), { recursive: true, force: true });
  const after = node(app, [
    '--input-type=module',
    '-e',
    "import { backends } from 'tapegrad'; console.log((await backends()).join(','))",
  ]).trim();
  check(after === 'wasm,js', 'with build/ deleted, wasm still loads', after);
} catch (e) {
  check(false, 'the package test ran to the end', `${e.message}\n${e.stderr ?? ''}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
