/**
 * One tinybench measurement: the median (or fastest) latency of `fn`, in microseconds, over at
 * least `timeMs` and `iterations` calls (tinybench's default 64). A call slower than 50 ms
 * (timed once first) gets a budget of about `timeMs` instead: at least 3 runs and no warmup
 * beyond the first call, so that a slow peer (a pure-JS convolution taking seconds a call) keeps
 * the whole run bounded in time.
 */
import { Bench } from 'tinybench';

export async function medianUs(
  fn: () => unknown,
  timeMs = 400,
  iterations = 64,
  stat: 'p50' | 'min' = 'p50',
): Promise<number> {
  const t0 = performance.now();
  fn();
  const once = performance.now() - t0;
  const slow = once > 50;
  const n = slow ? Math.max(3, Math.min(iterations, Math.ceil((2 * timeMs) / once))) : iterations;
  const bench = new Bench({
    time: timeMs,
    iterations: n,
    warmup: !slow,
    warmupTime: Math.min(200, timeMs / 2),
    warmupIterations: Math.min(16, n),
  });
  bench.add('task', fn);
  await bench.run();
  const res = bench.tasks[0].result as { latency?: { p50?: number; min?: number } } | undefined;
  return (res?.latency?.[stat] ?? NaN) * 1000;
}
