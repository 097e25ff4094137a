import type { BackendName, Engine, Program } from '../backends/types.js';
import { costOf, type Cost, type Method } from '../trace/cost.js';
import type { Defined, Leaf } from '../trace/define.js';
import { checkFlat, collectInputs, packParams, resolveOptions, type GradOptions, type Resolved, type Values } from './validate.js';

export interface GradResult {
  readonly value: number;
  /** one Float64Array per parameter (views of one buffer) */
  readonly grad: Record<string, Float64Array>;
}

/**
 * A traced function whose tape lives inside a backend. Every argument is validated here, before
 * any backend sees it; a rejected call leaves the compiled function usable.
 */
export class Compiled {
  readonly params: readonly Leaf[];
  readonly inputs: readonly Leaf[];
  /** N, the number of parameter elements (the length of the flat vectors) */
  readonly paramCount: number;
  /** the backend's name */
  readonly backend: BackendName;
  private program?: Program;
  private readonly theta: Float64Array;
  private readonly inputArrays: Float64Array[];
  /** an asynchronous gradient is in flight: the backend's arenas are in use */
  private busy = false;
  /** a call is reading its arguments, which can run user code (getters): no call may start */
  private reading = false;

  /** @internal */
  constructor(readonly defined: Defined, program: Program, readonly engine: Engine) {
    this.program = program;
    this.backend = engine.name;
    this.params = defined.params;
    this.inputs = defined.inputs;
    this.paramCount = defined.paramCount;
    this.theta = new Float64Array(this.paramCount);
    this.inputArrays = new Array(this.inputs.length);
  }

  /** f(params, inputs) */
  value(params: Values, inputs?: Values): number {
    const p = this.read(() => {
      packParams(this.params, params, this.theta);
      collectInputs(this.inputs, inputs, this.inputArrays);
    });
    return p.value(this.theta, this.inputArrays);
  }

  /** The value and the gradient with respect to every parameter, by the chosen method. */
  grad(params: Values, inputs?: Values, options?: GradOptions): GradResult {
    this.read(() => packParams(this.params, params, this.theta));
    const out = new Float64Array(this.paramCount);
    const value = this.gradFlat(this.theta, inputs, out, options);
    return { value, grad: this.unflatten(out) };
  }

  /** f at a flat parameter vector (definition order, see `params[i].offset`). */
  valueFlat(theta: Float64Array, inputs?: Values): number {
    const p = this.read(() => collectInputs(this.inputs, inputs, this.inputArrays));
    checkFlat('theta', theta, this.paramCount);
    return p.value(theta, this.inputArrays);
  }

  /** Writes the gradient at the flat vector `theta` into `out` without allocating; returns f. */
  gradFlat(theta: Float64Array, inputs: Values | undefined, out: Float64Array, options?: GradOptions): number {
    const { p, method, central, step, reuse, plan } = this.prepare(theta, inputs, out, options);
    if (method === 'reverse') return p.reverse(theta, this.inputArrays, out);
    return p.fd(theta, this.inputArrays, out, central, step, reuse, plan);
  }

  /**
   * `grad` on a worker thread (native backend; the others compute synchronously and resolve), so
   * a long finite-difference gradient leaves the event loop free. Parameters and inputs are
   * copied when the call is made: the caller may change them at once. Until the promise settles
   * the compiled function is busy: its other methods throw, and another async call rejects.
   */
  async gradAsync(params: Values, inputs?: Values, options?: GradOptions): Promise<GradResult> {
    this.read(() => packParams(this.params, params, this.theta));
    const out = new Float64Array(this.paramCount);
    const value = await this.gradFlatAsync(this.theta, inputs, out, options);
    return { value, grad: this.unflatten(out) };
  }

