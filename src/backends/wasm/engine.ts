import type { Tape } from '../../trace/compile.js';
import { checkLayout } from '../../trace/check-tape.js';
import { isFloat64Array, isInt32Array, lengthOf } from '../../api/typed-array.js';
import { INSTR_WIDTH } from '../../ops/opset.js';
import type { Engine, Program } from '../types.js';
import { E_OUT_OF_MEMORY, E_TOO_LARGE, wasmError } from './errors.js';
import { compileWasm, type WasmSource } from './loader.js';
import { wasmAdam, wasmSgd, type WasmOptimExports } from './optim.js';

/** The exports of tapegrad.wasm (assembly/index.ts). Addresses are byte offsets. */
export interface WasmExports extends WasmOptimExports {
  readonly memory: WebAssembly.Memory;
  create(
    nInstr: number,
    nPlan: number,
    arenaSize: number,
    nParams: number,
    constStart: number,
    tempStart: number,
    output: number,
  ): number;
  validate(id: number): number;
  dispose(id: number): number;
  codeAt(id: number): number;
  planAt(id: number): number;
  valuesAt(id: number): number;
  adjointsAt(id: number): number;
  value(id: number): number;
  reverse(id: number): number;
  fd(id: number, central: number, relStep: number, reuse: number): number;
  planBuffer(n: number): number;
  fdPlan(id: number, central: number, relStep: number, reuse: number, n: number): number;
  tangentsAt(id: number): number;
  jvp(id: number): number;
  forwardGrad(id: number, reuse: number): number;
  forwardGradPlan(id: number, reuse: number, n: number): number;
  lastError(): number;
  errorInstruction(): number;
  heapInUse(): number;
  probeBuffer(): number;
  probeCapacity(): number;
  probeRun(fn: number, n: number, y: number): number;
  /** 1 in tapegrad-relaxed.wasm (absent from modules built before it existed) */
  relaxedSimd?(): number;
}

/**
 * The exports that return addresses (usize). wasm32 returns them as i32, which JS reads as
 * negative past 2 GiB; they are read back unsigned (`>>> 0`), so all 4 GiB can be used.
 */
const ADDRESSES = [
  'codeAt',
  'planAt',
  'valuesAt',
  'adjointsAt',
  'planBuffer',
  'heapInUse',
  'probeBuffer',
  'optimCreate',
  'optimVector',
] as const;

/** A fresh instance of the module (default: the package's), with its own linear memory. */
export async function instantiateWasm(source?: WasmSource): Promise<WasmExports> {
  const instance = await WebAssembly.instantiate(await compileWasm(source), {});
  const raw = instance.exports as unknown as Record<string, (...args: number[]) => number>;
  const exports: Record<string, unknown> = { ...raw };
  for (const name of ADDRESSES) exports[name] = (...args: number[]) => raw[name](...args) >>> 0;
  return exports as unknown as WasmExports;
}

let shared: Promise<WasmExports> | undefined;

/** The instance (one linear memory) that serves every compiled tape of the process. */
export function wasmInstance(): Promise<WasmExports> {
  return (shared ??= instantiateWasm());
}

/** The engine over the shared instance, or over its own instance of the module from `source`. */
export async function loadWasmEngine(source?: WasmSource): Promise<Engine> {
  return wasmEngine(await (source === undefined ? wasmInstance() : instantiateWasm(source)));
}

/** An engine over one instance (tests use a private one). */
export function wasmEngine(w: WasmExports): Engine {
  return {
    name: 'wasm',
    features: w.relaxedSimd?.() === 1 ? ['simd', 'relaxed-simd'] : ['simd'],
    threads: 1,
    load: (tape, dtype = 'float64') => {
      if (dtype !== 'float64') throw new Error(`the wasm backend has no ${dtype} kernels yet`);
      return new WasmProgram(w, tape);
    },
    sgd: (n, config) => wasmSgd(w, n, config),
    adam: (n, config) => wasmAdam(w, n, config),
  };
}

/** Bytes of wasm memory a tape takes: both arenas, the code and the plan (as assembly/program.ts lays them out). */
function bytesNeeded(t: Tape): number {
  const align = (n: number) => Math.ceil(n / 16) * 16;
  return 64 + align(t.nInstr * INSTR_WIDTH * 4) + align((t.fdPlan.length / 3) * 12) + 2 * align(t.arenaSize * 8) + 16;
}

