// Scalar math that returns, bit for bit, what Node's JavaScript engine returns for Math.exp,
// Math.log, Math.log1p, Math.expm1, Math.tanh and Math.pow.
//
// Why: the js backend is the reference, and finite differences amplify any difference in f by
// 1/h (h ~ 1.5e-8 for fd-forward): a one-ulp difference in one exp() would put the native FD
// gradient 1e-8 away from the reference, above the 1e-9 conformance bar. V8 implements these
// functions with the fdlibm algorithms (Sun Microsystems, freely redistributable), and pow with
// the C library's pow plus two ECMAScript special cases; we follow the same algorithms step by
// step, with the same constants and the same order of IEEE operations. The build uses
// -ffp-contract=off so that no multiply-add is fused behind our back.
// test/native-math.test.ts checks every function against Math.* on many inputs, bit for bit.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace tapegrad {
namespace jsmath {

inline uint64_t bits_of(double x) {
  uint64_t u;
  std::memcpy(&u, &x, 8);
  return u;
}
inline double from_bits(uint64_t u) {
  double x;
  std::memcpy(&x, &u, 8);
  return x;
}
inline int32_t high_word(double x) { return static_cast<int32_t>(bits_of(x) >> 32); }
inline uint32_t low_word(double x) { return static_cast<uint32_t>(bits_of(x)); }
inline double with_high_word(double x, uint32_t hi) {
  return from_bits((bits_of(x) & 0xFFFFFFFFull) | (static_cast<uint64_t>(hi) << 32));
}
inline double from_words(uint32_t hi, uint32_t lo) { return from_bits((static_cast<uint64_t>(hi) << 32) | lo); }

// Constants shared with the vector versions (vmath.h).
namespace c {
constexpr double ln2_hi = 6.93147180369123816490e-01;      // 0x3FE62E42 FEE00000
constexpr double ln2_lo = 1.90821492927058770002e-10;      // 0x3DEA39EF 35793C76
constexpr double inv_ln2 = 1.44269504088896338700e+00;     // 0x3FF71547 652B82FE
constexpr double two54 = 1.80143985094819840000e+16;       // 0x43500000 00000000
constexpr double exp_over = 7.09782712893383973096e+02;    // above: exp overflows
constexpr double exp_under = -7.45133219101941108420e+02;  // below: exp underflows to 0
constexpr double twom1000 = 9.33263618503218878990e-302;   // 2^-1000
constexpr double two1023 = 8.988465674311579539e307;       // 2^1023
constexpr double E = 2.718281828459045;
// fdlibm branches on high words; vmath.h compares with the first double of the high word
// exp and expm1 reduce x from |x| >= this (0x3FD62E43 00000000, a little above ln2/2)
constexpr double reduce_from = 0.3465735912322998;
// expm1(x) = -1 for x <= -this (0x4043687A 00000000, about 56 ln2)
constexpr double expm1_sat = 38.81622314453125;
// log1p takes k = 0 strictly between these (0xBFD2BEC5 00000000 and 0x3FDA827A 00000000)
constexpr double log1p_k0_lo = -0.292893648147583, log1p_k0_hi = 0.4142136573791504;
// exp: minimax polynomial for R(r^2) on [0, 0.347]
constexpr double P1 = 1.66666666666666019037e-01, P2 = -2.77777777770155933842e-03, P3 = 6.61375632143793436117e-05,
                 P4 = -1.65339022054652515390e-06, P5 = 4.13813679705723846039e-08;
// log and log1p: polynomial in s^2, s = f/(2+f)
constexpr double L1 = 6.666666666666735130e-01, L2 = 3.999999999940941908e-01, L3 = 2.857142874366239149e-01,
                 L4 = 2.222219843214978396e-01, L5 = 1.818357216161805012e-01, L6 = 1.531383769920937332e-01,
                 L7 = 1.479819860511658591e-01;
// expm1: scaled coefficients of R1(r^2)
constexpr double Q1 = -3.33333333333331316428e-02, Q2 = 1.58730158725481460165e-03, Q3 = -7.93650757867487942473e-05,
                 Q4 = 4.00821782732936239552e-06, Q5 = -2.01099218183624371326e-07;
}  // namespace c

// exp(x): x = k ln2 + r, exp(r) from a rational form in r, scaled by 2^k. Error < 1 ulp.
inline double exp(double x) {
  const uint32_t word = static_cast<uint32_t>(high_word(x));
  const bool neg = word >> 31;
  const uint32_t hx = word & 0x7FFFFFFF;
  if (hx >= 0x40862E42) {  // |x| >= 709.78
    if (hx >= 0x7FF00000) {
      if (((hx & 0xFFFFF) | low_word(x)) != 0) return x + x;  // NaN
      return neg ? 0.0 : x;                                   // exp(-inf) = 0, exp(inf) = inf
    }
    if (x > c::exp_over) return HUGE_VAL;
    if (x < c::exp_under) return 0.0;
  }
  double hi = 0, lo = 0;
  int k = 0;
  if (hx > 0x3FD62E42) {          // |x| > ln2/2: reduce
    if (hx < 0x3FF0A2B2) {        // and |x| < 1.5 ln2: k = +-1
      if (x == 1.0) return c::E;  // the reduction would miss the last bit of e
      hi = neg ? x + c::ln2_hi : x - c::ln2_hi;
      lo = neg ? -c::ln2_lo : c::ln2_lo;
      k = neg ? -1 : 1;
    } else {
      k = static_cast<int>(c::inv_ln2 * x + (neg ? -0.5 : 0.5));
      const double t = k;
      hi = x - t * c::ln2_hi;  // exact
      lo = t * c::ln2_lo;
    }
    x = hi - lo;
  } else if (hx < 0x3E300000) {  // |x| < 2^-28
    return 1.0 + x;
  }
  const double t = x * x;
  const double cc = x - t * (c::P1 + t * (c::P2 + t * (c::P3 + t * (c::P4 + t * c::P5))));
  if (k == 0) return 1.0 - ((x * cc) / (cc - 2.0) - x);
  const double y = 1.0 - ((lo - (x * cc) / (2.0 - cc)) - hi);
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * c::two1023;
    return y * from_words(0x3FF00000u + (static_cast<uint32_t>(k) << 20), 0);
  }
  return y * from_words(0x3FF00000u + (static_cast<uint32_t>(k + 1000) << 20), 0) * c::twom1000;
}

