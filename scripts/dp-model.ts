/**
 * `npm run dp-model -- --gbps 10 --latency-us 20 --ranks 8`: when does data-parallel training of
 * W3 (784-128-10 tanh MLP, N = 101,770) pay? A model, with the compute side measured here:
 *
 *   compute(b)  = a + c·(b − 1)  one W3 reverse gradient at b rows: a the tinybench median at
 *                                b = 1, c the per-row slope fitted (least squares) to the medians
 *                                at larger batches, on the best backend; or given (--grad-us A,C)
 *   allreduce   = 2(p−1)·α + 2(p−1)/p · N · s / β      (ring allreduce: reduce-scatter then
 *                                allgather; α latency, β bandwidth, s = 8 bytes float64 or 4 float32)
 *   one process, global batch p·b:  compute(p·b)
 *   p ranks, b rows each:           compute(b) + allreduce   (no overlap of the two)
 *
 * speedup = compute(p·b) / (compute(b) + allreduce); with compute linear in b (a + c·b) it passes 1
 * when c·b·(p−1) > allreduce: the break-even per-rank batch, printed at the end (found by search).
 * Options: --gbps (default 10), --latency-us (20), --ranks (8), --backend (best that loads),
 * --grad-us A,C (skip the measurement: a in µs, c in µs per row).
 */
import { backend, type BackendName } from '../src/index.js';
import { medianUs } from '../bench/tiny.js';
import { w3 } from '../bench/workloads.js';

const args = new Map<string, string>();
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const k = argv[i];
  if (!k.startsWith('--') || i + 1 >= argv.length)
    throw new Error(
      `dp-model: expected --name value pairs, got '${k}' (options: --gbps, --latency-us, --ranks, --backend, --grad-us A,C)`,
    );
  args.set(k.slice(2), argv[++i]);
}
for (const k of args.keys())
  if (!['gbps', 'latency-us', 'ranks', 'backend', 'grad-us'].includes(k))
    throw new Error(`dp-model: unknown option --${k}`);
const num = (k: string, d: number, integer = false) => {
  const v = args.has(k) ? Number(args.get(k)) : d;
  if (!(v > 0) || (integer && !Number.isInteger(v)))
    throw new Error(`dp-model: --${k} must be a positive ${integer ? 'integer' : 'number'}, got '${args.get(k)}'`);
  return v;
};
const gbps = num('gbps', 10),
  latencyUs = num('latency-us', 20),
  p = num('ranks', 8, true);
if (p < 2) throw new Error('dp-model: --ranks must be at least 2');

const N = 101_770;
const BATCHES = [1, 8, 32, 64, 128, 256, 512];

/** compute(b) in µs: a + c·b given, or interpolated between measured W3 gradients. */
async function computeModel(): Promise<{ compute: (b: number) => number; measured: [number, number][]; on: string }> {
  if (args.has('grad-us')) {
    const [a, c] = args.get('grad-us')!.split(',').map(Number);
    if (!(a >= 0 && c > 0))
      throw new Error(`dp-model: --grad-us must be A,C (µs, µs per row), got '${args.get('grad-us')}'`);
    return { compute: (b) => a + c * b, measured: [], on: `given: ${a} µs + ${c} µs × b` };
  }
  const be = await backend(args.get('backend') as BackendName | undefined);
  const measured: [number, number][] = [];
  for (const b of BATCHES) {
    const w = w3(b);
    const c = be.compile(w.f);
    const theta = c.flatten(w.params),
      grad = new Float64Array(c.paramCount);
    measured.push([b, await medianUs(() => c.gradFlat(theta, w.inputs, grad), 300)]);
    c.dispose();
  }
  // a line through (1, t1): one fixed cost per call, and a cost per row (the model stays linear,
  // so the speedup never exceeds p; the medians themselves are noisy on a loaded machine)
  const t1 = measured[0][1];
  const c =
    measured.reduce((s, [b, t]) => s + (b - 1) * (t - t1), 0) / measured.reduce((s, [b]) => s + (b - 1) ** 2, 0);
  return {
    compute: (b) => t1 + c * (b - 1),
    measured,
    on: `measured on the ${be.name} backend, this machine: ${t1.toFixed(0)} µs + ${c.toFixed(1)} µs × (b − 1)`,
  };
}

const { compute, measured, on } = await computeModel();
const bytesPerRank = (s: number) => ((2 * (p - 1)) / p) * N * s;
const allreduceUs = (s: number) => 2 * (p - 1) * latencyUs + (bytesPerRank(s) / ((gbps * 1e9) / 8)) * 1e6;
const [ar64, ar32] = [allreduceUs(8), allreduceUs(4)];

console.log(
  `W3 (N = ${N.toLocaleString('en-US')}), ${p} ranks, ${gbps} Gb/s, ${latencyUs} µs latency; ring allreduce moves ${(bytesPerRank(8) / 1e6).toFixed(2)} MB per rank per step in float64 (${(bytesPerRank(4) / 1e6).toFixed(2)} MB in float32)`,
);
console.log(
  `compute(b), one W3 reverse gradient at b rows (${on})${measured.length ? `: ${measured.map(([b, t]) => `b=${b} ${t.toFixed(0)} µs`).join(', ')}` : ''}`,
);
console.log(`allreduce: ${(ar64 / 1000).toFixed(3)} ms float64, ${(ar32 / 1000).toFixed(3)} ms float32`);
const rows = [1, 8, 32, 64, 128, 256, 512, 1024, 4096].map((b) => ({
  'per-rank batch': b,
  'global batch': p * b,
  '1 process ms': +(compute(p * b) / 1000).toFixed(3),
  'DP compute ms': +(compute(b) / 1000).toFixed(3),
  'DP step f64 ms': +((compute(b) + ar64) / 1000).toFixed(3),
  'speedup f64': +(compute(p * b) / (compute(b) + ar64)).toFixed(2),
  'speedup f32': +(compute(p * b) / (compute(b) + ar32)).toFixed(2),
  ideal: p,
}));
console.table(rows);
/** the smallest per-rank batch whose speedup reaches `target` */
const from = (ar: number, target: number) => {
  for (let b = 1; b <= 1 << 20; b++) if (compute(p * b) / (compute(b) + ar) >= target) return `${b}`;
  return 'never';
};
console.log(
  `data parallelism beats one process from a per-rank batch of ${from(ar64, 1)} rows (float64 gradients), ${from(ar32, 1)} (float32);` +
    ` it reaches half the ideal speedup (${p / 2}×) from ${from(ar64, p / 2)} rows (float64), ${from(ar32, p / 2)} (float32)`,
);
