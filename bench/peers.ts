/**
 * `npm run bench:peers`: the benchmark workloads W1/W2/W3/W4, one value-and-gradient each, side by
 * side in one run: tapegrad's reverse mode on every backend that loads here, in float64 and in
 * float32 (compile's dtype option; a backend without float32 kernels is listed as not available,
 * with its reason), the hand-written plain-JS float64 gradient, TensorFlow.js (cpu and wasm
 * backends, float32) and jax-js (wasm device, jit, float32 and float64). Every gradient is checked
 * against tapegrad js float64's; times are tinybench medians including the read-back of value and
 * gradient to JS. "x best" compares each row with tapegrad's best backend of the same dtype:
 * float32 with float32, float64 with float64. Writes results/peers.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { backend, backends, type Compiled } from '../src/index.js';
import { difference } from '../src/api/compare.js';
import { machine } from '../src/app/answer/main.js';
import { inputsIn, WORKLOADS } from './workloads.js';
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
const NOT_RUN = { us: NaN, vsBest: NaN, gradError: NaN, valueError: NaN };
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
  // float32: arguments converted once, outside the timing (a Float64Array input would be
  // rounded into a copy on every call)
  const inputs32 = inputsIn(w.inputs ?? {}, 'float32');
  const theta32 = Float32Array.from(theta);
  for (const name of names) {
    const implementation = `tapegrad ${name}`;
    let c: Compiled<Float32Array> | undefined;
    try {
      c = (await backend(name)).compile(w.f, { dtype: 'float32' });
      const g = new Float32Array(c.paramCount);
      const v = c.gradFlat(theta32, inputs32, g);
      const us = await medianUs(() => {
        c!.gradFlat(theta32, inputs32, g);
      });
      ours.push({
        workload: w.name,
        implementation,
        dtype: 'float32',
        us,
        vsBest: 0,
        gradError: difference(g, exact).normRel,
        valueError: Math.abs(v - exactValue) / Math.abs(exactValue),
      });
      process.stderr.write(` tapegrad ${name} float32 ${fmt(us)} µs;`);
    } catch (e) {
      // never a number for a configuration that did not run: the row says why
      ours.push({
        ...NOT_RUN,
        workload: w.name,
        implementation: `${implementation} (not available: ${(e as Error).message})`,
        dtype: 'float32',
      });
      process.stderr.write(` tapegrad ${name} float32 not available;`);
    } finally {
      c?.dispose();
    }
  }
  const bestOfDtype = (dtype: string) =>
    Math.min(...ours.filter((r) => r.dtype === dtype && Number.isFinite(r.us)).map((r) => r.us));
  const best: Record<string, number> = { float64: bestOfDtype('float64'), float32: bestOfDtype('float32') };
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
        ...NOT_RUN,
        workload: w.name,
        implementation: `${peer.name} (failed: ${(e as Error).message})`,
        dtype: peer.dtype,
      });
    }
  }
  process.stderr.write('\n');
  for (const r of [...ours, ...theirs]) rows.push({ ...r, vsBest: r.us / best[r.dtype] });
}

const byWorkload = new Map<string, Row[]>();
for (const r of rows) byWorkload.set(r.workload, [...(byWorkload.get(r.workload) ?? []), r]);
const m = machine();
console.log(
  `tapegrad vs peers: one value and gradient per call, median µs (tinybench); ${m.cpu} (${m.cores} cores), Node ${m.node}, ${new Date().toISOString().slice(0, 10)}`,
);
console.log(
  "x best = time / tapegrad's best backend of the same dtype on that workload (float32 rows against tapegrad float32, float64 against float64); grad error = ||g - g_tapegrad js float64|| / ||g_tapegrad js float64|| (float32 agrees to ~1e-6 at best)\n",
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
// these compare with tapegrad's best float64 backend whatever the row's dtype (x best is per dtype)
const vsF64 = (r: Row | undefined) =>
  r
    ? r.us / (bestOf(r.workload, (q) => q.dtype === 'float64' && q.implementation.startsWith('tapegrad'))?.us ?? NaN)
    : NaN;
console.log("Targets (tapegrad's best backend, float64, against the libraries' best configuration, float32 included):");
for (const wl of [...byWorkload.keys()]) {
  const p = bestOf(wl, (r) => LIBRARIES.some((l) => r.implementation.startsWith(l)));
  const h = bestOf(wl, (r) => r.implementation.startsWith('hand-written'));
  console.log(
    `  ${wl}: faster than every library: ${p && vsF64(p) > 1 ? 'yes' : 'NO'} (fastest ${p?.implementation ?? 'none measured'}, ${fmt(vsF64(p), 2)}x tapegrad's time)` +
      (h ? `; hand-written plain JS ${fmt(vsF64(h), 2)}x` : ''),
  );
}
const tfBest = (wl: string) => Math.min(vsF64(get(wl, 'TensorFlow.js cpu')), vsF64(get(wl, 'TensorFlow.js wasm')));
if (byWorkload.has('W1 seed M=1000'))
  console.log(`  W1: >= 15x TensorFlow.js: ${tfBest('W1') >= 15 ? 'yes' : 'NO'} (${fmt(tfBest('W1'), 1)}x)`);
const w3 = [...byWorkload.keys()].find((k) => k.startsWith('W3'));
if (w3) {
  console.log(`  W3: >= 5x TensorFlow.js: ${tfBest('W3') >= 5 ? 'yes' : 'NO'} (${fmt(tfBest('W3'), 1)}x)`);
  const jf = vsF64(get('W3', 'jax-js wasm jit float32'));
  console.log(`  W3: faster than jax-js float32 jit: ${jf > 1 ? 'yes' : 'NO'} (${fmt(jf, 2)}x)`);
}
// float32 with float32, float64 with float64: tapegrad's best backend of each dtype against the
// fastest library of that dtype (x best of that library's row: above 1 means tapegrad is faster)
console.log('\nBy dtype (tapegrad best of the dtype against the fastest library of the same dtype):');
for (const wl of [...byWorkload.keys()])
  for (const dtype of ['float32', 'float64']) {
    const lib = bestOf(wl, (r) => r.dtype === dtype && LIBRARIES.some((l) => r.implementation.startsWith(l)));
    const ours = bestOf(wl, (r) => r.dtype === dtype && r.implementation.startsWith('tapegrad'));
    console.log(
      `  ${wl} ${dtype}: ${ours ? `${ours.implementation} ${fmt(ours.us)} µs` : 'not measured'}, ` +
        (lib ? `${lib.implementation} ${fmt(lib.us)} µs (${fmt(lib.vsBest, 2)}x)` : 'no library measured'),
    );
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
