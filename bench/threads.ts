/**
 * `npm run bench:threads`: the native backend on 1 and 2 threads, side by side in one run
 * (issue 13, item 1). Each row alternates the two counts over a few rounds of tinybench
 * medians (so that a change of the machine's load hits both) and reports the median of the
 * rounds and the speed-up, and the CPU time per call of all threads together (the work a second
 * thread adds, which a loaded machine does not hide). Targets: fd-forward and forward mode at N >= 1,000 at least 1.8x, W3 at batch 256
 * (reverse) at least 1.6x, W1 no slower. Writes results/threads.json, with the load average,
 * since a shared machine depresses what a second thread can give. Under a minute.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { backend, type Method } from '../src/index.js';
import { medianUs } from './tiny.js';
import { w1, w2, w3, type Workload } from './workloads.js';

interface Row {
  readonly workload: string;
  readonly method: Method | 'value';
  readonly params: number;
  /** the target speed-up with 2 threads (W1: 1, no slower) */
  readonly target: number;
  readonly us1: number;
  readonly us2: number;
  readonly speedup: number;
  /**
   * CPU time per call, all threads together (process.cpuUsage over the measured calls): what
   * the second thread adds in work (pool hand-offs, polling, arena copies). On a machine with
   * a free core for each thread, the speed-up approaches 2 * cpu1 / cpu2.
   */
  readonly cpuUs1: number;
  readonly cpuUs2: number;
}

const ROUNDS = 3;
const CASES: { wl: Workload; method: Method | 'value'; target: number; timeMs: number; iterations?: number }[] = [
  { wl: w2(1000), method: 'fd-forward', target: 1.8, timeMs: 600, iterations: 4 },
  { wl: w2(1000), method: 'forward', target: 1.8, timeMs: 600, iterations: 4 },
  { wl: w3(256), method: 'reverse', target: 1.6, timeMs: 500 },
  { wl: w3(64), method: 'reverse', target: NaN, timeMs: 300 },
  { wl: w1(), method: 'reverse', target: 1, timeMs: 300 },
  { wl: w1(), method: 'value', target: 1, timeMs: 300 },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`);

const counts = [1, 2] as const;
const bes = await Promise.all(counts.map((threads) => backend('native', { threads })));
const loadBefore = loadavg();
console.log(
  `native, ${availableParallelism()} cores reported, load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`,
);
const rows: Row[] = [];
for (const { wl, method, target, timeMs, iterations } of CASES) {
  const calls = bes.map((be) => {
    const c = be.compile(wl.f);
    const theta = c.flatten(wl.params);
    const out = new Float64Array(c.paramCount);
    const call =
      method === 'value'
        ? () => c.value(theta, wl.inputs)
        : () => {
            c.gradFlat(theta, wl.inputs, out, { method });
          };
    let n = 0;
    return {
      c,
      call: () => {
        n++;
        call();
      },
      calls: () => n,
    };
  });
  const samples: number[][] = [[], []];
  const cpu = [0, 0];
  for (let r = 0; r < ROUNDS; r++)
    for (let t = 0; t < counts.length; t++) {
      const u0 = process.cpuUsage();
      samples[t].push(await medianUs(calls[t].call, timeMs, iterations));
      const u = process.cpuUsage(u0);
      cpu[t] += u.user + u.system;
    }
  const [us1, us2] = samples.map(median);
  const [cpuUs1, cpuUs2] = cpu.map((x, t) => x / calls[t].calls());
  const row: Row = {
    workload: wl.name,
    method,
    params: calls[0].c.paramCount,
    target,
    us1,
    us2,
    speedup: us1 / us2,
    cpuUs1,
    cpuUs2,
  };
  rows.push(row);
  for (const { c } of calls) c.dispose();
  const goal = Number.isNaN(target) ? '' : target === 1 ? ' (target: no slower)' : ` (target ${target}x)`;
  console.log(
    `${wl.name} ${method} (N = ${row.params}): 1 thread ${fmt(us1)}, 2 threads ${fmt(us2)}: ${row.speedup.toFixed(2)}x${goal}; ` +
      `CPU per call ${fmt(cpuUs1)} and ${fmt(cpuUs2)}` +
      (target === 1 ? '' : `, bound with a free core each ${((2 * cpuUs1) / cpuUs2).toFixed(2)}x`),
  );
}
const loadAfter = loadavg();
console.log(`load average after: ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`);

mkdirSync('results', { recursive: true });
writeFileSync(
  'results/threads.json',
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cores: availableParallelism(),
      loadavg: { before: loadBefore, after: loadAfter },
      rounds: ROUNDS,
      rows,
    },
    null,
    2,
  ) + '\n',
);
console.log('wrote results/threads.json');
