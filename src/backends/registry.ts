import { Compiled } from '../api/compiled.js';
import { Defined } from '../trace/define.js';
import { describeValue } from '../trace/tensor.js';
import { jsEngine } from './js/engine.js';
import { loadWasmEngine } from './wasm/engine.js';
import { BACKEND_NAMES, type BackendName, type Engine } from './types.js';

export interface Backend {
  readonly name: BackendName;
  /** Sends the traced function's tape to the backend once. */
  compile(f: Defined): Compiled;
}

/** How each backend loads; a loader throws with the reason when its backend cannot run here. */
const LOADERS: Record<BackendName, () => Promise<Engine>> = {
  native: async () => (await import('./native/engine.js')).nativeEngine(),
  wasm: loadWasmEngine,
  js: async () => jsEngine,
};

const loaded = new Map<BackendName, Promise<Engine>>();

/** @internal The engine itself (tests hand it tapes directly). */
export function load(name: BackendName): Promise<Engine> {
  let p = loaded.get(name);
  if (!p) {
    p = LOADERS[name]();
    loaded.set(name, p);
  }
  return p;
}

function checkName(name: unknown): asserts name is BackendName {
  if (!BACKEND_NAMES.includes(name as BackendName))
    throw new Error(`unknown backend ${describeValue(name)} (expected ${BACKEND_NAMES.map((n) => `'${n}'`).join(', ')})`);
}

function wrap(engine: Engine): Backend {
  return {
    name: engine.name,
    compile(f: Defined) {
      if (!(f instanceof Defined)) throw new TypeError(`compile: expected the result of define(), got ${describeValue(f)}`);
      return new Compiled(f, engine);
    },
  };
}

/** The environment's forced backend (TAPEGRAD_BACKEND), if any. */
function forced(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.TAPEGRAD_BACKEND || undefined;
}

/**
 * A backend by name, or the best one available here: native, else wasm, else js (the
 * TAPEGRAD_BACKEND environment variable forces one for the whole process). An unknown name, or a
 * backend that cannot load here, is an Error that says why.
 */
export async function backend(name?: BackendName): Promise<Backend> {
  const wanted = name ?? forced();
  if (wanted !== undefined) {
    checkName(wanted);
    try {
      return wrap(await load(wanted));
    } catch (e) {
      throw new Error(`backend '${wanted}' is not available here: ${(e as Error).message}`);
    }
  }
  for (const n of BACKEND_NAMES) {
    try {
      return wrap(await load(n));
    } catch {
      // try the next one
    }
  }
  throw new Error('no backend could load');
}

/** Names of the backends that load here, best first. */
export async function backends(): Promise<BackendName[]> {
  const ok = await Promise.all(BACKEND_NAMES.map((n) => load(n).then(() => true, () => false)));
  return BACKEND_NAMES.filter((_, i) => ok[i]);
}
