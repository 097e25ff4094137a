import type { BackendName, Engine, Program } from '../backends/types.js';
import { costOf, type Cost, type Method } from '../trace/cost.js';
import type { Defined, Dims, Leaf } from '../trace/define.js';
import type { Tape } from '../trace/compile.js';
import { sizeOf, type Shape } from '../ops/opset.js';
import { arrayOf, type DType, type FloatArray } from './dtype.js';
import { isArrayOf, isFloat32Array, isFloat64Array } from './typed-array.js';
import {
  checkFlat,
  checkIndices,
  collectInputs,
  inputLengths,
  packParams,
  resolveOptions,
  type GradOptions,
  type Resolved,
  type Values,
} from './validate.js';

export interface JvpResult {
  /** the loss */
  readonly value: number;
  /** its directional derivative along the tangents */
  readonly derivative: number;
}

/** A = Float64Array, or Float32Array for a float32 function. */
export interface GradResult<A extends FloatArray = Float64Array> {
  /** the loss */
  readonly value: number;
  /** one array per parameter (views of one buffer) */
  readonly grad: Record<string, A>;
  /** the function's named outputs (row-major; a function that returns a bare scalar has only `loss`) */
  readonly outputs: Record<string, A>;
}

/** Named outputs, row-major, each a view of one buffer. */
export type Outputs<A extends FloatArray = Float64Array> = Record<string, A>;

/** Programs kept per compiled function with symbolic dimensions (one per set of sizes; least recently used out). */
const MAX_PROGRAMS = 8;

/** One concrete trace loaded into the backend. */
interface Instance {
  readonly defined: Defined;
  readonly tape: Tape;
  readonly program: Program;
  /** elements of all named outputs together */
  readonly outputSize: number;
}

/**
 * Backend memory of compiled functions that were dropped without dispose(): released when the
 * garbage collector takes them (the held value is the set of programs, never the Compiled).
 */
const finalizer = new FinalizationRegistry<Set<Program>>((programs) => {
  for (const p of programs) p.dispose();
});

/**
 * A traced function whose tape lives inside a backend. Every argument is validated here, before
 * any backend sees it; a rejected call leaves the compiled function usable. A function with
 * symbolic dimensions loads one program per set of sizes, on first use at that size. Its element
 * type (`dtype`, src/api/dtype.ts) fixes the arrays it takes and returns: A is Float64Array, or
 * Float32Array for a float32 function.
 */
export class Compiled<A extends FloatArray = Float64Array> {
  readonly params: readonly Leaf[];
  readonly inputs: readonly Leaf[];
  /** N, the number of parameter elements (the length of the flat vectors) */
  readonly paramCount: number;
  /** the backend's name */
  readonly backend: BackendName;
  /** the element type of every value, parameter, input, output and gradient */
  readonly dtype: DType;
  private readonly instances = new Map<string, Instance>();
  /** the programs alive (what the finalizer releases) */
  private readonly programs = new Set<Program>();
  private disposedFlag = false;
  private readonly theta: A;
  /** named tangents of jvp(), packed */
  private readonly tangent: A;
  private readonly inputArrays: A[];
  /** an asynchronous gradient is in flight: the backend's arenas are in use */
  private busy = false;
  /** a call is reading its arguments, which can run user code (getters): no call may start */
  private reading = false;

  /** @internal */
  constructor(
    readonly defined: Defined,
    readonly engine: Engine,
    dtype: DType = 'float64',
  ) {
    this.backend = engine.name;
    this.dtype = dtype;
    this.params = defined.params;
    this.inputs = defined.inputs;
    this.paramCount = defined.paramCount;
    this.theta = this.alloc(this.paramCount);
    this.tangent = this.alloc(this.paramCount);
    this.inputArrays = new Array(this.inputs.length);
    if (!defined.symbolic) this.load(defined, '');
    finalizer.register(this, this.programs, this);
  }

  /** The loss f(params, inputs). `params` may be named values or the flat vector. */
  value(params: Values | A, inputs?: Values): number {
    const { program } = this.read(() => {
      this.needLoss();
      this.packNamed(params);
      return this.collect(inputs);
    });
    return program.value(this.thetaOf(params), this.inputArrays);
  }