const GiB = 2 ** 30;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(2)} GiB`;

/**
 * A tape loaded into the module. Parameters and inputs are copied into the value arena once per
 * call and the gradient out of the adjoint arena once; the views are re-created whenever the
 * memory has grown (another tape's load can grow it, which detaches every view).
 */
class WasmProgram implements Program {
  private id: number;
  private buffer?: ArrayBuffer;
  /** value arena [0, constStart): parameters then inputs */
  private leaves!: Float64Array;
  /** adjoint arena [0, nParams): the gradient */
  private gradient!: Float64Array;
  /** the whole value arena (the outputs are read from it) */
  private arena!: Float64Array;
  private readonly inputOffsets: number[] = [];

  constructor(
    private readonly w: WasmExports,
    private readonly tape: Tape,
  ) {
    const t = tape;
    // the layout rules in JS (the module checks again what it needs to stay inside its memory)
    checkLayout(t);
    if (t.fdPlan.length % 3 !== 0) throw new Error('invalid tape: the FD plan is not a list of triples');
    let at = t.nParams;
    for (const n of t.inputSizes) {
      this.inputOffsets.push(at);
      at += n;
    }
    const id = w.create(t.nInstr, t.fdPlan.length / 3, t.arenaSize, t.nParams, t.constStart, t.tempStart, t.output);
    if (id <= 0) {
      const code = w.lastError();
      const need = `the tape needs ${gib(bytesNeeded(t))} of wasm memory (two arenas of ${t.arenaSize} float64 and the code)`;
      const detail =
        code === E_TOO_LARGE
          ? `${need}: too large for wasm memory (wasm32 addresses at most 4 GiB)`
          : code === E_OUT_OF_MEMORY
            ? `${need}, and memory cannot grow that far (${gib(w.heapInUse())} in use by other tapes; dispose() them, or use the native backend)`
            : undefined;
      throw wasmError(w, undefined, 'cannot load the tape', detail);
    }
    this.id = id;
    try {
      const buf = w.memory.buffer;
      new Int32Array(buf, w.codeAt(id), t.code.length).set(t.code);
      new Int32Array(buf, w.planAt(id), t.fdPlan.length).set(t.fdPlan);
      new Float64Array(buf, w.valuesAt(id) + t.constStart * 8, t.constInit.length).set(t.constInit);
      if (w.validate(id) !== 0) throw wasmError(w, t.code, 'invalid tape');
    } catch (e) {
      w.dispose(id);
      this.id = 0;
      throw e;
    }
  }

  value(theta: Float64Array, inputs: readonly Float64Array[], outputs?: Float64Array): number {
    this.checkOutputs(outputs);
    this.setArguments(theta, inputs);
    const f = this.check(this.w.value(this.id), 'value');
    if (outputs) this.readOutputs(outputs);
    return f;
  }

  reverse(theta: Float64Array, inputs: readonly Float64Array[], grad: Float64Array, outputs?: Float64Array): number {
    this.checkGrad(grad);
    this.checkOutputs(outputs);
    this.setArguments(theta, inputs);
    const f = this.check(this.w.reverse(this.id), 'reverse');
    grad.set(this.gradient);
    if (outputs) this.readOutputs(outputs);
    return f;
  }

  private checkOutputs(outputs: Float64Array | undefined): void {
    if (outputs === undefined) return;
    let n = 0;
    for (let k = 1; k < this.tape.outputs.length; k += 2) n += this.tape.outputs[k];
    if (!isFloat64Array(outputs) || lengthOf(outputs) !== n)
      throw new RangeError(`wasm backend: the outputs buffer must be a Float64Array of ${n} elements`);
  }

  private readOutputs(outputs: Float64Array): void {
    this.views(); // a call does not grow memory, but stay safe
    const o = this.tape.outputs;
    for (let k = 0, at = 0; k < o.length; at += o[k + 1], k += 2)
      outputs.set(this.arena.subarray(o[k], o[k] + o[k + 1]), at);
  }

  fd(
    theta: Float64Array,
    inputs: readonly Float64Array[],
    grad: Float64Array,
    central: boolean,
    relStep: number,
    reuse: boolean,
    plan?: Int32Array,
  ): number {
    this.checkGrad(grad);
    if (!(relStep > 0) || !Number.isFinite(relStep)) throw new RangeError(`wasm backend: bad relative step ${relStep}`);
    const w = this.w;
    if (plan !== undefined) this.stagePlan(plan); // before the views: staging can grow memory
    this.setArguments(theta, inputs);
    const c = central ? 1 : 0,
      r = reuse ? 1 : 0;
    const f = this.check(
      plan ? w.fdPlan(this.id, c, relStep, r, lengthOf(plan) / 3) : w.fd(this.id, c, relStep, r),
      'fd',
    );
    // only the plan's coordinates are written
    const p = plan ?? this.tape.fdPlan;
    for (let k = 0; k < p.length; k += 3) grad.set(this.gradient.subarray(p[k], p[k + 1]), p[k]);
    return f;
  }

  jvp(theta: Float64Array, inputs: readonly Float64Array[], tangent: Float64Array, result: Float64Array): number {
    if (!isFloat64Array(tangent) || lengthOf(tangent) !== this.tape.nParams)
      throw new RangeError(`wasm backend: the tangent must be a Float64Array of ${this.tape.nParams} elements`);
    const t = this.tangents(); // before the views: it can grow memory
    this.setArguments(theta, inputs);
    new Float64Array(this.w.memory.buffer, t, this.tape.nParams).set(tangent);
    const d = this.check(this.w.jvp(this.id), 'jvp');
    result[0] = this.arena[this.tape.output];
    result[1] = d;
    return result[0];
  }

  forwardGrad(
    theta: Float64Array,
    inputs: readonly Float64Array[],
    grad: Float64Array,
    reuse: boolean,
    plan?: Int32Array,
  ): number {
    this.checkGrad(grad);
    this.tangents();
    if (plan !== undefined) this.stagePlan(plan);
    this.setArguments(theta, inputs);
    const r = reuse ? 1 : 0;
    const f = this.check(
      plan ? this.w.forwardGradPlan(this.id, r, lengthOf(plan) / 3) : this.w.forwardGrad(this.id, r),
      'forward',
    );
    const p = plan ?? this.tape.fdPlan;
    for (let k = 0; k < p.length; k += 3) grad.set(this.gradient.subarray(p[k], p[k + 1]), p[k]);
    return f;
  }

  /** The module's tangent arena for this program, zeroed (allocated on first use). */
  private tangents(): number {
    if (this.id <= 0) throw new Error('wasm backend: this program was disposed');
    const at = this.w.tangentsAt(this.id);
    if (at === 0) throw wasmError(this.w, undefined, 'forward mode', 'out of memory for the tangent arena');
    return at;
  }

  /** Copies a caller's FD plan into the module's plan buffer (the module validates it). */
  private stagePlan(plan: Int32Array): void {
    if (!isInt32Array(plan) || lengthOf(plan) % 3 !== 0)
      throw new Error('wasm backend: the FD plan is not a list of triples (start, end, firstInstr)');
    const at = this.w.planBuffer(lengthOf(plan) / 3);
    if (at === 0) throw new Error('wasm backend: out of memory for the FD plan');
    new Int32Array(this.w.memory.buffer, at, lengthOf(plan)).set(plan);
  }

  dispose(): void {
    if (this.id > 0) this.w.dispose(this.id);
    this.id = 0;
    this.buffer = undefined;
  }

  /** NaN is also an honest result; only a NaN with an error code set is an error. */
  private check(f: number, what: string): number {
    if (f !== f && this.w.lastError() !== 0) throw wasmError(this.w, this.tape.code, what);
    return f;
  }

  private views(): void {
    const buf = this.w.memory.buffer;
    if (buf === this.buffer) return;
    if (this.id <= 0) throw new Error('wasm backend: this program was disposed');
    this.buffer = buf;
    this.leaves = new Float64Array(buf, this.w.valuesAt(this.id), this.tape.constStart);
    this.arena = new Float64Array(buf, this.w.valuesAt(this.id), this.tape.arenaSize);
    this.gradient = new Float64Array(buf, this.w.adjointsAt(this.id), this.tape.nParams);
  }

  private checkGrad(grad: Float64Array): void {
    if (!isFloat64Array(grad) || lengthOf(grad) !== this.tape.nParams)
      throw new RangeError(`wasm backend: the gradient buffer must be a Float64Array of ${this.tape.nParams} elements`);
  }

  private setArguments(theta: Float64Array, inputs: readonly Float64Array[]): void {
    const t = this.tape;
    if (this.id <= 0) throw new Error('wasm backend: this program was disposed');
    // real lengths (typed-array.ts): set() copies what the array holds, whatever `length` says
    if (!isFloat64Array(theta) || lengthOf(theta) !== t.nParams)
      throw new RangeError(`wasm backend: theta must be a Float64Array of ${t.nParams} elements`);
    if (inputs.length !== t.inputSizes.length)
      throw new RangeError(`wasm backend: expected ${t.inputSizes.length} inputs, got ${inputs.length}`);
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i];
      if (!isFloat64Array(x) || lengthOf(x) !== t.inputSizes[i])
        throw new RangeError(`wasm backend: input ${i} must be a Float64Array of ${t.inputSizes[i]} elements`);
    }
    this.views();
    this.leaves.set(theta, 0);
    for (let i = 0; i < inputs.length; i++) this.leaves.set(inputs[i], this.inputOffsets[i]);
  }
}
