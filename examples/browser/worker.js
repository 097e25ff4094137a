// The demo's Web Worker: times the three ways to a gradient, trains the digits MLP, predicts.
import * as tapegrad from 'tapegrad';
import { serve } from 'tapegrad/worker';
import { FAMILIES } from './families.js';
import { digitsModel, parseDigits, train } from './train.js';

/**
 * Median milliseconds per call of fn. Calls are timed in batches of at least 5 ms: a worker's
 * clock may tick in 0.1 ms steps (no cross-origin isolation), coarser than one small call.
 */
function median(fn, budgetMs = 60) {
  let k = 1;
  for (;;) {
    const s = performance.now();
    for (let i = 0; i < k; i++) fn();
    if (performance.now() - s >= 5 || k >= 1 << 16) break;
    k *= 2;
  }
  const times = [];
  const t0 = performance.now();
  do {
    const s = performance.now();
    for (let i = 0; i < k; i++) fn();
    times.push((performance.now() - s) / k);
  } while (performance.now() - t0 < budgetMs && times.length < 15);
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

async function time({ family, N, backends }, ctx) {
  const sizes = [
    ...new Set(
      [N / 8, N / 4, N / 2, N].map((n) => FAMILIES[family].make(tapegrad.define, Math.max(2, Math.round(n))).N),
    ),
  ];
  const rows = [];
  for (const name of backends) {
    const be = await tapegrad.backend(name);
    for (const n of sizes) {
      const m = FAMILIES[family].make(tapegrad.define, n);
      const c = be.compile(m.f);
      const g = new Float64Array(m.N);
      const row = {
        backend: name,
        N: m.N,
        value: median(() => c.valueFlat(m.theta, m.inputs)),
        reverse: median(() => c.gradFlat(m.theta, m.inputs, g)),
        fd: median(() => c.gradFlat(m.theta, m.inputs, g, { method: 'fd-forward' })),
      };
      c.dispose();
      rows.push(row);
      ctx.progress(row);
    }
  }
  return rows;
}

let digits, model, theta;
async function loadDigits() {
  const res = await fetch(new URL('/digits.csv.gz', self.location.href));
  if (!res.ok) throw new Error(`digits.csv.gz: HTTP ${res.status}`);
  return parseDigits(await new Response(res.body.pipeThrough(new DecompressionStream('gzip'))).text());
}

serve({
  tasks: {
    time,
    async train({ epochs }, ctx) {
      digits ??= await loadDigits();
      model ??= ctx.backend.compile(digitsModel(tapegrad.define));
      theta = await train(tapegrad, model, digits, { epochs, onEpoch: (e) => ctx.progress(e) });
      return { params: theta.length };
    },
    predict({ pixels }) {
      if (!theta) throw new Error('train the model first');
      const out = model.run(theta, { x: Float64Array.from(pixels), y: new Float64Array(1) });
      return { digit: out.pred[0], probs: Array.from(out.probs) };
    },
  },
});
