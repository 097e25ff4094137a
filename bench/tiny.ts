/** One tinybench measurement: the median latency of `fn`, in microseconds. */
import { Bench } from 'tinybench';

export async function medianUs(fn: () => unknown, timeMs = 400): Promise<number> {
  const bench = new Bench({ time: timeMs, warmup: true, warmupTime: Math.min(200, timeMs / 2) });
  bench.add('task', fn);
  await bench.run();
  const res = bench.tasks[0].result as { latency?: { p50?: number } } | undefined;
  return (res?.latency?.p50 ?? NaN) * 1000;
}
