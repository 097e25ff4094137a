/**
 * One tinybench measurement: the median latency of `fn`, in microseconds, over at least `timeMs`
 * and `iterations` calls (tinybench's default 64; fewer for calls of a tenth of a second).
 */
import { Bench } from 'tinybench';

export async function medianUs(fn: () => unknown, timeMs = 400, iterations = 64): Promise<number> {
  const bench = new Bench({
    time: timeMs,
    iterations,
    warmup: true,
    warmupTime: Math.min(200, timeMs / 2),
    warmupIterations: Math.min(16, iterations),
  });
  bench.add('task', fn);
  await bench.run();
  const res = bench.tasks[0].result as { latency?: { p50?: number } } | undefined;
  return (res?.latency?.p50 ?? NaN) * 1000;
}
