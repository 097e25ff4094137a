/**
 * The float32 tolerances, written down once (README "float32" has the same rule in prose).
 *
 * A float32 result y32 is compared with y64, the float64 result of the same tape on the same
 * inputs: the float32-rounded parameters, inputs and tangents, so that input rounding is not
 * counted (it is the caller's, not the kernels'). What is left is the rounding of every stored
 * value, and the standard model of float32 arithmetic bounds it: a stored value is
 * fl(v) = v(1 + d) + e with |d| <= eps32 = 2^-23 and |e| <= eta32 = 2^-149 (gradual underflow),
 * and a sum of n terms accumulated in float32 is off by at most n eps32 sum|terms|.
 *
 * K, the roundings of the tape (`roundings`): each instruction adds the number of float32
 * roundings one of its stored elements can see. An elementwise op counts 1 (the contract in
 * src/api/dtype.ts: computed in float64, rounded once on store); any other op (matmul, conv,
 * reductions, the loss) counts its FLOPs per stored element from the cost model (at least 1):
 * a sum of n terms that rounds every partial sum. K bounds the number of roundings along any
 * path of the value sweep. A gradient also sees its own sweep's: the reverse sweep's Kb, counted
 * the same way from the backward FLOPs per adjoint element (dW = X^T dY sums over the batch, which
 * the forward product does not), or, in forward mode and jvp, the tangent sweep's, which mirrors
 * the value sweep (K again). So reverse gradients get K + Kb, forward-mode gradients and jvp 2K.
 *
 * The bounds (2-norms over the compared vector; entries where both sides are the same NaN or
 * infinity agree):
 * - the loss:          |f32 - f64| <= K eps32 (|f64| + sum_i |g64_i theta_i|) + K eta32.
 *   The second term is the condition estimate of f from the float64 gradient: where the loss is
 *   a sum that cancels, its rounding errors are relative to the terms, not to the result.
 * - named outputs:     ||y32 - y64|| <= K eps32 ||y64|| + K eta32 sqrt(n).
 * - gradients:         ||g32 - g64|| <= G eps32 ||g64|| + G eta32 sqrt(n), G = K + Kb (reverse)
 *                      or 2K (forward mode).
 * - jvp:               |d32 - d64| <= 2K eps32 (|d64| + sum_i |g64_i t_i|) + 2K eta32.
 * - finite differences, per coordinate, against the float64 reverse gradient: FD's own error
 *   model, |fd32_i - g64_i| <= 2 |fd64_i - g64_i| + 2 E_f / h_i + eps32 |g64_i| (forward; central
 *   E_f / h_i), where h_i is the float32 step (the stored perturbed value minus theta_i), E_f the
 *   loss bound above, and fd64 the float64 FD at the same relative step: its error is the
 *   truncation term (h |f''| / 2, or h^2 |f'''| / 6), measured rather than guessed, doubled for
 *   the float64 step that differs from the float32 one by up to eps32 / relStep relative.
 * - across backends (native and wasm float32 against js float32): the same bounds, with the js
 *   float32 result in place of y64 (they differ only in how sums accumulate); FD per coordinate
 *   within 4 E_f / h_i forward, 2 E_f / h_i central (each side's losses are within E_f of float64),
 *   plus 2 eps32 |fd_i|. Where every instruction of the tape is elementwise there is no sum to
 *   reorder, and the value, the outputs and FD must be js float32's bits (`elementwiseOnly`).
 *
 * These bounds are not loosened case by case. A case that cannot meet them is excluded by name in
 * test/float32.test.ts, with its reason and measured number in the test's title: one leaving
 * float32's range (a value beyond 3.4e38 or below 1e-45 in float64 where float32 gives Infinity
 * or 0; no rounding bound covers that) is not compared with float64, only across backends; one
 * whose exact gradient is a cancellation to 0 (no bound relative to ||g|| can hold) has its
 * gradients and jvp left out.
 */
import { instructionFlops } from '../src/trace/cost.js';
import type { Tape } from '../src/trace/compile.js';
import { Field, Flag, INSTR_WIDTH, MAX_PARAMS, OPS } from '../src/ops/opset.js';
import { elementDiff } from '../src/api/compare.js';
import { expect } from 'vitest';

export const EPS32 = 2 ** -23;
/** the smallest float32 subnormal: the absolute error a rounding can make below the normal range */
export const ETA32 = 2 ** -149;

const ELEMENTWISE_KINDS = new Set(['unary', 'binary', 'ternary']);

/**
 * The float32 roundings of the tape (see above): `forward`, K, over the value sweep; `backward`
 * over the reverse sweep, where each instruction counts, for the operand whose adjoint takes the
 * most, the backward FLOPs per adjoint element (an elementwise op's full operand 1, its scalar
 * operand the n terms summed into it).
 */
