/**
 * Scalar exp, log, log1p, expm1, tanh and pow: ports of fdlibm, the library V8 (Node 20) uses for
 * Math.exp/log/log1p/expm1/tanh/pow, so that every value is bit-identical to the js reference.
 * Bit-identical matters beyond accuracy: a forward difference divides the difference of two
 * evaluations by h ~ 1e-8, so a one-ulp disagreement in f becomes a 1e-8 relative disagreement
 * in the finite-difference gradient, above the 1e-9 conformance bar. (test/wasm-math.test.ts
 * measures the agreement with Math.* over wide ranges.)
 *
 * fdlibm: Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at SunSoft,
 * a Sun Microsystems, Inc. business. Permission to use, copy, modify, and distribute this software
 * is freely granted, provided that this notice is preserved.
 */

// @ts-ignore: decorator
@inline export function HI(x: f64): i32 {
  return <i32>(reinterpret<u64>(x) >>> 32);
}
// @ts-ignore: decorator
@inline export function LO(x: f64): u32 {
  return <u32>reinterpret<u64>(x);
}
// @ts-ignore: decorator
@inline export function words(hi: i32, lo: u32): f64 {
  return reinterpret<f64>((<u64>(<u32>hi) << 32) | <u64>lo);
}
// @ts-ignore: decorator
@inline function withHI(x: f64, hi: i32): f64 {
  return words(hi, LO(x));
}
// @ts-ignore: decorator
@inline function withLO(x: f64, lo: u32): f64 {
  return words(HI(x), lo);
}

const LN2_HI = 6.93147180369123816490e-01; // 0x3FE62E42 FEE00000
const LN2_LO = 1.90821492927058770002e-10; // 0x3DEA39EF 35793C76
const INV_LN2 = 1.44269504088896338700e+00;
const TWO54 = 1.80143985094819840000e+16;
const HUGE = 1.0e300;
const TINY = 1.0e-300;
const TWOM1000 = 9.33263618503218878990e-302;
const TWO1023 = 8.988465674311579539e307;

export const EXP_P1 = 1.66666666666666019037e-01;
export const EXP_P2 = -2.77777777770155933842e-03;
export const EXP_P3 = 6.61375632143793436117e-05;
export const EXP_P4 = -1.65339022054652515390e-06;
export const EXP_P5 = 4.13813679705723846039e-08;
export const EXP_LN2_HI = LN2_HI;
export const EXP_LN2_LO = LN2_LO;
export const EXP_INV_LN2 = INV_LN2;
/** Math.E; V8 returns it for exp(1) (the reduction below would be one ulp off there) */
export const EXP_E = 2.718281828459045;

/** e^x (fdlibm e_exp.c as in V8: error < 1 ulp; exp(1) = Math.E). */
export function exp(x: f64): f64 {
  let hx = <u32>HI(x);
  const xsb = <i32>(hx >> 31);
  hx &= 0x7fffffff;
  if (hx >= 0x40862e42) {
    // |x| >= 709.78...
    if (hx >= 0x7ff00000) {
      if (((hx & 0xfffff) | LO(x)) != 0) return x + x; // NaN
      return xsb == 0 ? x : 0.0; // exp(+-inf) = inf, 0
    }
    if (x > 7.09782712893383973096e+02) return HUGE * HUGE;
    if (x < -7.45133219101941108420e+02) return TWOM1000 * TWOM1000;
  }
  let hi: f64 = 0, lo: f64 = 0;
  let k: i32 = 0;
  if (hx > 0x3fd62e42) {
    // |x| > 0.5 ln2
    if (hx < 0x3ff0a2b2) {
      // |x| < 1.5 ln2
      if (x == 1.0) return EXP_E;
      hi = xsb == 0 ? x - LN2_HI : x + LN2_HI;
      lo = xsb == 0 ? LN2_LO : -LN2_LO;
      k = 1 - xsb - xsb;
    } else {
      k = <i32>(INV_LN2 * x + (xsb == 0 ? 0.5 : -0.5));
      const t = <f64>k;
      hi = x - t * LN2_HI; // exact
      lo = t * LN2_LO;
    }
    x = hi - lo;
  } else if (hx < 0x3e300000) {
    // |x| < 2^-28
    return 1.0 + x;
  }
  const t = x * x;
  const c = x - t * (EXP_P1 + t * (EXP_P2 + t * (EXP_P3 + t * (EXP_P4 + t * EXP_P5))));
  if (k == 0) return 1.0 - ((x * c) / (c - 2.0) - x);
  const y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * TWO1023;
    return y * words(0x3ff00000 + (k << 20), 0);
  }
  return y * words(0x3ff00000 + ((k + 1000) << 20), 0) * TWOM1000;
}