// log(x): x = 2^k (1 + f) with sqrt(2)/2 < 1 + f < sqrt(2), log(1 + f) = f - s(f - R(s^2)).
inline double log(double x) {
  int32_t hx = high_word(x);
  const uint32_t lx = low_word(x);
  int32_t k = 0;
  if (hx < 0x00100000) {  // x < 2^-1022: zero, negative or subnormal
    if (((hx & 0x7FFFFFFF) | lx) == 0) return -HUGE_VAL;
    if (hx < 0) return NAN;
    k -= 54;
    x *= c::two54;
    hx = high_word(x);
  }
  if (hx >= 0x7FF00000) return x + x;
  k += (hx >> 20) - 1023;
  hx &= 0x000FFFFF;
  const int32_t i = (hx + 0x95F64) & 0x100000;
  x = with_high_word(x, static_cast<uint32_t>(hx | (i ^ 0x3FF00000)));  // x or x/2 in [sqrt2/2, sqrt2)
  k += i >> 20;
  const double f = x - 1.0;
  if ((0x000FFFFF & (2 + hx)) < 3) {  // |f| < 2^-20
    if (f == 0.0) {
      if (k == 0) return 0.0;
      const double dk = k;
      return dk * c::ln2_hi + dk * c::ln2_lo;
    }
    const double R = f * f * (0.5 - 0.33333333333333333 * f);
    if (k == 0) return f - R;
    const double dk = k;
    return dk * c::ln2_hi - ((R - dk * c::ln2_lo) - f);
  }
  const double s = f / (2.0 + f);
  const double dk = k;
  const double z = s * s;
  int32_t ii = hx - 0x6147A;
  const double w = z * z;
  const int32_t j = 0x6B851 - hx;
  const double t1 = w * (c::L2 + w * (c::L4 + w * c::L6));
  const double t2 = z * (c::L1 + w * (c::L3 + w * (c::L5 + w * c::L7)));
  ii |= j;
  const double R = t2 + t1;
  if (ii > 0) {
    const double hfsq = 0.5 * f * f;
    if (k == 0) return f - (hfsq - s * (hfsq + R));
    return dk * c::ln2_hi - ((hfsq - (s * (hfsq + R) + dk * c::ln2_lo)) - f);
  }
  if (k == 0) return f - s * (f - R);
  return dk * c::ln2_hi - ((s * (f - R) - dk * c::ln2_lo) - f);
}

