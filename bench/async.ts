/**
 * `npm run bench:async`: what an asynchronous native gradient costs and what it leaves free.
 * 1. tinybench medians of one reverse gradient on a small model, sync (gradFlat) vs async
 *    (await gradFlatAsync), side by side: the difference is the async overhead.
 * 2. the latency of a small fs.readFile alone, and while long FD gradients run asynchronously
 *    (one, then four at once on four compiled functions: libuv's default thread pool size).
 * The machine may be shared: compare the ratios of one run, not absolute times across runs.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { backend, define } from '../src/index.js';
import { uniform as random } from '../src/models/random.js';
import { medianUs } from './tiny.js';

const model = (d: number, m: number) =>
  define({ params: { w: [d], c: [] }, inputs: { X: [m, d] } }, ({ w, c }, { X }) =>
    X.matmul(w).add(c).tanh().square().sum(),
  );

const be = await backend('native');
const fmt = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`);

// 1. sync vs async on a small model
{
  const f = model(20, 30);
  const c = be.compile(f);
  const theta = random(c.paramCount, 1);
  const inputs = { X: random(600, 2) };
  const out = new Float64Array(c.paramCount);
  const sync = await medianUs(() => {
    c.gradFlat(theta, inputs, out);
  }, 1000);
  const asyncUs = await medianUs(async () => {
    await c.gradFlatAsync(theta, inputs, out);
  }, 1000);
  console.log(
    `small model (N = ${c.paramCount}) reverse gradient: sync ${fmt(sync)}, async ${fmt(asyncUs)} (async overhead ${fmt(asyncUs - sync)}, ${(asyncUs / sync).toFixed(1)}x)`,
  );
  c.dispose();
}

// 2. fs.readFile latency while long async FD gradients run
const file = fileURLToPath(import.meta.url);
async function readLatencies(until: () => boolean, min = 20): Promise<number[]> {
  const ms: number[] = [];
  while (!until() || ms.length < min) {
    const t0 = performance.now();
    await readFile(file);
    ms.push(performance.now() - t0);
    if (until() && ms.length >= min) break;
  }
  return ms;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const max = (xs: number[]) => Math.max(...xs);

const idle = await readLatencies(() => true, 200);
console.log(
  `fs.readFile alone: median ${median(idle).toFixed(2)} ms, max ${max(idle).toFixed(2)} ms (${idle.length} reads)`,
);

for (const count of [1, 4]) {
  const f = model(600, 300);
  const cs = Array.from({ length: count }, () => be.compile(f));
  const theta = random(cs[0].paramCount, 3, -0.01, 0.01);
  const inputs = { X: random(180_000, 4) };
  const outs = cs.map((c) => new Float64Array(c.paramCount));
  let done = false;
  const t0 = performance.now();
  const all = Promise.all(
    cs.map((c, k) => c.gradFlatAsync(theta, inputs, outs[k], { method: 'fd-central', reuse: false })),
  ).then(() => {
    done = true;
  });
  const during = await readLatencies(() => done, 1);
  await all;
  const total = performance.now() - t0;
  console.log(
    `fs.readFile during ${count} async FD gradient(s) (${total.toFixed(0)} ms in all): median ${median(during).toFixed(2)} ms, max ${max(during).toFixed(2)} ms (${during.length} reads)`,
  );
  cs.forEach((c) => c.dispose());
}