  /**
   * The loss, its gradient with respect to every parameter by the chosen method, and the named
   * outputs. `params` may be named values or the flat vector.
   */
  grad(params: Values | A, inputs?: Values, options?: GradOptions): GradResult<A> {
    const { inst, opts } = this.read(() => {
      this.packNamed(params);
      return { inst: this.instanceFor(inputs), opts: isObject(options) ? { ...options } : options };
    });
    const theta = this.thetaOf(params);
    const out = this.alloc(this.paramCount);
    const outputs = this.alloc(inst.outputSize);
    // options that are not an object (or undefined) go through as given, so that gradFlat rejects
    // them: a spread would turn grad(p, x, 1) into {} (found by the fuzz test)
    const value = this.gradFlat(
      theta,
      inputs,
      out,
      opts === undefined || isObject(opts) ? { ...opts, outputs } : (opts as never),
    );
    return { value, grad: this.views(out), outputs: this.named(inst, outputs) };
  }

  /**
   * Forward-mode AD: the loss and its directional derivative along `tangents` (named like the
   * parameters, or a flat vector): df = sum_i df/dθ_i t_i, from one value sweep and one tangent
   * sweep, exact like reverse mode (no step to choose).
   */
  jvp(params: Values | A, tangents: Values | A, inputs?: Values): JvpResult {
    const { program } = this.read(() => {
      this.needLoss();
      this.packNamed(params);
      // a flat vector of the other element type: say so (it is not a record of named tangents)
      if (isFloatArray(tangents)) checkFlat('tangents', tangents, this.paramCount, this.dtype);
      else packParams(this.params, tangents, this.tangent, 'tangent');
      return this.collect(inputs);
    });
    const theta = this.thetaOf(params);
    let t = this.tangent;
    if (this.isFlat(tangents)) {
      checkFlat('tangents', tangents, this.paramCount, this.dtype);
      t = tangents;
    }
    const result = new Float64Array(2);
    program.jvp(theta, this.inputArrays, t, result);
    return { value: result[0], derivative: result[1] };
  }

  /** Forward only, at any batch size: the named outputs (a function that returns a bare scalar has only `loss`). */
  run(params: Values | A, inputs?: Values): Outputs<A> {
    const inst = this.read(() => {
      this.packNamed(params);
      return this.collect(inputs);
    });
    const outputs = this.alloc(inst.outputSize);
    inst.program.value(this.thetaOf(params), this.inputArrays, outputs);
    return this.named(inst, outputs);
  }

  /** The loss at a flat parameter vector (definition order, see `params[i].offset`). */
  valueFlat(theta: A, inputs?: Values): number {
    const { program } = this.read(() => {
      this.needLoss();
      return this.collect(inputs);
    });
    checkFlat('theta', theta, this.paramCount, this.dtype);
    return program.value(theta, this.inputArrays);
  }

  /**
   * Writes the gradient at the flat vector `theta` into `out` without allocating; returns the
   * loss. With `options.outputs` (an array of the dtype for all named outputs' elements, in order), also
   * writes the outputs there.
   */
  gradFlat(theta: A, inputs: Values | undefined, out: A, options?: GradOptions): number {
    const { p, method, central, step, reuse, plan, outputs } = this.prepare(theta, inputs, out, options);
    if (method === 'reverse') return p.reverse(theta, this.inputArrays, out, outputs);
    if (outputs) p.value(theta, this.inputArrays, outputs); // FD leaves perturbed values behind: read them first
    if (method === 'forward') return p.forwardGrad(theta, this.inputArrays, out, reuse, plan);
    return p.fd(theta, this.inputArrays, out, central, step, reuse, plan);
  }

  /**
   * `grad` on a worker thread (native backend; the others compute synchronously and resolve), so
   * a long gradient (FD, forward mode) leaves the event loop free. Parameters and inputs are
   * copied when the call is made: the caller may change them at once. Until the promise settles
   * the compiled function is busy: its other methods throw, and another async call rejects.
   * The outputs of the result are `{}` (read them with `run`).
   */
  async gradAsync(params: Values | A, inputs?: Values, options?: GradOptions): Promise<GradResult<A>> {
    this.read(() => this.packNamed(params));
    const theta = this.thetaOf(params);
    const out = this.alloc(this.paramCount);
    const value = await this.gradFlatAsync(theta, inputs, out, options);
    return { value, grad: this.views(out), outputs: {} }; // the function may be disposed by now
  }