  /**
   * `gradFlat` on a worker thread (see gradAsync). theta and the inputs are copied when the call
   * is made; `out` is written just before the promise resolves, so do not read it (or pass it to
   * another call) until then.
   */
  gradFlatAsync(theta: Float64Array, inputs: Values | undefined, out: Float64Array, options?: GradOptions): Promise<number> {
    let pending: Promise<number>;
    try {
      const { p, method, central, step, reuse, plan } = this.prepare(theta, inputs, out, options);
      const x = this.inputArrays;
      if (method === 'reverse') pending = p.reverseAsync?.(theta, x, out) ?? Promise.resolve(p.reverse(theta, x, out));
      else pending = p.fdAsync?.(theta, x, out, central, step, reuse, plan) ?? Promise.resolve(p.fd(theta, x, out, central, step, reuse, plan));
    } catch (e) {
      return Promise.reject(e);
    }
    this.busy = true;
    return pending.finally(() => { this.busy = false; });
  }

  /** Validates a flat call; the inputs land in this.inputArrays. */
  private prepare(theta: Float64Array, inputs: Values | undefined, out: Float64Array, options: GradOptions | undefined) {
    let resolved!: Resolved;
    const p = this.read(() => {
      resolved = resolveOptions(options, this.paramCount);
      collectInputs(this.inputs, inputs, this.inputArrays);
    });
    checkFlat('theta', theta, this.paramCount);
    checkFlat('the gradient buffer', out, this.paramCount);
    const { method, step, reuse, coordinates } = resolved;
    const plan = coordinates && this.planFor(coordinates);
    return { p, method, central: method === 'fd-central', step, reuse, plan };
  }

  /** An FD plan for some coordinates: one triple each, in the tape plan's order (firstInstr descending). */
  private planFor(coordinates: ArrayLike<number>): Int32Array {
    const { fdPlan } = this.defined.tape;
    const first = new Int32Array(this.paramCount);
    for (let k = 0; k < fdPlan.length; k += 3) first.fill(fdPlan[k + 2], fdPlan[k], fdPlan[k + 1]);
    const idx = [...new Set(Array.from(coordinates))].sort((x, y) => first[y] - first[x] || x - y);
    return Int32Array.from(idx.flatMap((i) => [i, i + 1, first[i]]));
  }

  /** Named parameters as one new flat vector. */
  flatten(params: Values): Float64Array {
    if (!this.program) this.live(); // throws: disposed (flattening needs no backend, so busy is fine)
    const theta = new Float64Array(this.paramCount);
    packParams(this.params, params, theta);
    return theta;
  }

  /** A flat vector as named views (no copy). */
  unflatten(theta: Float64Array): Record<string, Float64Array> {
    checkFlat('theta', theta, this.paramCount);
    return Object.fromEntries(this.params.map((l) => [l.name, theta.subarray(l.offset, l.offset + l.size)]));
  }

  /** Static cost of one call of `method` (or of one value), from the cost model. */
  cost(method: Method | 'value' = 'reverse', options: { reuse?: boolean } = {}): Cost {
    resolveOptions({ method: method === 'value' ? 'reverse' : method, reuse: options.reuse }, this.paramCount);
    return costOf(this.defined.tape, method, options.reuse ?? true);
  }

  /** Releases the backend's arenas; any later call throws. Calling it again does nothing. */
  dispose(): void {
    this.program?.dispose();
    this.program = undefined;
  }

  get disposed(): boolean {
    return this.program === undefined;
  }

  private live(): Program {
    if (!this.program) throw new Error(`this compiled function (${this.backend} backend) was disposed`);
    if (this.busy) throw new Error(`this compiled function (${this.backend} backend) is busy with an asynchronous gradient; await it first`);
    if (this.reading)
      throw new Error(`this compiled function (${this.backend} backend) is busy: it was called again while a call on it reads its arguments (from a getter?)`);
    return this.program;
  }

  /**
   * Runs `readArgs`, which reads the caller's values and can run user code (getters), with
   * every call on this function refused meanwhile; returns the program, checked alive after it
   * (a getter may have disposed it). Checks of the caller's own buffers come after this.
   */
  private read(readArgs: () => void): Program {
    this.live();
    this.reading = true;
    try {
      readArgs();
    } finally {
      this.reading = false;
    }
    return this.live();
  }
}