const LG1 = 6.666666666666735130e-01;
const LG2 = 3.999999999940941908e-01;
const LG3 = 2.857142874366239149e-01;
const LG4 = 2.222219843214978396e-01;
const LG5 = 1.818357216161805012e-01;
const LG6 = 1.531383769920937332e-01;
const LG7 = 1.479819860511658591e-01;

/** natural logarithm (fdlibm e_log.c: error < 1 ulp; NaN below 0, -Inf at 0) */
export function log(x: f64): f64 {
  let hx = HI(x);
  const lx = LO(x);
  let k: i32 = 0;
  if (hx < 0x00100000) {
    // x < 2^-1022
    if (((hx & 0x7fffffff) | lx) == 0) return -Infinity; // log(+-0)
    if (hx < 0) return NaN; // log(-#)
    k -= 54;
    x *= TWO54; // subnormal: scale up
    hx = HI(x);
  }
  if (hx >= 0x7ff00000) return x + x;
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const i = (hx + 0x95f64) & 0x100000;
  x = withHI(x, hx | (i ^ 0x3ff00000)); // normalize x or x/2
  k += i >> 20;
  const f = x - 1.0;
  if ((0x000fffff & (2 + hx)) < 3) {
    // -2^-20 <= f < 2^-20
    if (f == 0) {
      if (k == 0) return 0;
      const dk = <f64>k;
      return dk * LN2_HI + dk * LN2_LO;
    }
    const R = f * f * (0.5 - 0.33333333333333333 * f);
    if (k == 0) return f - R;
    const dk = <f64>k;
    return dk * LN2_HI - ((R - dk * LN2_LO) - f);
  }
  const s = f / (2.0 + f);
  const dk = <f64>k;
  const z = s * s;
  let ii = hx - 0x6147a;
  const w = z * z;
  const j = 0x6b851 - hx;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  ii |= j;
  const R = t2 + t1;
  if (ii > 0) {
    const hfsq = 0.5 * f * f;
    if (k == 0) return f - (hfsq - s * (hfsq + R));
    return dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f);
  }
  if (k == 0) return f - s * (f - R);
  return dk * LN2_HI - ((s * (f - R) - dk * LN2_LO) - f);
}

