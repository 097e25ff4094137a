/**
 * The `threads` setting of the native backend: `backend('native', { threads })`, else the
 * TAPEGRAD_THREADS environment variable, else os.availableParallelism() (native/engine.ts).
 * Shared with the browser entry, so no `node:` import here.
 */
import { describeValue } from '../trace/tensor.js';

/** The most threads one compiled function may use (native/core/thread-pool.h, kMaxWidth). */
export const MAX_THREADS = 1024;

/** A thread count, checked: a positive integer up to MAX_THREADS; `what` names it in the error. */
export function checkThreads(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_THREADS)
    throw new RangeError(`${what} must be a positive integer (at most ${MAX_THREADS}), got ${describeValue(value)}`);
  return value;
}

/** TAPEGRAD_THREADS as a count, undefined when unset or empty; a clear error when malformed. */
export function threadsFromEnv(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS)
    throw new RangeError(`TAPEGRAD_THREADS must be a positive integer (at most ${MAX_THREADS}), got '${raw}'`);
  return n;
}
