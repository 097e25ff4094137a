// sin and cos bit for bit as Node's Math.sin and Math.cos: V8 (src/base/ieee754.cc) uses fdlibm's
// s_sin.c/s_cos.c, the kernels k_sin.c/k_cos.c on [-pi/4, pi/4] and the reduction e_rem_pio2.c,
// which for |x| >= 2^19 pi/2 multiplies by 2/pi held to 1584 bits (k_rem_pio2.c). We follow the
// same algorithms, constants and order of IEEE operations (see jsmath.h for why bits matter);
// test/native-math.test.ts compares every result with Math.sin/Math.cos. (A V8 built with
// V8_USE_LIBM_TRIG_FUNCTIONS takes glibc's sin/cos instead, about 2.5% of results one ulp apart
// from fdlibm's; Node 20 here is fdlibm. On such a Node those tests fail and name the input.)
//
// fdlibm: Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at
// SunSoft, a Sun Microsystems, Inc. business. Permission to use, copy, modify, and distribute this
// software is freely granted, provided that this notice is preserved.
#pragma once
#include "jsmath.h"

namespace tapegrad {
namespace jsmath {

namespace trig {
// sin(x + y) on |x + y| <= pi/4, y the tail of x (has_tail false: y = 0): x + x^3 S(x^2), the
// tail entering through sin'(x) ~ 1 - x^2/2
inline double kernel_sin(double x, double y, bool has_tail) {
  constexpr double S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03, S3 = -1.98412698298579493134e-04,
                   S4 = 2.75573137070700676789e-06, S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
  if ((high_word(x) & 0x7FFFFFFF) < 0x3E400000) return x;  // |x| < 2^-27
  const double z = x * x;
  const double v = z * x;
  const double r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  if (!has_tail) return x + v * (S1 + z * r);
  return x - ((z * (0.5 * y - v * r) - y) - v * S1);
}

// cos(x + y) on |x + y| <= pi/4: 1 - x^2/2 + x^4 C(x^2) - x y; from |x| >= 0.3 the subtraction
// is split around qx (about x^2/8, exact) to keep its rounding small
inline double kernel_cos(double x, double y) {
  constexpr double C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03, C3 = 2.48015872894767294178e-05,
                   C4 = -2.75573143513906633035e-07, C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;
  const int32_t ix = high_word(x) & 0x7FFFFFFF;
  if (ix < 0x3E400000) return 1.0;  // |x| < 2^-27
  const double z = x * x;
  const double r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
  if (ix < 0x3FD33333) return 1.0 - (0.5 * z - (z * r - x * y));  // |x| < 0.3
  const double qx = ix > 0x3FE90000 ? 0.28125 : from_words(static_cast<uint32_t>(ix - 0x00200000), 0);
  const double iz = 0.5 * z - qx;
  const double a = 1.0 - qx;
  return a - (iz - (z * r - x * y));
}

// 2/pi in 24-bit chunks (fdlibm's ipio2: 66 x 24 bits)
constexpr int32_t two_over_pi[] = {
    0xA2F983, 0x6E4E44, 0x1529FC, 0x2757D1, 0xF534DD, 0xC0DB62, 0x95993C, 0x439041, 0xFE5163, 0xABDEBB, 0xC561B7,
    0x246E3A, 0x424DD2, 0xE00649, 0x2EEA09, 0xD1921C, 0xFE1DEB, 0x1CB129, 0xA73EE8, 0x8235F5, 0x2EBB44, 0x84E99C,
    0x7026B4, 0x5F7E41, 0x3991D6, 0x398353, 0x39F49C, 0x845F8B, 0xBDF928, 0x3B1FF8, 0x97FFDE, 0x05980F, 0xEF2F11,
    0x8B5A0A, 0x6D1F6D, 0x367ECF, 0x27CB09, 0xB74F46, 0x3F669E, 0x5FEA2D, 0x7527BA, 0xC7EBE5, 0xF17B3D, 0x0739F7,
    0x8A5292, 0xEA6BFB, 0x5FB11F, 0x8D5D08, 0x560330, 0x46FC7B, 0x6BABF0, 0xCFBC20, 0x9AF436, 0x1DA9E3, 0x91615E,
    0xE61B08, 0x659985, 0x5F14A0, 0x68408D, 0xFFD880, 0x4D7327, 0x310606, 0x1556CA, 0x73A8C9, 0x60E27B, 0xC08C6B,
};
// pi/2 in 24-bit chunks
constexpr double pio2_24[] = {
    1.57079625129699707031e+00, 7.54978941586159635335e-08, 5.39030252995776476554e-15, 3.28200341580791294123e-22,
    1.27065575308067607349e-29, 1.22933308981111328932e-36, 2.73370053816464559624e-44, 2.16741683877804819444e-51,
};
constexpr double two24 = 1.67772160000000000000e+07, twon24 = 5.96046447753906250000e-08;

// fdlibm's __kernel_rem_pio2 for double precision (prec 2: jk = 4): x[0..nx) the 24-bit chunks of
// |x| scaled by 2^-e0; writes |x| - n pi/2 as y[0] + y[1] and returns n mod 8. The integer part
// of x * 2/pi beyond 8 is never formed: only the chunks of 2/pi that reach bits below 2^3 are used.
inline int kernel_rem_pio2(const double* x, double* y, int e0, int nx) {
  constexpr int jk = 4, jp = jk;
  int32_t iq[20];
  double f[20], fq[20], q[20];
  const int jx = nx - 1;
  int jv = (e0 - 3) / 24;
  if (jv < 0) jv = 0;
  int q0 = e0 - 24 * (jv + 1);
  for (int i = 0, j = jv - jx; i <= jx + jk; i++, j++) f[i] = j < 0 ? 0.0 : static_cast<double>(two_over_pi[j]);
  for (int i = 0; i <= jk; i++) {
    double fw = 0.0;
    for (int j = 0; j <= jx; j++) fw += x[j] * f[jx + i - j];
    q[i] = fw;
  }
  int jz = jk, n, ih;
  double z;
  for (;;) {
    // distill q[] into 24-bit integers iq[], last first
    z = q[jz];
    for (int i = 0, j = jz; j > 0; i++, j--) {
      const double fw = static_cast<double>(static_cast<int32_t>(twon24 * z));
      iq[i] = static_cast<int32_t>(z - two24 * fw);
      z = q[j - 1] + fw;
    }
    z = std::scalbn(z, q0);
    z -= 8.0 * std::floor(z * 0.125);  // the integer part mod 8
    n = static_cast<int32_t>(z);
    z -= static_cast<double>(n);
    ih = 0;
    if (q0 > 0) {  // iq[jz - 1] holds integer bits too
      const int32_t i = iq[jz - 1] >> (24 - q0);
      n += i;
      iq[jz - 1] -= i << (24 - q0);
      ih = iq[jz - 1] >> (23 - q0);
    } else if (q0 == 0) {
      ih = iq[jz - 1] >> 23;
    } else if (z >= 0.5) {
      ih = 2;
    }
    if (ih > 0) {  // fraction >= 0.5: take n + 1 and the fraction 1 - q
      n += 1;
      int32_t carry = 0;
      for (int i = 0; i < jz; i++) {
        const int32_t j = iq[i];
        if (carry == 0) {
          if (j != 0) {
            carry = 1;
            iq[i] = 0x1000000 - j;
          }
        } else {
          iq[i] = 0xFFFFFF - j;
        }
      }
      if (q0 == 1) iq[jz - 1] &= 0x7FFFFF;
      if (q0 == 2) iq[jz - 1] &= 0x3FFFFF;
      if (ih == 2) {
        z = 1.0 - z;
        if (carry != 0) z -= std::scalbn(1.0, q0);
      }
    }
    if (z != 0.0) break;
    // the fraction cancelled to zero in the chunks so far: take more chunks of 2/pi
    int32_t j = 0;
    for (int i = jz - 1; i >= jk; i--) j |= iq[i];
    if (j != 0) break;
    int k = 1;
    while (k <= jk && iq[jk - k] == 0) k++;
    for (int i = jz + 1; i <= jz + k; i++) {
      f[jx + i] = two_over_pi[jv + i];
      double fw = 0.0;
      for (int jj = 0; jj <= jx; jj++) fw += x[jj] * f[jx + i - jj];
      q[i] = fw;
    }
    jz += k;
  }
  if (z == 0.0) {  // drop zero chunks
    jz -= 1;
    q0 -= 24;
    while (iq[jz] == 0) {
      jz--;
      q0 -= 24;
    }
  } else {  // split z into 24-bit chunks
    z = std::scalbn(z, -q0);
    if (z >= two24) {
      const double fw = static_cast<double>(static_cast<int32_t>(twon24 * z));
      iq[jz] = static_cast<int32_t>(z - two24 * fw);
      jz += 1;
      q0 += 24;
      iq[jz] = static_cast<int32_t>(fw);
    } else {
      iq[jz] = static_cast<int32_t>(z);
    }
  }
  double fw = std::scalbn(1.0, q0);
  for (int i = jz; i >= 0; i--) {
    q[i] = fw * iq[i];
    fw *= twon24;
  }
  for (int i = jz; i >= 0; i--) {  // fq = pi/2 * q, chunk by chunk
    fw = 0.0;
    for (int k = 0; k <= jp && k <= jz - i; k++) fw += pio2_24[k] * q[i + k];
    fq[jz - i] = fw;
  }
  fw = 0.0;
  for (int i = jz; i >= 0; i--) fw += fq[i];
  y[0] = ih == 0 ? fw : -fw;
  fw = fq[0] - fw;
  for (int i = 1; i <= jz; i++) fw += fq[i];
  y[1] = ih == 0 ? fw : -fw;
  return n & 7;
}

// x - n pi/2 as y[0] + y[1], |y| <= pi/4 (about), returns n; for pi/4 < |x| (the callers handle
// smaller |x|) and finite x. pi/2 is taken in 33-bit pieces (pio2_1 + pio2_2 + pio2_3 + tail),
// as many as the cancellation needs, up to 2^19 pi/2; beyond, kernel_rem_pio2.
inline int32_t rem_pio2(double x, double* y) {
  constexpr double invpio2 = 6.36619772367581382433e-01, pio2_1 = 1.57079632673412561417e+00,
                   pio2_1t = 6.07710050650619224932e-11, pio2_2 = 6.07710050630396597660e-11,
                   pio2_2t = 2.02226624879595063154e-21, pio2_3 = 2.02226624871116645580e-21,
                   pio2_3t = 8.47842766036889956997e-32;
  // high words of n pi/2, n = 1..32: there the one-step reduction may cancel
  constexpr int32_t npio2_hw[] = {
      0x3FF921FB, 0x400921FB, 0x4012D97C, 0x401921FB, 0x401F6A7A, 0x4022D97C, 0x4025FDBB, 0x402921FB,
      0x402C463A, 0x402F6A7A, 0x4031475C, 0x4032D97C, 0x40346B9C, 0x4035FDBB, 0x40378FDB, 0x403921FB,
      0x403AB41B, 0x403C463A, 0x403DD85A, 0x403F6A7A, 0x40407E4C, 0x4041475C, 0x4042106C, 0x4042D97C,
      0x4043A28C, 0x40446B9C, 0x404534AC, 0x4045FDBB, 0x4046C6CB, 0x40478FDB, 0x404858EB, 0x404921FB,
  };
  const int32_t hx = high_word(x);
  const int32_t ix = hx & 0x7FFFFFFF;
  if (ix < 0x4002D97C) {  // |x| < 3pi/4: n = +-1
    if (hx > 0) {
      double z = x - pio2_1;
      if (ix != 0x3FF921FB) {
        y[0] = z - pio2_1t;
        y[1] = (z - y[0]) - pio2_1t;
      } else {  // near pi/2: one more piece
        z -= pio2_2;
        y[0] = z - pio2_2t;
        y[1] = (z - y[0]) - pio2_2t;
      }
      return 1;
    }
    double z = x + pio2_1;
    if (ix != 0x3FF921FB) {
      y[0] = z + pio2_1t;
      y[1] = (z - y[0]) + pio2_1t;
    } else {
      z += pio2_2;
      y[0] = z + pio2_2t;
      y[1] = (z - y[0]) + pio2_2t;
    }
    return -1;
  }
  if (ix <= 0x413921FB) {  // |x| <= 2^19 pi/2
    double t = std::fabs(x);
    const int32_t n = static_cast<int32_t>(t * invpio2 + 0.5);
    const double fn = static_cast<double>(n);
    double r = t - fn * pio2_1;
    double w = fn * pio2_1t;
    if (n < 32 && ix != npio2_hw[n - 1]) {
      y[0] = r - w;
    } else {  // check the cancellation by the exponent lost; refine with the next pieces
      const int32_t j = ix >> 20;
      y[0] = r - w;
      int32_t i = j - ((high_word(y[0]) >> 20) & 0x7FF);
      if (i > 16) {
        t = r;
        w = fn * pio2_2;
        r = t - w;
        w = fn * pio2_2t - ((t - r) - w);
        y[0] = r - w;
        i = j - ((high_word(y[0]) >> 20) & 0x7FF);
        if (i > 49) {
          t = r;
          w = fn * pio2_3;
          r = t - w;
          w = fn * pio2_3t - ((t - r) - w);
          y[0] = r - w;
        }
      }
    }
    y[1] = (r - y[0]) - w;
    if (hx < 0) {
      y[0] = -y[0];
      y[1] = -y[1];
      return -n;
    }
    return n;
  }
  // |x| in 24-bit chunks: z = |x| 2^-e0 with 2^23 <= z < 2^24
  const int32_t e0 = (ix >> 20) - 1046;
  double z = from_words(static_cast<uint32_t>(ix - e0 * (1 << 20)), low_word(x));
  double tx[3];
  for (int i = 0; i < 2; i++) {
    tx[i] = static_cast<double>(static_cast<int32_t>(z));
    z = (z - tx[i]) * two24;
  }
  tx[2] = z;
  int nx = 3;
  while (tx[nx - 1] == 0.0) nx--;
  const int n = kernel_rem_pio2(tx, y, e0, nx);
  if (hx < 0) {
    y[0] = -y[0];
    y[1] = -y[1];
    return -n;
  }
  return n;
}
}  // namespace trig

// Math.sin: the kernel directly for |x| <= pi/4, else on the reduced argument by quadrant
inline double sin(double x) {
  const int32_t ix = high_word(x) & 0x7FFFFFFF;
  if (ix <= 0x3FE921FB) return trig::kernel_sin(x, 0.0, false);
  if (ix >= 0x7FF00000) return x - x;  // NaN for +-Inf and NaN
  double y[2];
  switch (trig::rem_pio2(x, y) & 3) {
    case 0:
      return trig::kernel_sin(y[0], y[1], true);
    case 1:
      return trig::kernel_cos(y[0], y[1]);
    case 2:
      return -trig::kernel_sin(y[0], y[1], true);
    default:
      return -trig::kernel_cos(y[0], y[1]);
  }
}

// Math.cos
inline double cos(double x) {
  const int32_t ix = high_word(x) & 0x7FFFFFFF;
  if (ix <= 0x3FE921FB) return trig::kernel_cos(x, 0.0);
  if (ix >= 0x7FF00000) return x - x;
  double y[2];
  switch (trig::rem_pio2(x, y) & 3) {
    case 0:
      return trig::kernel_cos(y[0], y[1]);
    case 1:
      return -trig::kernel_sin(y[0], y[1], true);
    case 2:
      return -trig::kernel_cos(y[0], y[1]);
    default:
      return trig::kernel_sin(y[0], y[1], true);
  }
}

}  // namespace jsmath
}  // namespace tapegrad
