/**
 * `npm run bench`: value time, reverse-gradient time and their ratio for W1/W2/W3 on every backend
 * that loads here, measured side by side in one run with tinybench. Prints a table, writes JSON.
 * The first row, a one-op tape, gives the fixed cost of one value() call on each backend.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Bench } from 'tinybench';
import { backend, backends } from '../src/index.js';
import { WORKLOADS } from './workloads.js';

const names = process.argv.slice(2).length ? process.argv.slice(2) : undefined;
const rows: Record<string, string | number>[] = [];
for (const w of WORKLOADS().filter((w) => !names || names.some((n) => w.name.startsWith(n)))) {
  for (const name of await backends()) {
    const c = (await backend(name)).compile(w.f);
    const theta = c.flatten(w.params);
    const grad = new Float64Array(c.paramCount);
    const bench = new Bench({ time: 300, warmup: true, warmupTime: 100 });
    // the one-op row measures the call itself: value() with named parameters, as users call it
    if (w.name.startsWith('one-op')) bench.add('value', () => { c.value(w.params, w.inputs); });
    else bench.add('value', () => { c.valueFlat(theta, w.inputs); });
    bench.add('reverse', () => { c.gradFlat(theta, w.inputs, grad); });
    await bench.run();
    const [v, r] = bench.tasks.map((t) => {
      const res = t.result as { latency?: { p50?: number } } | undefined;
      return (res?.latency?.p50 ?? NaN) * 1000;
    });
    rows.push({ workload: w.name, backend: name, 'value µs': +v.toFixed(2), 'reverse µs': +r.toFixed(2), 'reverse/value': +(r / v).toFixed(2) });
    c.dispose();
  }
}
console.table(rows);
mkdirSync('results', { recursive: true });
writeFileSync('results/bench.json', JSON.stringify({ date: new Date().toISOString(), rows }, null, 2));
