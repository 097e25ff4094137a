import { windowMax } from './conv.js';
import { pick } from './extremum.js';
import type { TangentRule } from './tangent.js';

/**
 * Tangents of the ops that select one element of their operand (max, min, max_pool2d): out' is
 * the tangent of the element the value picks (the same element the gradient goes to).
 */
export const SELECTION_TANGENTS: Readonly<Record<string, TangentRule>> = {
  max(v, t, _f, o, a, _b, outer, n, inner) {
    for (let s = 0; s < outer; s++)
      for (let i = 0; i < inner; i++) t[o + s * inner + i] = t[pick(v, a + s * n * inner + i, n, inner, 1)];
  },
  min(v, t, _f, o, a, _b, outer, n, inner) {
    for (let s = 0; s < outer; s++)
      for (let i = 0; i < inner; i++) t[o + s * inner + i] = t[pick(v, a + s * n * inner + i, n, inner, -1)];
  },
  max_pool2d(v, t, _f, o, a, _b, _p0, _p1, _p2, p) {
    const [planes, h, w, oh, ow] = p;
    for (let s = 0; s < planes; s++)
      for (let y = 0; y < oh; y++)
        for (let x = 0; x < ow; x++) {
          const k = windowMax(v, a + s * h * w, y, x, p);
          t[o + (s * oh + y) * ow + x] = k < 0 ? 0 : t[k];
        }
  },
};