  /**
   * `gradFlat` on a worker thread (see gradAsync). theta and the inputs are copied when the call
   * is made; `out` is written just before the promise resolves, so do not read it (or pass it to
   * another call) until then.
   */
  gradFlatAsync(theta: A, inputs: Values | undefined, out: A, options?: GradOptions): Promise<number> {
    let pending: Promise<number>;
    try {
      const { p, method, central, step, reuse, plan, outputs } = this.prepare(theta, inputs, out, options);
      if (outputs) throw new Error('gradFlatAsync does not write outputs; read them with run()');
      const x = this.inputArrays;
      if (method === 'reverse') pending = p.reverseAsync?.(theta, x, out) ?? Promise.resolve(p.reverse(theta, x, out));
      else if (method === 'forward')
        pending =
          p.forwardGradAsync?.(theta, x, out, reuse, plan) ??
          Promise.resolve(p.forwardGrad(theta, x, out, reuse, plan));
      else
        pending =
          p.fdAsync?.(theta, x, out, central, step, reuse, plan) ??
          Promise.resolve(p.fd(theta, x, out, central, step, reuse, plan));
    } catch (e) {
      return Promise.reject(e);
    }
    this.busy = true;
    return pending.finally(() => {
      this.busy = false;
    });
  }

  /**
   * The shapes of the named outputs for these inputs (their sizes fix the symbolic dimensions),
   * in order: what `run` returns, and the layout of a flat `options.outputs` buffer.
   */
  outputShapes(inputs?: Values): Record<string, readonly number[]> {
    this.notDisposed();
    const inst = this.instanceFor(inputs);
    return Object.fromEntries(inst.defined.outputs.map((o) => [o.name, o.shape as Shape]));
  }

  /** Named parameters as one new flat vector. */
  flatten(params: Values): A {
    this.notDisposed();
    const theta = this.alloc(this.paramCount);
    packParams(this.params, params, theta);
    return theta;
  }

  /** A flat vector as named views (no copy). */
  unflatten(theta: A): Record<string, A> {
    this.notDisposed();
    checkFlat('theta', theta, this.paramCount, this.dtype);
    return this.views(theta);
  }

  private views(theta: A): Record<string, A> {
    return Object.fromEntries(this.params.map((l) => [l.name, theta.subarray(l.offset, l.offset + l.size) as A]));
  }

  /** A new zeroed array of this function's dtype. */
  private alloc(n: number): A {
    return arrayOf(this.dtype, n) as A;
  }

  /** A flat vector of this function's dtype (anything else is read as named values). */
  private isFlat(x: unknown): x is A {
    return isArrayOf(x, this.dtype);
  }

  /**
   * Static cost of one call of `method` (or of one value), from the cost model. A function with
   * symbolic dimensions needs their sizes (`dims`).
   */
  cost(method: Method | 'value' = 'reverse', options: { reuse?: boolean; dims?: Dims } = {}): Cost {
    this.notDisposed();
    resolveOptions(
      { method: method === 'value' ? 'reverse' : method, reuse: options.reuse },
      this.paramCount,
      this.dtype,
    );
    return costOf(this.defined.at(options.dims ?? {}).tape, method, options.reuse ?? true);
  }

