/**
 * `npm run bench:peers`: the benchmark workloads W1/W2/W3/W4, one value-and-gradient each, side by
 * side in one run: tapegrad's reverse mode on every backend that loads here (float64), the
 * hand-written plain-JS float64 gradient, TensorFlow.js (cpu and wasm backends, float32) and
 * jax-js (wasm device, jit, float32 and float64). Every peer's gradient is checked against
 * tapegrad's; times are tinybench medians including the read-back of value and gradient to JS.
 * Writes results/peers.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { backend, backends } from '../src/index.js';
import { difference } from '../src/api/compare.js';
import { machine } from '../src/app/answer/main.js';
import { WORKLOADS } from './workloads.js';
import { medianUs } from './tiny.js';
import type { Peer } from './peers/peer.js';
import { handwritten } from './peers/hand.js';
import { tfjs } from './peers/tfjs.js';
import { jaxjs } from './peers/jaxjs.js';
import { layerRates } from './layers.js';

const PEERS: Peer[] = [handwritten, tfjs('cpu'), tfjs('wasm'), jaxjs('float32'), jaxjs('float64')];
const NOT_HERE =
  "@tensorflow/tfjs-node (TensorFlow's C library binding) is not measured: its install step downloads libtensorflow from outside the npm registry, which this machine cannot reach.";

const only = process.argv.slice(2);
const names = await backends();
const js = await backend('js');
interface Row {
  workload: string;
  implementation: string;
  dtype: string;
  us: number;
  vsBest: number;
  gradError: number;
  valueError: number;
}
const rows: Row[] = [];
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

// the peers implement W1/W2/W3 (not the one-op call-overhead row of npm run bench)
for (const w of WORKLOADS().filter(
  (w) => /^W\d/.test(w.name) && (!only.length || only.some((n) => w.name.startsWith(n))),
)) {
  process.stderr.write(`${w.name}:`);
  const ref = js.compile(w.f);
  const theta = ref.flatten(w.params);
  const exact = new Float64Array(ref.paramCount);
  const exactValue = ref.gradFlat(theta, w.inputs, exact);
  ref.dispose();

  const ours: Row[] = [];
  for (const name of names) {
    const c = (await backend(name)).compile(w.f);
    const g = new Float64Array(c.paramCount);
    const v = c.gradFlat(theta, w.inputs, g);
    const us = await medianUs(() => {
      c.gradFlat(theta, w.inputs, g);
    });
    ours.push({
      workload: w.name,
      implementation: `tapegrad ${name}`,
      dtype: 'float64',
      us,
      vsBest: 0,
      gradError: difference(g, exact).normRel,
      valueError: Math.abs(v - exactValue) / Math.abs(exactValue),
    });
    c.dispose();
    process.stderr.write(` tapegrad ${name} ${fmt(us)} µs;`);
  }
  const best = Math.min(...ours.map((r) => r.us));
  const theirs: Row[] = [];
  for (const peer of PEERS) {
    try {
      await peer.activate();
      const pc = peer.build(w);
      const r = pc.result();
      const us = await medianUs(() => pc.step());
      pc.dispose();
      theirs.push({
        workload: w.name,
        implementation: peer.name,
        dtype: peer.dtype,
        us,
        vsBest: 0,
        gradError: difference(r.grad, exact).normRel,
        valueError: Math.abs(r.value - exactValue) / Math.abs(exactValue),
      });
      process.stderr.write(` ${peer.name} ${fmt(us)} µs;`);
    } catch (e) {
      theirs.push({
        workload: w.name,
        implementation: `${peer.name} (failed: ${(e as Error).message})`,
        dtype: peer.dtype,
        us: NaN,
        vsBest: NaN,
        gradError: NaN,
        valueError: NaN,
      });
    }
  }
  process.stderr.write('\n');
  for (const r of [...ours, ...theirs]) rows.push({ ...r, vsBest: r.us / best });
}

const byWorkload = new Map<string, Row[]>();
for (const r of rows) byWorkload.set(r.workload, [...(byWorkload.get(r.workload) ?? []), r]);
const m = machine();
console.log(
  `tapegrad vs peers: one value and gradient per call, median µs (tinybench); ${m.cpu} (${m.cores} cores), Node ${m.node}, ${new Date().toISOString().slice(0, 10)}`,
);
console.log(
  "x best = time / tapegrad's best backend on that workload; grad error = ||g - g_tapegrad js|| / ||g_tapegrad js|| (float32 peers agree to ~1e-6 at best)\n",
);
for (const [name, rs] of byWorkload) {
  console.log(name);
  console.table(
    rs.map((r) => ({
      implementation: r.implementation,
      dtype: r.dtype,
      µs: +fmt(r.us, 1),
      'x best': +fmt(r.vsBest, 2),
      'grad error': r.gradError.toExponential(1),
      'value error': r.valueError.toExponential(1),
    })),
  );
}

// the peer targets of the main-job issue, checked on this run's numbers
const get = (wl: string, impl: string) =>
  rows.find((r) => r.workload.startsWith(wl) && r.implementation.startsWith(impl));
const LIBRARIES = ['TensorFlow.js', 'jax-js'];
const bestOf = (wl: string, pick: (r: Row) => boolean) =>
  rows
    .filter((r) => r.workload.startsWith(wl) && pick(r) && Number.isFinite(r.us))
    .reduce<Row | undefined>((a, b) => (a === undefined || b.us < a.us ? b : a), undefined);
console.log("Targets (tapegrad's best backend, float64, against the libraries' best configuration, float32 included):");
for (const wl of [...byWorkload.keys()]) {
  const p = bestOf(wl, (r) => LIBRARIES.some((l) => r.implementation.startsWith(l)));
  const h = bestOf(wl, (r) => r.implementation.startsWith('hand-written'));
  console.log(
    `  ${wl}: faster than every library: ${p && p.vsBest > 1 ? 'yes' : 'NO'} (fastest ${p?.implementation ?? 'none measured'}, ${fmt(p?.vsBest ?? NaN, 2)}x tapegrad's time)` +
      (h ? `; hand-written plain JS ${fmt(h.vsBest, 2)}x` : ''),
  );
}
const tfBest = (wl: string) =>
  Math.min(get(wl, 'TensorFlow.js cpu')?.vsBest ?? NaN, get(wl, 'TensorFlow.js wasm')?.vsBest ?? NaN);
if (byWorkload.has('W1 seed M=1000'))
  console.log(`  W1: >= 15x TensorFlow.js: ${tfBest('W1') >= 15 ? 'yes' : 'NO'} (${fmt(tfBest('W1'), 1)}x)`);
const w3 = [...byWorkload.keys()].find((k) => k.startsWith('W3'));
if (w3) {
  console.log(`  W3: >= 5x TensorFlow.js: ${tfBest('W3') >= 5 ? 'yes' : 'NO'} (${fmt(tfBest('W3'), 1)}x)`);
  const jf = get('W3', 'jax-js wasm jit float32')?.vsBest ?? NaN;
  console.log(`  W3: faster than jax-js float32 jit: ${jf > 1 ? 'yes' : 'NO'} (${fmt(jf, 2)}x)`);
}
// W4's layers one at a time: the convolutions' GFLOP/s next to the matmul's
let layers: Awaited<ReturnType<typeof layerRates>> = [];
if ([...byWorkload.keys()].some((k) => k.startsWith('W4'))) {
  layers = await layerRates(names.filter((n) => n !== 'js'));
  console.log(
    '\nW4 layers alone (one-op tapes, fastest of the runs; GFLOP/s by the cost model, backward = gradient - value time):',
  );
  console.table(
    layers.map((l) => ({
      layer: l.layer,
      backend: l.backend,
      'fwd µs': +fmt(l.fwdUs, 0),
      'fwd GFLOP/s': +fmt(l.fwdGflops, 2),
      'bwd µs': +fmt(l.bwdUs, 0),
      'bwd GFLOP/s': +fmt(l.bwdGflops, 2),
    })),
  );
}
console.log(`\ntapegrad backends here: ${names.join(', ')}; load average at the end ${machine().load}.`);
for (const p of PEERS) if (p.note) console.log(`Note: ${p.note}.`);
console.log(`Note: ${NOT_HERE}`);
mkdirSync('results', { recursive: true });
writeFileSync(
  'results/peers.json',
  JSON.stringify({ date: new Date().toISOString(), machine: m, backends: names, rows, layers }, null, 2) + '\n',
);
