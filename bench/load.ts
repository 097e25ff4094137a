/**
 * Load time against tape length: the chain workload (bench/workloads.ts, both native load passes
 * at every layer) at about 1k, 3k, 10k, 30k and 100k instructions. Per length: the trace and the
 * compile (backend-independent), then per backend the load (validation, the load passes, the
 * arenas) and the first reverse() after it (where untouched arena pages are first faulted in),
 * in wall time and in the process's CPU time (steadier on a shared machine). Medians of repeated
 * runs (fewer for slow ones, at least one). Prints a table, writes results/load.json.
 *
 * Usage: npm run bench:load [-- LENGTHS...]   (default 1000 3000 10000 30000 100000)
 * TAPEGRAD_BASELINE_ADDON=/path/to/tapegrad.node adds a row "native (baseline)" loading the same
 * tapes into another build of the addon (main's, say), measured in the same run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { backend, backends } from '../src/index.js';
import type { Program } from '../src/backends/types.js';
import type { Tape } from '../src/trace/compile.js';
import { machine } from '../src/app/answer/main.js';
import { chain } from './workloads.js';

const lengths = process.argv.slice(2).map(Number);
const LENGTHS = lengths.length ? lengths : [1000, 3000, 10_000, 30_000, 100_000];
/** repeat a measurement until this much time has gone, at least MIN_RUNS times, at most MAX_RUNS */
const BUDGET_MS = 400;
const [MIN_RUNS, MAX_RUNS] = [3, 25];
/** one run this slow is enough */
const SLOW_MS = 2000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** `run` returns the ms of the part it times, as often as the budget allows: each part's median and the runs */
function repeat(run: () => number[]): { ms: number[]; runs: number } {
  const xs: number[][] = [];
  const start = performance.now();
  while (xs.length < MAX_RUNS) {
    xs.push(run());
    if (xs[0].some((x) => x > SLOW_MS)) break;
    if (xs.length >= MIN_RUNS && performance.now() - start > BUDGET_MS) break;
  }
  return { ms: xs[0].map((_, i) => median(xs.map((x) => x[i]))), runs: xs.length };
}
const since = (t: number) => performance.now() - t;
/** CPU time of the process in ms (user + system): on a shared machine it moves less than wall time */
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Loader {
  readonly name: string;
  load(tape: Tape): Program;
}
const loaders: Loader[] = [];
for (const name of await backends()) {
  const { engine } = (await backend(name)).compile(chain(10).f);
  loaders.push({ name, load: (t) => engine.load(t) });
}
const baseline = process.env.TAPEGRAD_BASELINE_ADDON;
if (baseline) {
  const addon = createRequire(import.meta.url)(resolve(baseline)) as { load(t: Tape): Program };
  loaders.push({ name: 'native (baseline)', load: (t) => addon.load(t) });
}

const rows: Record<string, string | number>[] = [];
const json: unknown[] = [];
for (const n of LENGTHS) {
  const m = chain(n);
  // trace (define) and compile (.tape) of a fresh function each run
  const tc = repeat(() => {
    let [t, c] = [performance.now(), cpu()];
    const f = chain(n).f;
    const trace = [since(t), cpu() - c];
    [t, c] = [performance.now(), cpu()];
    void f.tape;
    return [...trace, since(t), cpu() - c];
  });
  const [traceMs, traceCpuMs, compileMs, compileCpuMs] = tc.ms;
  const tape = m.f.tape;
  const c = (await backend('js')).compile(m.f);
  const theta = c.flatten(m.params);
  c.dispose();
  const inputs = [m.inputs.x as Float64Array];
  for (const l of loaders) {
    // load, then the first reverse() of the fresh program (untouched arena pages fault in there)
    const grad = new Float64Array(theta.length);
    const r = repeat(() => {
      let [t, c] = [performance.now(), cpu()];
      const program = l.load(tape);
      const load = [since(t), cpu() - c];
      [t, c] = [performance.now(), cpu()];
      program.reverse(theta, inputs, grad);
      const first = [since(t), cpu() - c];
      program.dispose();
      return [...load, ...first];
    });
    const [loadMs, loadCpuMs, firstReverseMs, firstReverseCpuMs] = r.ms;
    rows.push({
      instructions: tape.nInstr,
      backend: l.name,
      'trace ms (cpu)': `${traceMs.toFixed(1)} (${traceCpuMs.toFixed(1)})`,
      'compile ms (cpu)': `${compileMs.toFixed(1)} (${compileCpuMs.toFixed(1)})`,
      'load ms (cpu)': `${loadMs.toFixed(3)} (${loadCpuMs.toFixed(3)})`,
      'first reverse ms (cpu)': `${firstReverseMs.toFixed(3)} (${firstReverseCpuMs.toFixed(3)})`,
      runs: r.runs,
    });
    json.push({
      instructions: tape.nInstr,
      backend: l.name,
      traceMs,
      traceCpuMs,
      compileMs,
      compileCpuMs,
      loadMs,
      loadCpuMs,
      firstReverseMs,
      firstReverseCpuMs,
      runs: r.runs,
    });
  }
}
console.table(rows);
console.log(
  `chain workload (bench/workloads.ts); medians of 'runs' runs (${MIN_RUNS}..${MAX_RUNS} within ${BUDGET_MS} ms, one when a part takes over ${SLOW_MS} ms; trace and compile: their own runs); load average ${machine().load}`,
);
mkdirSync('results', { recursive: true });
writeFileSync(
  'results/load.json',
  JSON.stringify({ date: new Date().toISOString(), machine: machine(), workload: 'chain', rows: json }, null, 2) + '\n',
);
