/**
 * Data-parallel training over MPI (the Horovod / PyTorch DDP model): every rank holds the same
 * parameters, computes the gradient of its shard of each global batch, and the gradients are
 * averaged by an allreduce before every rank applies the same optimizer step.
 *
 * `distributed()` loads the optional MPI addon (build-mpi/tapegrad_mpi.node, built by
 * `npm run build:mpi`, never by `npm install`) in a process started by `mpirun`. The collectives
 * run on the addon's own thread and resolve promises, so the event loop stays free meanwhile.
 * A rank that exits with a non-zero code, or in the middle of a distributed `fit`, calls
 * MPI_Abort, which ends every rank of the job (the others would otherwise wait in their next
 * collective forever); a clean exit calls MPI_Finalize.
 */
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

interface Addon {
  init(): { rank: number; size: number };
  allreduce(x: Float64Array, op: string): Promise<Float64Array>;
  broadcast(x: Float64Array, root: number): Promise<Float64Array>;
  barrier(): Promise<void>;
  finalize(): void;
  abort(code: number): void;
}

let world: Distributed | undefined;
/** distributed fits in progress: an exit meanwhile, even with code 0, must abort the job */
let active = 0;

/** The MPI addon's path: TAPEGRAD_MPI_PATH (relative to the working directory) or the build's. */
export function mpiAddonPath(): string {
  const custom = process.env.TAPEGRAD_MPI_PATH;
  return custom ? resolve(custom) : fileURLToPath(new URL('../../build-mpi/tapegrad_mpi.node', import.meta.url));
}

/** Whether this process was started by an MPI launcher (OpenMPI, MPICH/Hydra, PMIx, Slurm's PMI). */
export function underMpirun(): boolean {
  const e = process.env;
  return ['OMPI_COMM_WORLD_SIZE', 'PMIX_RANK', 'PMI_SIZE', 'PMI_RANK'].some((k) => e[k] !== undefined);
}

/**
 * The MPI world of this process (initialised at the first call; the same object afterwards).
 * Throws an Error naming the fix when the process was not started by mpirun or the MPI addon is
 * not built.
 */
export function distributed(): Distributed {
  if (world) return world;
  if (!underMpirun())
    throw new Error('distributed: this process was not started by an MPI launcher: run it as `mpirun -np K node script.js` (or `mpirun -np K npx tapegrad train --distributed`)');
  const path = mpiAddonPath();
  const m = { exports: {} as Addon };
  try {
    // RTLD_GLOBAL: OpenMPI loads its components as plugins that look up libmpi's symbols globally
    process.dlopen(m, path, constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL);
  } catch (e) {
    throw new Error(`distributed: the MPI addon ${path} does not load (${(e as Error).message.split('\n')[0]}): install MPI (apt-get install openmpi-bin libopenmpi-dev) and run \`npm run build:mpi\``);
  }
  const addon = m.exports;
  const { rank, size } = addon.init();
  process.on('exit', (code) => {
    if (code !== 0 || active > 0) addon.abort(code || 1);
    else addon.finalize();
  });
  world = Object.freeze({
    rank, size,
    allreduce: (x: Float64Array, op: 'sum' | 'mean') => addon.allreduce(x, op),
    broadcast: (x: Float64Array, root: number) => addon.broadcast(x, root),
    barrier: () => addon.barrier(),
  });
  return world;
}

/** fit's `distributed` option: true (this process's MPI world) or a Distributed; undefined when off. */
export function resolveDistributed(option: unknown): Distributed | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return distributed();
  const d = option as Distributed;
  if (typeof d === 'object' && d !== null && Number.isInteger(d.rank) && Number.isInteger(d.size) && d.size >= 1 && d.rank >= 0 && d.rank < d.size &&
      typeof d.allreduce === 'function' && typeof d.broadcast === 'function')
    return d;
  throw new TypeError('fit: distributed must be true, false or a Distributed ({ rank, size, allreduce, broadcast, barrier } from distributed())');
}

/** Marks a distributed fit in progress (an exit meanwhile aborts the job); returns the unmark. */
export function enterDistributedFit(): () => void {
  active++;
  return () => void active--;
}

/**
 * This rank's share of a global batch of n rows: [offset, count). The global batch is split as
 * evenly as possible, the first n % size ranks taking one row more, so a full batch of
 * b × size rows gives rank r the rows [r·b, (r+1)·b). A rank may get 0 rows (a short last batch).
 */
export function shardOf(n: number, d: Pick<Distributed, 'rank' | 'size'>): [offset: number, count: number] {
  const base = Math.floor(n / d.size), extra = n % d.size;
  return [d.rank * base + Math.min(d.rank, extra), base + (d.rank < extra ? 1 : 0)];
}

/**
 * The step's gradient, loss and correct count over the whole global batch, on every rank: each
 * rank's mean gradient and loss weighted by its rows (a rank with 0 rows adds nothing), summed by
 * one allreduce, divided by the global rows. Also agrees on stopping: true when any rank's
 * signal was aborted. `grad` is overwritten with the average.
 */
export async function reduceStep(d: Distributed, grad: Float64Array, buffer: Float64Array, local: { rows: number; loss: number; correct: number; abort: boolean }):
  Promise<{ loss: number; correct: number; abort: boolean }> {
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
export async function shareValidation(d: Distributed, evaluate: () => { valLoss: number; valAccuracy?: number }): Promise<{ valLoss: number; valAccuracy?: number }> {
  const r = d.rank === 0 ? evaluate() : undefined;
  const x = Float64Array.of(r?.valLoss ?? 0, r?.valAccuracy ?? NaN);
  await d.broadcast(x, 0);
  return { valLoss: x[0], ...(Number.isNaN(x[1]) ? {} : { valAccuracy: x[1] }) };
}
