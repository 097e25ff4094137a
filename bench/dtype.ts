/**
 * `npm run bench:dtype -- [--backend=native,wasm] [--rounds=N] [--threads=N] [--wasm=FILE]`:
 * float32 against float64 on each backend, side by side in one run (issue 13, item 2 and 4): one
 * value and one value + reverse gradient of W2 (logistic, d = 1000), W3 (MLP 784-128-10, batch 64)
 * and W1 (the elementwise path). Each round measures every cell once (tinybench, median µs),
 * alternating the dtypes (and reversing the order every other round) so that a change of the
 * machine's load hits both alike; the table gives each cell's median over the rounds and the
 * float32 / float64 ratio.
 *
 * Targets: native W3 reverse float32 <= 0.55x float64 and W2 <= 0.6x; wasm W3 reverse <= 900 µs
 * (float64) and <= 500 µs (float32) on Node 20, one thread.
 *
 * The floor: each round also times the backend's register-only multiply-add peak for each dtype
 * (native: the addon's independent FMA chains, k_peak.h; wasm: the module's chains of its
 * products' own multiply-add, assembly/kernels/peak.ts), the fastest round kept. A row's floor is
 * its matrix products' FLOPs (the cost model's, matmul forward and backward) over that peak
 * (times the threads): the time the products alone would take at the peak. "floor share" is
 * floor / measured time; what is left above it is the products' distance from the peak plus
 * everything else (copies, elementwise ops, the sweep).
 *
 * --threads: native's pool (default 1, or TAPEGRAD_THREADS), so that the ratio is the kernels',
 * not the pool's. --wasm: a module other than the package's (e.g. dist/tapegrad-relaxed.wasm under
 * node --experimental-wasm-relaxed-simd).
 */
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { backend, type Backend } from '../src/index.js';
import { arrayOf, type DType } from '../src/api/dtype.js';
import { instantiateWasm } from '../src/backends/wasm/engine.js';
import { wasmPeak } from '../src/backends/wasm/peak.js';
import { loadAddon } from '../src/backends/native/loader.js';
import { instructionFlops } from '../src/trace/cost.js';
import { Field, INSTR_WIDTH, OPS } from '../src/ops/opset.js';
import { inputsIn, w1, w2, w3, type Workload } from './workloads.js';
import { medianUs } from './tiny.js';

const args = process.argv.slice(2);
const opt = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(opt('rounds') ?? 3);
const threads = Number(opt('threads') ?? process.env.TAPEGRAD_THREADS ?? 1);
const file = opt('wasm');
const wanted = (opt('backend') ?? 'native,wasm').split(',');
const DTYPES: DType[] = ['float64', 'float32'];
const WORKLOADS = [w2(1000), w3(), w1()];

/** the targets of issue 13, by backend and workload name (ratio: float32 / float64 reverse; µs: reverse) */
const TARGETS: Record<string, Record<string, { ratio?: number; us?: Record<DType, number> }>> = {
  native: { [w2(1000).name]: { ratio: 0.6 }, [w3().name]: { ratio: 0.55 } },
  wasm: { [w3().name]: { us: { float64: 900, float32: 500 } } },
};

/** FLOPs of the matrix products (matmul, batch_matmul) of one value and one reverse */
function productFlops(w: Workload): { value: number; reverse: number } {
  const tape = w.f.tape;
  const { fwd, bwd } = instructionFlops(tape);
  let value = 0,
    reverse = 0;
  for (let i = 0; i < tape.nInstr; i++) {
    const op = OPS[tape.code[i * INSTR_WIDTH + Field.op]].name;
    if (op !== 'matmul' && op !== 'batch_matmul') continue;
    value += fwd[i];
    reverse += fwd[i] + bwd[i];
  }
  return { value, reverse };
}

interface Subject {
  readonly name: string;
  readonly be: Backend;
  readonly describe: string;
  /** GFLOP/s of one round's peak measurement, or NaN where there is none */
  peak(dtype: DType): number;
}