/** log(1 + x), accurate near 0 (fdlibm s_log1p.c: error < 1 ulp; -Inf at -1, NaN below) */
export function log1p(x: f64): f64 {
  const hx = HI(x);
  const ax = hx & 0x7fffffff;
  let k: i32 = 1;
  let f: f64 = 0, c: f64 = 0;
  let hu: i32 = 0;
  if (hx < 0x3fda827a) {
    // x < 0.41422
    if (ax >= 0x3ff00000) {
      // x <= -1.0
      if (x == -1.0) return -Infinity;
      return NaN;
    }
    if (ax < 0x3e200000) {
      // |x| < 2^-29
      if (ax < 0x3c900000) return x; // |x| < 2^-54
      return x - x * x * 0.5;
    }
    if (hx > 0 || hx <= <i32>0xbfd2bec4) {
      // -0.2929 < x < 0.41422
      k = 0;
      f = x;
      hu = 1;
    }
  }
  if (hx >= 0x7ff00000) return x + x;
  if (k != 0) {
    let u: f64;
    if (hx < 0x43400000) {
      u = 1.0 + x;
      hu = HI(u);
      k = (hu >> 20) - 1023;
      c = k > 0 ? 1.0 - (u - x) : x - (u - 1.0); // correction term
      c /= u;
    } else {
      u = x;
      hu = HI(u);
      k = (hu >> 20) - 1023;
      c = 0;
    }
    hu &= 0x000fffff;
    if (hu < 0x6a09e) {
      u = withHI(u, hu | 0x3ff00000); // normalize u
    } else {
      k += 1;
      u = withHI(u, hu | 0x3fe00000); // normalize u/2
      hu = (0x00100000 - hu) >> 2;
    }
    f = u - 1.0;
  }
  const hfsq = 0.5 * f * f;
  const dk = <f64>k;
  if (hu == 0) {
    // |f| < 2^-20
    if (f == 0) {
      if (k == 0) return 0;
      c += dk * LN2_LO;
      return dk * LN2_HI + c;
    }
    const R = hfsq * (1.0 - 0.66666666666666666 * f);
    if (k == 0) return f - R;
    return dk * LN2_HI - ((R - (dk * LN2_LO + c)) - f);
  }
  const s = f / (2.0 + f);
  const z = s * s;
  const R = z * (LG1 + z * (LG2 + z * (LG3 + z * (LG4 + z * (LG5 + z * (LG6 + z * LG7))))));
  if (k == 0) return f - (hfsq - s * (hfsq + R));
  return dk * LN2_HI - ((hfsq - (s * (hfsq + R) + (dk * LN2_LO + c))) - f);
}

const Q1 = -3.33333333333331316428e-02;
const Q2 = 1.58730158725481460165e-03;
const Q3 = -7.93650757867487942473e-05;
const Q4 = 4.00821782732936239552e-06;
const Q5 = -2.01099218183624371326e-07;

/** e^x - 1, accurate near 0 (fdlibm s_expm1.c: error < 1 ulp) */
export function expm1(x: f64): f64 {
  let hx = <u32>HI(x);
  const xsb = hx & 0x80000000;
  hx &= 0x7fffffff;
  if (hx >= 0x4043687a) {
    // |x| >= 56 ln2
    if (hx >= 0x40862e42) {
      // |x| >= 709.78...
      if (hx >= 0x7ff00000) {
        if (((hx & 0xfffff) | LO(x)) != 0) return x + x; // NaN
        return xsb == 0 ? x : -1.0;
      }
      if (x > 7.09782712893383973096e+02) return HUGE * HUGE;
    }
    if (xsb != 0) return TINY - 1.0; // x < -56 ln2
  }
  let hi: f64, lo: f64, c: f64 = 0;
  let k: i32 = 0;
  if (hx > 0x3fd62e42) {
    // |x| > 0.5 ln2
    if (hx < 0x3ff0a2b2) {
      if (xsb == 0) {
        hi = x - LN2_HI;
        lo = LN2_LO;
        k = 1;
      } else {
        hi = x + LN2_HI;
        lo = -LN2_LO;
        k = -1;
      }
    } else {
      k = <i32>(INV_LN2 * x + (xsb == 0 ? 0.5 : -0.5));
      const t = <f64>k;
      hi = x - t * LN2_HI;
      lo = t * LN2_LO;
    }
    x = hi - lo;
    c = (hi - x) - lo;
  } else if (hx < 0x3c900000) {
    return x; // |x| < 2^-54
  }
  const hfx = 0.5 * x;
  const hxs = x * hfx;
  const r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
  let t = 3.0 - r1 * hfx;
  let e = hxs * ((r1 - t) / (6.0 - x * t));
  if (k == 0) return x - (x * e - hxs);
  const twopk = words(0x3ff00000 + (k << 20), 0);
  e = x * (e - c) - c;
  e -= hxs;
  if (k == -1) return 0.5 * (x - e) - 0.5;
  if (k == 1) {
    if (x < -0.25) return -2.0 * (e - (x + 0.5));
    return 1.0 + 2.0 * (x - e);
  }
  let y: f64;
  if (k <= -2 || k > 56) {
    y = 1.0 - (e - x);
    if (k == 1024) y = y * 2.0 * 8.98846567431158e+307;
    else y = y * twopk;
    return y - 1.0;
  }
  if (k < 20) {
    t = words(0x3ff00000 - (0x200000 >> k), 0); // 1 - 2^-k
    y = t - (e - x);
    y = y * twopk;
  } else {
    t = words((0x3ff - k) << 20, 0); // 2^-k
    y = x - (e + t);
    y += 1.0;
    y = y * twopk;
  }
  return y;
}

