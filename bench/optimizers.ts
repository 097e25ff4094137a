/**
 * `npm run bench:optim`: the cost of one fused optimizer step against the gradient it follows.
 * On every backend that loads here: tinybench medians of one Adam step and one SGD-with-momentum
 * step over N = 101,770 parameters (the W3 MLP 784-128-10), and of one W3 reverse gradient
 * (batch 64), measured in the same run; the ratio step / gradient is what counts (issue 8's
 * target for Adam on native: <= 10%).
 */
import { adam, backend, backends, sgd } from '../src/index.js';
import { w3 } from './workloads.js';
import { medianUs } from './tiny.js';

const rows: Record<string, string | number>[] = [];
for (const name of await backends()) {
  const w = w3();
  const c = (await backend(name)).compile(w.f);
  const theta = c.flatten(w.params);
  const grad = new Float64Array(c.paramCount);
  const gradient = await medianUs(() => { c.gradFlat(theta, w.inputs, grad); });
  // a copy of theta to step on (the steps move it a little each time, as training does)
  const stepped = theta.slice();
  const a = adam({ lr: 1e-3 }).bind(c);
  const adamUs = await medianUs(() => a.step(stepped, grad));
  const s = sgd({ lr: 1e-3, momentum: 0.9 }).bind(c);
  const sgdUs = await medianUs(() => s.step(stepped, grad));
  rows.push({
    backend: name, N: c.paramCount, 'W3 reverse µs': +gradient.toFixed(1), 'adam step µs': +adamUs.toFixed(1),
    'adam / gradient': `${((100 * adamUs) / gradient).toFixed(1)}%`, 'sgd step µs': +sgdUs.toFixed(1),
    'sgd / gradient': `${((100 * sgdUs) / gradient).toFixed(1)}%`,
  });
  a.dispose();
  s.dispose();
  c.dispose();
}
console.table(rows);
