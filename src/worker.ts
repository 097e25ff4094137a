/**
 * `tapegrad/worker`: gradients (and any longer job, training say) in a Web Worker, so the page
 * stays responsive. Functions cannot cross a postMessage, so the worker defines the models and
 * jobs by name and the page calls them by name:
 *
 *   // grad-worker.js, started with new Worker(new URL('./grad-worker.js', import.meta.url), { type: 'module' })
 *   import { define } from 'tapegrad';
 *   import { serve } from 'tapegrad/worker';
 *   serve({ models: { mlp: define(...) }, tasks: { train: async (args, ctx) => { ...; ctx.progress({ epoch }); return result; } } });
 *
 *   // the page
 *   const w = connect(worker);
 *   await w.ready;                                            // { backend: 'wasm' }
 *   const { value, grad } = await w.grad('mlp', params, inputs, { method: 'fd-forward' });
 *   const out = await w.run('train', args, (p) => draw(p));   // progress messages as they come
 *
 * Arguments and results are copied (structured clone); result buffers are transferred.
 * No `node:` import: this module is for browsers (any object with postMessage and
 * addEventListener('message') works: a Worker, a MessagePort, a worker's global scope).
 */
import type { GradResult, Outputs } from './api/compiled.js';
import type { Compiled } from './api/compiled.js';
import type { GradOptions, Values } from './api/validate.js';
import { backend, type Backend, type BackendOptions } from './backends/select.js';
import type { BackendName } from './backends/types.js';
import type { Defined } from './trace/define.js';

/** What a task gets besides its arguments. */
export interface TaskContext {
  /** the worker's backend */
  readonly backend: Backend;
  /** the named model, compiled once on the worker's backend */
  compile(model: string): Compiled;
  /** sends a progress message to the page (the onProgress callback of run()) */
  progress(data: unknown): void;
}

export type Task = (args: any, ctx: TaskContext) => unknown;

export interface ServeOptions {
  readonly models?: Record<string, Defined>;
  readonly tasks?: Record<string, Task>;
  /** the backend to use (default: the best that loads, wasm in browsers) and its options */
  readonly backend?: BackendName;
  readonly backendOptions?: BackendOptions;
}

interface Port {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
}

type Request =
  | { id: number; kind: 'value'; model: string; params: Values | Float64Array; inputs?: Values }
  | { id: number; kind: 'grad'; model: string; params: Values | Float64Array; inputs?: Values; options?: GradOptions }
  | { id: number; kind: 'outputs'; model: string; params: Values | Float64Array; inputs?: Values }
  | { id: number; kind: 'run'; task: string; args: unknown };

type Reply =
  | { id: number; result: unknown }
  | { id: number; error: string }
  | { id: number; progress: unknown }
  | { id: 0; ready: { backend: BackendName } | { error: string } };

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** Buffers inside a result, to transfer instead of copy. */
function buffersOf(x: unknown, out: Transferable[] = []): Transferable[] {
  if (ArrayBuffer.isView(x)) {
    if (x.buffer instanceof ArrayBuffer && !out.includes(x.buffer)) out.push(x.buffer);
  } else if (x && typeof x === 'object') {
    for (const v of Object.values(x)) buffersOf(v, out);
  }
  return out;
}

/** Worker side: answers the page's calls with the given models and tasks. */
export function serve(options: ServeOptions, port: Port = globalThis as unknown as Port): void {
  const ready = backend(options.backend, options.backendOptions);
  const compiled = new Map<string, Compiled>();
  const send = (reply: Reply, transfer: Transferable[] = []) => port.postMessage(reply, transfer);
  ready.then(
    (be) => send({ id: 0, ready: { backend: be.name } }),
    (e: Error) => send({ id: 0, ready: { error: e.message } }),
  );

  const compile = (be: Backend, name: string) => {
    let c = compiled.get(name);
    if (!c) {
      const f = options.models?.[name];
      if (!f)
        throw new Error(
          `tapegrad worker: no model '${name}' (models: ${Object.keys(options.models ?? {}).join(', ') || 'none'})`,
        );
      c = be.compile(f);
      compiled.set(name, c);
    }
    return c;
  };

  port.addEventListener('message', async (e: MessageEvent) => {
    const m = e.data as Request;
    if (!m || typeof m.id !== 'number' || m.id <= 0) return;
    try {
      const be = await ready;
      let result: unknown;
      if (m.kind === 'value') result = compile(be, m.model).value(m.params, m.inputs);
      else if (m.kind === 'grad') result = compile(be, m.model).grad(m.params, m.inputs, m.options);
      else if (m.kind === 'outputs') result = compile(be, m.model).run(m.params, m.inputs);
      else if (m.kind === 'run') {
        const task = options.tasks?.[m.task];
        if (!task)
          throw new Error(
            `tapegrad worker: no task '${m.task}' (tasks: ${Object.keys(options.tasks ?? {}).join(', ') || 'none'})`,
          );
        result = await task(m.args, {
          backend: be,
          compile: (name) => compile(be, name),
          progress: (data) => send({ id: m.id, progress: data }),
        });
      } else {
        throw new Error(`tapegrad worker: unknown request ${JSON.stringify((m as { kind?: unknown }).kind)}`);
      }
      send({ id: m.id, result }, buffersOf(result));
    } catch (err) {
      send({ id: m.id, error: (err as Error)?.message ?? String(err) });
    }
  });
}

