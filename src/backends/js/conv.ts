import type { FloatArray } from '../../api/dtype.js';
import { Flag } from '../../ops/opset.js';
import type { Kernel } from './kernel.js';

/**
 * conv2d, max_pool2d and avg_pool2d, the reference rules (params as in src/ops/opset.ts). The
 * forward convolution sums each output in (ci, i, j) order from 0 with padded taps as zeros: the
 * order in which an im2col matrix times the weights sums it, so the fast kernels of the other
 * backends (im2col + GEMM) reproduce it bit for bit. Every index into the input is checked
 * against its bounds, so a window that leaves the input reads padding, never another tensor.
 */
export const CONV_KERNELS: Readonly<Record<'conv2d' | 'max_pool2d' | 'avg_pool2d', Kernel>> = {
  conv2d: {
    fwd(v, o, a, b, _p0, _p1, _p2, _c, p) {
      const [n, groups, cin, h, w, cout, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw] = p;
      for (let s = 0; s < n; s++)
        for (let gr = 0; gr < groups; gr++)
          for (let co = 0; co < cout; co++) {
            const wb = b + (gr * cout + co) * cin * kh * kw;
            const ob = o + ((s * groups + gr) * cout + co) * oh * ow;
            for (let y = 0; y < oh; y++)
              for (let x = 0; x < ow; x++) {
                let acc = 0;
                for (let ci = 0; ci < cin; ci++) {
                  const ab = a + ((s * groups + gr) * cin + ci) * h * w;
                  for (let i = 0; i < kh; i++) {
                    const iy = y * sh - ph + i * dh;
                    for (let j = 0; j < kw; j++) {
                      const ix = x * sw - pw + j * dw;
                      const xv = iy >= 0 && iy < h && ix >= 0 && ix < w ? v[ab + iy * w + ix] : 0;
                      acc += xv * v[wb + (ci * kh + i) * kw + j];
                    }
                  }
                }
                v[ob + y * ow + x] = acc;
              }
          }
    },
    bwd(v, g, f, o, a, b, _p0, _p1, _p2, _c, p) {
      const [n, groups, cin, h, w, cout, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw] = p;
      for (let s = 0; s < n; s++)
        for (let gr = 0; gr < groups; gr++)
          for (let co = 0; co < cout; co++) {
            const wb = b + (gr * cout + co) * cin * kh * kw;
            const ob = o + ((s * groups + gr) * cout + co) * oh * ow;
            for (let y = 0; y < oh; y++)
              for (let x = 0; x < ow; x++) {
                const d = g[ob + y * ow + x];
                for (let ci = 0; ci < cin; ci++) {
                  const ab = a + ((s * groups + gr) * cin + ci) * h * w;
                  for (let i = 0; i < kh; i++) {
                    const iy = y * sh - ph + i * dh;
                    if (iy < 0 || iy >= h) continue;
                    for (let j = 0; j < kw; j++) {
                      const ix = x * sw - pw + j * dw;
                      if (ix < 0 || ix >= w) continue;
                      const wi = wb + (ci * kh + i) * kw + j;
                      if (f & Flag.gradA) g[ab + iy * w + ix] += d * v[wi];
                      if (f & Flag.gradB) g[wi] += d * v[ab + iy * w + ix];
                    }
                  }
                }
              }
          }
    },
  },
  max_pool2d: {
    fwd(v, o, a, _b, _p0, _p1, _p2, _c, p) {
      const [planes, h, w, oh, ow] = p;
      for (let s = 0; s < planes; s++)
        for (let y = 0; y < oh; y++)
          for (let x = 0; x < ow; x++) {
            const k = windowMax(v, a + s * h * w, y, x, p);
            v[o + (s * oh + y) * ow + x] = k < 0 ? -Infinity : v[k];
          }
    },
    bwd(v, g, _f, o, a, _b, _p0, _p1, _p2, _c, p) {
      const [planes, h, w, oh, ow] = p;
      for (let s = 0; s < planes; s++)
        for (let y = 0; y < oh; y++)
          for (let x = 0; x < ow; x++) {
            const k = windowMax(v, a + s * h * w, y, x, p);
            if (k >= 0) g[k] += g[o + (s * oh + y) * ow + x];
          }
    },
  },
  avg_pool2d: {
    fwd(v, o, a, _b, _p0, _p1, _p2, _c, p) {
      const [planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw] = p;
      for (let s = 0; s < planes; s++)
        for (let y = 0; y < oh; y++)
          for (let x = 0; x < ow; x++) {
            // padded elements are zeros: adding +0 to a sum that starts at +0 changes nothing
            let acc = 0;
            for (let i = 0; i < kh; i++) {
              const iy = y * sh - ph + i;
              if (iy < 0 || iy >= h) continue;
              for (let j = 0; j < kw; j++) {
                const ix = x * sw - pw + j;
                if (ix >= 0 && ix < w) acc += v[a + (s * h + iy) * w + ix];
              }
            }
            v[o + (s * oh + y) * ow + x] = acc / (kh * kw);
          }
    },
    bwd(_v, g, _f, o, a, _b, _p0, _p1, _p2, _c, p) {
      const [planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw] = p;
      for (let s = 0; s < planes; s++)
        for (let y = 0; y < oh; y++)
          for (let x = 0; x < ow; x++) {
            const d = g[o + (s * oh + y) * ow + x] / (kh * kw);
            for (let i = 0; i < kh; i++) {
              const iy = y * sh - ph + i;
              if (iy < 0 || iy >= h) continue;
              for (let j = 0; j < kw; j++) {
                const ix = x * sw - pw + j;
                if (ix >= 0 && ix < w) g[a + (s * h + iy) * w + ix] += d;
              }
            }
          }
    },
  },
};

/**
 * Offset of the largest element of window (y, x) of the plane at `base`: the first one on ties,
 * the first NaN if any; -1 when the window holds only padding (a crafted tape only: the tracer
 * keeps the padding at most half the kernel).
 */
export function windowMax(v: FloatArray, base: number, y: number, x: number, p: Int32Array): number {
  const h = p[1],
    w = p[2],
    kh = p[5],
    kw = p[6],
    sh = p[7],
    sw = p[8],
    ph = p[9],
    pw = p[10];
  let k = -1,
    best = -Infinity;
  for (let i = 0; i < kh; i++) {
    const iy = y * sh - ph + i;
    if (iy < 0 || iy >= h) continue;
    for (let j = 0; j < kw; j++) {
      const ix = x * sw - pw + j;
      if (ix < 0 || ix >= w) continue;
      const at = base + iy * w + ix;
      const xv = v[at];
      if (xv !== xv) return at;
      if (k < 0 || xv > best) {
        best = xv;
        k = at;
      }
    }
  }
  return k;
}
