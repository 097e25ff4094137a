/**
 * Builds native/test/gemm_f32 (the float32 products of native/core/k_matmul.h, per kernel
 * build) with g++ and runs it: `tsx scripts/gemm-f32.ts` checks them against a float64
 * reference (test/gemm-f32.test.ts runs this), `npm run bench:gemm-f32 [-- isa]` times
 * them beside the float64 products. The flags are the addon's (binding.gyp).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const src = fileURLToPath(new URL('../native/test/gemm_f32/', import.meta.url));
const sources = ['main.cpp', 'isa_baseline.cpp', 'isa_avx2.cpp', 'isa_avx512.cpp'];
// the addon's flags; the unused float64 rules of k_matmul.h are not a warning here
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

/**
 * Compiles the program into a fresh temporary directory (removeGemmF32 deletes it); resolves to
 * its path, or rejects with g++'s output.
 */
export async function buildGemmF32(): Promise<string> {
  const dir = join(tmpdir(), `tapegrad-gemm-f32-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, 'gemm_f32');
  const objs = sources.map((s) => join(dir, s.replace('.cpp', '.o')));
  const gxx = async (args: string[], what: string): Promise<void> => {
    try {
      await promisify(execFile)('g++', args, { maxBuffer: 1 << 24 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`${what} failed:\n${err.stderr ?? err.message}`);
    }
  };
  // one g++ per source, side by side: the three kernel builds compile independently
  await Promise.all(sources.map((s, i) => gxx([...flags, '-c', join(src, s), '-o', objs[i]], `g++ ${s}`)));
  await gxx([...objs, '-pthread', '-o', exe], 'linking gemm_f32');
  return exe;
}

export function removeGemmF32(exe: string): void {
  rmSync(dirname(exe), { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const exe = await buildGemmF32();
  const r = spawnSync(exe, process.argv.slice(2), { stdio: 'inherit' });
  removeGemmF32(exe);
  process.exit(r.status ?? 1);
}
