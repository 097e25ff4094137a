/**
 * `npm run bench:dtype-wasm -- [--rounds=N] [--wasm=FILE]`: float32 against float64 on the wasm
 * backend (issue 13: W3 float32 <= 500 µs on wasm), value() and reverse of W2 d=1000 and W3, side by
 * side in one run: each round measures every cell once (tinybench, median µs), alternating the
 * dtypes so that a change in the machine's load hits both alike; the table gives each cell's
 * median over the rounds and the float32/float64 ratio. --wasm: a module other than the package's
 * (e.g. dist/tapegrad-relaxed.wasm under node --experimental-wasm-relaxed-simd).
 *
 * The floor: each round also times the module's register-only multiply-add peak (independent
 * chains of its products' multiply-add: assembly/kernels/peak.ts, the fastest of each round kept)
 * for each dtype; a row's product floor is its matrix products' FLOPs (the cost model's, matmul
 * forward and backward) over that peak, the time the products alone would take at the peak, and
 * "floor share" is floor / measured time: what is left above it is the products' distance from
 * the peak plus everything else (copies, elementwise ops, the interpreter).
 */
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { backend } from '../src/index.js';
import type { DType } from '../src/api/dtype.js';
import { instantiateWasm } from '../src/backends/wasm/engine.js';
import { wasmPeak } from '../src/backends/wasm/peak.js';
import { instructionFlops } from '../src/trace/cost.js';
import { Field, INSTR_WIDTH, OPS } from '../src/ops/opset.js';
import { w2, w3, type Workload } from './workloads.js';
import { medianUs } from './tiny.js';

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3);
const file = args.find((a) => a.startsWith('--wasm='))?.slice(7);
const bytes = file ? new Uint8Array(readFileSync(file)) : undefined;
const be = await backend('wasm', bytes ? { wasm: bytes } : {});
// the peak on its own instance of the same module (a module built before peakChains existed has none)
const peakModule = await instantiateWasm(bytes);
const hasPeak = typeof (peakModule as Partial<typeof peakModule>).peakChains === 'function';
const DTYPES: DType[] = ['float64', 'float32'];

/** FLOPs of the matrix products (matmul, batch_matmul) of one value and one reverse */
function productFlops(w: Workload): { value: number; reverse: number } {
  const tape = w.f.tape;
  const { fwd, bwd } = instructionFlops(tape);
  let value = 0,
    reverse = 0;
  for (let i = 0; i < tape.nInstr; i++) {
    const op = OPS[tape.code[i * INSTR_WIDTH + Field.op]].name;
    if (op !== 'matmul' && op !== 'batch_matmul') continue;
    value += fwd[i];
    reverse += fwd[i] + bwd[i];
  }
  return { value, reverse };
}

const cells = [w2(1000), w3()].flatMap((w) =>
  DTYPES.map((dtype) => {
    const c = be.compile(w.f, { dtype });
    const theta = c.flatten(w.params);
    // float32 data as Float32Arrays: otherwise every call converts X (1 M elements at W2) first
    const inputs =
      dtype === 'float32'
        ? Object.fromEntries(
            Object.entries(w.inputs).map(([k, x]) => [
              k,
              typeof x === 'number' ? x : Float32Array.from(x as ArrayLike<number>),
            ]),
          )
        : w.inputs;
    const grad = new (dtype === 'float32' ? Float32Array : Float64Array)(c.paramCount);
    const g = c as unknown as {
      valueFlat(t: typeof theta, i: typeof inputs): number;
      gradFlat(t: typeof theta, i: typeof inputs, o: typeof grad): number;
    };
    return {
      workload: w.name,
      dtype,
      products: productFlops(w),
      value: () => g.valueFlat(theta, inputs),
      reverse: () => g.gradFlat(theta, inputs, grad),
      times: { value: [] as number[], reverse: [] as number[] },
    };
  }),
);

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
console.log(
  `wasm module: ${file ?? 'the package default'} (features: ${be.features.join(', ')}); load before: ${load()}`,
);
const peak: Record<DType, number> = { float64: 0, float32: 0 };
for (let r = 0; r < rounds; r++) {
  for (const cell of r % 2 ? [...cells].reverse() : cells)
    for (const what of ['value', 'reverse'] as const) cell.times[what].push(await medianUs(cell[what], 300));
  if (hasPeak)
    for (const dtype of DTYPES) peak[dtype] = Math.max(peak[dtype], wasmPeak(peakModule, dtype, { ms: 300 }));
}
const med = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
const rows = cells.map((c) => {
  const value = med(c.times.value),
    reverse = med(c.times.reverse);
  /** µs of FLOPs at the peak */
  const floor = (flops: number) => (hasPeak ? flops / (peak[c.dtype] * 1e3) : NaN);
  return {
    workload: c.workload,
    dtype: c.dtype,
    'value µs': +value.toFixed(1),
    'reverse µs': +reverse.toFixed(1),
    'value floor µs': +floor(c.products.value).toFixed(1),
    'value floor share': +(floor(c.products.value) / value).toFixed(2),
    'reverse floor µs': +floor(c.products.reverse).toFixed(1),
    'reverse floor share': +(floor(c.products.reverse) / reverse).toFixed(2),
  };
});
console.log(
  hasPeak
    ? `register-only multiply-add peak (${be.features.includes('relaxed-simd') ? 'fused' : 'multiply, then add'}): ` +
        `f64x2 ${peak.float64.toFixed(1)} GFLOP/s, f32x4 ${peak.float32.toFixed(1)} GFLOP/s (the fastest of ${rounds} rounds)`
    : 'this module has no peakChains export (built before it): no floor',
);
console.table(
  rows.map((row, i) => {
    const f64 = rows[i - (i % 2)];
    return {
      ...row,
      'value f32/f64': row.dtype === 'float32' ? +(row['value µs'] / f64['value µs']).toFixed(2) : '',
      'reverse f32/f64': row.dtype === 'float32' ? +(row['reverse µs'] / f64['reverse µs']).toFixed(2) : '',
    };
  }),
);
console.log(`load after: ${load()}; ${rounds} rounds, the median of the rounds' medians`);
