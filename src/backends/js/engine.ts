import { Field, Flag, INSTR_WIDTH, OPS } from '../../ops/opset.js';
import type { Tape } from '../../trace/compile.js';
import { checkPlan, checkTape } from '../../trace/check-tape.js';
import type { Engine, Program } from '../types.js';
import { arrayOf, type DType, type FloatArray } from '../../api/dtype.js';
import { KERNELS, type Kernel } from './kernels.js';
import { jsAdam, jsSgd } from './optim.js';
import { tangentPlan, tangentSweep, type TangentPlan } from './tangent.js';

/** Kernel of each opcode; a missing one is reported by name when a tape uses it. */
const BY_OPCODE: readonly (Kernel | undefined)[] = OPS.map(
  (op) => (KERNELS as Record<string, Kernel | undefined>)[op.name],
);

/**
 * The pure TypeScript reference backend: a tape interpreter over one value arena and one adjoint
 * arena, allocated once per compiled tape. No allocation per call. A float32 program's arenas
 * are Float32Arrays and the kernels are the same: each reads float32s, computes in float64 and
 * rounds when it stores (sums accumulate in float64 and round once), which is the float32
 * contract of src/api/dtype.ts.
 */
export const jsEngine: Engine = {
  name: 'js',
  threads: 1,
  load: (tape, dtype = 'float64') => new JsProgram(tape, dtype),
  sgd: jsSgd,
  adam: jsAdam,
};

class JsProgram implements Program {
  private readonly v: FloatArray;
  private readonly g: FloatArray;
  private readonly kernels: Kernel[] = [];
  /** tangent arena and bilinear scratch (forward mode; see tangent.ts) */
  private t?: FloatArray;
  private m?: FloatArray;
  private plan?: TangentPlan;
  /** each instruction's params p0.. (views of the code) */
  private readonly params: Int32Array[] = [];

  /** rounds a number to the arena's element type (FD steps must be exact differences of stored values) */
  private readonly round: (x: number) => number;

  constructor(
    private readonly tape: Tape,
    private readonly dtype: DType,
  ) {
    checkTape(tape);
    for (let i = 0; i < tape.nInstr; i++) {
      const op = tape.code[i * INSTR_WIDTH + Field.op];
      const k = BY_OPCODE[op];
      if (!k) throw new Error(`js backend: no kernel for op '${OPS[op]?.name ?? op}'`);
      this.kernels.push(k);
      this.params.push(tape.code.subarray(i * INSTR_WIDTH + Field.p0, (i + 1) * INSTR_WIDTH));
    }
    this.v = arrayOf(dtype, tape.arenaSize);
    this.g = arrayOf(dtype, tape.arenaSize);
    this.round = dtype === 'float32' ? Math.fround : (x) => x;
    this.v.set(tape.constInit, tape.constStart);
  }

  value(theta: FloatArray, inputs: readonly FloatArray[], outputs?: FloatArray): number {
    this.setInputs(theta, inputs);
    this.forward(0);
    if (outputs) {
      const o = this.tape.outputs;
      for (let k = 0, at = 0; k < o.length; at += o[k + 1], k += 2)
        outputs.set(this.v.subarray(o[k], o[k] + o[k + 1]), at);
    }
    return this.v[this.tape.output];
  }

  reverse(theta: FloatArray, inputs: readonly FloatArray[], grad: FloatArray, outputs?: FloatArray): number {
    const f = this.value(theta, inputs, outputs);
    const { code, nInstr, nParams, tempStart, output } = this.tape;
    const g = this.g;
    g.fill(0, 0, nParams);
    g.fill(0, tempStart);
    g[output] = 1;
    for (let i = nInstr - 1; i >= 0; i--) {
      const w = i * INSTR_WIDTH;
      const flags = code[w + Field.flags];
      if (flags & Flag.gradOut)
        this.kernels[i].bwd(
          this.v,
          g,
          flags,
          code[w + Field.out],
          code[w + Field.a],
          code[w + Field.b],
          code[w + Field.p0],
          code[w + Field.p1],
          code[w + Field.p2],
          code[w + Field.c],
          this.params[i],
        );
    }
    grad.set(g.subarray(0, nParams));
    return f;
  }

