/**
 * `npx tsx bench/wasm-modules.ts [A.wasm B.wasm ...] [--rounds=N]`: value() and reverse() of
 * W2 d=1000 and W3 on each given wasm module (default: dist/tapegrad.wasm, and
 * dist/tapegrad-relaxed.wasm where this engine validates relaxed SIMD, e.g. under
 * `node --experimental-wasm-relaxed-simd --import tsx`), interleaved in rounds so that a change
 * in the machine's load hits every module alike. Prints, in µs, the fastest call of all rounds (a
 * call no other process interrupted: this machine is shared) and the median of the rounds' medians.
 */
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { backend } from '../src/index.js';
import { relaxedSimdSupported } from '../src/backends/wasm/loader.js';
import { w2, w3 } from './workloads.js';

/** per-call times over `ms` milliseconds: [fastest, median] */
function sample(fn: () => unknown, ms: number): [number, number] {
  for (let i = 0; i < 20; i++) fn();
  const t: number[] = [];
  const end = performance.now() + ms;
  for (let now = performance.now(); now < end;) {
    fn();
    const next = performance.now();
    t.push((next - now) * 1000);
    now = next;
  }
  t.sort((p, q) => p - q);
  return [t[0], t[t.length >> 1]];
}

const args = process.argv.slice(2);
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3);
const files = args.filter((a) => !a.startsWith('--'));
if (!files.length) files.push('dist/tapegrad.wasm', ...(relaxedSimdSupported() ? ['dist/tapegrad-relaxed.wasm'] : []));
const workloads = [w2(1000), w3()];
const runs = await Promise.all(
  files.map(async (file) => {
    const be = await backend('wasm', { wasm: new Uint8Array(readFileSync(file)) });
    return workloads.map((w) => {
      const c = be.compile(w.f);
      const theta = c.flatten(w.params),
        grad = new Float64Array(c.paramCount);
      return {
        value: () => c.valueFlat(theta, w.inputs),
        reverse: () => c.gradFlat(theta, w.inputs, grad),
        samples: { value: [] as [number, number][], reverse: [] as [number, number][] },
      };
    });
  }),
);
console.log(
  `load before: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
for (let r = 0; r < rounds; r++)
  for (const run of runs)
    for (const w of run) {
      w.samples.value.push(sample(w.value, 400));
      w.samples.reverse.push(sample(w.reverse, 400));
    }
const fastest = (s: [number, number][]) => +Math.min(...s.map((x) => x[0])).toFixed(1);
const median = (s: [number, number][]) =>
  +s
    .map((x) => x[1])
    .sort((p, q) => p - q)
    [s.length >> 1].toFixed(1);
console.table(
  runs.flatMap((run, f) =>
    run.map((w, k) => ({
      module: files[f],
      workload: workloads[k].name,
      'value fastest': fastest(w.samples.value),
      'value median': median(w.samples.value),
      'reverse fastest': fastest(w.samples.reverse),
      'reverse median': median(w.samples.reverse),
    })),
  ),
);
console.log(
  `load after: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; ${rounds} rounds of 400 ms per cell`,
);
