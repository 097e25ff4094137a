/**
 * `npm run bench`: W1/W2/W3 on every backend that loads here, with every gradient method: the
 * value and the reverse gradient as tinybench medians; fd-forward (naive and with suffix reuse)
 * and fd-central timed like the main job does (src/app/answer/fd-timing.ts): in full when that takes
 * under a second, else on a random sample of coordinates and extrapolated (marked ~). Prints a
 * table, writes results/bench.json. Arguments filter workloads by name prefix (e.g. W1 W3).
 * The first row, a one-op tape, gives the fixed cost of one value() call on each backend.
 * Then, where the native backend loads, one core's measured peak and the large-shape rows
 * (bench/large.ts: MLP 784-2048-10 at batch 1,024 and its first layer's products, GFLOP/s and
 * share of the peak); the name `large` selects them alone.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { backend, backends } from '../src/index.js';
import { timeFd, VARIANTS } from '../src/app/answer/fd-timing.js';
import { machine } from '../src/app/answer/main.js';
import { formatMs, formatRatio } from '../src/app/answer/report.js';
import { WORKLOADS } from './workloads.js';
import { medianUs } from './tiny.js';
import { largeShapes, largeTable, type LargeShapes } from './large.js';

const names = process.argv.slice(2);
const FD = { fullLimitMs: 1000, sampleMs: 100, budgetMs: 300, seed: 1 };
const rows: Record<string, string | number | boolean>[] = [];
const json: unknown[] = [];
const wanted = (name: string) => !names.length || names.some((n) => name.startsWith(n));
for (const w of WORKLOADS().filter((w) => wanted(w.name))) {
  for (const name of await backends()) {
    const c = (await backend(name)).compile(w.f);
    const theta = c.flatten(w.params);
    const grad = new Float64Array(c.paramCount);
    // the one-op row measures the call itself: value() with named parameters, as users call it
    const value = w.name.startsWith('one-op')
      ? await medianUs(() => {
          c.value(w.params, w.inputs);
        }, 300)
      : await medianUs(() => {
          c.valueFlat(theta, w.inputs);
        }, 300);
    const reverse = await medianUs(() => {
      c.gradFlat(theta, w.inputs, grad);
    }, 300);
    const row: Record<string, string | number | boolean> = {
      workload: w.name,
      backend: name,
      N: c.paramCount,
      'value µs': +value.toFixed(2),
      'reverse µs': +reverse.toFixed(2),
      'reverse/value': +(reverse / value).toFixed(2),
    };
    const cells = [{ variant: 'reverse', us: reverse, ratio: reverse / value, extrapolated: false }];
    for (const v of VARIANTS.filter((x) => x.method !== 'reverse')) {
      const t = timeFd(c, theta, w.inputs, v, value / 1000, FD, grad);
      row[v.label] = `${t.extrapolated ? '~' : ''}${formatMs(t.ms)} (${formatRatio(t.ratio)}x)`;
      cells.push({ variant: v.id, us: t.ms * 1000, ratio: t.ratio, extrapolated: t.extrapolated });
    }
    rows.push(row);
    json.push({ workload: w.name, backend: name, N: c.paramCount, valueUs: value, cells });
    c.dispose();
  }
}
if (rows.length) console.table(rows);
if (rows.length)
  console.log(
    'FD columns: time of one gradient (x one evaluation timed alongside it); ~ = extrapolated from a random sample of coordinates, not measured in full.',
  );
let large: LargeShapes | undefined;
if (wanted('large') && (await backends()).includes('native')) {
  large = await largeShapes();
  console.log(
    `\nOne core's measured peak (native ${large.isa} build, independent multiply-add chains): float64 ${large.peakF64.toFixed(1)} GFLOP/s, float32 ${large.peakF32.toFixed(1)} GFLOP/s`,
  );
  console.table(largeTable(large));
  console.log(
    `Large shapes: native float64 and float32 on one thread, each against its dtype's peak; GFLOP/s by 2 m k n per product (the gradient: its five products), wall time, median and fastest run; load average ${machine().load}.`,
  );
}
mkdirSync('results', { recursive: true });
writeFileSync(
  'results/bench.json',
  JSON.stringify({ date: new Date().toISOString(), machine: machine(), rows: json, largeShapes: large }, null, 2) +
    '\n',
);