/** hyperbolic tangent (fdlibm s_tanh.c in its FreeBSD form, as V8: error < 2 ulp) */
export function tanh(x: f64): f64 {
  const jx = HI(x);
  const ix = jx & 0x7fffffff;
  if (ix >= 0x7ff00000) {
    // Inf or NaN
    if (jx >= 0) return 1.0 / x + 1.0;
    return 1.0 / x - 1.0;
  }
  let z: f64;
  if (ix < 0x40360000) {
    // |x| < 22
    if (ix < 0x3e300000) return x; // |x| < 2^-28 (FreeBSD's cutoff, as V8)
    if (ix >= 0x3ff00000) {
      // |x| >= 1
      const t = expm1(2.0 * Math.abs(x));
      z = 1.0 - 2.0 / (t + 2.0);
    } else {
      const t = expm1(-2.0 * Math.abs(x));
      z = -t / (t + 2.0);
    }
  } else {
    z = 1.0 - TINY; // |x| >= 22: +-1
  }
  return jx >= 0 ? z : -z;
}

/** x * 2^n, exactly where representable (fdlibm s_scalbn.c) */
export function scalbn(x: f64, n: i32): f64 {
  let hx = HI(x);
  const lx = LO(x);
  let k = (hx & 0x7ff00000) >> 20;
  if (k == 0) {
    if ((lx | (hx & 0x7fffffff)) == 0) return x; // +-0
    x *= TWO54;
    hx = HI(x);
    k = ((hx & 0x7ff00000) >> 20) - 54;
    if (n < -50000) return TINY * x;
  }
  if (k == 0x7ff) return x + x; // NaN or Inf
  k = k + n;
  if (k > 0x7fe) return HUGE * copysign(HUGE, x);
  if (k > 0) return withHI(x, (hx & <i32>0x800fffff) | (k << 20));
  if (k <= -54) {
    if (n > 50000) return HUGE * copysign(HUGE, x);
    return TINY * copysign(TINY, x);
  }
  k += 54;
  x = withHI(x, (hx & <i32>0x800fffff) | (k << 20));
  return x * 5.55111512312578270212e-17; // 2^-54
}

// @ts-ignore: decorator
@inline function copysign(x: f64, y: f64): f64 {
  return reinterpret<f64>((reinterpret<u64>(x) & 0x7fffffffffffffff) | (reinterpret<u64>(y) & 0x8000000000000000));
}

