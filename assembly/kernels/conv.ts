/**
 * conv2d as im2col + the register-tiled gemm, one image (and group) at a time through the op's
 * scratch region (cin*kh*kw rows of oh*ow columns), and max/avg pooling. Params as in
 * src/ops/opset.ts: conv2d [n, groups, cin, h, w, cout, kh, kw, oh, ow, sh, sw, ph, pw, dh, dw,
 * colAt]; pooling [planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw].
 *
 * The forward gemm sums each output in (ci, i, j) order from 0 with padded taps as zeros, as the
 * reference does, so values are bit-identical. Input rows and columns are computed in i64 and
 * checked against the plane before any load: a crafted tape reads padding, never other memory.
 */
import { ld, st } from '../elem';
import { gemmNTOf, gemmOf, matvecOf, outerAccOf, rowsAccOf } from './products';

// @ts-ignore: decorator
@inline function prm(p: usize, q: i32): i32 {
  return load<i32>(p + (<usize>q << 2));
}
// @ts-ignore: decorator
@inline function off<T>(base: usize, elements: i64): usize {
  return base + (<usize>elements << alignof<T>());
}

/** The columns of one image: col[(ci, i, j), (y, x)] = x[ci, y*sh - ph + i*dh, x*sw - pw + j*dw] or 0. */
function im2col<T>(col: usize, x: usize, p: usize): void {
  const cin = prm(p, 2), h = prm(p, 3), w = prm(p, 4), kh = prm(p, 6), kw = prm(p, 7), oh = prm(p, 8), ow = prm(p, 9);
  const sh: i64 = prm(p, 10), sw: i64 = prm(p, 11), ph: i64 = prm(p, 12), pw: i64 = prm(p, 13);
  const dh: i64 = prm(p, 14), dw: i64 = prm(p, 15);
  let dst = col;
  for (let ci = 0; ci < cin; ci++) {
    const plane = off<T>(x, <i64>ci * h * w);
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++) {
        const x0: i64 = <i64>j * dw - pw;
        for (let y = 0; y < oh; y++) {
          const iy: i64 = <i64>y * sh - ph + <i64>i * dh;
          if (iy < 0 || iy >= <i64>h) {
            memory.fill(dst, 0, <usize>ow << alignof<T>());
            dst += <usize>ow << alignof<T>();
            continue;
          }
          const row = off<T>(plane, iy * w);
          for (let xo = 0; xo < ow; xo++) {
            const ix: i64 = <i64>xo * sw + x0;
            st<T>(dst, ix >= 0 && ix < <i64>w ? ld<T>(off<T>(row, ix)) : 0.0);
            dst += sizeof<T>();
          }
        }
      }
  }
}

/** gx[ci, iy, ix] += dcol[(ci, i, j), (y, x)] over the taps inside the image (the adjoint of im2col). */
function col2im<T>(gx: usize, col: usize, p: usize): void {
  const cin = prm(p, 2), h = prm(p, 3), w = prm(p, 4), kh = prm(p, 6), kw = prm(p, 7), oh = prm(p, 8), ow = prm(p, 9);
  const sh: i64 = prm(p, 10), sw: i64 = prm(p, 11), ph: i64 = prm(p, 12), pw: i64 = prm(p, 13);
  const dh: i64 = prm(p, 14), dw: i64 = prm(p, 15);
  let src = col;
  for (let ci = 0; ci < cin; ci++) {
    const plane = off<T>(gx, <i64>ci * h * w);
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++) {
        const x0: i64 = <i64>j * dw - pw;
        for (let y = 0; y < oh; y++) {
          const iy: i64 = <i64>y * sh - ph + <i64>i * dh;
          if (iy < 0 || iy >= <i64>h) {
            src += <usize>ow << alignof<T>();
            continue;
          }
          const row = off<T>(plane, iy * w);
          for (let xo = 0; xo < ow; xo++) {
            const ix: i64 = <i64>xo * sw + x0;
            if (ix >= 0 && ix < <i64>w) {
              const t = off<T>(row, ix);
              st<T>(t, ld<T>(t) + ld<T>(src));
            }
            src += sizeof<T>();
          }
        }
      }
  }
}

export function conv2dFwd<T>(p: usize, o: usize, a: usize, b: usize, col: usize): void {
  const n = prm(p, 0), groups = prm(p, 1), cin = prm(p, 2), cout = prm(p, 5);
  const K = cin * prm(p, 6) * prm(p, 7), P = prm(p, 8) * prm(p, 9);
  const image: i64 = <i64>cin * prm(p, 3) * prm(p, 4);
  for (let s = 0; s < n; s++)
    for (let g = 0; g < groups; g++) {
      const sg: i64 = <i64>s * groups + g;
      im2col<T>(col, off<T>(a, sg * image), p);
      gemmOf<T>(off<T>(o, sg * cout * P), P, off<T>(b, <i64>g * cout * K), K, 1, col, P, cout, K, P, false, false);
    }
}

/**
 * dW += dout col^T (gemmNT against the image's columns); dcol = W^T dout into the same scratch,
 * then col2im into dx.
 */
