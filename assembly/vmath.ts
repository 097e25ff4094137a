/**
 * exp on two lanes at once (f64x2), bit-identical to the scalar fdlibm exp in math.ts: the same
 * operations in the same order, with the branches of fdlibm turned into lane selects. Lanes that
 * need fdlibm's rare paths (|x| >= 709.78, NaN, Inf, results scaled by 2^k with k < -1021 or
 * k = 1024) send the pair to the scalar function.
 *
 * Why the select form equals fdlibm's branches (checked against Math.exp in test/wasm-math.test.ts):
 * - 0.5 ln2 < |x| < 1.5 ln2 (fdlibm's k = +-1 branch): the general reduction with t = +-1 gives the
 *   same hi, lo and k, since ln2HI[1] = -ln2HI[0] and trunc(x/ln2 +- 0.5) = +-1 there;
 * - |x| <= 0.5 ln2 (k = 0): with t = 0 the general formula 1 - ((0 - r*c/(2-c)) - x) equals fdlibm's
 *   1 - ((x*c)/(c-2) - x) exactly (IEEE negation and division are sign-symmetric), and 2^0 = 1;
 * - |x| < 2^-28 and x = 1 are selected afterwards (1 + x and Math.E).
 */
import { exp, EXP_E, EXP_INV_LN2, EXP_LN2_HI, EXP_LN2_LO, EXP_P1, EXP_P2, EXP_P3, EXP_P4, EXP_P5 } from './math';

// |x| below which fdlibm reduces nothing (hx <= 0x3fd62e42) and below which it returns 1 + x
const REDUCE_FROM = 0.3465735912322998; // 0x3fd62e43_00000000
const TINY_BELOW = 3.725290298461914e-9; // 0x3e300000_00000000 = 2^-28
const SPECIAL_FROM = 709.7822265625; // 0x40862e42_00000000
const SIGN: u64 = 0x8000000000000000;

// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  const ax = f64x2.abs(x);
  // k = (int)(x/ln2 +- 0.5), zero where fdlibm does not reduce
  const half = v128.or(f64x2.splat(0.5), v128.and(x, i64x2.splat(SIGN)));
  const kf = f64x2.convert_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(f64x2.add(f64x2.mul(f64x2.splat(EXP_INV_LN2), x), half)));
  const t = v128.and(kf, f64x2.ge(ax, f64x2.splat(REDUCE_FROM)));
  const hi = f64x2.sub(x, f64x2.mul(t, f64x2.splat(EXP_LN2_HI)));
  const lo = f64x2.mul(t, f64x2.splat(EXP_LN2_LO));
  const r = f64x2.sub(hi, lo);
  const rr = f64x2.mul(r, r);
  let p = f64x2.add(f64x2.splat(EXP_P4), f64x2.mul(rr, f64x2.splat(EXP_P5)));
  p = f64x2.add(f64x2.splat(EXP_P3), f64x2.mul(rr, p));
  p = f64x2.add(f64x2.splat(EXP_P2), f64x2.mul(rr, p));
  p = f64x2.add(f64x2.splat(EXP_P1), f64x2.mul(rr, p));
  const c = f64x2.sub(r, f64x2.mul(rr, p));
  const q = f64x2.div(f64x2.mul(r, c), f64x2.sub(f64x2.splat(2.0), c));
  let y = f64x2.sub(f64x2.splat(1.0), f64x2.sub(f64x2.sub(lo, q), hi));
  // 2^k from the bits of k + 1023 (t is an integer in [-1021, 1023] on this path)
  const twopk = i64x2.shl(f64x2.add(t, f64x2.splat(4503599627370496.0 + 1023.0)), 52);
  y = f64x2.mul(y, twopk);
  y = v128.bitselect(f64x2.add(f64x2.splat(1.0), x), y, f64x2.lt(ax, f64x2.splat(TINY_BELOW)));
  y = v128.bitselect(f64x2.splat(EXP_E), y, f64x2.eq(x, f64x2.splat(1.0)));
  // rare lanes: NaN, Inf, overflow, underflow, and 2^k outside [2^-1021, 2^1023]
  const rare = v128.or(
    v128.not(f64x2.lt(ax, f64x2.splat(SPECIAL_FROM))),
    v128.or(f64x2.lt(t, f64x2.splat(-1021.0)), f64x2.gt(t, f64x2.splat(1023.0))),
  );
  if (v128.any_true(rare)) {
    y = f64x2.replace_lane(y, 0, exp(f64x2.extract_lane(x, 0)));
    y = f64x2.replace_lane(y, 1, exp(f64x2.extract_lane(x, 1)));
  }
  return y;
}
