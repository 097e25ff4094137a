/**
 * `npm run bench:handwritten`: the js tape interpreter's reverse gradient against a hand-written
 * plain-JS float64 gradient of the same function, tinybench medians from one run (W2 d=100 and
 * W3). Checks that both gradients agree before timing.
 */
import { backend } from '../src/index.js';
import { difference } from '../src/api/compare.js';
import { logisticGrad, mlpGrad } from './handwritten.js';
import { w2, w3, type Workload } from './workloads.js';
import { medianUs } from './tiny.js';

const js = await backend('js');
const cases: [Workload, (theta: Float64Array, g: Float64Array) => number][] = [];
{
  const w = w2(100);
  const hand = logisticGrad(1000, 100);
  const { X, y } = w.inputs as Record<string, Float64Array>;
  cases.push([w, (t, g) => hand(t, X, y, g)]);
}
{
  const w = w3();
  const hand = mlpGrad(64, 784, 128, 10);
  const { X, Y } = w.inputs as Record<string, Float64Array>;
  cases.push([w, (t, g) => hand(t, X, Y, g)]);
}

const rows = [];
for (const [w, hand] of cases) {
  const c = js.compile(w.f);
  const theta = c.flatten(w.params);
  const [g1, g2] = [new Float64Array(c.paramCount), new Float64Array(c.paramCount)];
  const v1 = c.gradFlat(theta, w.inputs, g1);
  const v2 = hand(theta, g2);
  const d = difference(g1, g2);
  if (Math.abs(v1 - v2) > 1e-9 * Math.abs(v2) || d.normRel > 1e-12)
    throw new Error(`${w.name}: gradients disagree (${d.normRel})`);
  const tape = await medianUs(() => {
    c.gradFlat(theta, w.inputs, g1);
  }, 1000);
  const handMs = await medianUs(() => {
    hand(theta, g2);
  }, 1000);
  rows.push({
    workload: w.name,
    'js tape reverse µs': +tape.toFixed(1),
    'hand-written µs': +handMs.toFixed(1),
    'tape/hand': +(tape / handMs).toFixed(2),
    'grad agreement': d.normRel.toExponential(1),
  });
  c.dispose();
}
console.table(rows);
