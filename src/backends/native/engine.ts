import type { Engine } from '../types.js';
import { loadAddon } from './loader.js';

/**
 * The native backend: the tape runs in C++ (native/core) behind a thin Node-API binding. The
 * addon's program object is itself a Program (same methods, and it validates its own
 * arguments), so nothing sits between the two.
 */
export function nativeEngine(): Engine {
  const addon = loadAddon();
  return { name: 'native', load: (tape) => addon.load(tape) };
}