/** x^y with Math.pow semantics (fdlibm e_pow.c, the legacy pow of V8) */
export function pow(x: f64, y: f64): f64 {
  const hx = HI(x);
  const lx = LO(x);
  const hy = HI(y);
  const ly = LO(y);
  let ix = hx & 0x7fffffff;
  const iy = hy & 0x7fffffff;

  if ((<u32>iy | ly) == 0) return 1.0; // x^0 = 1
  if (ix > 0x7ff00000 || (ix == 0x7ff00000 && lx != 0) || iy > 0x7ff00000 || (iy == 0x7ff00000 && ly != 0))
    return x + y; // NaN

  // yisint: 0 y not an integer, 1 odd, 2 even (only needed when x < 0)
  let yisint: i32 = 0;
  if (hx < 0) {
    if (iy >= 0x43400000) yisint = 2;
    else if (iy >= 0x3ff00000) {
      const k = (iy >> 20) - 0x3ff;
      if (k > 20) {
        const j = ly >> <u32>(52 - k);
        if ((j << <u32>(52 - k)) == ly) yisint = 2 - <i32>(j & 1);
      } else if (ly == 0) {
        const j = iy >> (20 - k);
        if ((j << (20 - k)) == iy) yisint = 2 - (j & 1);
      }
    }
  }

  if (ly == 0) {
    if (iy == 0x7ff00000) {
      // y is +-inf
      if (((ix - 0x3ff00000) | <i32>lx) == 0) return y - y; // (+-1)^+-inf is NaN
      if (ix >= 0x3ff00000) return hy >= 0 ? y : 0.0;
      return hy < 0 ? -y : 0.0;
    }
    if (iy == 0x3ff00000) {
      // y is +-1
      if (hy < 0) return 1.0 / x;
      return x;
    }
    if (hy == 0x40000000) return x * x; // y is 2
    if (hy == 0x3fe00000) {
      // y is 0.5
      if (hx >= 0) return Math.sqrt(x);
    }
  }

  let ax = Math.abs(x);
  if (lx == 0) {
    if (ix == 0x7ff00000 || ix == 0 || ix == 0x3ff00000) {
      // x is +-0, +-inf, +-1
      let z = ax;
      if (hy < 0) z = 1.0 / z;
      if (hx < 0) {
        if (((ix - 0x3ff00000) | yisint) == 0) z = NaN; // (-1)^non-int
        else if (yisint == 1) z = -z;
      }
      return z;
    }
  }

  let n = (hx >> 31) + 1;
  if ((n | yisint) == 0) return NaN; // (x<0)^(non-int)
  let s: f64 = 1.0;
  if ((n | (yisint - 1)) == 0) s = -1.0; // (-ve)^(odd int)

  let t1: f64, t2: f64;
  if (iy > 0x41e00000) {
    // |y| > 2^31
    if (iy > 0x43f00000) {
      // |y| > 2^64: must over/underflow
      if (ix <= 0x3fefffff) return hy < 0 ? HUGE * HUGE : TINY * TINY;
      if (ix >= 0x3ff00000) return hy > 0 ? HUGE * HUGE : TINY * TINY;
    }
    if (ix < 0x3fefffff) return hy < 0 ? s * HUGE * HUGE : s * TINY * TINY;
    if (ix > 0x3ff00000) return hy > 0 ? s * HUGE * HUGE : s * TINY * TINY;
    // |1 - x| <= 2^-20: log(x) by x - x^2/2 + x^3/3 - x^4/4
    const t = ax - 1.0;
    const w = (t * t) * (0.5 - t * (0.3333333333333333333333 - t * 0.25));
    const u = 1.44269502162933349609e+00 * t; // ivln2_h
    const v = t * 1.92596299112661746887e-08 - w * INV_LN2; // ivln2_l
    t1 = withLO(u + v, 0);
    t2 = v - (t1 - u);
  } else {
    n = 0;
    if (ix < 0x00100000) {
      // subnormal x
      ax *= 9007199254740992.0; // 2^53
      n -= 53;
      ix = HI(ax);
    }
    n += (ix >> 20) - 0x3ff;
    const j = ix & 0x000fffff;
    ix = j | 0x3ff00000; // normalize
    let k: i32;
    if (j <= 0x3988e) k = 0; // |x| < sqrt(3/2)
    else if (j < 0xbb67a) k = 1; // |x| < sqrt(3)
    else {
      k = 0;
      n += 1;
      ix -= 0x00100000;
    }
    ax = withHI(ax, ix);
    const bp = k == 0 ? 1.0 : 1.5;
    const dpH = k == 0 ? 0.0 : 5.84962487220764160156e-01;
    const dpL = k == 0 ? 0.0 : 1.35003920212974897128e-08;
    // ss = s_h + s_l = (x - 1)/(x + 1) or (x - 1.5)/(x + 1.5)
    let u = ax - bp;
    let v = 1.0 / (ax + bp);
    const ss = u * v;
    const sH = withLO(ss, 0);
    let tH = words(((ix >> 1) | 0x20000000) + 0x00080000 + (k << 18), 0);
    let tL = ax - (tH - bp);
    const sL = v * ((u - sH * tH) - sH * tL);
    // log(ax)
    let s2 = ss * ss;
    let r = s2 * s2 * (5.99999999999994648725e-01 + s2 * (4.28571428578550184252e-01 + s2 * (3.33333329818377432918e-01 +
      s2 * (2.72728123808534006489e-01 + s2 * (2.30660745775561754067e-01 + s2 * 2.06975017800338417784e-01)))));
    r += sL * (sH + ss);
    s2 = sH * sH;
    tH = withLO(3.0 + s2 + r, 0);
    tL = r - ((tH - 3.0) - s2);
    u = sH * tH;
    v = sL * tH + tL * ss;
    const pH = withLO(u + v, 0);
    const pL = v - (pH - u);
    const zH = 9.61796700954437255859e-01 * pH; // cp_h
    const zL = -7.02846165095275826516e-09 * pH + pL * 9.61796693925975554329e-01 + dpL; // cp_l, cp
    const t = <f64>n;
    t1 = withLO(((zH + zL) + dpH) + t, 0);
    t2 = zL - (((t1 - t) - dpH) - zH);
  }

  // (y1 + y2) * (t1 + t2)
  const y1 = withLO(y, 0);
  let pL = (y - y1) * t1 + y * t2;
  let pH = y1 * t1;
  let z = pL + pH;
  let j = HI(z);
  let i = <i32>LO(z);
  if (j >= 0x40900000) {
    // z >= 1024
    if (((j - 0x40900000) | i) != 0) return s * HUGE * HUGE;
    if (pL + 8.0085662595372944372e-17 > z - pH) return s * HUGE * HUGE; // ovt
  } else if ((j & 0x7fffffff) >= 0x4090cc00) {
    // z <= -1075
    if (((j - <i32>0xc090cc00) | i) != 0) return s * TINY * TINY;
    if (pL <= z - pH) return s * TINY * TINY;
  }
  // 2^(pH + pL)
  i = j & 0x7fffffff;
  let k = (i >> 20) - 0x3ff;
  n = 0;
  if (i > 0x3fe00000) {
    // |z| > 0.5: n = [z + 0.5]
    n = j + (0x00100000 >> (k + 1));
    k = ((n & 0x7fffffff) >> 20) - 0x3ff;
    const t = words(n & ~(0x000fffff >> k), 0);
    n = ((n & 0x000fffff) | 0x00100000) >> (20 - k);
    if (j < 0) n = -n;
    pH -= t;
  }
  let t = withLO(pL + pH, 0);
  const u = t * 6.93147182464599609375e-01; // lg2_h
  const v = (pL - (t - pH)) * 6.93147180559945286227e-01 + t * -1.90465429995776804525e-09; // lg2, lg2_l
  z = u + v;
  const w = v - (z - u);
  t = z * z;
  t1 = z - t * (EXP_P1 + t * (EXP_P2 + t * (EXP_P3 + t * (EXP_P4 + t * EXP_P5))));
  const r = (z * t1) / ((t1 - 2.0) - (w + z * w));
  z = 1.0 - (r - z);
  j = HI(z);
  j += n << 20;
  if ((j >> 20) <= 0) z = scalbn(z, n); // subnormal result
  else z = withHI(z, HI(z) + (n << 20));
  return s * z;
}