// log1p(x): as log, on 1 + x with a correction term for the rounding of 1 + x.
inline double log1p(double x) {
  const int32_t hx = high_word(x);
  const int32_t ax = hx & 0x7FFFFFFF;
  int32_t k = 1, hu = 0;
  double f = 0, cc = 0;
  if (hx < 0x3FDA827A) {     // 1 + x < sqrt(2)
    if (ax >= 0x3FF00000) {  // x <= -1
      if (x == -1.0) return -HUGE_VAL;
      return NAN;
    }
    if (ax < 0x3E200000) {  // |x| < 2^-29
      if (ax < 0x3C900000) return x;
      return x - x * x * 0.5;
    }
    if (hx > 0 || hx <= static_cast<int32_t>(0xBFD2BEC4)) {  // sqrt(2)/2 <= 1 + x < sqrt(2)
      k = 0;
      f = x;
      hu = 1;
    }
  }
  if (hx >= 0x7FF00000) return x + x;
  if (k != 0) {
    double u;
    if (hx < 0x43400000) {
      u = 1.0 + x;
      hu = high_word(u);
      k = (hu >> 20) - 1023;
      cc = (k > 0) ? 1.0 - (u - x) : x - (u - 1.0);
      cc /= u;
    } else {
      u = x;
      hu = high_word(u);
      k = (hu >> 20) - 1023;
      cc = 0;
    }
    hu &= 0x000FFFFF;
    if (hu < 0x6A09E) {
      u = with_high_word(u, static_cast<uint32_t>(hu | 0x3FF00000));
    } else {
      k += 1;
      u = with_high_word(u, static_cast<uint32_t>(hu | 0x3FE00000));
      hu = (0x00100000 - hu) >> 2;
    }
    f = u - 1.0;
  }
  const double hfsq = 0.5 * f * f;
  if (hu == 0) {  // |f| < 2^-20
    if (f == 0.0) {
      if (k == 0) return 0.0;
      cc += k * c::ln2_lo;
      return k * c::ln2_hi + cc;
    }
    const double R = hfsq * (1.0 - 0.66666666666666666 * f);
    if (k == 0) return f - R;
    return k * c::ln2_hi - ((R - (k * c::ln2_lo + cc)) - f);
  }
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double R = z * (c::L1 + z * (c::L2 + z * (c::L3 + z * (c::L4 + z * (c::L5 + z * (c::L6 + z * c::L7))))));
  if (k == 0) return f - (hfsq - s * (hfsq + R));
  return k * c::ln2_hi - ((hfsq - (s * (hfsq + R) + (k * c::ln2_lo + cc))) - f);
}

