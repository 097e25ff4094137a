/**
 * Wall-clock medians for the main job and the benchmarks. Slow runs (a whole FD gradient can take
 * seconds) are repeated only as often as the budget allows, fast ones many times.
 *
 * Functions whose times are compared (a gradient against one evaluation) are timed interleaved,
 * round-robin, and compared round by round (pairedMedian), so that a burst of load from another
 * process hits both alike: on a shared machine their ratio is then far steadier than the ratio of
 * two medians taken a second apart.
 */
export interface Timing {
  /** median of the timed runs, milliseconds */
  readonly ms: number;
  /** number of timed runs behind the median */
  readonly runs: number;
  /** the timed runs, ms, in order (round i of every function timed with timeEach lines up) */
  readonly samples: readonly number[];
}

export interface TimingOptions {
  /** time to spend on the timed rounds (default 200 ms); at least `minRuns` rounds happen anyway */
  readonly budgetMs?: number;
  readonly minRuns?: number;
  readonly maxRuns?: number;
  /**
   * warm up before timing (default true); callers turn it off for slow calls whose code is already
   * warm (the same kernels just ran), where a warm-up round would only double the cost
   */
  readonly warmup?: boolean;
  /** the clock, ms (default performance.now; the tests pass a simulated one) */
  readonly now?: () => number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Calls shorter than this are timed in batches, so timer resolution and jitter stay small. */
const MIN_SAMPLE_MS = 0.2;

/**
 * Times each function in rounds (one sample of each per round); the median per function. A sample
 * is one call, or for calls under MIN_SAMPLE_MS a batch of calls (the time per call is reported).
 */
export function timeEach(
  runs: readonly (() => void)[],
  { budgetMs = 200, minRuns = 1, maxRuns = 2000, warmup = true, now = () => performance.now() }: TimingOptions = {},
): Timing[] {
  // Warm up for a quarter of the budget (at least one round), so the JIT has compiled the hot path
  // before anything counts; the warm-up also tells how long each call takes, hence the batch
  // sizes and how many rounds fit in the budget.
  let n = minRuns;
  const batch = runs.map(() => 1);
  if (warmup) {
    const spent = runs.map(() => 0);
    let warm = 0;
    const t0 = now();
    do {
      runs.forEach((run, j) => {
        const s = now();
        run();
        spent[j] += now() - s;
      });
      warm++;
    } while (now() - t0 < budgetMs / 4 && warm < maxRuns);
    spent.forEach((t, j) => (batch[j] = Math.max(1, Math.ceil(MIN_SAMPLE_MS / Math.max(t / warm, 1e-6)))));
    const round = spent.reduce((s, t, j) => s + (t / warm) * batch[j], 0);
    n = Math.max(minRuns, Math.min(maxRuns, Math.floor(budgetMs / Math.max(round, 1e-3))));
  }
  const times = runs.map(() => new Array<number>(n));
  for (let i = 0; i < n; i++) {
    runs.forEach((run, j) => {
      const s = now();
      for (let b = 0; b < batch[j]; b++) run();
      times[j][i] = (now() - s) / batch[j];
    });
  }
  return times.map((t) => ({ ms: median(t), runs: n, samples: t }));
}

/**
 * The median over rounds of f(a_i, b_i) for two functions timed together by timeEach, e.g. the
 * ratio a_i / b_i: each round's pair saw the same load, so this is steadier than a ratio of medians.
 */
export function pairedMedian(a: Timing, b: Timing, f: (x: number, y: number) => number = (x, y) => x / y): number {
  return median(a.samples.map((x, i) => f(x, b.samples[i])));
}

export function time(run: () => void, options?: TimingOptions): Timing {
  return timeEach([run], options)[0];
}
