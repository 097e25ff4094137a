/**
 * `npx tsx bench/dtype-wasm.ts [--rounds=N] [--wasm=FILE]`: float32 against float64 on the wasm
 * backend (issue 13: W3 float32 <= 500 µs on wasm), value() and reverse of W2 d=1000 and W3, side by
 * side in one run: each round measures every cell once (tinybench, median µs), alternating the
 * dtypes so that a change in the machine's load hits both alike; the table gives each cell's
 * median over the rounds and the float32/float64 ratio. --wasm: a module other than the package's
 * (e.g. dist/tapegrad-relaxed.wasm under node --experimental-wasm-relaxed-simd).
 */
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { backend } from '../src/index.js';
import type { DType } from '../src/api/dtype.js';
import { w2, w3 } from './workloads.js';
import { medianUs } from './tiny.js';

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3);
const file = args.find((a) => a.startsWith('--wasm='))?.slice(7);
const be = await backend('wasm', file ? { wasm: new Uint8Array(readFileSync(file)) } : {});
const DTYPES: DType[] = ['float64', 'float32'];

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
for (let r = 0; r < rounds; r++)
  for (const cell of r % 2 ? [...cells].reverse() : cells)
    for (const what of ['value', 'reverse'] as const) cell.times[what].push(await medianUs(cell[what], 300));
const med = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
const rows = cells.map((c) => ({
  workload: c.workload,
  dtype: c.dtype,
  'value µs': +med(c.times.value).toFixed(1),
  'reverse µs': +med(c.times.reverse).toFixed(1),
}));
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
