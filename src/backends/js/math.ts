/**
 * erf and erfc for the js reference: fdlibm's s_erf.c over Math.exp. JavaScript has no Math.erf,
 * so this port is the definition the other backends reproduce: native/core/jsmath_erf.h and
 * assembly/erf.ts perform the same IEEE operations in the same order (their exp is Math.exp bit
 * for bit), and the tests check all three agree bit for bit and stay within 1 ulp of the exact
 * value. See jsmath_erf.h for the method. No node: imports (this runs in browsers too).
 *
 * fdlibm: Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at SunPro,
 * a Sun Microsystems, Inc. business. Permission to use, copy, modify, and distribute this
 * software is freely granted, provided that this notice is preserved.
 */

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** index of the high word in u32 (little-endian hosts: 1) */
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** the high 32 bits of x, signed (fdlibm's GET_HIGH_WORD) */
function highWord(x: number): number {
  f64[0] = x;
  return u32[HIGH] | 0;
}
/** x with its low 32 bits cleared */
function clearLow(x: number): number {
  f64[0] = x;
  u32[1 - HIGH] = 0;
  return f64[0];
}

const ERX = 8.45062911510467529297e-1;
const EFX = 1.28379167095512586316e-1;
const EFX8 = 1.02703333676410069053;

/** P(z)/Q(z) on [0, 0.84375], z = x^2 */
function smallRatio(z: number): number {
  const r =
    1.28379167095512558561e-1 +
    z *
      (-3.2504210724700149937e-1 +
        z * (-2.84817495755985104766e-2 + z * (-5.77027029648944159157e-3 + z * -2.37630166566501626084e-5)));
  const s =
    1.0 +
    z *
      (3.97917223959155352819e-1 +
        z *
          (6.50222499887672944485e-2 +
            z * (5.08130628187576562776e-3 + z * (1.32494738004321644526e-4 + z * -3.9602282787753681232e-6))));
  return r / s;
}
/** P(s)/Q(s) on [0.84375, 1.25], s = |x| - 1 */
function midRatio(s: number): number {
  const P =
    -2.36211856075265944077e-3 +
    s *
      (4.14856118683748331666e-1 +
        s *
          (-3.72207876035701323847e-1 +
            s *
              (3.18346619901161753674e-1 +
                s * (-1.10894694282396677476e-1 + s * (3.54783043256182359371e-2 + s * -2.166375594868790843e-3)))));
  const Q =
    1.0 +
    s *
      (1.06420880400844228286e-1 +
        s *
          (5.40397917702171048937e-1 +
            s *
              (7.18286544141962662868e-2 +
                s * (1.26171219808761642112e-1 + s * (1.36370839120290507362e-2 + s * 1.1984499846799107417e-2)))));
  return P / Q;
}
/** erfc(ax) * ax for 1.25 <= ax < 28 (near: ax < 1/0.35) */
function tail(ax: number, near: boolean): number {
  const s = 1.0 / (ax * ax);
  let R: number, S: number;
  if (near) {
    R =
      -9.86494403484714822705e-3 +
      s *
        (-6.93858572707181764372e-1 +
          s *
            (-1.05586262253232909814e1 +
              s *
                (-6.23753324503260060396e1 +
                  s *
                    (-1.62396669462573470355e2 +
                      s *
                        (-1.84605092906711035994e2 + s * (-8.12874355063065934246e1 + s * -9.81432934416914548592))))));
    S =
      1.0 +
      s *
        (1.96512716674392571292e1 +
          s *
            (1.376577541435190426e2 +
              s *
                (4.34565877475229228821e2 +
                  s *
                    (6.45387271733267880336e2 +
                      s *
                        (4.29008140027567833386e2 +
                          s *
                            (1.08635005541779435134e2 +
                              s * (6.57024977031928170135 + s * -6.04244152148580987438e-2)))))));
  } else {
    R =
      -9.86494292470009928597e-3 +
      s *
        (-7.99283237680523006574e-1 +
          s *
            (-1.77579549177547519889e1 +
              s *
                (-1.60636384855821916062e2 +
                  s * (-6.37566443368389627722e2 + s * (-1.02509513161107724954e3 + s * -4.83519191608651397019e2)))));
    S =
      1.0 +
      s *
        (3.03380607434824582924e1 +
          s *
            (3.25792512996573918826e2 +
              s *
                (1.53672958608443695994e3 +
                  s *
                    (3.19985821950859553908e3 +
                      s *
                        (2.55305040643316442583e3 + s * (4.74528541206955367215e2 + s * -2.24409524465858183362e1))))));
  }
  const z = clearLow(ax);
  return Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + R / S);
}
/** the error function, error < 1 ulp */
export function erf(x: number): number {
  const hx = highWord(x);
  const ix = hx & 0x7fffffff;
  if (ix >= 0x7ff00000) return (hx < 0 ? -1.0 : 1.0) + 1.0 / x; // NaN, or +-1 for +-Inf
  if (ix < 0x3feb0000) {
    // |x| < 0.84375
    if (ix < 0x3e300000) {
      if (ix < 0x00800000) return 0.125 * (8.0 * x + EFX8 * x); // EFX * x would underflow
      return x + EFX * x;
    }
    return x + x * smallRatio(x * x);
  }
  if (ix < 0x3ff40000) {
    // |x| < 1.25
    const q = midRatio(Math.abs(x) - 1.0);
    return hx >= 0 ? ERX + q : -ERX - q;
  }
  if (ix >= 0x40180000) return hx >= 0 ? 1.0 : -1.0; // |x| >= 6
  const ax = Math.abs(x);
  const r = tail(ax, ix < 0x4006db6e);
  return hx >= 0 ? 1.0 - r / ax : r / ax - 1.0;
}

/** 1 - erf(x) without the cancellation for large x */
export function erfc(x: number): number {
  const hx = highWord(x);
  const ix = hx & 0x7fffffff;
  if (ix >= 0x7ff00000) return (hx < 0 ? 2.0 : 0.0) + 1.0 / x; // NaN, 0 for +Inf, 2 for -Inf
  if (ix < 0x3feb0000) {
    // |x| < 0.84375
    if (ix < 0x3c700000) return 1.0 - x; // |x| < 2^-56
    const y = smallRatio(x * x);
    if (hx < 0x3fd00000) return 1.0 - (x + x * y); // x < 1/4
    return 0.5 - (x * y + (x - 0.5));
  }
  if (ix < 0x3ff40000) {
    // |x| < 1.25
    const q = midRatio(Math.abs(x) - 1.0);
    return hx >= 0 ? 1.0 - ERX - q : 1.0 + (ERX + q);
  }
  if (ix < 0x403c0000) {
    // |x| < 28
    if (hx < 0 && ix >= 0x40180000) return 2.0; // x <= -6
    const ax = Math.abs(x);
    const r = tail(ax, ix < 0x4006db6d);
    return hx > 0 ? r / ax : 2.0 - r / ax;
  }
  return hx > 0 ? 0.0 : 2.0;
}
