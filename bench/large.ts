/**
 * The large-shape rows of `npm run bench` (issue 13, item 3): native float64 and float32 on one
 * thread at MLP 784-2048-10, batch 1,024, each against one core's measured peak in its dtype (the
 * addon's independent multiply-add chains, k_peak.h). The whole reverse gradient (W3's model at that size), and the
 * first layer's product alone as one-op tapes (x.matmul(w).sum()): forward (value), dW = x^T dC
 * (gradient minus value) and dA = dC w^T (the gradient with x a parameter too, minus the one
 * without), so that the weak product shows. FLOPs are 2 m k n per product (a multiply-add is 2);
 * the whole gradient counts its five products (forward 2, dW 2, dH of the second layer) and
 * nothing else. Wall time, the median and the fastest of the runs, and the median CPU time of the
 * process per call: on a shared machine a call of 80 ms is often preempted (the wall time then
 * counts other processes' turns; the CPU time does not, though their traffic still evicts our
 * caches), so the CPU time and the fastest run are the kernels' speed and the median wall time is
 * what a user saw under that load.
 */
import { backend, define, type Compiled, type Values } from '../src/index.js';
import { arrayOf, type DType, type FloatArray } from '../src/api/dtype.js';
import type { Defined } from '../src/trace/define.js';
import { loadAddon } from '../src/backends/native/loader.js';
import { uniform } from '../src/models/random.js';
import { inputsIn, w3 } from './workloads.js';

export interface LargeRow {
  readonly row: string;
  readonly dtype: DType;
  readonly gflop: number;
  readonly medianMs: number;
  readonly fastestMs: number;
  /** the process's CPU time per call (median): steadier than wall time while other processes share the core */
  readonly cpuMs: number;
}

export interface LargeShapes {
  /** one core's measured peak, GFLOP/s */
  readonly peakF64: number;
  readonly peakF32: number;
  readonly isa: string;
  readonly rows: readonly LargeRow[];
}

const [B, IN, H, OUT] = [1024, 784, 2048, 10];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** [median wall, fastest wall, median CPU] ms of one call: one warm-up call, then calls for timeMs (at least 5) */
function times(
  c: Compiled<FloatArray>,
  theta: FloatArray,
  inputs: Values,
  what: 'value' | 'grad',
  timeMs: number,
): number[] {
  const g = arrayOf(theta instanceof Float32Array ? 'float32' : 'float64', c.paramCount);
  const call = what === 'value' ? () => c.valueFlat(theta, inputs) : () => c.gradFlat(theta, inputs, g);
  call();
  const wall: number[] = [],
    cpu: number[] = [];
  const start = performance.now();
  while (wall.length < 5 || performance.now() - start < timeMs) {
    const [t, u] = [performance.now(), cpuMs()];
    call();
    wall.push(performance.now() - t);
    cpu.push(cpuMs() - u);
  }
  return [median(wall), Math.min(...wall), median(cpu)];
}

export async function largeShapes(timeMs = 1500): Promise<LargeShapes> {
  const addon = loadAddon();
  const peakF64 = addon.peak('float64', 500),
    peakF32 = addon.peak('float32', 500);
  const be = await backend('native', { threads: 1 });
  const rows: LargeRow[] = [];
  const wl = w3(B, H);
  const prod = (m: number, k: number, n: number) => (2 * m * k * n) / 1e9;
  const x = uniform(B * IN, 9, 0, 1),
    w = uniform(IN * H, 5, -1 / 28, 1 / 28);
  const wOnly = define({ params: { w: [IN, H] }, inputs: { x: [B, IN] } }, (p, i) => i.x.matmul(p.w).sum());
  const both = define({ params: { x: [B, IN], w: [IN, H] } }, (p) => p.x.matmul(p.w).sum());
  for (const dtype of ['float64', 'float32'] as const) {
    const add = (row: string, gflop: number, [med, fast, cpu]: number[]) =>
      rows.push({ row, dtype, gflop, medianMs: med, fastestMs: fast, cpuMs: cpu });
    const compile = (f: Defined) => be.compile(f, { dtype }) as unknown as Compiled<FloatArray>;

    const mlp = compile(wl.f);
    const inputs = inputsIn(wl.inputs, dtype);
    add(
      `MLP ${IN}-${H}-${OUT} batch ${B}, reverse gradient`,
      2 * prod(B, IN, H) + 3 * prod(B, H, OUT),
      times(mlp, mlp.flatten(wl.params), inputs, 'grad', timeMs),
    );
    mlp.dispose();

    const [cw, cb] = [compile(wOnly), compile(both)];
    // flatten gives the parameters in the function's dtype
    const [tw, xin, tb] = [cw.flatten({ w }), inputsIn({ x }, dtype), cb.flatten({ x, w })];
    const value = times(cw, tw, xin, 'value', timeMs);
    const gradW = times(cw, tw, xin, 'grad', timeMs);
    const gradBoth = times(cb, tb, {}, 'grad', timeMs);
    cw.dispose();
    cb.dispose();
    const layer = `[${B},${IN}] x [${IN},${H}]`;
    const diff = (a: number[], b: number[]) => a.map((t, i) => t - b[i]);
    add(`${layer} forward (value)`, prod(B, IN, H), value);
    add(`${layer} dW = x^T dC (gradient - value)`, prod(B, IN, H), diff(gradW, value));
    add(`${layer} dA = dC w^T (both gradients - dW's)`, prod(B, IN, H), diff(gradBoth, gradW));
  }
  return { peakF64, peakF32, isa: addon.isa ?? 'unknown', rows };
}

/** The table rows: per time (median wall, fastest wall, CPU), ms and GFLOP/s with the share of the dtype's peak. */
export function largeTable(r: LargeShapes): Record<string, string>[] {
  return r.rows.map((x) => {
    const peak = x.dtype === 'float32' ? r.peakF32 : r.peakF64;
    const cell = (ms: number) => {
      const rate = x.gflop / (ms / 1000);
      return `${ms.toFixed(1)} ms, ${rate.toFixed(1)} (${((100 * rate) / peak).toFixed(0)}%)`;
    };
    return {
      'native, 1 thread': `${x.dtype} ${x.row}`,
      'median wall: GFLOP/s (% of peak)': cell(x.medianMs),
      'fastest wall': cell(x.fastestMs),
      'CPU time': cell(x.cpuMs),
    };
  });
}
