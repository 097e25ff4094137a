/**
 * Backend selection, shared by the Node and the browser entries. The loaders come from the entry
 * (index.ts for Node, index.browser.ts for browsers), so the browser's module graph never reaches
 * the native loader or a `node:` import.
 */
import { Compiled } from '../api/compiled.js';
import { checkDType, type DType, type FloatArray } from '../api/dtype.js';
import { Defined } from '../trace/define.js';
import { describeValue } from '../trace/tensor.js';
import type { WasmSource } from './wasm/loader.js';
import { checkThreads } from './threads.js';
import { BACKEND_NAMES, type BackendName, type Engine } from './types.js';

export interface Backend {
  readonly name: BackendName;
  /**
   * What the backend runs on, where it varies: for wasm the module's features, ['simd'] or
   * ['simd', 'relaxed-simd'] (the second module, picked where the engine validates relaxed SIMD:
   * value() and reverse() then fuse multiply-adds; finite differences are the same bits either way).
   */
  readonly features: readonly string[];
  /** how many threads each compiled function may use (wasm and js: 1) */
  readonly threads: number;
  /**
   * Sends the traced function's tape to the backend once. `dtype` (default 'float64'):
   * 'float32' stores and computes in float32 (src/api/dtype.ts: the contract), taking and
   * returning Float32Arrays.
   */
  compile(f: Defined, options?: { readonly dtype?: 'float64' }): Compiled;
  compile(f: Defined, options: { readonly dtype: 'float32' }): Compiled<Float32Array>;
  compile(f: Defined, options?: CompileOptions): Compiled<FloatArray>;
}

export interface CompileOptions {
  /** the element type: 'float64' (default) or 'float32' */
  readonly dtype?: DType;
}

export interface BackendOptions {
  /**
   * Where the wasm module comes from: a URL or a string (in browsers relative to the page, in Node
   * a path or a URL), a fetch Response, the bytes, or a compiled WebAssembly.Module. Default: the
   * tapegrad.wasm shipped beside the package's entry.
   */
  readonly wasm?: WasmSource;
  /**
   * The native backend's threads per compiled function: the finite-difference loop over pieces
   * of the parameters, large matmuls and elementwise sweeps, and gradAsync calls on different
   * compiled functions at once. A positive integer; default TAPEGRAD_THREADS, else
   * os.availableParallelism(). Results are the same bits for any count. wasm and js run on one
   * thread: naming one of them with this option is an error.
   */
  readonly threads?: number;
}

/** How one backend loads here: a loader throws with the reason when its backend cannot run. */
export interface Loader {
  load(options: BackendOptions): Promise<Engine>;
  /** what to do when it does not load, in commands that work in a consumer project */
  readonly fix: string;
}
export type Loaders = Partial<Record<BackendName, Loader>>;

let LOADERS: Loaders = {};
const loaded = new Map<BackendName, Promise<Engine>>();
const loadedFrom = new Map<WasmSource, Promise<Engine>>();
const warned = new Set<BackendName>();

/** @internal Called by the entry module (index.ts or index.browser.ts) when it is imported. */
export function installLoaders(loaders: Loaders): void {
  LOADERS = loaders;
  loaded.clear();
  loadedFrom.clear();
}

function loaderOf(name: BackendName): Loader {
  const l = LOADERS[name];
  if (!l)
    throw new Error(
      BACKEND_NAMES.some((n) => LOADERS[n])
        ? `the ${name} backend does not exist in this environment`
        : "no backend loaders are installed: import tapegrad through its entry (import ... from 'tapegrad')",
    );
  return l;
}

/** @internal The engine itself (tests hand it tapes directly); loaded once per process. */
export function load(name: BackendName, options: BackendOptions = {}): Promise<Engine> {
  const own = name === 'wasm' && options.wasm !== undefined;
  const cache = own ? loadedFrom : loaded;
  const key = own ? options.wasm! : name;
  let p = (cache as Map<unknown, Promise<Engine>>).get(key);
  if (!p) {
    p = (async () => loaderOf(name).load(options))();
    (cache as Map<unknown, Promise<Engine>>).set(key, p);
  }
  return p;
}

