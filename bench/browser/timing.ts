/**
 * W1 and W3 value and reverse gradient on one backend, timed the same way in Node and in
 * Chromium: batches of calls of at least 5 ms (a browser's clock may tick in 0.1 ms steps), the
 * median per-call time of the batches over about 300 ms.
 */
import { w1, w3 } from '../workloads.js';

interface Entry {
  backend(name: 'wasm'): Promise<{
    compile(f: unknown): {
      valueFlat(t: Float64Array, i: unknown): number;
      gradFlat(t: Float64Array, i: unknown, g: Float64Array): number;
      flatten(p: unknown): Float64Array;
      dispose(): void;
    };
  }>;
}

function perCall(fn: () => void, budgetMs = 300): number {
  let k = 1;
  for (;;) {
    const s = performance.now();
    for (let i = 0; i < k; i++) fn();
    if (performance.now() - s >= 5 || k >= 1 << 16) break;
    k *= 2;
  }
  const times: number[] = [];
  const t0 = performance.now();
  do {
    const s = performance.now();
    for (let i = 0; i < k; i++) fn();
    times.push((performance.now() - s) / k);
  } while (performance.now() - t0 < budgetMs);
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

export async function timeWasm(t: Entry): Promise<Record<string, { value: number; reverse: number }>> {
  const be = await t.backend('wasm');
  const out: Record<string, { value: number; reverse: number }> = {};
  for (const w of [w1(), w3()]) {
    const c = be.compile(w.f);
    const theta = c.flatten(w.params),
      g = new Float64Array(theta.length);
    out[w.name.split(' ')[0]] = {
      value: perCall(() => c.valueFlat(theta, w.inputs)),
      reverse: perCall(() => c.gradFlat(theta, w.inputs, g)),
    };
    c.dispose();
  }
  return out;
}
