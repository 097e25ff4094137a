/**
 * `npm run bench:optim`: the cost of one fused optimizer step against the gradient it follows.
 * On every backend that loads here, over N = 101,770 parameters (the W3 MLP 784-128-10, batch
 * 64): tinybench medians of one Adam step, one SGD-with-momentum step and one W3 reverse
 * gradient; then the ratios step / gradient, also timed interleaved round by round
 * (src/app/answer/timing.ts), which cancels most of the load from other processes on a shared
 * machine. Issue 8's target for Adam on native: <= 10%.
 */
import { adam, backend, backends, sgd } from '../src/index.js';
import { pairedMedian, timeEach } from '../src/app/answer/timing.js';
import { w3 } from './workloads.js';
import { medianUs } from './tiny.js';

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;
const rows: Record<string, string | number>[] = [];
for (const name of await backends()) {
  const w = w3();
  const c = (await backend(name)).compile(w.f);
  const theta = c.flatten(w.params);
  const grad = new Float64Array(c.paramCount);
  // the steps move a copy of theta a little each time, as training does
  const stepped = theta.slice();
  const a = adam({ lr: 1e-3 }).bind(c);
  const s = sgd({ lr: 1e-3, momentum: 0.9 }).bind(c);
  const gradient = () => {
    c.gradFlat(theta, w.inputs, grad);
  };
  const adamStep = () => a.step(stepped, grad);
  const sgdStep = () => s.step(stepped, grad);
  const [gradientUs, adamUs, sgdUs] = [await medianUs(gradient), await medianUs(adamStep), await medianUs(sgdStep)];
  const [tg, ta, ts] = timeEach([gradient, adamStep, sgdStep], { budgetMs: name === 'js' ? 3000 : 1500, minRuns: 5 });
  rows.push({
    backend: name,
    N: c.paramCount,
    'W3 reverse µs': +gradientUs.toFixed(1),
    'adam step µs': +adamUs.toFixed(1),
    'sgd step µs': +sgdUs.toFixed(1),
    'adam / gradient': `${percent(adamUs / gradientUs)} (${percent(pairedMedian(ta, tg))})`,
    'sgd / gradient': `${percent(sgdUs / gradientUs)} (${percent(pairedMedian(ts, tg))})`,
  });
  a.dispose();
  s.dispose();
  c.dispose();
}
console.table(rows);
console.log('ratios: of the tinybench medians (in brackets: the median of per-round ratios, timed interleaved)');