function checkName(name: unknown): asserts name is BackendName {
  if (!BACKEND_NAMES.includes(name as BackendName))
    throw new Error(
      `unknown backend ${describeValue(name)} (expected ${BACKEND_NAMES.map((n) => `'${n}'`).join(', ')})`,
    );
}

function wrap(base: Engine, options: BackendOptions): Backend {
  const engine = options.threads !== undefined && base.withThreads ? base.withThreads(options.threads) : base;
  return {
    name: engine.name,
    features: engine.features ?? [],
    threads: engine.threads,
    compile(f: Defined, options?: CompileOptions) {
      if (!(f instanceof Defined))
        throw new TypeError(`compile: expected the result of define(), got ${describeValue(f)}`);
      if (options !== undefined && (typeof options !== 'object' || options === null))
        throw new TypeError(`compile: options must be an object, got ${describeValue(options)}`);
      const dtype = checkDType(options?.dtype, 'compile');
      return new Compiled(f, engine, dtype) as Compiled<never>;
    },
  };
}

/** The environment's forced backend (TAPEGRAD_BACKEND), if any. */
function forced(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.TAPEGRAD_BACKEND || undefined;
}

/** The warning a fallback gives: on stderr in Node (process.emitWarning), console.warn elsewhere. */
function warn(message: string): void {
  const p = (globalThis as { process?: { emitWarning?: (m: string, o: { type: string; code: string }) => void } })
    .process;
  if (typeof p?.emitWarning === 'function')
    p.emitWarning(message, { type: 'TapegradWarning', code: 'TAPEGRAD_FALLBACK' });
  else console.warn(message);
}

/** Once per backend per process: the fallback, its reason and its fix. */
function warnFallback(from: BackendName, to: BackendName, reason: string): void {
  if (warned.has(from)) return;
  warned.add(from);
  warn(
    `tapegrad: the ${from} backend did not load, using ${to} instead (slower). Why: ${reason}. Fix: ${loaderOf(from).fix}`,
  );
}

/** @internal Tests reset the once-only warnings. */
export function resetWarnings(): void {
  warned.clear();
}

/**
 * A backend by name, or the best one available here: native, else wasm, else js (the
 * TAPEGRAD_BACKEND environment variable forces one for the whole process). An unknown name, or a
 * backend that cannot load here, is an Error that says why. Falling back from a backend that
 * exists here but did not load warns once, with the reason and the fix.
 */
export async function backend(name?: BackendName, options: BackendOptions = {}): Promise<Backend> {
  const wanted = name ?? forced();
  if (options?.threads !== undefined) {
    checkThreads(options.threads, 'backend: the threads option');
    if (wanted !== undefined && wanted !== 'native' && BACKEND_NAMES.includes(wanted as BackendName))
      throw new Error(
        `backend: the threads option applies to the native backend only ('${wanted}' runs on one thread)`,
      );
  }
  if (wanted !== undefined) {
    checkName(wanted);
    try {
      return wrap(await load(wanted, options), options);
    } catch (e) {
      const fix = LOADERS[wanted] ? ` Fix: ${LOADERS[wanted].fix}` : '';
      throw new Error(`backend '${wanted}' is not available here: ${(e as Error).message}.${fix}`);
    }
  }
  const failed: [BackendName, string][] = [];
  for (const n of BACKEND_NAMES) {
    if (!LOADERS[n]) continue;
    try {
      const engine = await load(n, options);
      for (const [from, reason] of failed) warnFallback(from, n, reason);
      return wrap(engine, options);
    } catch (e) {
      failed.push([n, (e as Error).message]);
    }
  }
  throw new Error(`no backend could load: ${failed.map(([n, r]) => `${n}: ${r}`).join('; ') || 'none is installed'}`);
}

/** Names of the backends that load here, best first. */
export async function backends(): Promise<BackendName[]> {
  const names = BACKEND_NAMES.filter((n) => LOADERS[n]);
  const ok = await Promise.all(
    names.map((n) =>
      load(n).then(
        () => true,
        () => false,
      ),
    ),
  );
  return names.filter((_, i) => ok[i]);
}
