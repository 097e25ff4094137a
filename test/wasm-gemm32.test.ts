/**
 * The float32 matrix products of the wasm backend (assembly/kernels/matmul32.ts) on their own,
 * through the module's productProbe export: gemm32 over every shape with M, K, N in 1..40 (every
 * remainder of its 4x8 tiles and 64-row blocks), strided and transposed A, padded leading
 * dimensions, accumulating or not, fused or not, and W3's shapes; matvec32, outerAcc32, rowsAcc32
 * and gemmNT32 likewise; products.ts's float32 fusableOf on operands at and beyond float32's overflow bound. Each element is checked against a float64 loop to n 2^-23 sum|terms|, and
 * gemm32's unfused sums bit for bit against the same float32 loop in JS (test/fixtures/products32.ts
 * derives both). Both modules: the plain one here, the relaxed-SIMD one in a child process (with
 * --experimental-wasm-relaxed-simd where this Node lacks relaxed SIMD, as wasm-relaxed.test.ts does).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { defaultWasmUrl, relaxedSimdSupported } from '../src/backends/wasm/loader.js';
import { checkProducts, productModule, PRODUCT_ELEMENTS, type ProductReport } from './fixtures/products32.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function expectClean(r: ProductReport, relaxed: boolean): void {
  expect(r.relaxed).toBe(relaxed);
  expect(r.first).toEqual([]);
  expect(r.failures).toBe(0);
  expect(r.checked.gemm32).toBeGreaterThanOrEqual(64_000);
  expect(r.checked.gemmNT32).toBeGreaterThan(10_000);
  for (const n of Object.values(r.checked)) expect(n).toBeGreaterThan(1_000);
  expect(r.outside).toEqual([-1, -1, -1, -1]);
  expect(r.fusable).toEqual([]);
}

describe('wasm float32 matrix products', () => {
  it('the plain module', () => {
    const p = productModule(readFileSync(defaultWasmUrl(false)), PRODUCT_ELEMENTS);
    expectClean(checkProducts(p), false);
  });

  it('the relaxed-SIMD module (fused multiply-adds)', () => {
    const flags = relaxedSimdSupported() ? [] : ['--experimental-wasm-relaxed-simd'];
    const out = execFileSync(process.execPath, [...flags, '--import', 'tsx', 'test/fixtures/products32-run.ts'], {
      cwd: root,
      encoding: 'utf8',
    });
    expectClean(JSON.parse(out.trim().split('\n').pop()!) as ProductReport, true);
  });
});
