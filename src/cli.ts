#!/usr/bin/env node
/**
 * `tapegrad answer` (npm start): is backprop faster than finite differences? For the seed example
 * and logistic regression on breast cancer, every gradient method's value, error against the
 * reverse gradient, and median time, on the best backend here.
 */
import { backend } from './backends/registry.js';
import { difference } from './api/compare.js';
import { METHODS } from './trace/cost.js';
import { breastCancer } from './data/datasets.js';
import { logistic, seed, type Model } from './models/models.js';

function median(run: () => void, minMs = 200): number {
  const times: number[] = [];
  const end = performance.now() + minMs;
  while (times.length < 5 || (performance.now() < end && times.length < 10_000)) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

async function answer(): Promise<void> {
  const be = await backend();
  console.log(`tapegrad: reverse-mode gradient vs finite differences (backend: ${be.name})\n`);
  for (const m of [seed(1000), logistic(breastCancer())] as Model[]) {
    const c = be.compile(m.f);
    const theta = c.flatten(m.params);
    const g = new Float64Array(c.paramCount);
    const exact = new Float64Array(c.paramCount);
    c.gradFlat(theta, m.inputs, exact);
    const valueMs = median(() => c.valueFlat(theta, m.inputs));
    console.log(`${m.name}: N = ${c.paramCount}, one evaluation ${(valueMs * 1e3).toFixed(1)} µs`);
    const rows = METHODS.map((method) => {
      const value = c.gradFlat(theta, m.inputs, g, { method });
      const ms = median(() => c.gradFlat(theta, m.inputs, g, { method }));
      return {
        method, value, 'max |error| vs reverse': difference(g, exact).maxAbs.toExponential(2),
        'time µs': +(ms * 1e3).toFixed(1), 'time / one evaluation': +(ms / valueMs).toFixed(2),
        'cost model FLOPs / evaluation': +c.cost(method).relative.toFixed(2),
      };
    });
    console.table(rows);
    c.dispose();
  }
}

const [command = 'answer'] = process.argv.slice(2);
if (command === 'answer') await answer();
else {
  console.error(`unknown command '${command}'; usage: tapegrad [answer]`);
  process.exitCode = 2;
}
