#!/usr/bin/env node
/**
 * Builds the optional MPI addon (native/mpi/mpi.cpp -> build-mpi/tapegrad_mpi.node) for
 * distributed training: `npm run build:mpi`. Never run by `npm install`, so the default install
 * needs no MPI. The compiler and flags come from MPI's own wrapper (`mpicc --showme:compile`,
 * `--showme:link`: OpenMPI; MPICH's `-compile_info`/`-link_info` too); Node's headers from
 * npm_config_nodedir, else next to the node binary. Fails with the fix when MPI is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build-mpi', 'tapegrad_mpi.node');

function fail(msg) {
  console.error(`build:mpi: ${msg}`);
  process.exit(1);
}

const run = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' });
const wrapper = ['mpicc', 'mpicxx'].find((w) => run(w, ['--showme:version']).status === 0 || run(w, ['-show']).status === 0);
if (!wrapper)
  fail('no MPI compiler wrapper (mpicc) on PATH: install MPI first (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev)');

// OpenMPI: --showme:compile / --showme:link; MPICH: -compile_info / -link_info (the compiler first)
function flags(openmpi, mpich) {
  let r = run(wrapper, [openmpi]);
  if (r.status === 0) return r.stdout.trim().split(/\s+/).filter(Boolean);
  r = run(wrapper, [mpich]);
  if (r.status !== 0) fail(`${wrapper} ${openmpi} failed: ${r.stderr}`);
  return r.stdout.trim().split(/\s+/).slice(1).filter((f) => !f.endsWith('.c') && f !== '-c');
}
const compile = flags('--showme:compile', '-compile_info');
const link = flags('--showme:link', '-link_info');

const nodeInclude = [process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'), join(dirname(process.execPath), '..', 'include', 'node')]
  .find((d) => d && existsSync(join(d, 'node_api.h')));
if (!nodeInclude) fail("Node's headers (node_api.h) are not found: set npm_config_nodedir to Node's install prefix");
const addonApi = join(root, createRequire(import.meta.url)('node-addon-api').include_dir);

mkdirSync(dirname(out), { recursive: true });
const cxx = process.env.CXX ?? 'c++';
const args = [
  '-std=c++17', '-O2', '-shared', '-fPIC', '-Wall', '-Wextra', '-Wno-unused-parameter',
  '-DNAPI_VERSION=8', '-DOMPI_SKIP_MPICXX', '-DMPICH_SKIP_MPICXX', '-DNAPI_CPP_EXCEPTIONS', '-DBUILDING_NODE_EXTENSION',
  `-I${nodeInclude}`, `-I${addonApi}`, ...compile,
  join(root, 'native', 'mpi', 'mpi.cpp'), '-o', out, ...link, '-pthread',
];
const r = spawnSync(cxx, args, { stdio: 'inherit' });
if (r.status !== 0) fail(`${cxx} failed (${r.error?.message ?? `exit ${r.status}`}): ${cxx} ${args.join(' ')}`);
console.log(`build:mpi: built ${out} (MPI from ${wrapper})`);