export function roundings(tape: Tape): { forward: number; backward: number } {
  const { fwd } = instructionFlops(tape);
  let forward = 0,
    backward = 0;
  const flagOf = [Flag.gradA, Flag.gradB, Flag.gradC];
  for (let i = 0; i < tape.nInstr; i++) {
    const w = tape.code.subarray(i * INSTR_WIDTH, (i + 1) * INSTR_WIDTH);
    const def = OPS[w[Field.op]];
    const p = Array.from(w.subarray(Field.p0, Field.p0 + MAX_PARAMS));
    const size = (e: readonly number[] | undefined) => (e ?? []).reduce((s, q) => s * p[q], 1);
    const out = size(def.extent.out);
    const elementwise = ELEMENTWISE_KINDS.has(def.kind);
    forward += elementwise ? 1 : Math.max(1, Math.ceil(fwd[i] / Math.max(1, out)));
    const flags = w[Field.flags];
    if (!(flags & Flag.gradOut)) continue;
    let most = 1;
    (['a', 'b', 'c'] as const).forEach((r, k) => {
      if (!(flags & flagOf[k])) return;
      const n = Math.max(1, size(def.extent[r]));
      const per = elementwise ? Math.max(1, out / n) : Math.ceil((def.flops.bwd[k]?.(p) ?? 0) / n);
      most = Math.max(most, per);
    });
    backward += most;
  }
  return { forward: Math.max(1, forward), backward };
}

/**
 * Whether every instruction of the tape is elementwise: then the float32 contract (each op
 * computed in float64 with the reference's exact operations, rounded once) fixes every stored
 * value, and the value sweep, the outputs and FD are the same bits on every backend.
 */
export function elementwiseOnly(tape: Tape): boolean {
  for (let i = 0; i < tape.nInstr; i++)
    if (!ELEMENTWISE_KINDS.has(OPS[tape.code[i * INSTR_WIDTH + Field.op]].kind)) return false;
  return true;
}

/** The loss bound: K eps32 (|f| + sum |g_i theta_i|) + K eta32 (`cond` is the sum). */
export function lossBound(k: number, f: number, cond: number): number {
  // a NaN or infinite loss must be matched exactly (differenceNorm): its bound is the finite part's
  return k * EPS32 * ((Number.isFinite(f) ? Math.abs(f) : 0) + cond) + k * ETA32;
}

/** sum_i |g_i x_i|: the condition estimate of a scalar from its float64 gradient (non-finite terms skipped). */
export function conditionSum(g: ArrayLike<number>, x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) {
    const t = Math.abs(g[i] * x[i]);
    if (Number.isFinite(t)) s += t;
  }
  return s;
}

/** The vector bound: k eps32 ||y|| + k eta32 sqrt(n) (k = K for outputs, G for gradients). */
export function vectorBound(k: number, want: ArrayLike<number>): number {
  return k * EPS32 * finiteNorm(want) + k * ETA32 * Math.sqrt(want.length);
}

/** ||x||_2 over the finite entries, scaled so that neither overflow nor underflow spoils it. */
function finiteNorm(x: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i])) max = Math.max(max, Math.abs(x[i]));
  if (max === 0) return 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i])) s += (x[i] / max) ** 2;
  return max * Math.sqrt(s);
}

/** ||got - want||_2 with the agreement rule of api/compare.ts (the same NaN or infinity agree). */
export function differenceNorm(got: ArrayLike<number>, want: ArrayLike<number>): number {
  const d = Array.from({ length: want.length }, (_, i) => elementDiff(got[i], want[i]));
  if (d.some((x) => !Number.isFinite(x))) return Infinity;
  return finiteNorm(d);
}

/** Fails unless ||got - want|| <= bound, reporting the measured error as a multiple of the bound. */
export function expectWithin(got: ArrayLike<number>, want: ArrayLike<number>, bound: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const err = differenceNorm(got, want);
  if (!(err === 0 || err <= bound)) {
    let worst = 0;
    for (let i = 0; i < want.length; i++)
      if (elementDiff(got[i], want[i]) > elementDiff(got[worst], want[worst])) worst = i;
    expect.fail(
      `${what}: error ${err} > bound ${bound} (${(err / bound).toPrecision(3)}x); worst element ${worst}: got ${got[worst]}, float64 ${want[worst]}`,
    );
  }
}

/** The float32 FD step of each coordinate, as the backends take it: fl32(x + relStep max(1, |x|)) - x. */
export function steps(theta: Float32Array, relStep: number): Float64Array {
  return Float64Array.from(theta, (x) => Math.fround(x + relStep * Math.max(1, Math.abs(x))) - x);
}

/**
 * Finite differences against the float64 gradient, per coordinate (FD's error model, above):
 * |fd32_i - g64_i| <= 2 |fd64_i - g64_i| + r E_f / h_i + eps32 |g64_i|, r = 2 forward, 1 central.
 */
export function expectFd(
  fd32: ArrayLike<number>,
  fd64: ArrayLike<number>,
  g64: ArrayLike<number>,
  h: ArrayLike<number>,
  ef: number,
  central: boolean,
  what: string,
): void {
  for (let i = 0; i < g64.length; i++) {
    const bound = 2 * Math.abs(fd64[i] - g64[i]) + ((central ? 1 : 2) * ef) / h[i] + EPS32 * Math.abs(g64[i]);
    const err = elementDiff(fd32[i], g64[i]);
    if (!(err <= bound))
      expect.fail(
        `${what}: coordinate ${i}: got ${fd32[i]}, float64 gradient ${g64[i]} (error ${err} > bound ${bound}: float64 FD ${fd64[i]}, step ${h[i]}, loss bound ${ef})`,
      );
  }
}