// expm1(x) = exp(x) - 1, accurate near 0: x = k ln2 + r (+ correction c), a rational form for
// expm1(r), then 2^k (expm1(r) + 1) - 1 arranged per range of k to avoid cancellation.
inline double expm1(double x) {
  const uint32_t word = static_cast<uint32_t>(high_word(x));
  const bool neg = word >> 31;
  const uint32_t hx = word & 0x7FFFFFFF;
  if (hx >= 0x4043687A) {    // |x| >= 56 ln2
    if (hx >= 0x40862E42) {  // |x| >= 709.78
      if (hx >= 0x7FF00000) {
        if (((hx & 0xFFFFF) | low_word(x)) != 0) return x + x;  // NaN
        return neg ? -1.0 : x;
      }
      if (x > c::exp_over) return HUGE_VAL;
    }
    if (neg) return -1.0;  // x < -56 ln2
  }
  double hi, lo, cc = 0;
  int k;
  if (hx > 0x3FD62E42) {    // |x| > ln2/2
    if (hx < 0x3FF0A2B2) {  // and |x| < 1.5 ln2
      if (!neg) {
        hi = x - c::ln2_hi;
        lo = c::ln2_lo;
        k = 1;
      } else {
        hi = x + c::ln2_hi;
        lo = -c::ln2_lo;
        k = -1;
      }
    } else {
      k = static_cast<int>(c::inv_ln2 * x + (neg ? -0.5 : 0.5));
      const double t = k;
      hi = x - t * c::ln2_hi;
      lo = t * c::ln2_lo;
    }
    x = hi - lo;
    cc = (hi - x) - lo;
  } else if (hx < 0x3C900000) {  // |x| < 2^-54
    return x;
  } else {
    k = 0;
  }
  const double hfx = 0.5 * x;
  const double hxs = x * hfx;
  const double r1 = 1.0 + hxs * (c::Q1 + hxs * (c::Q2 + hxs * (c::Q3 + hxs * (c::Q4 + hxs * c::Q5))));
  double t = 3.0 - r1 * hfx;
  double e = hxs * ((r1 - t) / (6.0 - x * t));
  if (k == 0) return x - (x * e - hxs);
  const double twopk = from_words(0x3FF00000u + (static_cast<uint32_t>(k) << 20), 0);
  e = (x * (e - cc) - cc);
  e -= hxs;
  if (k == -1) return 0.5 * (x - e) - 0.5;
  if (k == 1) {
    if (x < -0.25) return -2.0 * (e - (x + 0.5));
    return 1.0 + 2.0 * (x - e);
  }
  if (k <= -2 || k > 56) {
    double y = 1.0 - (e - x);
    if (k == 1024)
      y = y * 2.0 * 8.98846567431158e+307;
    else
      y = y * twopk;
    return y - 1.0;
  }
  double y;
  if (k < 20) {
    t = from_words(0x3FF00000u - (0x200000u >> k), 0);  // 1 - 2^-k
    y = t - (e - x);
    y = y * twopk;
  } else {
    t = from_words(static_cast<uint32_t>((0x3FF - k) << 20), 0);  // 2^-k
    y = x - (e + t);
    y += 1.0;
    y = y * twopk;
  }
  return y;
}

// tanh(x) = sign(x) (1 - 2/(expm1(2|x|) + 2)) for |x| >= 1, -t/(t + 2) with t = expm1(-2|x|)
// below; +-1 from |x| >= 22, x itself below 2^-28.
inline double tanh(double x) {
  const int32_t jx = high_word(x);
  const int32_t ix = jx & 0x7FFFFFFF;
  if (ix >= 0x7FF00000) {  // inf or NaN
    if (jx >= 0) return 1.0 / x + 1.0;
    return 1.0 / x - 1.0;
  }
  double z;
  if (ix < 0x40360000) {            // |x| < 22
    if (ix < 0x3E300000) return x;  // |x| < 2^-28
    if (ix >= 0x3FF00000) {         // |x| >= 1
      const double t = expm1(2.0 * std::fabs(x));
      z = 1.0 - 2.0 / (t + 2.0);
    } else {
      const double t = expm1(-2.0 * std::fabs(x));
      z = -t / (t + 2.0);
    }
  } else {
    z = 1.0;
  }
  return jx >= 0 ? z : -z;
}

