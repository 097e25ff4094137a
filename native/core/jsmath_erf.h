// erf and erfc: fdlibm's s_erf.c, with exp the fdlibm exp of jsmath.h (= Math.exp), in the same
// order of IEEE operations as the js reference (src/backends/js/math.ts) and the wasm port
// (assembly/erf.ts), so the three backends agree bit for bit. JavaScript has no Math.erf: the
// reference is this algorithm, and test/native-math.test.ts checks it against an exact oracle
// (within 1 ulp) and against the js port (bits).
//
// erf(x) = x + x P(x^2)/Q(x^2) for |x| < 0.84375; erx + P(s)/Q(s), s = |x| - 1, up to 1.25;
// 1 - erfc(x) above, with erfc(x) = exp(-x^2 - 0.5625 + R(1/x^2)/S(1/x^2))/x, -x^2 computed
// exactly as -z^2 + (z - x)(z + x), z being x with its low 32 bits cleared.
//
// fdlibm: Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved. Developed at SunPro,
// a Sun Microsystems, Inc. business. Permission to use, copy, modify, and distribute this
// software is freely granted, provided that this notice is preserved.
#pragma once
#include "jsmath.h"

namespace tapegrad {
namespace jsmath {

namespace erfc_ {
constexpr double erx = 8.45062911510467529297e-01, efx = 1.28379167095512586316e-01, efx8 = 1.02703333676410069053e+00;
// [0, 0.84375]
constexpr double pp0 = 1.28379167095512558561e-01, pp1 = -3.25042107247001499370e-01, pp2 = -2.84817495755985104766e-02,
                 pp3 = -5.77027029648944159157e-03, pp4 = -2.37630166566501626084e-05, qq1 = 3.97917223959155352819e-01,
                 qq2 = 6.50222499887672944485e-02, qq3 = 5.08130628187576562776e-03, qq4 = 1.32494738004321644526e-04,
                 qq5 = -3.96022827877536812320e-06;
// [0.84375, 1.25]
constexpr double pa0 = -2.36211856075265944077e-03, pa1 = 4.14856118683748331666e-01, pa2 = -3.72207876035701323847e-01,
                 pa3 = 3.18346619901161753674e-01, pa4 = -1.10894694282396677476e-01, pa5 = 3.54783043256182359371e-02,
                 pa6 = -2.16637559486879084300e-03, qa1 = 1.06420880400844228286e-01, qa2 = 5.40397917702171048937e-01,
                 qa3 = 7.18286544141962662868e-02, qa4 = 1.26171219808761642112e-01, qa5 = 1.36370839120290507362e-02,
                 qa6 = 1.19844998467991074170e-02;
// [1.25, 1/0.35]
constexpr double ra0 = -9.86494403484714822705e-03, ra1 = -6.93858572707181764372e-01,
                 ra2 = -1.05586262253232909814e+01, ra3 = -6.23753324503260060396e+01,
                 ra4 = -1.62396669462573470355e+02, ra5 = -1.84605092906711035994e+02,
                 ra6 = -8.12874355063065934246e+01, ra7 = -9.81432934416914548592e+00, sa1 = 1.96512716674392571292e+01,
                 sa2 = 1.37657754143519042600e+02, sa3 = 4.34565877475229228821e+02, sa4 = 6.45387271733267880336e+02,
                 sa5 = 4.29008140027567833386e+02, sa6 = 1.08635005541779435134e+02, sa7 = 6.57024977031928170135e+00,
                 sa8 = -6.04244152148580987438e-02;
// [1/0.35, 28]
constexpr double rb0 = -9.86494292470009928597e-03, rb1 = -7.99283237680523006574e-01,
                 rb2 = -1.77579549177547519889e+01, rb3 = -1.60636384855821916062e+02,
                 rb4 = -6.37566443368389627722e+02, rb5 = -1.02509513161107724954e+03,
                 rb6 = -4.83519191608651397019e+02, sb1 = 3.03380607434824582924e+01, sb2 = 3.25792512996573918826e+02,
                 sb3 = 1.53672958608443695994e+03, sb4 = 3.19985821950859553908e+03, sb5 = 2.55305040643316442583e+03,
                 sb6 = 4.74528541206955367215e+02, sb7 = -2.24409524465858183362e+01;

// P(z)/Q(z) of the first interval
inline double small_ratio(double z) {
  const double r = pp0 + z * (pp1 + z * (pp2 + z * (pp3 + z * pp4)));
  const double s = 1.0 + z * (qq1 + z * (qq2 + z * (qq3 + z * (qq4 + z * qq5))));
  return r / s;
}
// P(s)/Q(s) of the second interval, s = |x| - 1
inline double mid_ratio(double s) {
  const double P = pa0 + s * (pa1 + s * (pa2 + s * (pa3 + s * (pa4 + s * (pa5 + s * pa6)))));
  const double Q = 1.0 + s * (qa1 + s * (qa2 + s * (qa3 + s * (qa4 + s * (qa5 + s * qa6)))));
  return P / Q;
}
// erfc(ax) * ax for 1.25 <= ax < 28 (near = ax < 1/0.35)
inline double tail(double ax, bool near) {
  const double s = 1.0 / (ax * ax);
  double R, S;
  if (near) {
    R = ra0 + s * (ra1 + s * (ra2 + s * (ra3 + s * (ra4 + s * (ra5 + s * (ra6 + s * ra7))))));
    S = 1.0 + s * (sa1 + s * (sa2 + s * (sa3 + s * (sa4 + s * (sa5 + s * (sa6 + s * (sa7 + s * sa8)))))));
  } else {
    R = rb0 + s * (rb1 + s * (rb2 + s * (rb3 + s * (rb4 + s * (rb5 + s * rb6)))));
    S = 1.0 + s * (sb1 + s * (sb2 + s * (sb3 + s * (sb4 + s * (sb5 + s * (sb6 + s * sb7))))));
  }
  const double z = from_words(static_cast<uint32_t>(high_word(ax)), 0);
  return exp(-z * z - 0.5625) * exp((z - ax) * (z + ax) + R / S);
}
}  // namespace erfc_

// erf(x), error < 1 ulp
inline double erf(double x) {
  using namespace erfc_;
  const int32_t hx = high_word(x);
  const int32_t ix = hx & 0x7FFFFFFF;
  if (ix >= 0x7FF00000) return (hx < 0 ? -1.0 : 1.0) + 1.0 / x;  // NaN, or +-1 for +-Inf
  if (ix < 0x3FEB0000) {                                         // |x| < 0.84375
    if (ix < 0x3E300000) {                                       // |x| < 2^-28
      if (ix < 0x00800000) return 0.125 * (8.0 * x + efx8 * x);  // efx * x would underflow
      return x + efx * x;
    }
    return x + x * small_ratio(x * x);
  }
  if (ix < 0x3FF40000) {  // |x| < 1.25
    const double q = mid_ratio(std::fabs(x) - 1.0);
    return hx >= 0 ? erx + q : -erx - q;
  }
  if (ix >= 0x40180000) return hx >= 0 ? 1.0 : -1.0;  // |x| >= 6: 1 - erfc rounds to 1
  const double ax = std::fabs(x);
  const double r = erfc_::tail(ax, ix < 0x4006DB6E);
  return hx >= 0 ? 1.0 - r / ax : r / ax - 1.0;
}

// erfc(x) = 1 - erf(x) without the cancellation for large x (down to 2^-1074 near x = 27.2)
inline double erfc(double x) {
  using namespace erfc_;
  const int32_t hx = high_word(x);
  const int32_t ix = hx & 0x7FFFFFFF;
  if (ix >= 0x7FF00000) return (hx < 0 ? 2.0 : 0.0) + 1.0 / x;  // NaN, 0 for +Inf, 2 for -Inf
  if (ix < 0x3FEB0000) {                                        // |x| < 0.84375
    if (ix < 0x3C700000) return 1.0 - x;                        // |x| < 2^-56
    const double y = small_ratio(x * x);
    if (hx < 0x3FD00000) return 1.0 - (x + x * y);  // x < 1/4
    return 0.5 - (x * y + (x - 0.5));
  }
  if (ix < 0x3FF40000) {  // |x| < 1.25
    const double q = mid_ratio(std::fabs(x) - 1.0);
    return hx >= 0 ? (1.0 - erx) - q : 1.0 + (erx + q);
  }
  if (ix < 0x403C0000) {                         // |x| < 28
    if (hx < 0 && ix >= 0x40180000) return 2.0;  // x <= -6: 2 - tiny rounds to 2
    const double ax = std::fabs(x);
    const double r = erfc_::tail(ax, ix < 0x4006DB6D);
    return hx > 0 ? r / ax : 2.0 - r / ax;
  }
  return hx > 0 ? 0.0 : 2.0;
}

}  // namespace jsmath
}  // namespace tapegrad
