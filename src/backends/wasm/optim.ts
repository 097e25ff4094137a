/**
 * The wasm backend's fused optimizers (assembly/optim.ts): the state lives in one block of the
 * module's memory; each step copies theta and the gradient in, runs one pass, and copies theta
 * back. The views are re-created whenever the memory has grown (any allocation in the module can
 * grow it, which detaches every view).
 */
import { checkStep, decayMode } from '../js/optim.js';
import type { AdamConfig, FusedAdam, FusedSgd, SgdConfig } from '../types.js';
import type { WasmExports } from './engine.js';

/** The exports of assembly/optim.ts. Addresses are byte offsets. */
export interface WasmOptimExports {
  optimCreate(n: number, vectors: number): number;
  optimVector(p: number, n: number, vectors: number, k: number): number;
  optimFree(p: number, n: number, vectors: number): number;
  sgdStep(
    p: number,
    n: number,
    maximize: number,
    weightDecay: number,
    momentum: number,
    dampening: number,
    lr: number,
    nesterov: number,
    first: number,
  ): number;
  adamStep(
    p: number,
    n: number,
    maximize: number,
    weightDecay: number,
    mode: number,
    beta1: number,
    beta2: number,
    amsgrad: number,
    stepSize: number,
    epsHat: number,
    decay: number,
  ): number;
}

/** A state block in the module, with views of its theta and grad regions. */
class Block {
  private p: number;
  private buffer?: ArrayBuffer;
  private thetaView!: Float64Array;
  private gradView!: Float64Array;

  constructor(
    private readonly w: WasmExports,
    readonly n: number,
    private readonly vectors: number,
  ) {
    if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1)
      throw new RangeError(`wasm backend: bad parameter count ${n}`);
    this.p = w.optimCreate(n, vectors);
    if (this.p === 0) throw new RangeError(`wasm backend: out of memory for the optimizer state of ${n} parameters`);
  }

  /** Copies theta and grad into the block (after checking them and the scalars), runs `kernel`, copies theta back. */
  step(theta: Float64Array, grad: Float64Array, scalars: Record<string, number>, kernel: (p: number) => number): void {
    if (this.p === 0) throw new Error('wasm backend: this optimizer state was disposed');
    checkStep('wasm', this.n, theta, grad, scalars);
    const buf = this.w.memory.buffer;
    if (buf !== this.buffer) {
      this.buffer = buf;
      this.thetaView = new Float64Array(buf, this.w.optimVector(this.p, this.n, this.vectors, 0), this.n);
      this.gradView = new Float64Array(buf, this.w.optimVector(this.p, this.n, this.vectors, 1), this.n);
    }
    this.thetaView.set(theta);
    this.gradView.set(grad);
    if (kernel(this.p) !== 0) throw new Error('wasm backend: the optimizer state block is not valid');
    theta.set(this.thetaView);
  }

  dispose(): void {
    if (this.p !== 0) this.w.optimFree(this.p, this.n, this.vectors);
    this.p = 0;
    this.buffer = undefined;
  }
}

export function wasmSgd(w: WasmExports, n: number, c: SgdConfig): FusedSgd {
  const block = new Block(w, n, c.momentum !== 0 ? 1 : 0);
  const maximize = c.maximize ? 1 : 0,
    nesterov = c.nesterov ? 1 : 0;
  return {
    step: (theta, grad, lr, first) =>
      block.step(theta, grad, { lr }, (p) =>
        w.sgdStep(p, n, maximize, c.weightDecay, c.momentum, c.dampening, lr, nesterov, first ? 1 : 0),
      ),
    dispose: () => block.dispose(),
  };
}

export function wasmAdam(w: WasmExports, n: number, c: AdamConfig): FusedAdam {
  const block = new Block(w, n, c.amsgrad ? 3 : 2);
  const maximize = c.maximize ? 1 : 0,
    amsgrad = c.amsgrad ? 1 : 0,
    mode = decayMode(c);
  return {
    step: (theta, grad, stepSize, epsHat, decay) =>
      block.step(theta, grad, { stepSize, epsHat, decay }, (p) =>
        w.adamStep(p, n, maximize, c.weightDecay, mode, c.beta1, c.beta2, amsgrad, stepSize, epsHat, decay),
      ),
    dispose: () => block.dispose(),
  };
}
