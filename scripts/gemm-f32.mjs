#!/usr/bin/env node
/**
 * Builds native/test/gemm_f32 (the float32 products of native/core/k_gemm_f32.h, per kernel
 * build) with g++ and runs it: `node scripts/gemm-f32.mjs` checks them against a float64
 * reference (test/gemm-f32.test.ts runs this), `node scripts/gemm-f32.mjs bench [isa]` times
 * them beside the float64 products. The flags are the addon's (binding.gyp).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const src = fileURLToPath(new URL('../native/test/gemm_f32/', import.meta.url));
const sources = ['main.cpp', 'isa_baseline.cpp', 'isa_avx2.cpp', 'isa_avx512.cpp'];
const flags = [
  '-std=c++17',
  '-O3',
  '-ffp-contract=off',
  '-fno-math-errno',
  '-Wall',
  '-Wextra',
  '-Wno-unused-parameter',
  '-Wno-unused-function',
];

/** Compiles the program into a fresh directory; resolves to its path, or rejects with g++'s output. */
export async function buildGemmF32() {
  const dir = join(tmpdir(), `tapegrad-gemm-f32-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, 'gemm_f32');
  const objs = sources.map((s) => join(dir, s.replace('.cpp', '.o')));
  const gxx = async (args, what) => {
    try {
      await promisify(execFile)('g++', args, { maxBuffer: 1 << 24 });
    } catch (e) {
      throw new Error(`${what} failed:\n${e.stderr ?? e.message}`);
    }
  };
  // one g++ per source, side by side: the three kernel builds compile independently
  await Promise.all(sources.map((s, i) => gxx([...flags, '-c', join(src, s), '-o', objs[i]], `g++ ${s}`)));
  await gxx([...objs, '-pthread', '-o', exe], 'linking gemm_f32');
  return exe;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const exe = await buildGemmF32();
  const r = spawnSync(exe, process.argv.slice(2), { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
