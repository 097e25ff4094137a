import type { Engine, Program } from '../types.js';
import { loadAddon, type NativeProgramHandle } from './loader.js';

/**
 * The native backend: the tape runs in C++ (native/core) behind a thin Node-API binding. The
 * addon's program object already has the Program methods and validates its own arguments, so
 * this adapter only forwards.
 */
export function nativeEngine(): Engine {
  const addon = loadAddon();
  return {
    name: 'native',
    load: (tape) => new NativeProgram(addon.load(tape)),
  };
}

class NativeProgram implements Program {
  constructor(private readonly h: NativeProgramHandle) {}
  value(theta: Float64Array, inputs: readonly Float64Array[]): number {
    return this.h.value(theta, inputs);
  }
  reverse(theta: Float64Array, inputs: readonly Float64Array[], grad: Float64Array): number {
    return this.h.reverse(theta, inputs, grad);
  }
  fd(theta: Float64Array, inputs: readonly Float64Array[], grad: Float64Array, central: boolean, relStep: number, reuse: boolean, plan?: Int32Array): number {
    return this.h.fd(theta, inputs, grad, central, relStep, reuse, plan);
  }
  reverseAsync(theta: Float64Array, inputs: readonly Float64Array[], grad: Float64Array): Promise<number> {
    return this.h.reverseAsync(theta, inputs, grad);
  }
  fdAsync(theta: Float64Array, inputs: readonly Float64Array[], grad: Float64Array, central: boolean, relStep: number, reuse: boolean, plan?: Int32Array): Promise<number> {
    return this.h.fdAsync(theta, inputs, grad, central, relStep, reuse, plan);
  }
  dispose(): void {
    this.h.dispose();
  }
}
