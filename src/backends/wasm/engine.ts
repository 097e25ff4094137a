import type { Tape } from '../../trace/compile.js';
import { checkLayout } from '../../trace/check-tape.js';
import { isArrayOf, isInt32Array, lengthOf } from '../../api/typed-array.js';
import type { DType, FloatArray } from '../../api/dtype.js';
import { describeValue } from '../../trace/tensor.js';
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
    /** bytes of an arena element: 8 (float64) or 4 (float32) */
    elem: number,
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
  /**
   * reps rounds of the register-only multiply-add chains (f32: f32x4, else f64x2; fused: the
   * relaxed module's FMA); returns their FLOPs (src/backends/wasm/peak.ts times it)
   */
  peakChains(f32: number, fused: number, reps: number, m: number, a: number): number;
  /** the chains' sum after the last peakChains call (its export keeps the chains live) */
  peakSink(): number;
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
    load: (tape, dtype = 'float64') => new WasmProgram(w, tape, dtype),
    sgd: (n, config) => wasmSgd(w, n, config),
    adam: (n, config) => wasmAdam(w, n, config),
  };
}

/** Bytes of an arena element of each dtype (the module's T: f64 or f32). */
const ELEM_BYTES: Readonly<Record<DType, number>> = { float64: 8, float32: 4 };

/** Bytes of wasm memory a tape takes: both arenas, the code and the plan (as assembly/program.ts lays them out). */
function bytesNeeded(t: Tape, dtype: DType): number {
  const align = (n: number) => Math.ceil(n / 16) * 16;
  return (
    64 +
    align(t.nInstr * INSTR_WIDTH * 4) +
    align((t.fdPlan.length / 3) * 12) +
    2 * align(t.arenaSize * ELEM_BYTES[dtype]) +
    16
  );
}

