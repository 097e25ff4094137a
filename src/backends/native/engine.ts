import { availableParallelism } from 'node:os';
import type { Engine } from '../types.js';
import { threadsFromEnv } from '../threads.js';
import { loadAddon } from './loader.js';

/**
 * The native backend: the tape runs in C++ (native/core) behind a thin Node-API binding. The
 * addon's program object is itself a Program (same methods, and it validates its own
 * arguments), so nothing sits between the two. Each compiled function may use `threads`
 * threads (the FD loop, large matmuls and elementwise sweeps, concurrent gradAsync calls):
 * TAPEGRAD_THREADS when set, else the cores Node reports; backend('native', { threads }) sets it.
 */
export function nativeEngine(threads?: number): Engine {
  const addon = loadAddon();
  const n = threads ?? threadsFromEnv(process.env.TAPEGRAD_THREADS) ?? availableParallelism();
  return {
    name: 'native',
    threads: n,
    withThreads: (t) => nativeEngine(t),
    // a float32 program's arenas and arrays hold float32s (native/core: the kernels over float)
    load: (tape, dtype = 'float64') => addon.load(tape, undefined, n, dtype),
    // the addon's optimizer object owns its state in C++ and checks its own arguments
    sgd: (k, config) => new addon.Optimizer('sgd', k, config),
    adam: (k, config) => new addon.Optimizer('adam', k, config),
  };
}
