import { Field, Flag, INSTR_WIDTH, OPS } from '../../ops/opset.js';
import type { Tape } from '../../trace/compile.js';
import { checkPlan, checkTape } from '../../trace/check-tape.js';
import type { Engine, Program } from '../types.js';
import { KERNELS, type Kernel } from './kernels.js';
import { jsAdam, jsSgd } from './optim.js';
import { tangentPlan, tangentSweep, type TangentPlan } from './tangent.js';

/** Kernel of each opcode; a missing one is reported by name when a tape uses it. */
const BY_OPCODE: readonly (Kernel | undefined)[] = OPS.map(
  (op) => (KERNELS as Record<string, Kernel | undefined>)[op.name],
);

/**
 * The pure TypeScript reference backend: a tape interpreter over one value arena and one adjoint
 * arena, allocated once per compiled tape. No allocation per call.
 */
export const jsEngine: Engine = {
  name: 'js',
  threads: 1,
  load: (tape) => new JsProgram(tape),
  sgd: jsSgd,
  adam: jsAdam,
};

class JsProgram implements Program {
  private readonly v: Float64Array;
  private readonly g: Float64Array;
  private readonly kernels: Kernel[] = [];
  /** tangent arena and bilinear scratch (forward mode; see tangent.ts) */
  private t?: Float64Array;
  private m?: Float64Array;
  private plan?: TangentPlan;
  /** each instruction's params p0.. (views of the code) */
  private readonly params: Int32Array[] = [];

  constructor(private readonly tape: Tape) {
    checkTape(tape);
    for (let i = 0; i < tape.nInstr; i++) {
      const op = tape.code[i * INSTR_WIDTH + Field.op];
      const k = BY_OPCODE[op];
      if (!k) throw new Error(`js backend: no kernel for op '${OPS[op]?.name ?? op}'`);
      this.kernels.push(k);
      this.params.push(tape.code.subarray(i * INSTR_WIDTH + Field.p0, (i + 1) * INSTR_WIDTH));
    }
    this.v = new Float64Array(tape.arenaSize);
    this.g = new Float64Array(tape.arenaSize);
    this.v.set(tape.constInit, tape.constStart);
  }

  value(theta: Float64Array, inputs: readonly Float64Array[], outputs?: Float64Array): number {
    this.setInputs(theta, inputs);
    this.forward(0);
    if (outputs) {
      const o = this.tape.outputs;
      for (let k = 0, at = 0; k < o.length; at += o[k + 1], k += 2)
        outputs.set(this.v.subarray(o[k], o[k] + o[k + 1]), at);
    }
    return this.v[this.tape.output];
  }

  reverse(theta: Float64Array, inputs: readonly Float64Array[], grad: Float64Array, outputs?: Float64Array): number {
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
    theta: Float64Array,
    inputs: readonly Float64Array[],
    grad: Float64Array,
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
        const h = x + relStep * Math.max(1, Math.abs(x)) - x;
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

  jvp(theta: Float64Array, inputs: readonly Float64Array[], tangent: Float64Array, result: Float64Array): number {
    const f = this.value(theta, inputs);
    const t = this.tangents();
    t.set(tangent, 0);
    this.tangentSweep(0);
    result[0] = f;
    result[1] = t[this.tape.output];
    return f;
  }

  forwardGrad(
    theta: Float64Array,
    inputs: readonly Float64Array[],
    grad: Float64Array,
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
  private tangents(): Float64Array {
    if (!this.t) {
      this.t = new Float64Array(this.tape.arenaSize);
      this.plan = tangentPlan(this.tape, this.params);
      this.m = new Float64Array(this.tape.arenaSize + this.plan.scratch);
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

  private setInputs(theta: Float64Array, inputs: readonly Float64Array[]): void {
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