/** The page's handle on a worker that runs serve(). */
export interface WorkerClient {
  /** resolves when the worker's backend has loaded (rejects with the reason if none could) */
  readonly ready: Promise<{ backend: BackendName }>;
  value(model: string, params: Values | Float64Array, inputs?: Values): Promise<number>;
  grad(model: string, params: Values | Float64Array, inputs?: Values, options?: GradOptions): Promise<GradResult>;
  /** the model's outputs (Compiled.run) */
  outputs(model: string, params: Values | Float64Array, inputs?: Values): Promise<Outputs>;
  /** a task by name; onProgress receives what the task passes to ctx.progress */
  run<T = unknown>(task: string, args?: unknown, onProgress?: (data: any) => void): Promise<T>;
  /** stops the worker (a Worker; a port is closed); pending calls reject */
  terminate(): void;
}

/** Page side: wraps a Worker (or a port) whose script calls serve(). */
export function connect(worker: Port & { terminate?(): void; close?(): void }): WorkerClient {
  let next = 1;
  const pending = new Map<number, { ok(v: unknown): void; fail(e: Error): void; progress?(d: unknown): void }>();
  let readyOk!: (v: { backend: BackendName }) => void, readyFail!: (e: Error) => void;
  const ready = new Promise<{ backend: BackendName }>((ok, fail) => {
    readyOk = ok;
    readyFail = fail;
  });

  worker.addEventListener('message', (e: MessageEvent) => {
    const r = e.data as Reply;
    if (!r || typeof r.id !== 'number') return;
    if ('ready' in r) {
      if ('error' in r.ready) readyFail(new Error(`tapegrad worker: no backend loaded: ${r.ready.error}`));
      else readyOk(r.ready);
      return;
    }
    const p = pending.get(r.id);
    if (!p) return;
    if ('progress' in r) return void p.progress?.(r.progress);
    pending.delete(r.id);
    if ('error' in r) p.fail(new Error(r.error));
    else p.ok(r.result);
  });
  (worker as unknown as { addEventListener(t: 'error', l: (e: ErrorEvent) => void): void }).addEventListener?.(
    'error',
    (e: ErrorEvent) => {
      const err = new Error(`tapegrad worker: ${e.message ?? 'the worker failed to start'}`);
      readyFail(err);
      for (const p of pending.values()) p.fail(err);
      pending.clear();
    },
  );

  const call = <T>(body: WithoutId<Request>, progress?: (d: unknown) => void): Promise<T> =>
    new Promise<T>((ok, fail) => {
      const id = next++;
      pending.set(id, { ok: ok as (v: unknown) => void, fail, progress });
      worker.postMessage({ ...body, id });
    });

  return {
    ready,
    value: (model, params, inputs) => call({ kind: 'value', model, params, inputs }),
    grad: (model, params, inputs, options) => call({ kind: 'grad', model, params, inputs, options }),
    outputs: (model, params, inputs) => call({ kind: 'outputs', model, params, inputs }),
    run: (task, args, onProgress) => call({ kind: 'run', task, args }, onProgress),
    terminate() {
      (worker.terminate ?? worker.close)?.call(worker);
      const err = new Error('tapegrad worker: terminated');
      for (const p of pending.values()) p.fail(err);
      pending.clear();
    },
  };
}
