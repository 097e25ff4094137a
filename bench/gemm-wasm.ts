/**
 * `npx tsx bench/gemm-wasm.ts [--rounds=N]`: the wasm matrix products alone, float32
 * (assembly/kernels/matmul32.ts) against float64 (matmul.ts), at W3's shapes (MLP 784-128-10,
 * batch 64), through the module's productProbe export. Each product is timed with tinybench (the
 * median and the fastest call; this machine is shared) in rounds that interleave float32 and
 * float64, so a change in load hits both alike; printed as GFLOP/s (2 FLOPs a multiply-add) with
 * the float32/float64 ratio of the medians. Both modules where this engine validates relaxed SIMD
 * (under `node --experimental-wasm-relaxed-simd --import tsx` on Node 20), else the plain one.
 * W3's reverse runs the forward product and dW (25.7 MFLOP together) plus the small last layer;
 * dA (dX = dZ W1^T) is not in W3 (X is data) but is the first layer's input gradient elsewhere.
 * W2 d=1000's matrix-vector products (X is 1000x1000: 4 MB in float32, 8 in float64) close the table.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { defaultWasmUrl, relaxedSimdSupported } from '../src/backends/wasm/loader.js';
import { medianUs } from './tiny.js';

interface Exports {
  memory: WebAssembly.Memory;
  productBuffer(bytes: number): number;
  productProbe(kernel: number, f32: number, ...args: number[]): number;
}

const GEMM = 0,
  MATVEC = 1,
  ROWS = 3,
  NT = 4;
const ACC = 1,
  FUSED = 2;
/** operand regions (elements): A up to 1M elements, B and C up to 128K */
const A0 = 0,
  B0 = 1 << 20,
  C0 = B0 + (1 << 17),
  ELEMENTS = C0 + (1 << 17);

interface Product {
  name: string;
  flops: number;
  /** productProbe's arguments after kernel and f32 */
  kernel: number;
  args: number[];
}

/** C[M, N] (+)= A'[M, K] B[K, N] */
const gemm = (name: string, M: number, K: number, N: number, transposeA: boolean, flags: number): Product => ({
  name,
  flops: 2 * M * K * N,
  kernel: GEMM,
  args: [C0, N, A0, transposeA ? 1 : K, transposeA ? M : 1, B0, N, M, K, N, flags],
});
/** dA[m, k] += dC[m, n] B[k, n]^T */
const gemmNT = (name: string, m: number, k: number, n: number): Product => ({
  name,
  flops: 2 * m * k * n,
  kernel: NT,
  args: [C0, 0, A0, 0, 0, B0, 0, m, k, n, 0],
});

/** out[m] = A[m, k] x[k] */
const matvec = (name: string, m: number, k: number): Product => ({
  name,
  flops: 2 * m * k,
  kernel: MATVEC,
  args: [C0, 0, A0, 0, 0, B0, 0, m, k, 0, 0],
});
/** g[k] += A[m, k]^T d[m] */
const rowsAcc = (name: string, m: number, k: number): Product => ({
  name,
  flops: 2 * m * k,
  kernel: ROWS,
  args: [C0, 0, A0, 0, 0, B0, 0, m, k, 0, 0],
});

const PRODUCTS: Product[] = [
  gemm('forward  X W1      64x784 . 784x128 (exact: unfused)', 64, 784, 128, false, 0),
  gemm('forward  X W1      64x784 . 784x128 (fused)', 64, 784, 128, false, FUSED),
  gemm('dW1 += X^T dZ      784x64 . 64x128', 784, 64, 128, true, ACC | FUSED),
  gemmNT('dX += dZ W1^T     64x128 . 128x784', 64, 784, 128),
  gemm('last   H W2        64x128 . 128x10 (fused)', 64, 128, 10, false, FUSED),
  gemm('dW2 += H^T dZ2     128x64 . 64x10', 128, 64, 10, true, ACC | FUSED),
  gemmNT('dH += dZ2 W2^T    64x10 . 10x128', 64, 128, 10),
  matvec('W2 X theta         1000x1000 . 1000', 1000, 1000),
  rowsAcc('W2 dtheta += X^T d 1000x1000', 1000, 1000),
];

function instance(file: URL): Exports {
  const x = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file))).exports as unknown as Exports;
  const at = x.productBuffer(ELEMENTS * 12);
  if (at === 0) throw new Error('productBuffer failed');
  // values in (-1, 1): no denormals, no overflow; the float32 operands after the float64 ones
  const f64 = new Float64Array(x.memory.buffer, at, ELEMENTS);
  const f32 = new Float32Array(x.memory.buffer, at + ELEMENTS * 8, ELEMENTS);
  for (let i = 0; i < ELEMENTS; i++) f64[i] = Math.sin(i * 0.618) * 0.9;
  for (let i = 0; i < ELEMENTS; i++) f32[i] = Math.sin(i * 0.618) * 0.9;
  return x;
}

const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3);
const modules: [string, URL][] = [['plain', defaultWasmUrl(false)]];
if (relaxedSimdSupported()) modules.push(['relaxed', defaultWasmUrl(true)]);
const uptime = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
console.log(`load before: ${uptime()}; ${rounds} rounds, tinybench 300 ms per cell`);

const rows: Record<string, string | number>[] = [];
for (const [label, url] of modules) {
  const x = instance(url);
  for (const p of PRODUCTS) {
    const t: Record<'f32' | 'f64', { med: number[]; min: number[] }> = {
      f32: { med: [], min: [] },
      f64: { med: [], min: [] },
    };
    for (let r = 0; r < rounds; r++)
      for (const d of ['f32', 'f64'] as const) {
        // float32 operands start 2 ELEMENTS float32s in (after the float64 ones)
        const args =
          d === 'f64' ? p.args : p.args.map((v, i) => (i === 0 || i === 2 || i === 5 ? v + 2 * ELEMENTS : v));
        const fn = () => {
          if (x.productProbe(p.kernel, d === 'f32' ? 1 : 0, ...args) !== 0) throw new Error(`${p.name}: refused`);
        };
        t[d].med.push(await medianUs(fn, 300));
        t[d].min.push(await medianUs(fn, 150, 64, 'min'));
      }
    const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
    const gf = (us: number) => +(p.flops / us / 1000).toFixed(1);
    const m32 = med(t.f32.med),
      m64 = med(t.f64.med);
    rows.push({
      module: label,
      product: p.name,
      'f32 µs': +m32.toFixed(1),
      'f64 µs': +m64.toFixed(1),
      'f32 GFLOP/s': gf(m32),
      'f64 GFLOP/s': gf(m64),
      'f32 best GFLOP/s': gf(Math.min(...t.f32.min)),
      'f64 best GFLOP/s': gf(Math.min(...t.f64.min)),
      'f64/f32 time': +(m64 / m32).toFixed(2),
    });
  }
}
console.table(rows);
console.log(`load after: ${uptime()}`);
