/**
 * `npx tsx bench/wasm-modules.ts A.wasm B.wasm ...`: value() and reverse() of W2 d=1000 and W3 on
 * each given wasm module (default: the shipped module and, where the engine validates relaxed
 * SIMD, the relaxed one), interleaved in rounds so that a change in the machine's load hits every
 * module alike. Prints the median of the rounds' tinybench medians, in µs, and the load.
 */
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { backend } from '../src/index.js';
import { w2, w3 } from './workloads.js';

/**
 * Per-call times over `ms` milliseconds: the minimum (a call that no other process interrupted:
 * the machine is shared, and its load can reach 6 per core) and the median.
 */
function sample(fn: () => unknown, ms: number): [number, number] {
  for (let i = 0; i < 20; i++) fn();
  const t: number[] = [];
  const end = performance.now() + ms;
  for (let now = performance.now(); now < end;) {
    fn();
    const next = performance.now();
    t.push((next - now) * 1000);
    now = next;
  }
  t.sort((p, q) => p - q);
  return [t[0], t[t.length >> 1]];
}

const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3);
if (!files.length) files.push('dist/tapegrad.wasm');
const workloads = [w2(1000), w3()];
const compiled = await Promise.all(
  files.map(async (file) => {
    const be = await backend('wasm', { wasm: new Uint8Array(readFileSync(file)) });
    return workloads.map((w) => {
      const c = be.compile(w.f);
      return { c, theta: c.flatten(w.params), grad: new Float64Array(c.paramCount), inputs: w.inputs };
    });
  }),
);
const samples: [number, number][][][] = files.map(() => workloads.map(() => [[], []]));
const median = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)];
console.log(
  `load before: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
for (let r = 0; r < rounds; r++)
  for (let f = 0; f < files.length; f++)
    for (let k = 0; k < workloads.length; k++) {
      const { c, theta, grad, inputs } = compiled[f][k];
      samples[f][k][0].push(sample(() => c.valueFlat(theta, inputs), 400));
      samples[f][k][1].push(sample(() => c.gradFlat(theta, inputs, grad), 400));
    }
const rows = [];
for (let f = 0; f < files.length; f++)
  for (let k = 0; k < workloads.length; k++)
    rows.push({
      module: files[f],
      workload: workloads[k].name,
      'value min': +Math.min(...samples[f][k][0].map((x) => x[0])).toFixed(1),
      'value median': +median(samples[f][k][0].map((x) => x[1])).toFixed(1),
      'reverse min': +Math.min(...samples[f][k][1].map((x) => x[0])).toFixed(1),
      'reverse median': +median(samples[f][k][1].map((x) => x[1])).toFixed(1),
    });
console.table(rows);
console.log(
  `load after: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; median of ${rounds} rounds`,
);
