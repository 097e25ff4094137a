/**
 * What every peer implementation of the benchmark workloads provides. A peer builds one case per
 * workload from the workload's own data (so every implementation computes the same function at
 * the same point) and returns its value and gradient flattened in tapegrad's parameter order.
 */
import type { Workload } from '../workloads.js';
import { LENET_PARAMS } from '../../src/models/lenet.js';

export interface PeerCase {
  /** one value-and-gradient, results read back to the host: what is timed */
  step(): void;
  /** the same, converted for the agreement check */
  result(): { value: number; grad: Float64Array };
  dispose(): void;
}

export interface Peer {
  readonly name: string;
  readonly dtype: 'float32' | 'float64';
  /** caveats printed under the table */
  readonly note?: string;
  /** makes this peer's backend current (peers sharing a library switch backends) */
  activate(): Promise<void>;
  build(w: Workload): PeerCase;
}

/** The workload's data by kind, as the peers need it (taken from the tapegrad workload itself). */
export type Data =
  | { kind: 'W1'; M: number; a: number; b: number; x: Float64Array }
  | { kind: 'W2'; M: number; d: number; theta: Float64Array; X: Float64Array; y: Float64Array }
  | {
      kind: 'W3';
      B: number;
      D: number;
      H: number;
      C: number;
      X: Float64Array;
      Y: Float64Array;
      W1: Float64Array;
      b1: Float64Array;
      W2: Float64Array;
      b2: Float64Array;
    }
  | {
      kind: 'W4';
      B: number;
      /** [B, 1, 28, 28] */
      X: Float64Array;
      /** [B, 10] one-hot */
      Y: Float64Array;
      /** the LeNet parameters in tapegrad's layouts (conv weights [out, in, kh, kw]), in flat order */
      p: Record<LenetParam, Float64Array>;
    };

/** The W4 parameter names in tapegrad's flat order (src/models/lenet.ts). */
export const LENET_ORDER = Object.keys(LENET_PARAMS) as LenetParam[];
export type LenetParam = keyof typeof LENET_PARAMS;

export function data(w: Workload): Data {
  const p = w.params as Record<string, Float64Array | number>;
  const x = w.inputs as Record<string, Float64Array>;
  const [kind] = w.name.split(' ');
  const leaf = (name: string) => w.f.inputs.find((l) => l.name === name)!.shape as readonly number[];
  if (kind === 'W1') return { kind, M: x.x.length, a: p.a as number, b: p.b as number, x: x.x };
  if (kind === 'W2')
    return { kind, M: x.y.length, d: (p.theta as Float64Array).length, theta: p.theta as Float64Array, X: x.X, y: x.y };
  if (kind === 'W3') {
    const [B, D] = leaf('X');
    const H = (p.b1 as Float64Array).length,
      C = (p.b2 as Float64Array).length;
    return {
      kind,
      B,
      D,
      H,
      C,
      X: x.X,
      Y: x.Y,
      W1: p.W1 as Float64Array,
      b1: p.b1 as Float64Array,
      W2: p.W2 as Float64Array,
      b2: p.b2 as Float64Array,
    };
  }
  if (kind === 'W4') return { kind, B: leaf('X')[0], X: x.X, Y: x.Y, p: p as Record<LenetParam, Float64Array> };
  throw new Error(`no peer implementation of workload '${w.name}'`);
}

/** Concatenates gradient pieces in tapegrad's order. */
export function flat(parts: readonly ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
