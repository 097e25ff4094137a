/**
 * `tsx bench/elementwise.ts [out.json]`: the elementwise kernels on every backend that loads here,
 * for before/after comparisons of kernel changes (run it from two checkouts alternately, under the
 * same load): W1-W3 (value and reverse gradient) and, per op, sum(op(p*x)) over n = 100,000
 * elements: value() and reverse() (native: the fast forward rules), and fd-forward with one
 * scalar parameter (two evaluations of the exact forward rules). Medians in µs (tinybench).
 */
import { writeFileSync } from 'node:fs';
import { backend, backends, define, type Tensor } from '../src/index.js';
import { uniform } from '../src/models/random.js';
import { medianUs } from './tiny.js';
import { w1, w2, w3, type Workload } from './workloads.js';

const N = 100_000;
const UNARY: Record<string, (x: Tensor) => Tensor> = {
  exp: (x) => x.exp(),
  sigmoid: (x) => x.sigmoid(),
  tanh: (x) => x.tanh(),
  softplus: (x) => x.softplus(),
  log1p: (x) => x.log1p(),
  relu: (x) => x.relu(),
  abs: (x) => x.abs(),
  square: (x) => x.square(),
  sqrt: (x) => x.sqrt(),
  'mul x*y': (x) => x.mul(x.neg()),
  'div x/y': (x) => x.div(x.exp()),
  'pow 2.5': (x) => x.pow(2.5),
};
function opWorkload(name: string, op: (x: Tensor) => Tensor): Workload {
  const f = define({ params: { p: [] }, inputs: { x: [N] } }, ({ p }, { x }) => op(x.mul(p)).sum());
  return { name: `op ${name}`, f, params: { p: 0.7 }, inputs: { x: uniform(N, 11, 0.05, 3) } };
}
const work: Workload[] = [w1(), w2(100), w3(), ...Object.entries(UNARY).map(([n, op]) => opWorkload(n, op))];
const rows: Record<string, string | number>[] = [];
for (const name of await backends()) {
  const be = await backend(name);
  for (const w of work) {
    const c = be.compile(w.f);
    const theta = c.flatten(w.params);
    const grad = new Float64Array(c.paramCount);
    const row: Record<string, string | number> = { backend: name, workload: w.name };
    row['value µs'] = +(await medianUs(() => c.valueFlat(theta, w.inputs), 250)).toFixed(2);
    row['reverse µs'] = +(await medianUs(() => c.gradFlat(theta, w.inputs, grad), 250)).toFixed(2);
    if (w.name.startsWith('op '))
      row['fd µs'] = +(await medianUs(() => c.gradFlat(theta, w.inputs, grad, { method: 'fd-forward' }), 250)).toFixed(
        2,
      );
    rows.push(row);
    c.dispose();
  }
}
console.table(rows);
if (process.argv[2]) writeFileSync(process.argv[2], JSON.stringify(rows));