const GiB = 2 ** 30;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(2)} GiB`;

/**
 * A tape loaded into the module. Parameters and inputs are copied into the value arena once per
 * call and the gradient out of the adjoint arena once; the views are re-created whenever the
 * memory has grown (another tape's load can grow it, which detaches every view). The arenas hold
 * the dtype's elements (float64 or float32: the module runs the kernels of that element type),
 * and every array a call takes or fills is of that type, checked before anything is copied.
 */
class WasmProgram implements Program {
  private id: number;
  private buffer?: ArrayBuffer;
  /** value arena [0, constStart): parameters then inputs */
  private leaves!: FloatArray;
  /** adjoint arena [0, nParams): the gradient */
  private gradient!: FloatArray;
  /** the whole value arena (the outputs are read from it) */
  private arena!: FloatArray;
  private readonly inputOffsets: number[] = [];
  /** the typed array of the dtype */
  private readonly Arr: Float64ArrayConstructor | Float32ArrayConstructor;

  constructor(
    private readonly w: WasmExports,
    private readonly tape: Tape,
    private readonly dtype: DType,
  ) {
    if (dtype !== 'float64' && dtype !== 'float32')
      throw new TypeError(`wasm backend: unknown dtype ${describeValue(dtype)}`);
    this.Arr = dtype === 'float32' ? Float32Array : Float64Array;
    const t = tape;
    // the layout rules in JS (the module checks again what it needs to stay inside its memory)
    checkLayout(t);
    if (t.fdPlan.length % 3 !== 0) throw new Error('invalid tape: the FD plan is not a list of triples');
    let at = t.nParams;
    for (const n of t.inputSizes) {
      this.inputOffsets.push(at);
      at += n;
    }
    const id = w.create(
      t.nInstr,
      t.fdPlan.length / 3,
      t.arenaSize,
      t.nParams,
      t.constStart,
      t.tempStart,
      t.output,
      ELEM_BYTES[dtype],
    );
    if (id <= 0) {
      const code = w.lastError();
      const need = `the tape needs ${gib(bytesNeeded(t, dtype))} of wasm memory (two arenas of ${t.arenaSize} ${dtype} and the code)`;
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
      // float32: the constants rounded to float32, as every value of the program
      new this.Arr(buf, w.valuesAt(id) + t.constStart * ELEM_BYTES[dtype], t.constInit.length).set(t.constInit);
      if (w.validate(id) !== 0) throw wasmError(w, t.code, 'invalid tape');
    } catch (e) {
      w.dispose(id);
      this.id = 0;
      throw e;
    }
  }

  value(theta: FloatArray, inputs: readonly FloatArray[], outputs?: FloatArray): number {
    this.checkOutputs(outputs);
    this.setArguments(theta, inputs);
    const f = this.check(this.w.value(this.id), 'value');
    if (outputs) this.readOutputs(outputs);
    return f;
  }

  reverse(theta: FloatArray, inputs: readonly FloatArray[], grad: FloatArray, outputs?: FloatArray): number {
    this.checkGrad(grad);
    this.checkOutputs(outputs);
    this.setArguments(theta, inputs);
    const f = this.check(this.w.reverse(this.id), 'reverse');
    grad.set(this.gradient);
    if (outputs) this.readOutputs(outputs);
    return f;
  }

  private checkOutputs(outputs: FloatArray | undefined): void {
    if (outputs === undefined) return;
    let n = 0;
    for (let k = 1; k < this.tape.outputs.length; k += 2) n += this.tape.outputs[k];
    this.checkArray(outputs, n, 'the outputs buffer');
  }

  /**
   * x is an array of the program's dtype of n elements: a TypeError naming the argument and what
   * it got otherwise (a Float64Array given to a float32 program too), a RangeError for a wrong
   * length. Checked before any copy into the module's memory.
   */
  private checkArray(x: unknown, n: number, what: string): void {
    const name = this.Arr.name;
    if (!isArrayOf(x, this.dtype))
      throw new TypeError(
        `wasm backend: ${what} must be a ${name}${this.dtype === 'float32' ? ' (this program is float32)' : ''} of ${n} elements, got ${describeValue(x)}`,
      );
    const m = lengthOf(x as FloatArray);
    if (m !== n) throw new RangeError(`wasm backend: ${what} must be a ${name} of ${n} elements, got ${m}`);
  }

  private readOutputs(outputs: FloatArray): void {
    this.views(); // a call does not grow memory, but stay safe
    const o = this.tape.outputs;
    for (let k = 0, at = 0; k < o.length; at += o[k + 1], k += 2)
      outputs.set(this.arena.subarray(o[k], o[k] + o[k + 1]), at);
  }

  fd(
    theta: FloatArray,
    inputs: readonly FloatArray[],
    grad: FloatArray,
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

  jvp(theta: FloatArray, inputs: readonly FloatArray[], tangent: FloatArray, result: Float64Array): number {
    this.checkArray(tangent, this.tape.nParams, 'the tangent');
    const t = this.tangents(); // before the views: it can grow memory
    this.setArguments(theta, inputs);
    new this.Arr(this.w.memory.buffer, t, this.tape.nParams).set(tangent);
    const d = this.check(this.w.jvp(this.id), 'jvp');
    result[0] = this.arena[this.tape.output];
    result[1] = d;
    return result[0];
  }

  forwardGrad(
    theta: FloatArray,
    inputs: readonly FloatArray[],
    grad: FloatArray,
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
    this.leaves = new this.Arr(buf, this.w.valuesAt(this.id), this.tape.constStart);
    this.arena = new this.Arr(buf, this.w.valuesAt(this.id), this.tape.arenaSize);
    this.gradient = new this.Arr(buf, this.w.adjointsAt(this.id), this.tape.nParams);
  }

  private checkGrad(grad: FloatArray): void {
    this.checkArray(grad, this.tape.nParams, 'the gradient buffer');
  }

  private setArguments(theta: FloatArray, inputs: readonly FloatArray[]): void {
    const t = this.tape;
    if (this.id <= 0) throw new Error('wasm backend: this program was disposed');
    // real lengths (typed-array.ts): set() copies what the array holds, whatever `length` says
    this.checkArray(theta, t.nParams, 'theta');
    if (inputs.length !== t.inputSizes.length)
      throw new RangeError(`wasm backend: expected ${t.inputSizes.length} inputs, got ${inputs.length}`);
    for (let i = 0; i < inputs.length; i++) this.checkArray(inputs[i], t.inputSizes[i], `input ${i}`);
    this.views();
    this.leaves.set(theta, 0);
    for (let i = 0; i < inputs.length; i++) this.leaves.set(inputs[i], this.inputOffsets[i]);
  }
}
