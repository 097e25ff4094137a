/**
 * Loads the native addon (build/Release/tapegrad.node, built by `npm install` or
 * `npm rebuild tapegrad` through binding.gyp, or by `npm run build:cmake`). TAPEGRAD_NATIVE_PATH points at another build (the
 * sanitizer build, say); TAPEGRAD_NATIVE_ISA forces a kernel build (baseline | avx2 | avx512).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DType } from '../../api/dtype.js';
import type { Tape } from '../../trace/compile.js';
import type { AdamConfig, FusedAdam, FusedSgd, Program, SgdConfig } from '../types.js';

/** One compiled tape inside the addon (native/binding/addon.cpp); it checks every argument itself. */
export interface NativeProgramHandle extends Required<Program> {
  readonly isa: string | undefined;
  readonly busy: boolean;
  /** the element type of its arrays (undefined once disposed) */
  readonly dtype: DType | undefined;
  /** the threads this function may use (undefined once disposed) */
  readonly threads: number | undefined;
  /**
   * What the load passes decided (native/core/program.cpp), 7 words per instruction: elided,
   * scalarSide, gout, flags, absA, absB, absC. For tests.
   */
  passes(): Int32Array;
}

export interface NativeAddon {
  /**
   * threads: how many this function may use (default 1; an integer from 1 to 1024); dtype: the
   * element type of its arenas and arrays (default 'float64'; 'float32' takes Float32Arrays)
   */
  load(tape: Tape, isa?: string, threads?: number, dtype?: DType): NativeProgramHandle;
  /** a fused optimizer's state for n parameters (native/binding/optim.cpp) */
  Optimizer: {
    new (kind: 'sgd', n: number, config: SgdConfig): FusedSgd;
    new (kind: 'adam', n: number, config: AdamConfig): FusedAdam;
  };
  /** y = name(x) by one kernel build's vector math (accuracy tests) */
  vmath(name: string, x: Float64Array, y: Float64Array, isa?: string): void;
  /** one core's measured arithmetic peak in GFLOP/s (k_peak.h), the fastest run over `ms` (npm run bench) */
  peak(dtype: 'float64' | 'float32', ms: number, isa?: string): number;
  /** kernel builds this CPU can run, best last */
  readonly supportedIsas: readonly string[];
  /** the build in use (null when TAPEGRAD_NATIVE_ISA names one this CPU cannot run) */
  readonly isa: string | null;
  readonly isaError: string;
}

let addon: NativeAddon | undefined;

/** The addon, loaded once; throws with the reason when it is missing or cannot run here. */
export function loadAddon(): NativeAddon {
  if (addon) return addon;
  const custom = process.env.TAPEGRAD_NATIVE_PATH;
  // a relative TAPEGRAD_NATIVE_PATH is relative to the working directory
  const path = custom
    ? resolve(custom)
    : fileURLToPath(new URL('../../../build/Release/tapegrad.node', import.meta.url));
  const require = createRequire(import.meta.url);
  let a: NativeAddon;
  try {
    a = require(path) as NativeAddon;
  } catch (e) {
    // backend() adds the fix (npm rebuild tapegrad); a missing file means the build failed or was skipped
    const log = fileURLToPath(new URL('../../../build-native.log', import.meta.url));
    const hint = !custom && existsSync(log) ? ` (the failed build's output: ${log})` : '';
    throw new Error(`cannot load ${path}${hint}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (a.isa === null) throw new Error(a.isaError);
  return (addon = a);
}
