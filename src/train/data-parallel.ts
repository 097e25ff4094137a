/**
 * The pieces of data-parallel training that `fit` uses, free of Node.js modules (fit is also in
 * the browser entry): the Distributed contract, how a global batch is split between the ranks,
 * and the one allreduce per step. The MPI world itself comes from distributed.ts (Node only).
 */

export interface Distributed {
  /** this process's rank, 0 .. size - 1 */
  readonly rank: number;
  /** the number of ranks (processes) in the job */
  readonly size: number;
  /** every rank's `x` summed ('sum') or averaged ('mean') elementwise, written into `x` on every rank; resolves with `x` */
  allreduce(x: Float64Array, op: 'sum' | 'mean'): Promise<Float64Array>;
  /** rank `root`'s `x` copied into `x` on every rank; resolves with `x` */
  broadcast(x: Float64Array, root: number): Promise<Float64Array>;
  /** resolves once every rank has called it */
  barrier(): Promise<void>;
}

let loadWorld: (() => Distributed) | undefined;
/** distributed fits in progress: an exit meanwhile, even with code 0, must abort the job */
let active = 0;

/** fit's `distributed` option: true (this process's MPI world) or a Distributed; undefined when off. */
export function resolveDistributed(option: unknown): Distributed | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) {
    if (!loadWorld)
      throw new Error(
        "fit: distributed: true needs MPI, which only tapegrad's Node.js entry loads (not the browser entry)",
      );
    return loadWorld();
  }
  const d = option as Distributed;
  if (
    typeof d === 'object' &&
    d !== null &&
    Number.isInteger(d.rank) &&
    Number.isInteger(d.size) &&
    d.size >= 1 &&
    d.rank >= 0 &&
    d.rank < d.size &&
    typeof d.allreduce === 'function' &&
    typeof d.broadcast === 'function'
  )
    return d;
  throw new TypeError(
    'fit: distributed must be true, false or a Distributed ({ rank, size, allreduce, broadcast, barrier } from distributed())',
  );
}

/** Marks a distributed fit in progress (an exit meanwhile aborts the job); returns the unmark. */
export function enterDistributedFit(): () => void {
  active++;
  return () => void active--;
}

export const distributedFitsRunning = () => active;

/** distributed.ts (Node only) installs distributed() here. */
export function setWorldLoader(load: () => Distributed): void {
  loadWorld = load;
}

/**
 * This rank's share of a global batch of n rows: [offset, count). The global batch is split as
 * evenly as possible, the first n % size ranks taking one row more, so a full batch of
 * b × size rows gives rank r the rows [r·b, (r+1)·b). A rank may get 0 rows (a short last batch).
 */
export function shardOf(n: number, d: Pick<Distributed, 'rank' | 'size'>): [offset: number, count: number] {
  const base = Math.floor(n / d.size),
    extra = n % d.size;
  return [d.rank * base + Math.min(d.rank, extra), base + (d.rank < extra ? 1 : 0)];
}

/**
 * The step's gradient, loss and correct count over the whole global batch, on every rank: each
 * rank's mean gradient and loss weighted by its rows (a rank with 0 rows adds nothing), summed by
 * one allreduce, divided by the global rows. Also agrees on stopping: true when any rank's
 * signal was aborted. `grad` is overwritten with the average.
 */
export async function reduceStep(
  d: Distributed,
  grad: Float64Array,
  buffer: Float64Array,
  local: { rows: number; loss: number; correct: number; abort: boolean },
): Promise<{ loss: number; correct: number; abort: boolean }> {
  const n = grad.length;
  for (let i = 0; i < n; i++) buffer[i] = local.rows === 0 ? 0 : grad[i] * local.rows;
  buffer[n] = local.rows === 0 ? 0 : local.loss * local.rows;
  buffer[n + 1] = local.rows;
  buffer[n + 2] = local.correct;
  buffer[n + 3] = local.abort ? 1 : 0;
  await d.allreduce(buffer, 'sum');
  const rows = buffer[n + 1];
  for (let i = 0; i < n; i++) grad[i] = buffer[i] / rows;
  return { loss: buffer[n] / rows, correct: buffer[n + 2], abort: buffer[n + 3] > 0 };
}

/** Rank 0's validation result on every rank (the others do not evaluate). */
export async function shareValidation(
  d: Distributed,
  evaluate: () => { valLoss: number; valAccuracy?: number },
): Promise<{ valLoss: number; valAccuracy?: number }> {
  const r = d.rank === 0 ? evaluate() : undefined;
  const x = Float64Array.of(r?.valLoss ?? 0, r?.valAccuracy ?? NaN);
  await d.broadcast(x, 0);
  return { valLoss: x[0], ...(Number.isNaN(x[1]) ? {} : { valAccuracy: x[1] }) };
}
