/**
 * sin and cos bit for bit as V8's Math.sin and Math.cos: fdlibm's s_sin.c/s_cos.c, the kernels
 * on [-pi/4, pi/4] (k_sin.c, k_cos.c) and the reduction by pi/2 (e_rem_pio2.c, with k_rem_pio2.c
 * for |x| >= 2^19 pi/2), the same operations in the same order as native/core/jsmath_trig.h.
 * test/wasm-math.test.ts compares every result with Math.sin/Math.cos.
 *
 * fdlibm: Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at SunSoft,
 * a Sun Microsystems, Inc. business. Permission to use, copy, modify, and distribute this software
 * is freely granted, provided that this notice is preserved.
 */
import { HI, LO, scalbn, words } from './math';

/** sin(x + y) on |x + y| <= pi/4, y the tail of x (0 when hasTail is false) */
function kernelSin(x: f64, y: f64, hasTail: bool): f64 {
  if ((HI(x) & 0x7fffffff) < 0x3e400000) return x; // |x| < 2^-27
  const z = x * x;
  const v = z * x;
  const r = 8.33333333332248946124e-03 + z * (-1.98412698298579493134e-04 + z * (2.75573137070700676789e-06 + z * (-2.50507602534068634195e-08 + z * 1.58969099521155010221e-10)));
  if (!hasTail) return x + v * (-1.66666666666666324348e-01 + z * r);
  return x - ((z * (0.5 * y - v * r) - y) - v * -1.66666666666666324348e-01);
}

/** cos(x + y) on |x + y| <= pi/4 */
function kernelCos(x: f64, y: f64): f64 {
  const ix = HI(x) & 0x7fffffff;
  if (ix < 0x3e400000) return 1.0; // |x| < 2^-27
  const z = x * x;
  const r = z * (4.16666666666666019037e-02 + z * (-1.38888888888741095749e-03 + z * (2.48015872894767294178e-05 + z * (-2.75573143513906633035e-07 + z * (2.08757232129817482790e-09 + z * -1.13596475577881948265e-11)))));
  if (ix < 0x3fd33333) return 1.0 - (0.5 * z - (z * r - x * y)); // |x| < 0.3
  const qx = ix > 0x3fe90000 ? 0.28125 : words(ix - 0x00200000, 0);
  const iz = 0.5 * z - qx;
  const a = 1.0 - qx;
  return a - (iz - (z * r - x * y));
}

/** 2/pi in 24-bit chunks (fdlibm's ipio2) */
const TWO_OVER_PI = memory.data<i32>([
  0xa2f983, 0x6e4e44, 0x1529fc, 0x2757d1, 0xf534dd, 0xc0db62, 0x95993c, 0x439041, 0xfe5163, 0xabdebb, 0xc561b7,
  0x246e3a, 0x424dd2, 0xe00649, 0x2eea09, 0xd1921c, 0xfe1deb, 0x1cb129, 0xa73ee8, 0x8235f5, 0x2ebb44, 0x84e99c,
  0x7026b4, 0x5f7e41, 0x3991d6, 0x398353, 0x39f49c, 0x845f8b, 0xbdf928, 0x3b1ff8, 0x97ffde, 0x05980f, 0xef2f11,
  0x8b5a0a, 0x6d1f6d, 0x367ecf, 0x27cb09, 0xb74f46, 0x3f669e, 0x5fea2d, 0x7527ba, 0xc7ebe5, 0xf17b3d, 0x0739f7,
  0x8a5292, 0xea6bfb, 0x5fb11f, 0x8d5d08, 0x560330, 0x46fc7b, 0x6babf0, 0xcfbc20, 0x9af436, 0x1da9e3, 0x91615e,
  0xe61b08, 0x659985, 0x5f14a0, 0x68408d, 0xffd880, 0x4d7327, 0x310606, 0x1556ca, 0x73a8c9, 0x60e27b, 0xc08c6b,
]);
/** pi/2 in 24-bit chunks */
const PIO2_24 = memory.data<f64>([
  1.57079625129699707031e+00, 7.54978941586159635335e-08, 5.39030252995776476554e-15, 3.28200341580791294123e-22,
  1.27065575308067607349e-29, 1.22933308981111328932e-36, 2.73370053816464559624e-44, 2.16741683877804819444e-51,
]);
/** high words of n pi/2, n = 1..32: there the one-step reduction may cancel */
const NPIO2_HW = memory.data<i32>([
  0x3ff921fb, 0x400921fb, 0x4012d97c, 0x401921fb, 0x401f6a7a, 0x4022d97c, 0x4025fdbb, 0x402921fb,
  0x402c463a, 0x402f6a7a, 0x4031475c, 0x4032d97c, 0x40346b9c, 0x4035fdbb, 0x40378fdb, 0x403921fb,
  0x403ab41b, 0x403c463a, 0x403dd85a, 0x403f6a7a, 0x40407e4c, 0x4041475c, 0x4042106c, 0x4042d97c,
  0x4043a28c, 0x40446b9c, 0x404534ac, 0x4045fdbb, 0x4046c6cb, 0x40478fdb, 0x404858eb, 0x404921fb,
]);
const TWO24: f64 = 1.67772160000000000000e+07;
const TWON24: f64 = 5.96046447753906250000e-08;

