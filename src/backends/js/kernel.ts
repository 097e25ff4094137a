/**
 * A kernel of the js reference backend: an op's forward rule and backward rule over the value arena
 * `v` and the adjoint arena `g` (offsets as in the instruction). Backward rules accumulate with
 * `+=`; operands may share an offset (x*x), so they are updated one after the other.
 */
import type { FloatArray } from '../../api/dtype.js';
export interface Kernel {
  /** p0..p2 are the first params; `p` holds all of them (p[q] = pq), `c` is the third operand */
  fwd(
    v: FloatArray,
    o: number,
    a: number,
    b: number,
    p0: number,
    p1: number,
    p2: number,
    c: number,
    p: Int32Array,
  ): void;
  bwd(
    v: FloatArray,
    g: FloatArray,
    flags: number,
    o: number,
    a: number,
    b: number,
    p0: number,
    p1: number,
    p2: number,
    c: number,
    p: Int32Array,
  ): void;
}