  /** Releases the backend's arenas; any later call throws. Calling it again does nothing. */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    finalizer.unregister(this);
    for (const p of this.programs) p.dispose();
    this.programs.clear();
    this.instances.clear();
  }

  get disposed(): boolean {
    return this.disposedFlag;
  }

  /** Named parameters packed into this.theta (a flat vector is the caller's own: see thetaOf). */
  private packNamed(params: Values | A): void {
    if (this.isFlat(params)) return;
    // a flat vector of the other element type: say so (it is not a record of named values)
    if (isFloatArray(params)) checkFlat('theta', params, this.paramCount, this.dtype);
    packParams(this.params, params, this.theta);
  }

  /** The flat parameter vector of a call (checked after the reading): the caller's own, or this.theta. */
  private thetaOf(params: Values | A): A {
    if (!this.isFlat(params)) return this.theta;
    checkFlat('theta', params, this.paramCount, this.dtype);
    return params;
  }

  /**
   * Runs `readArgs`, which reads the caller's values and can run user code (getters: they may
   * dispose this function, detach a buffer or call it again). Meanwhile every call on this
   * function is refused; after it, the function is checked alive. Checks of the caller's own
   * buffers (lengths) come after the last read.
   */
  private read<T>(readArgs: () => T): T {
    this.live();
    this.reading = true;
    let r: T;
    try {
      r = readArgs();
    } finally {
      this.reading = false;
    }
    this.live();
    return r;
  }

  /** Validates a flat gradient call; the inputs land in this.inputArrays. */
  private prepare(theta: A, inputs: Values | undefined, out: A, options: GradOptions | undefined) {
    let resolved!: Resolved;
    const inst = this.read(() => {
      this.needLoss();
      resolved = resolveOptions(options, this.paramCount, this.dtype);
      return this.collect(inputs);
    });
    checkFlat('theta', theta, this.paramCount, this.dtype);
    checkFlat('the gradient buffer', out, this.paramCount, this.dtype);
    const { method, step, reuse, coordinates, outputs } = resolved;
    if (outputs) checkFlat('options.outputs', outputs, inst.outputSize, this.dtype);
    const plan = coordinates && planFor(inst.tape, this.paramCount, coordinates);
    return { p: inst.program, method, central: method === 'fd-central', step, reuse, plan, outputs };
  }

  /** Checks and collects the inputs, and returns the program for their sizes. */
  private collect(inputs: Values | undefined): Instance {
    const inst = this.instanceFor(inputs);
    collectInputs(inst.defined.inputs, inputs, this.inputArrays, this.dtype);
    checkIndices(inst.defined.inputs, inst.tape.indexChecks, this.inputArrays);
    return inst;
  }

  /** The program for these inputs' sizes (loaded on first use at a new size). */
  private instanceFor(inputs: Values | undefined): Instance {
    if (!this.defined.symbolic) return this.instances.get('')!;
    const dims = this.defined.resolve(inputLengths(this.inputs, inputs, this.dtype));
    const key = this.defined.dims.map((d) => dims[d]).join(',');
    const hit = this.instances.get(key);
    if (hit) {
      this.instances.delete(key); // most recently used last
      this.instances.set(key, hit);
      return hit;
    }
    return this.load(this.defined.at(dims), key);
  }

  private load(defined: Defined, key: string): Instance {
    const tape = defined.tape;
    const program = this.engine.load(tape, this.dtype);
    let outputSize = 0;
    for (let k = 1; k < tape.outputs.length; k += 2) outputSize += tape.outputs[k];
    const inst = { defined, tape, program, outputSize };
    this.programs.add(program);
    this.instances.set(key, inst);
    if (this.instances.size > MAX_PROGRAMS) {
      const [oldKey, old] = this.instances.entries().next().value!;
      this.instances.delete(oldKey);
      this.programs.delete(old.program);
      old.program.dispose();
    }
    return inst;
  }

  private named(inst: Instance, buffer: A): Outputs<A> {
    const out: Outputs<A> = {};
    let at = 0;
    for (const o of inst.defined.outputs) {
      const n = sizeOf(o.shape as Shape); // a concrete trace's outputs have sizes
      out[o.name] = buffer.subarray(at, at + n) as A;
      at += n;
    }
    return out;
  }

  private needLoss(): void {
    if (!this.defined.hasLoss)
      throw new Error(
        `this function has no loss to differentiate (its outputs: ${this.defined.outputs.map((o) => o.name).join(', ')}); return { loss, ... } with a scalar loss, or use run()`,
      );
  }

  private notDisposed(): void {
    if (this.disposedFlag) throw new Error(`this compiled function (${this.backend} backend) was disposed`);
  }

  private live(): void {
    this.notDisposed();
    if (this.busy)
      throw new Error(
        `this compiled function (${this.backend} backend) is busy with an asynchronous gradient; await it first`,
      );
    if (this.reading)
      throw new Error(
        `this compiled function (${this.backend} backend) is busy: it was called again while a call on it reads its arguments (from a getter?)`,
      );
  }
}

/** An FD plan for some coordinates: one triple each, in the tape plan's order (firstInstr descending). */
function planFor(tape: Tape, n: number, coordinates: ArrayLike<number>): Int32Array {
  const first = new Int32Array(n);
  for (let k = 0; k < tape.fdPlan.length; k += 3) first.fill(tape.fdPlan[k + 2], tape.fdPlan[k], tape.fdPlan[k + 1]);
  const idx = [...new Set(Array.from(coordinates))].sort((x, y) => first[y] - first[x] || x - y);
  return Int32Array.from(idx.flatMap((i) => [i, i + 1, first[i]]));
}

const isObject = (x: unknown): x is object => typeof x === 'object' && x !== null;
const isFloatArray = (x: unknown): x is FloatArray => isFloat64Array(x) || isFloat32Array(x);