// scratch of kernelRemPio2 (static: the module is single-threaded and has no collector)
const IQ = memory.data(20 * 4);
const FF = memory.data(20 * 8);
const FQ = memory.data(20 * 8);
const QQ = memory.data(20 * 8);
const TX = memory.data(3 * 8);
/** the reduced argument y0 + y1 of remPio2 */
let y0: f64 = 0;
let y1: f64 = 0;

// @ts-ignore: decorator
@inline function iq(i: i32): i32 {
  return load<i32>(IQ + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function setIq(i: i32, v: i32): void {
  store<i32>(IQ + (<usize>i << 2), v);
}
// @ts-ignore: decorator
@inline function at(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}
// @ts-ignore: decorator
@inline function put(p: usize, i: i32, v: f64): void {
  store<f64>(p + (<usize>i << 3), v);
}

/**
 * fdlibm's __kernel_rem_pio2 for double precision (prec 2, jk = 4): TX[0..nx) the 24-bit chunks
 * of |x| scaled by 2^-e0; sets y0 + y1 = |x| - n pi/2 and returns n mod 8.
 */
function kernelRemPio2(e0: i32, nx: i32): i32 {
  const jk = 4, jp = 4;
  const jx = nx - 1;
  let jv = (e0 - 3) / 24;
  if (jv < 0) jv = 0;
  let q0 = e0 - 24 * (jv + 1);
  for (let i = 0, j = jv - jx; i <= jx + jk; i++, j++) put(FF, i, j < 0 ? 0.0 : <f64>load<i32>(TWO_OVER_PI + (<usize>j << 2)));
  for (let i = 0; i <= jk; i++) {
    let fw = 0.0;
    for (let j = 0; j <= jx; j++) fw += at(TX, j) * at(FF, jx + i - j);
    put(QQ, i, fw);
  }
  let jz = jk, n = 0, ih = 0;
  let z = 0.0;
  while (true) {
    z = at(QQ, jz);
    for (let i = 0, j = jz; j > 0; i++, j--) {
      const fw = <f64><i32>(TWON24 * z);
      setIq(i, <i32>(z - TWO24 * fw));
      z = at(QQ, j - 1) + fw;
    }
    z = scalbn(z, q0);
    z -= 8.0 * Math.floor(z * 0.125);
    n = <i32>z;
    z -= <f64>n;
    ih = 0;
    if (q0 > 0) {
      const i = iq(jz - 1) >> (24 - q0);
      n += i;
      setIq(jz - 1, iq(jz - 1) - (i << (24 - q0)));
      ih = iq(jz - 1) >> (23 - q0);
    } else if (q0 == 0) {
      ih = iq(jz - 1) >> 23;
    } else if (z >= 0.5) {
      ih = 2;
    }
    if (ih > 0) {
      n += 1;
      let carry = 0;
      for (let i = 0; i < jz; i++) {
        const j = iq(i);
        if (carry == 0) {
          if (j != 0) {
            carry = 1;
            setIq(i, 0x1000000 - j);
          }
        } else {
          setIq(i, 0xffffff - j);
        }
      }
      if (q0 == 1) setIq(jz - 1, iq(jz - 1) & 0x7fffff);
      if (q0 == 2) setIq(jz - 1, iq(jz - 1) & 0x3fffff);
      if (ih == 2) {
        z = 1.0 - z;
        if (carry != 0) z -= scalbn(1.0, q0);
      }
    }
    if (z != 0.0) break;
    let j = 0;
    for (let i = jz - 1; i >= jk; i--) j |= iq(i);
    if (j != 0) break;
    let k = 1;
    while (k <= jk && iq(jk - k) == 0) k++;
    for (let i = jz + 1; i <= jz + k; i++) {
      put(FF, jx + i, <f64>load<i32>(TWO_OVER_PI + (<usize>(jv + i) << 2)));
      let fw = 0.0;
      for (let jj = 0; jj <= jx; jj++) fw += at(TX, jj) * at(FF, jx + i - jj);
      put(QQ, i, fw);
    }
    jz += k;
  }
  if (z == 0.0) {
    jz -= 1;
    q0 -= 24;
    while (iq(jz) == 0) {
      jz--;
      q0 -= 24;
    }
  } else {
    z = scalbn(z, -q0);
    if (z >= TWO24) {
      const fw = <f64><i32>(TWON24 * z);
      setIq(jz, <i32>(z - TWO24 * fw));
      jz += 1;
      q0 += 24;
      setIq(jz, <i32>fw);
    } else {
      setIq(jz, <i32>z);
    }
  }
  let fw = scalbn(1.0, q0);
  for (let i = jz; i >= 0; i--) {
    put(QQ, i, fw * <f64>iq(i));
    fw *= TWON24;
  }
  for (let i = jz; i >= 0; i--) {
    fw = 0.0;
    for (let k = 0; k <= jp && k <= jz - i; k++) fw += load<f64>(PIO2_24 + (<usize>k << 3)) * at(QQ, i + k);
    put(FQ, jz - i, fw);
  }
  fw = 0.0;
  for (let i = jz; i >= 0; i--) fw += at(FQ, i);
  y0 = ih == 0 ? fw : -fw;
  fw = at(FQ, 0) - fw;
  for (let i = 1; i <= jz; i++) fw += at(FQ, i);
  y1 = ih == 0 ? fw : -fw;
  return n & 7;
}

const PIO2_1: f64 = 1.57079632673412561417e+00;
const PIO2_1T: f64 = 6.07710050650619224932e-11;
const PIO2_2: f64 = 6.07710050630396597660e-11;
const PIO2_2T: f64 = 2.02226624879595063154e-21;
const PIO2_3: f64 = 2.02226624871116645580e-21;
const PIO2_3T: f64 = 8.47842766036889956997e-32;

/** x - n pi/2 into y0 + y1, returns n; for finite x with |x| > pi/4 */
function remPio2(x: f64): i32 {
  const hx = HI(x);
  const ix = hx & 0x7fffffff;
  if (ix < 0x4002d97c) {
    // |x| < 3pi/4: n = +-1
    if (hx > 0) {
      let z = x - PIO2_1;
      if (ix != 0x3ff921fb) {
        y0 = z - PIO2_1T;
        y1 = (z - y0) - PIO2_1T;
      } else {
        z -= PIO2_2;
        y0 = z - PIO2_2T;
        y1 = (z - y0) - PIO2_2T;
      }
      return 1;
    }
    let z = x + PIO2_1;
    if (ix != 0x3ff921fb) {
      y0 = z + PIO2_1T;
      y1 = (z - y0) + PIO2_1T;
    } else {
      z += PIO2_2;
      y0 = z + PIO2_2T;
      y1 = (z - y0) + PIO2_2T;
    }
    return -1;
  }
  if (ix <= 0x413921fb) {
    // |x| <= 2^19 pi/2
    let t = Math.abs(x);
    const n = <i32>(t * 6.36619772367581382433e-01 + 0.5);
    const fn = <f64>n;
    let r = t - fn * PIO2_1;
    let w = fn * PIO2_1T;
    if (n < 32 && ix != load<i32>(NPIO2_HW + (<usize>(n - 1) << 2))) {
      y0 = r - w;
    } else {
      const j = ix >> 20;
      y0 = r - w;
      let i = j - ((HI(y0) >> 20) & 0x7ff);
      if (i > 16) {
        t = r;
        w = fn * PIO2_2;
        r = t - w;
        w = fn * PIO2_2T - ((t - r) - w);
        y0 = r - w;
        i = j - ((HI(y0) >> 20) & 0x7ff);
        if (i > 49) {
          t = r;
          w = fn * PIO2_3;
          r = t - w;
          w = fn * PIO2_3T - ((t - r) - w);
          y0 = r - w;
        }
      }
    }
    y1 = (r - y0) - w;
    if (hx < 0) {
      y0 = -y0;
      y1 = -y1;
      return -n;
    }
    return n;
  }
  const e0 = (ix >> 20) - 1046;
  let z = words(ix - (e0 << 20), LO(x));
  for (let i = 0; i < 2; i++) {
    const t = <f64><i32>z;
    put(TX, i, t);
    z = (z - t) * TWO24;
  }
  put(TX, 2, z);
  let nx = 3;
  while (at(TX, nx - 1) == 0.0) nx--;
  const n = kernelRemPio2(e0, nx);
  if (hx < 0) {
    y0 = -y0;
    y1 = -y1;
    return -n;
  }
  return n;
}

/** Math.sin (fdlibm s_sin.c as in V8) */
export function sin(x: f64): f64 {
  const ix = HI(x) & 0x7fffffff;
  if (ix <= 0x3fe921fb) return kernelSin(x, 0.0, false);
  if (ix >= 0x7ff00000) return x - x; // NaN for +-Inf and NaN
  const n = remPio2(x) & 3;
  if (n == 0) return kernelSin(y0, y1, true);
  if (n == 1) return kernelCos(y0, y1);
  if (n == 2) return -kernelSin(y0, y1, true);
  return -kernelCos(y0, y1);
}

/** Math.cos (fdlibm s_cos.c as in V8) */
export function cos(x: f64): f64 {
  const ix = HI(x) & 0x7fffffff;
  if (ix <= 0x3fe921fb) return kernelCos(x, 0.0);
  if (ix >= 0x7ff00000) return x - x;
  const n = remPio2(x) & 3;
  if (n == 0) return kernelCos(y0, y1);
  if (n == 1) return -kernelSin(y0, y1, true);
  if (n == 2) return -kernelCos(y0, y1);
  return kernelSin(y0, y1, true);
}
