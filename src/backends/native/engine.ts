import type { Engine } from '../types.js';
import { loadAddon } from './loader.js';

/**
 * The native backend: the tape runs in C++ (native/core) behind a thin Node-API binding. The
 * addon's program object is itself a Program (same methods, and it validates its own
 * arguments), so nothing sits between the two.
 */
export function nativeEngine(): Engine {
  const addon = loadAddon();
  return {
    name: 'native',
    load: (tape) => addon.load(tape),
    // the addon's optimizer object owns its state in C++ and checks its own arguments
    sgd: (n, config) => new addon.Optimizer('sgd', n, config),
    adam: (n, config) => new addon.Optimizer('adam', n, config),
  };
}
