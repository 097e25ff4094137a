/**
 * The float32 products of the native backend (native/core/k_matmul.h over float: gemm in every Out mode,
 * with X transposed or not, fused or not; the matrix-vector product; both backward products) in
 * every kernel build this CPU runs, against a float64 reference with the tolerance derived in
 * native/test/gemm_f32/check.h, on every remainder of rows, steps and columns in 1..70, strided
 * operands, guard pages after every operand, and the same bits on three threads. Built by g++
 * outside the addon (scripts/gemm-f32.ts), so the file is checked before and after the float32
 * kernel layer includes it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildGemmF32, removeGemmF32 } from '../scripts/gemm-f32.js';

const gxx = process.platform === 'linux' && process.arch === 'x64' && spawnSync('g++', ['--version']).status === 0;

describe.skipIf(!gxx)('native float32 products (k_matmul.h over float, built with g++)', () => {
  it('agree with a float64 reference in every kernel build, and give the same bits on three threads', async () => {
    const exe = await buildGemmF32();
    try {
      // asynchronously: the vitest worker stays responsive while it runs
      const { status, out } = await new Promise<{ status: number | null; out: string }>((resolve) => {
        const p = spawn(exe, ['check']);
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (out += d));
        p.on('close', (status) => resolve({ status, out }));
      });
      expect(out).toMatch(/^baseline: \d+ cases, 0 failures$/m);
      expect(status, out).toBe(0);
    } finally {
      removeGemmF32(exe);
    }
  }, 600_000);
});