export function conv2dBwd<T>(flags: i32, p: usize, go: usize, ga: usize, gb: usize, va: usize, vb: usize, col: usize): void {
  const n = prm(p, 0), groups = prm(p, 1), cin = prm(p, 2), cout = prm(p, 5);
  const K = cin * prm(p, 6) * prm(p, 7), P = prm(p, 8) * prm(p, 9);
  const image: i64 = <i64>cin * prm(p, 3) * prm(p, 4);
  for (let s = 0; s < n; s++)
    for (let g = 0; g < groups; g++) {
      const sg: i64 = <i64>s * groups + g;
      const dout = off<T>(go, sg * cout * P);
      if (flags & 2) {
        im2col<T>(col, off<T>(va, sg * image), p);
        gemmNTOf<T>(off<T>(gb, <i64>g * cout * K), dout, col, cout, K, P);
      }
      if (flags & 1) {
        gemmOf<T>(col, P, off<T>(vb, <i64>g * cout * K), 1, K, dout, P, K, cout, P, false, true);
        col2im<T>(off<T>(ga, sg * image), col, p);
      }
    }
}

/**
 * Offset (in elements from the plane) of the largest element of window (y, x): the first on ties,
 * the first NaN if any; -1 for a window of padding only (a crafted tape).
 */
function windowMax<T>(plane: usize, y: i32, xo: i32, p: usize): i64 {
  const h: i64 = prm(p, 1), w: i64 = prm(p, 2), kh = prm(p, 5), kw = prm(p, 6);
  const iy0: i64 = <i64>y * prm(p, 7) - prm(p, 9), ix0: i64 = <i64>xo * prm(p, 8) - prm(p, 10);
  let k: i64 = -1;
  let best = -Infinity;
  for (let i = 0; i < kh; i++) {
    const iy = iy0 + i;
    if (iy < 0 || iy >= h) continue;
    for (let j = 0; j < kw; j++) {
      const ix = ix0 + j;
      if (ix < 0 || ix >= w) continue;
      const at = iy * w + ix;
      const x = ld<T>(off<T>(plane, at));
      if (x != x) return at;
      if (k < 0 || x > best) {
        best = x;
        k = at;
      }
    }
  }
  return k;
}

export function maxPool2dFwd<T>(p: usize, o: usize, a: usize): void {
  const planes = prm(p, 0), oh = prm(p, 3), ow = prm(p, 4);
  const image: i64 = <i64>prm(p, 1) * prm(p, 2);
  let dst = o;
  for (let s = 0; s < planes; s++) {
    const plane = off<T>(a, <i64>s * image);
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++) {
        const k = windowMax<T>(plane, y, x, p);
        st<T>(dst, k < 0 ? -Infinity : ld<T>(off<T>(plane, k)));
        dst += sizeof<T>();
      }
  }
}

export function maxPool2dBwd<T>(p: usize, go: usize, ga: usize, va: usize): void {
  const planes = prm(p, 0), oh = prm(p, 3), ow = prm(p, 4);
  const image: i64 = <i64>prm(p, 1) * prm(p, 2);
  let src = go;
  for (let s = 0; s < planes; s++) {
    const plane = off<T>(va, <i64>s * image);
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++) {
        const k = windowMax<T>(plane, y, x, p);
        if (k >= 0) {
          const t = off<T>(ga, <i64>s * image + k);
          st<T>(t, ld<T>(t) + ld<T>(src));
        }
        src += sizeof<T>();
      }
  }
}

/** avg pooling forward (bwd: backward = false) or backward; padded elements add nothing. */
function avgPool<T>(p: usize, o: usize, a: usize, backward: bool): void {
  const planes = prm(p, 0), h: i64 = prm(p, 1), w: i64 = prm(p, 2), oh = prm(p, 3), ow = prm(p, 4);
  const kh = prm(p, 5), kw = prm(p, 6);
  const count = <f64>(kh * kw);
  let q = o;
  for (let s = 0; s < planes; s++) {
    const plane = off<T>(a, <i64>s * h * w);
    for (let y = 0; y < oh; y++)
      for (let xo = 0; xo < ow; xo++) {
        const iy0: i64 = <i64>y * prm(p, 7) - prm(p, 9), ix0: i64 = <i64>xo * prm(p, 8) - prm(p, 10);
        const d = backward ? ld<T>(q) / count : 0.0;
        let acc = 0.0;
        for (let i = 0; i < kh; i++) {
          const iy = iy0 + i;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < kw; j++) {
            const ix = ix0 + j;
            if (ix < 0 || ix >= w) continue;
            const t = off<T>(plane, iy * w + ix);
            if (backward) st<T>(t, ld<T>(t) + d);
            else acc += ld<T>(t);
          }
        }
        if (!backward) st<T>(q, acc / count);
        q += sizeof<T>();
      }
  }
}

export function avgPool2dFwd<T>(p: usize, o: usize, a: usize): void {
  avgPool<T>(p, o, a, false);
}

export function avgPool2dBwd<T>(p: usize, go: usize, ga: usize): void {
  avgPool<T>(p, go, ga, true);
}

/** out' = a' at the window's element the value picks (forward mode) */
export function maxPool2dTan<T>(p: usize, to: usize, ta: usize, va: usize): void {
  const planes = prm(p, 0), oh = prm(p, 3), ow = prm(p, 4);
  const image: i64 = <i64>prm(p, 1) * prm(p, 2);
  let dst = to;
  for (let s = 0; s < planes; s++) {
    const plane = off<T>(va, <i64>s * image);
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++) {
        const k = windowMax<T>(plane, y, x, p);
        st<T>(dst, k < 0 ? 0.0 : ld<T>(off<T>(ta, <i64>s * image + k)));
        dst += sizeof<T>();
      }
  }
}