  fd(
    theta: FloatArray,
    inputs: readonly FloatArray[],
    grad: FloatArray,
    central: boolean,
    relStep: number,
    reuse: boolean,
    fdPlan = this.tape.fdPlan,
  ): number {
    checkPlan(fdPlan, this.tape);
    const f0 = this.value(theta, inputs);
    const { output } = this.tape;
    const v = this.v;
    for (let k = 0; k < fdPlan.length; k += 3) {
      const from = reuse ? fdPlan[k + 2] : 0;
      for (let i = fdPlan[k]; i < fdPlan[k + 1]; i++) {
        const x = v[i];
        const h = this.round(x + relStep * Math.max(1, Math.abs(x))) - x;
        v[i] = x + h;
        this.forward(from);
        const fp = v[output];
        if (central) {
          v[i] = x - h;
          this.forward(from);
          grad[i] = (fp - v[output]) / (2 * h);
        } else {
          grad[i] = (fp - f0) / h;
        }
        v[i] = x;
      }
    }
    return f0;
  }

  jvp(theta: FloatArray, inputs: readonly FloatArray[], tangent: FloatArray, result: Float64Array): number {
    const f = this.value(theta, inputs);
    const t = this.tangents();
    t.set(tangent, 0);
    this.tangentSweep(0);
    result[0] = f;
    result[1] = t[this.tape.output];
    return f;
  }

  forwardGrad(
    theta: FloatArray,
    inputs: readonly FloatArray[],
    grad: FloatArray,
    reuse: boolean,
    fdPlan = this.tape.fdPlan,
  ): number {
    checkPlan(fdPlan, this.tape);
    const f = this.value(theta, inputs);
    const t = this.tangents();
    // the plan's order (first reader descending) keeps the suffix sweeps correct, as for FD:
    // tangents before a parameter's first reader are still 0
    for (let k = 0; k < fdPlan.length; k += 3) {
      const from = reuse ? fdPlan[k + 2] : 0;
      for (let i = fdPlan[k]; i < fdPlan[k + 1]; i++) {
        t[i] = 1;
        this.tangentSweep(from);
        grad[i] = t[this.tape.output];
        t[i] = 0;
      }
    }
    return f;
  }

  /** The tangent arena, zeroed (allocated on first use: most programs never run forward mode). */
  private tangents(): FloatArray {
    if (!this.t) {
      this.t = arrayOf(this.dtype, this.tape.arenaSize);
      this.plan = tangentPlan(this.tape, this.params);
      this.m = arrayOf(this.dtype, this.tape.arenaSize + this.plan.scratch);
    } else this.t.fill(0);
    return this.t;
  }

  private tangentSweep(from: number): void {
    tangentSweep(this.tape, this.plan!, this.kernels, this.params, this.v, this.t!, this.g, this.m!, from);
  }

  dispose(): void {
    this.kernels.length = 0;
    this.t = this.m = undefined;
    this.plan = undefined;
    this.params.length = 0;
  }

  private setInputs(theta: FloatArray, inputs: readonly FloatArray[]): void {
    // offsets from the tape, not from the arrays' `length`, which a caller can spoof (set()
    // copies the real elements, whose count api/validate.ts checked)
    const { nParams, inputSizes } = this.tape;
    this.v.set(theta, 0);
    let at = nParams;
    for (let i = 0; i < inputs.length; i++) {
      this.v.set(inputs[i], at);
      at += inputSizes[i];
    }
  }

  private forward(from: number): void {
    const code = this.tape.code;
    for (let i = from; i < this.tape.nInstr; i++) {
      const w = i * INSTR_WIDTH;
      this.kernels[i].fwd(
        this.v,
        code[w + Field.out],
        code[w + Field.a],
        code[w + Field.b],
        code[w + Field.p0],
        code[w + Field.p1],
        code[w + Field.p2],
        code[w + Field.c],
        this.params[i],
      );
    }
  }
}