async function subjects(): Promise<Subject[]> {
  const out: Subject[] = [];
  if (wanted.includes('native')) {
    try {
      const be = await backend('native', { threads });
      const addon = loadAddon();
      out.push({
        name: 'native',
        be,
        describe: `native (${addon.isa} build, ${threads} thread${threads === 1 ? '' : 's'})`,
        peak: (dtype) => threads * addon.peak(dtype, 300),
      });
    } catch (e) {
      console.log(`native: not measured (${(e as Error).message})`);
    }
  }
  if (wanted.includes('wasm')) {
    const bytes = file ? new Uint8Array(readFileSync(file)) : undefined;
    const be = await backend('wasm', bytes ? { wasm: bytes } : {});
    // the peak on its own instance of the same module (a module built before peakChains has none)
    const module = await instantiateWasm(bytes);
    const hasPeak = typeof (module as Partial<typeof module>).peakChains === 'function';
    const fused = be.features.includes('relaxed-simd') ? 'fused' : 'multiply, then add';
    out.push({
      name: 'wasm',
      be,
      describe: `wasm (${file ?? 'the package default'}: ${be.features.join(', ')}; peak ${hasPeak ? fused : 'not exported'})`,
      peak: (dtype) => (hasPeak ? wasmPeak(module, dtype, { ms: 300 }) : NaN),
    });
  }
  return out;
}

const list = await subjects();
const cells = list.flatMap((s) =>
  WORKLOADS.flatMap((w) =>
    DTYPES.map((dtype) => {
      const c = s.be.compile(w.f, { dtype });
      const theta = c.flatten(w.params);
      const inputs = inputsIn(w.inputs, dtype);
      const grad = arrayOf(dtype, c.paramCount);
      const g = c as unknown as {
        valueFlat(t: typeof theta, i: typeof inputs): number;
        gradFlat(t: typeof theta, i: typeof inputs, o: typeof grad): number;
      };
      return {
        subject: s,
        workload: w.name,
        dtype,
        products: productFlops(w),
        value: () => g.valueFlat(theta, inputs),
        reverse: () => g.gradFlat(theta, inputs, grad),
        times: { value: [] as number[], reverse: [] as number[] },
      };
    }),
  ),
);

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
console.log(`${list.map((s) => s.describe).join('; ')}; load before: ${load()}`);
const peaks = new Map(list.map((s) => [s, { float64: 0, float32: 0 } as Record<DType, number>]));
for (let r = 0; r < rounds; r++) {
  for (const cell of r % 2 ? [...cells].reverse() : cells)
    for (const what of ['value', 'reverse'] as const) cell.times[what].push(await medianUs(cell[what], 300));
  for (const s of list)
    for (const dtype of DTYPES) peaks.get(s)![dtype] = Math.max(peaks.get(s)![dtype], s.peak(dtype));
}
for (const s of list) {
  const p = peaks.get(s)!;
  console.log(
    `${s.name} peak: float64 ${p.float64.toFixed(1)} GFLOP/s, float32 ${p.float32.toFixed(1)} (the fastest of ${rounds} rounds)`,
  );
}

const med = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
const fmt = (us: number) => +us.toFixed(us < 10 ? 2 : 1);
const rows = cells.map((c) => {
  const value = med(c.times.value),
    reverse = med(c.times.reverse);
  /** µs of FLOPs at the peak (none for a tape without products) */
  const floor = (flops: number) => (flops > 0 ? flops / (peaks.get(c.subject)![c.dtype] * 1e3) : NaN);
  const share = (flops: number, us: number) => (flops > 0 ? +(floor(flops) / us).toFixed(2) : '');
  return {
    backend: c.subject.name,
    workload: c.workload,
    dtype: c.dtype,
    'value µs': fmt(value),
    'reverse µs': fmt(reverse),
    'value floor share': share(c.products.value, value),
    'reverse floor µs': c.products.reverse > 0 ? fmt(floor(c.products.reverse)) : '',
    'reverse floor share': share(c.products.reverse, reverse),
  };
});
console.table(
  rows.map((row, i) => {
    const f64 = rows[i - (i % 2)];
    const target = TARGETS[row.backend]?.[row.workload];
    const ratio = row['reverse µs'] / f64['reverse µs'];
    let goal = '';
    if (target?.us)
      goal = `<= ${target.us[row.dtype]} µs: ${row['reverse µs'] <= target.us[row.dtype] ? 'met' : 'not met'}`;
    else if (target?.ratio && row.dtype === 'float32')
      goal = `<= ${target.ratio}x: ${ratio <= target.ratio ? 'met' : 'not met'}`;
    return {
      ...row,
      'value f32/f64': row.dtype === 'float32' ? +(row['value µs'] / f64['value µs']).toFixed(2) : '',
      'reverse f32/f64': row.dtype === 'float32' ? +ratio.toFixed(2) : '',
      target: goal,
    };
  }),
);
console.log(`load after: ${load()}; ${rounds} rounds, the median of the rounds' medians`);
