/**
 * `mpirun -np 2 ... npx tsx bench/allreduce.ts`: the measured side of the data-parallel model
 * (scripts/dp-model.ts) on this machine, all traffic over shared memory:
 *  1. allreduce of W3's gradient, N = 101,770 float64 (and N/2, the bytes of float32 gradients,
 *     and 1 element: the latency), through distributed() (copy in, the addon's thread, copy out);
 *  2. one training step of W3 at a per-rank batch b on every rank (gradient, then allreduce)
 *     against one process's gradient at the global batch (the other ranks idle in a barrier).
 * The ranks run in lockstep, so each figure is the median of a fixed number of rounds timed with
 * performance.now() on rank 0 (tinybench decides its own round counts, which the ranks would not
 * agree on). Rank 0 prints.
 */
import { backend, distributed } from '../src/index.js';
import { w3 } from './workloads.js';

const d = distributed();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const N = 101_770;

/** [median, fastest] of `rounds` lockstep rounds, in ms */
async function timeRounds(rounds: number, fn: () => unknown | Promise<unknown>): Promise<[number, number]> {
  for (let i = 0; i < Math.max(3, rounds / 10); i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await d.barrier();
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  return [median(t), Math.min(...t)];
}

const results: Record<string, string | number>[] = [];
for (const [what, n] of [
  ['W3 gradient, float64', N],
  ['W3 gradient as float32 (N/2 float64: the same bytes)', N >> 1],
  ['1 element (latency)', 1],
] as const) {
  const x = new Float64Array(n).fill(d.rank + 1);
  const [ms, best] = await timeRounds(200, () => d.allreduce(x, 'sum'));
  results.push({
    allreduce: what,
    elements: n,
    'MB per rank (ring)': +((((2 * (d.size - 1)) / d.size) * n * 8) / 1e6).toFixed(3),
    'median ms': +ms.toFixed(3),
    'fastest ms': +best.toFixed(3),
  });
}

const be = await backend();
const steps: Record<string, string | number>[] = [];
for (const b of [16, 64, 256]) {
  const local = w3(b),
    global = w3(b * d.size);
  const c = be.compile(local.f),
    cg = be.compile(global.f);
  const theta = c.flatten(local.params),
    grad = new Float64Array(c.paramCount);
  const rounds = b >= 256 ? 20 : 60;
  const [dp] = await timeRounds(rounds, async () => {
    c.gradFlat(theta, local.inputs, grad);
    await d.allreduce(grad, 'mean');
  });
  const [gradOnly] = await timeRounds(rounds, () => c.gradFlat(theta, local.inputs, grad));
  const [one] = await timeRounds(rounds, () => {
    if (d.rank === 0) cg.gradFlat(theta, global.inputs, grad);
  });
  steps.push({
    'per-rank batch': b,
    'global batch': b * d.size,
    '1 process gradient ms': +one.toFixed(3),
    'DP gradient ms': +gradOnly.toFixed(3),
    'DP step (gradient + allreduce) ms': +dp.toFixed(3),
    speedup: +(one / dp).toFixed(2),
  });
  c.dispose();
  cg.dispose();
}
if (d.rank === 0) {
  console.log(
    `${d.size} ranks on this machine (shared memory), ${be.name} backend; medians of lockstep rounds (the fastest too: a waiting rank spins, so a loaded machine's time slices show in the medians)`,
  );
  console.table(results);
  console.table(steps);
}
