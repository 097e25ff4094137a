/**
 * `npm run bench:dtype`: float64 against float32 on the native backend, side by side in one run
 * (issue 13, item 2): one value + reverse gradient of W2 (logistic, d = 1000) and W3 (MLP
 * 784-128-10, batch 64), and W1 for the elementwise path. Each row alternates the two dtypes
 * over a few rounds of tinybench medians (a change of the machine's load hits both) and reports
 * the median of the rounds and the ratio float32 / float64. Targets: W3 <= 0.55, W2 <= 0.6.
 * One thread by default (TAPEGRAD_THREADS or --threads=N otherwise), so that the ratio is the
 * kernels', not the pool's.
 */
import { loadavg } from 'node:os';
import { backend } from '../src/index.js';
import type { DType } from '../src/api/dtype.js';
import { medianUs } from './tiny.js';
import { w1, w2, w3, type Workload } from './workloads.js';

const ROUNDS = 3;
const CASES: { wl: Workload; target: number; timeMs: number }[] = [
  { wl: w2(1000), target: 0.6, timeMs: 400 },
  { wl: w3(64), target: 0.55, timeMs: 400 },
  { wl: w1(), target: NaN, timeMs: 300 },
];
const DTYPES: DType[] = ['float64', 'float32'];

const arg = process.argv.find((a) => a.startsWith('--threads='));
const threads = arg ? Number(arg.slice('--threads='.length)) : Number(process.env.TAPEGRAD_THREADS ?? 1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`);

const be = await backend('native', { threads });
console.log(
  `native (${threads} thread${threads === 1 ? '' : 's'}), load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log('workload                         float64      float32      f32/f64  target');
for (const { wl, target, timeMs } of CASES) {
  const calls = DTYPES.map((dtype) => {
    const c = be.compile(wl.f, { dtype });
    const theta = c.flatten(wl.params);
    const g = dtype === 'float32' ? new Float32Array(c.paramCount) : new Float64Array(c.paramCount);
    // the inputs in the function's dtype once (a Float64Array input is converted on every call)
    const inputs = Object.fromEntries(
      Object.entries(wl.inputs).map(([k, v]) => [
        k,
        dtype === 'float32' && typeof v !== 'number' ? Float32Array.from(v as ArrayLike<number>) : v,
      ]),
    );
    return { c, call: () => c.gradFlat(theta as never, inputs, g as never) };
  });
  const us: number[][] = DTYPES.map(() => []);
  for (let r = 0; r < ROUNDS; r++)
    for (let k = 0; k < DTYPES.length; k++) us[k].push(await medianUs(calls[k].call, timeMs));
  for (const { c } of calls) c.dispose();
  const [u64, u32] = us.map(median);
  const ratio = u32 / u64;
  console.log(
    `${wl.name.padEnd(32)} ${fmt(u64).padStart(10)}  ${fmt(u32).padStart(10)}  ${ratio.toFixed(2).padStart(7)}  ${
      Number.isNaN(target) ? '' : `<= ${target}`
    }`,
  );
}
console.log(
  `load average after: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