// Math.pow: fdlibm's pow ("nearly rounded"; exact for integer powers that fit), which V8 uses
// rather than the C library's correctly rounded pow. log2|x| is computed in extra precision as
// t1 + t2, multiplied by y split into y1 + y2, and 2^(p_h + p_l) evaluated like exp.
// NaN for a NaN exponent and for (+-1) ** (+-Infinity), as ECMAScript requires.
inline double pow(double x, double y) {
  constexpr double bp[] = {1.0, 1.5}, dp_h[] = {0.0, 5.84962487220764160156e-01},
                   dp_l[] = {0.0, 1.35003920212974897128e-08};
  constexpr double two53 = 9007199254740992.0, huge = 1.0e300, tiny = 1.0e-300;
  constexpr double L1 = 5.99999999999994648725e-01, L2 = 4.28571428578550184252e-01, L3 = 3.33333329818377432918e-01,
                   L4 = 2.72728123808534006489e-01, L5 = 2.30660745775561754067e-01, L6 = 2.06975017800338417784e-01;
  constexpr double lg2 = 6.93147180559945286227e-01, lg2_h = 6.93147182464599609375e-01,
                   lg2_l = -1.90465429995776804525e-09, ovt = 8.0085662595372944372e-17,
                   cp = 9.61796693925975554329e-01, cp_h = 9.61796700954437255859e-01,
                   cp_l = -7.02846165095275826516e-09, ivln2 = 1.44269504088896338700e+00,
                   ivln2_h = 1.44269502162933349609e+00, ivln2_l = 1.92596299112661746887e-08;
  const int32_t hx = high_word(x), hy = high_word(y);
  const uint32_t lx = low_word(x), ly = low_word(y);
  int32_t ix = hx & 0x7FFFFFFF;
  const int32_t iy = hy & 0x7FFFFFFF;
  if ((iy | ly) == 0) return 1.0;
  if (ix > 0x7FF00000 || (ix == 0x7FF00000 && lx != 0) || iy > 0x7FF00000 || (iy == 0x7FF00000 && ly != 0))
    return x + y;  // NaN
  // yisint: 0 y is not an integer, 1 odd integer, 2 even integer (only needed for x < 0)
  int yisint = 0;
  if (hx < 0) {
    if (iy >= 0x43400000) {
      yisint = 2;
    } else if (iy >= 0x3FF00000) {
      const int e = (iy >> 20) - 0x3FF;
      if (e > 20) {
        const uint32_t j = ly >> (52 - e);
        if ((j << (52 - e)) == ly) yisint = 2 - static_cast<int>(j & 1);
      } else if (ly == 0) {
        const int32_t j = iy >> (20 - e);
        if ((j << (20 - e)) == iy) yisint = 2 - (j & 1);
      }
    }
  }
  if (ly == 0) {
    if (iy == 0x7FF00000) {                                                   // y = +-inf
      if (((ix - 0x3FF00000) | static_cast<int32_t>(lx)) == 0) return y - y;  // (+-1) ** +-inf: NaN
      if (ix >= 0x3FF00000) return hy >= 0 ? y : 0.0;
      return hy < 0 ? -y : 0.0;
    }
    if (iy == 0x3FF00000) return hy < 0 ? 1.0 / x : x;
    if (hy == 0x40000000) return x * x;
    if (hy == 0x3FE00000 && hx >= 0) return std::sqrt(x);
  }
  double ax = std::fabs(x);
  if (lx == 0 && (ix == 0x7FF00000 || ix == 0 || ix == 0x3FF00000)) {  // x = +-0, +-inf, +-1
    double z = ax;
    if (hy < 0) z = 1.0 / z;
    if (hx < 0) {
      if (((ix - 0x3FF00000) | yisint) == 0)
        z = NAN;  // (-1) ** non-integer
      else if (yisint == 1)
        z = -z;
    }
    return z;
  }
  int32_t n = (static_cast<uint32_t>(hx) >> 31) ^ 1;  // 0 for x < 0, 1 otherwise
  if ((n | yisint) == 0) return NAN;                  // (x < 0) ** non-integer
  double s = 1.0;
  if ((n | (yisint - 1)) == 0) s = -1.0;  // (x < 0) ** odd integer
  double t1, t2;
  if (iy > 0x41E00000) {    // |y| > 2^31
    if (iy > 0x43F00000) {  // |y| > 2^64: certain over- or underflow
      if (ix <= 0x3FEFFFFF) return hy < 0 ? huge * huge : tiny * tiny;
      if (ix >= 0x3FF00000) return hy > 0 ? huge * huge : tiny * tiny;
    }
    if (ix < 0x3FEFFFFF) return hy < 0 ? s * huge * huge : s * tiny * tiny;
    if (ix > 0x3FF00000) return hy > 0 ? s * huge * huge : s * tiny * tiny;
    // |1 - x| <= 2^-20: log(x) by its series
    const double t = ax - 1.0;
    const double w = (t * t) * (0.5 - t * (0.3333333333333333333333 - t * 0.25));
    const double u = ivln2_h * t;
    const double v = t * ivln2_l - w * ivln2;
    t1 = from_words(static_cast<uint32_t>(high_word(u + v)), 0);
    t2 = v - (t1 - u);
  } else {
    n = 0;
    if (ix < 0x00100000) {  // subnormal x
      ax *= two53;
      n -= 53;
      ix = high_word(ax);
    }
    n += (ix >> 20) - 0x3FF;
    const int32_t j = ix & 0x000FFFFF;
    ix = j | 0x3FF00000;
    int k;
    if (j <= 0x3988E)
      k = 0;  // |x| < sqrt(3/2)
    else if (j < 0xBB67A)
      k = 1;  // |x| < sqrt(3)
    else {
      k = 0;
      n += 1;
      ix -= 0x00100000;
    }
    ax = with_high_word(ax, static_cast<uint32_t>(ix));
    // ss = s_h + s_l = (x - 1)/(x + 1) or (x - 1.5)/(x + 1.5)
    double u = ax - bp[k];
    double v = 1.0 / (ax + bp[k]);
    const double ss = u * v;
    const double s_h = from_words(static_cast<uint32_t>(high_word(ss)), 0);
    double t_h = from_words(static_cast<uint32_t>(((ix >> 1) | 0x20000000) + 0x00080000 + (k << 18)), 0);
    double t_l = ax - (t_h - bp[k]);
    const double s_l = v * ((u - s_h * t_h) - s_h * t_l);
    double s2 = ss * ss;
    double r = s2 * s2 * (L1 + s2 * (L2 + s2 * (L3 + s2 * (L4 + s2 * (L5 + s2 * L6)))));
    r += s_l * (s_h + ss);
    s2 = s_h * s_h;
    t_h = from_words(static_cast<uint32_t>(high_word(3.0 + s2 + r)), 0);
    t_l = r - ((t_h - 3.0) - s2);
    u = s_h * t_h;
    v = s_l * t_h + t_l * ss;
    const double p_h = from_words(static_cast<uint32_t>(high_word(u + v)), 0);
    const double p_l = v - (p_h - u);
    const double z_h = cp_h * p_h;
    const double z_l = cp_l * p_h + p_l * cp + dp_l[k];
    const double t = static_cast<double>(n);
    t1 = from_words(static_cast<uint32_t>(high_word(((z_h + z_l) + dp_h[k]) + t)), 0);
    t2 = z_l - (((t1 - t) - dp_h[k]) - z_h);
  }
  // (y1 + y2) * (t1 + t2)
  const double y1 = from_words(static_cast<uint32_t>(hy), 0);
  const double p_l = (y - y1) * t1 + y * t2;
  double p_h = y1 * t1;
  double z = p_l + p_h;
  int32_t j = high_word(z);
  const int32_t i = static_cast<int32_t>(low_word(z));
  if (j >= 0x40900000) {  // z >= 1024
    if (((j - 0x40900000) | i) != 0) return s * huge * huge;
    if (p_l + ovt > z - p_h) return s * huge * huge;
  } else if ((j & 0x7FFFFFFF) >= 0x4090CC00) {  // z <= -1075
    if (((static_cast<uint32_t>(j) - 0xC090CC00u) | static_cast<uint32_t>(i)) != 0) return s * tiny * tiny;
    if (p_l <= z - p_h) return s * tiny * tiny;
  }
  // 2^(p_h + p_l)
  const int32_t ii = j & 0x7FFFFFFF;
  int32_t k = (ii >> 20) - 0x3FF;
  n = 0;
  if (ii > 0x3FE00000) {  // |z| > 0.5: n = [z + 0.5]
    n = j + (0x00100000 >> (k + 1));
    k = ((n & 0x7FFFFFFF) >> 20) - 0x3FF;
    const double t = from_words(static_cast<uint32_t>(n & ~(0x000FFFFF >> k)), 0);
    n = ((n & 0x000FFFFF) | 0x00100000) >> (20 - k);
    if (j < 0) n = -n;
    p_h -= t;
  }
  double t = from_words(static_cast<uint32_t>(high_word(p_l + p_h)), 0);
  const double u = t * lg2_h;
  const double v = (p_l - (t - p_h)) * lg2 + t * lg2_l;
  z = u + v;
  const double w = v - (z - u);
  t = z * z;
  t1 = z - t * (c::P1 + t * (c::P2 + t * (c::P3 + t * (c::P4 + t * c::P5))));
  const double r = (z * t1) / ((t1 - 2.0) - (w + z * w));
  z = 1.0 - (r - z);
  j = high_word(z);
  j += static_cast<int32_t>(static_cast<uint32_t>(n) << 20);
  if ((j >> 20) <= 0)
    z = std::scalbn(z, n);  // subnormal result
  else
    z = with_high_word(z, static_cast<uint32_t>(high_word(z) + static_cast<int32_t>(static_cast<uint32_t>(n) << 20)));
  return s * z;
}

// Math.sign
inline double sign(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : x; }

}  // namespace jsmath
}  // namespace tapegrad
