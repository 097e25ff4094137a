/** One tinybench measurement: the median latency of `fn`, in microseconds. */
import { Bench } from 'tinybench';

/**
 * tinybench runs for `timeMs` and at least its default 64 iterations; a call slower than
 * `slowMs` (timed once first) gets a budget of about `timeMs` instead, at least 3 runs and no
 * warmup beyond the first call, so that a slow peer (a pure-JS convolution taking a second a call)
 * keeps the whole run bounded in time.
 */
export async function medianUs(
  fn: () => unknown,
  timeMs = 400,
  slowMs = 50,
  stat: 'p50' | 'min' = 'p50',
): Promise<number> {
  const t0 = performance.now();
  fn();
  const once = performance.now() - t0;
  const slow = once > slowMs;
  const bench = new Bench({
    time: timeMs,
    warmup: !slow,
    warmupTime: Math.min(200, timeMs / 2),
    ...(slow ? { iterations: Math.max(3, Math.min(64, Math.ceil((2 * timeMs) / once))) } : {}),
  });
  bench.add('task', fn);
  await bench.run();
  const res = bench.tasks[0].result as { latency?: { p50?: number; min?: number } } | undefined;
  return (res?.latency?.[stat] ?? NaN) * 1000;
}
