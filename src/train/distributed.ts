/**
 * Data-parallel training over MPI (the Horovod / PyTorch DDP model): every rank holds the same
 * parameters, computes the gradient of its shard of each global batch, and the gradients are
 * averaged by an allreduce before every rank applies the same optimizer step.
 *
 * `distributed()` loads the optional MPI addon (build-mpi/tapegrad_mpi.node, built by
 * `npm run build:mpi`, never by `npm install`) in a process started by `mpirun`. The collectives
 * run on the addon's own thread and resolve promises, so the event loop stays free meanwhile.
 * A rank that exits with a non-zero code, or in the middle of a distributed `fit` or a collective, calls
 * MPI_Abort, which ends every rank of the job (the others would otherwise wait in their next
 * collective forever); a clean exit calls MPI_Finalize.
 */
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distributedFitsRunning, setWorldLoader, type Distributed } from './data-parallel.js';

export type { Distributed };

interface Addon {
  init(): { rank: number; size: number };
  allreduce(x: Float64Array, op: string): Promise<Float64Array>;
  broadcast(x: Float64Array, root: number): Promise<Float64Array>;
  barrier(): Promise<void>;
  finalize(): void;
  abort(code: number): void;
}

let world: Distributed | undefined;

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
    throw new Error(
      'distributed: this process was not started by an MPI launcher: run it as `mpirun -np K node script.js` (or `mpirun -np K npx tapegrad train --distributed`)',
    );
  const path = mpiAddonPath();
  const m = { exports: {} as Addon };
  try {
    // RTLD_GLOBAL: OpenMPI loads its components as plugins that look up libmpi's symbols globally
    process.dlopen(m, path, constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL);
  } catch (e) {
    throw new Error(
      `distributed: the MPI addon ${path} does not load (${(e as Error).message.split('\n')[0]}): install MPI (apt-get install openmpi-bin libopenmpi-dev) and run \`npm run build:mpi\``,
    );
  }
  const addon = m.exports;
  const { rank, size } = addon.init();
  // collectives not yet settled: exiting then must abort too (MPI_Finalize would wait for the
  // collective in progress, which waits for the other ranks)
  let pending = 0;
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending++;
    return p.finally(() => void pending--);
  };
  process.on('exit', (code) => {
    if (code !== 0 || distributedFitsRunning() > 0 || pending > 0) addon.abort(code || 1);
    else addon.finalize();
  });
  world = Object.freeze({
    rank,
    size,
    allreduce: (x: Float64Array, op: 'sum' | 'mean') => track(addon.allreduce(x, op)),
    broadcast: (x: Float64Array, root: number) => track(addon.broadcast(x, root)),
    barrier: () => track(addon.barrier()),
  });
  return world;
}

// fit({ distributed: true }) finds the world through data-parallel.ts (which the browser entry also loads)
setWorldLoader(distributed);
