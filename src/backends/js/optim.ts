/**
 * The fused optimizer steps of the js backend, and the reference for the other two: the same
 * IEEE operations in the same order per element in native/core/optim.h and assembly/optim.ts,
 * so all three backends compute the same bits (no fused multiply-add anywhere; sqrt and division
 * are correctly rounded everywhere). The update rules are documented in src/train/optimizers.ts.
 */
import type { AdamConfig, BackendName, FusedAdam, FusedSgd, SgdConfig } from '../types.js';

/** Checks one step's arguments before anything changes (the js and wasm backends). */
export function checkStep(
  backend: BackendName,
  n: number,
  theta: unknown,
  grad: unknown,
  scalars: Record<string, number>,
): void {
  for (const [what, x] of [
    ['theta', theta],
    ['grad', grad],
  ] as const)
    if (!(x instanceof Float64Array) || x.length !== n)
      throw new RangeError(`${backend} backend: ${what} must be a Float64Array of ${n} elements`);
  for (const [name, s] of Object.entries(scalars))
    if (typeof s !== 'number' || !Number.isFinite(s))
      throw new RangeError(`${backend} backend: ${name} must be a finite number, got ${s}`);
}

/** How weight decay enters an Adam step (also the wasm and native kernels' mode argument). */
export const Decay = {
  none: 0,
  /** L2: weightDecay * theta added to the gradient (torch.optim.Adam) */
  l2: 1,
  /** decoupled: theta *= 1 - lr * weightDecay (torch.optim.AdamW) */
  decoupled: 2,
} as const;

export function decayMode(c: AdamConfig): number {
  return c.weightDecay === 0 ? Decay.none : c.decoupled ? Decay.decoupled : Decay.l2;
}

/** One SGD step over the flat vectors; buf is the momentum buffer. */
export function sgdStep(
  c: SgdConfig,
  theta: Float64Array,
  grad: Float64Array,
  buf: Float64Array,
  lr: number,
  first: boolean,
): void {
  const sign = c.maximize ? -1 : 1,
    wd = c.weightDecay,
    mu = c.momentum,
    keep = 1 - c.dampening,
    nesterov = c.nesterov;
  for (let i = 0; i < theta.length; i++) {
    let g = grad[i] * sign;
    if (wd !== 0) g = g + wd * theta[i];
    if (mu !== 0) {
      const b = first ? g : mu * buf[i] + keep * g;
      buf[i] = b;
      g = nesterov ? g + mu * b : b;
    }
    theta[i] = theta[i] - lr * g;
  }
}

/** One Adam step; m, v the moments, vmax the running maximum of v (amsgrad; unused otherwise). */
export function adamStep(
  c: AdamConfig,
  theta: Float64Array,
  grad: Float64Array,
  m: Float64Array,
  v: Float64Array,
  vmax: Float64Array,
  stepSize: number,
  epsHat: number,
  decay: number,
): void {
  const sign = c.maximize ? -1 : 1,
    wd = c.weightDecay,
    mode = decayMode(c),
    amsgrad = c.amsgrad;
  const b1 = c.beta1,
    b2 = c.beta2,
    c1 = 1 - b1,
    c2 = 1 - b2;
  for (let i = 0; i < theta.length; i++) {
    let g = grad[i] * sign;
    let t = theta[i];
    if (mode === Decay.l2) g = g + wd * t;
    else if (mode === Decay.decoupled) t = t * decay;
    const mi = b1 * m[i] + c1 * g;
    const vi = b2 * v[i] + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    let s = vi;
    if (amsgrad) {
      const x = vmax[i];
      s = vi > x || vi !== vi ? vi : x; // the maximum, NaN from either side kept
      vmax[i] = s;
    }
    const denom = Math.sqrt(s) + epsHat;
    theta[i] = t - (stepSize * mi) / denom;
  }
}

class JsSgd implements FusedSgd {
  private buf?: Float64Array;
  constructor(
    private readonly n: number,
    private readonly c: SgdConfig,
  ) {
    this.buf = new Float64Array(c.momentum !== 0 ? n : 0);
  }
  step(theta: Float64Array, grad: Float64Array, lr: number, first: boolean): void {
    if (!this.buf) throw new Error('js backend: this optimizer state was disposed');
    checkStep('js', this.n, theta, grad, { lr });
    sgdStep(this.c, theta, grad, this.buf, lr, first);
  }
  dispose(): void {
    this.buf = undefined;
  }
}

class JsAdam implements FusedAdam {
  private state?: { m: Float64Array; v: Float64Array; vmax: Float64Array };
  constructor(
    private readonly n: number,
    private readonly c: AdamConfig,
  ) {
    this.state = { m: new Float64Array(n), v: new Float64Array(n), vmax: new Float64Array(c.amsgrad ? n : 0) };
  }
  step(theta: Float64Array, grad: Float64Array, stepSize: number, epsHat: number, decay: number): void {
    const s = this.state;
    if (!s) throw new Error('js backend: this optimizer state was disposed');
    checkStep('js', this.n, theta, grad, { stepSize, epsHat, decay });
    adamStep(this.c, theta, grad, s.m, s.v, s.vmax, stepSize, epsHat, decay);
  }
  dispose(): void {
    this.state = undefined;
  }
}

export const jsSgd = (n: number, c: SgdConfig): FusedSgd => new JsSgd(n, c);
export const jsAdam = (n: number, c: AdamConfig): FusedAdam => new JsAdam(n, c);
