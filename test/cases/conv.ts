import { define } from '../../src/index.js';
import type { Conv2dOptions } from '../../src/trace/window.js';
import { random } from '../harness.js';
import type { Case } from './case.js';

type Four = [number, number, number, number];
const pairOf = (x: number | readonly [number, number] | undefined, d: number): [number, number] =>
  x === undefined ? [d, d] : typeof x === 'number' ? [x, x] : [x[0], x[1]];

/**
 * The oracle: the input copied into a zero-padded array, then the textbook sums over it (no
 * bounds checks, no im2col), for L = sum(conv(x, w) * r): value, dL/dx (cropped from the padded
 * adjoint) and dL/dw.
 */
export function naiveConv(
  x: Float64Array,
  [N, C, H, W]: Four,
  w: Float64Array,
  [O, Cg, KH, KW]: Four,
  opts: Conv2dOptions,
  r?: Float64Array,
) {
  const [sh, sw] = pairOf(opts.stride, 1),
    [dh, dw] = pairOf(opts.dilation, 1);
  // 'same' written out by hand: half the dilated kernel on each side
  const [ph, pw] =
    opts.padding === 'valid'
      ? [0, 0]
      : opts.padding === 'same'
        ? [(dh * (KH - 1)) / 2, (dw * (KW - 1)) / 2]
        : pairOf(opts.padding, 0);
  const G = opts.groups ?? 1,
    Og = O / G;
  const HP = H + 2 * ph,
    WP = W + 2 * pw;
  const OH = Math.floor((HP - dh * (KH - 1) - 1) / sh) + 1,
    OW = Math.floor((WP - dw * (KW - 1) - 1) / sw) + 1;
  const xp = new Float64Array(N * C * HP * WP);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let q = 0; q < W; q++) xp[((n * C + c) * HP + y + ph) * WP + q + pw] = x[((n * C + c) * H + y) * W + q];
  const out = new Float64Array(N * O * OH * OW);
  const gxp = new Float64Array(xp.length),
    gw = new Float64Array(w.length);
  let value = 0;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let y = 0; y < OH; y++)
        for (let q = 0; q < OW; q++) {
          const oi = ((n * O + o) * OH + y) * OW + q;
          const g = Math.floor(o / Og);
          let s = 0;
          for (let c = 0; c < Cg; c++)
            for (let i = 0; i < KH; i++)
              for (let j = 0; j < KW; j++) {
                const xi = ((n * C + g * Cg + c) * HP + y * sh + i * dh) * WP + q * sw + j * dw;
                const wi = ((o * Cg + c) * KH + i) * KW + j;
                s += xp[xi] * w[wi];
                if (r) {
                  gxp[xi] += r[oi] * w[wi];
                  gw[wi] += r[oi] * xp[xi];
                }
              }
          out[oi] = s;
          if (r) value += r[oi] * s;
        }
  const gx = new Float64Array(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let q = 0; q < W; q++) gx[((n * C + c) * H + y) * W + q] = gxp[((n * C + c) * HP + y + ph) * WP + q + pw];
  return { out, shape: [N, O, OH, OW] as Four, value, gx, gw };
}

/** L = sum(conv2d(x, w) * r) with x and w both parameters, checked against the naive oracle. */
function convCase(name: string, xs: Four, ws: Four, opts: Conv2dOptions, seed: number): Case {
  const x = random(
    xs.reduce((a, b) => a * b),
    seed,
    -1,
    1,
  );
  const w = random(
    ws.reduce((a, b) => a * b),
    seed + 1,
    -1,
    1,
  );
  const { shape } = naiveConv(x, xs, w, ws, opts);
  const r = random(
    shape.reduce((a, b) => a * b),
    seed + 2,
    0.5,
    1.5,
  );
  const o = naiveConv(x, xs, w, ws, opts, r);
  return {
    name: `conv2d: ${name}, x ${JSON.stringify(xs)}, w ${JSON.stringify(ws)}`,
    f: () => define({ params: { x: xs, w: ws }, inputs: { r: shape } }, (p, i) => p.x.conv2d(p.w, opts).mul(i.r).sum()),
    params: { x, w },
    inputs: { r },
    oracle: { value: o.value, grad: { x: o.gx, w: o.gw }, tol: 1e-12 },
  };
}

/** naive pooling over a padded plane (-Inf padding for max, zeros for avg), first maximum wins */
function naivePool(
  kind: 'max' | 'avg',
  x: Float64Array,
  [P, H, W]: [number, number, number],
  k: number,
  s: number,
  pad: number,
  r: Float64Array,
) {
  const HP = H + 2 * pad,
    WP = W + 2 * pad;
  const OH = Math.floor((HP - k) / s) + 1,
    OW = Math.floor((WP - k) / s) + 1;
  const xp = new Float64Array(P * HP * WP).fill(kind === 'max' ? -Infinity : 0);
  for (let p = 0; p < P; p++)
    for (let y = 0; y < H; y++)
      for (let q = 0; q < W; q++) xp[(p * HP + y + pad) * WP + q + pad] = x[(p * H + y) * W + q];
  const gxp = new Float64Array(xp.length);
  let value = 0;
  for (let p = 0; p < P; p++)
    for (let y = 0; y < OH; y++)
      for (let q = 0; q < OW; q++) {
        const oi = (p * OH + y) * OW + q;
        let best = -Infinity,
          at = -1,
          sum = 0;
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++) {
            const xi = (p * HP + y * s + i) * WP + q * s + j;
            sum += xp[xi];
            if (xp[xi] > best) [best, at] = [xp[xi], xi];
          }
        if (kind === 'max') {
          value += r[oi] * best;
          gxp[at] += r[oi];
        } else {
          value += (r[oi] * sum) / (k * k);
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) gxp[(p * HP + y * s + i) * WP + q * s + j] += r[oi] / (k * k);
        }
      }
  const gx = new Float64Array(x.length);
  for (let p = 0; p < P; p++)
    for (let y = 0; y < H; y++)
      for (let q = 0; q < W; q++) gx[(p * H + y) * W + q] = gxp[(p * HP + y + pad) * WP + q + pad];
  return { value, gx, shape: [OH, OW] };
}

function poolCase(kind: 'max' | 'avg', xs: Four, k: number, s: number, pad: number, seed: number, ties = false): Case {
  let x = random(
    xs.reduce((a, b) => a * b),
    seed,
    -1,
    1,
  );
  // values on a coarse grid: many windows hold their maximum twice (the first one takes the gradient)
  if (ties) x = x.map((v) => Math.round(v * 2) / 2);
  const [N, C, H, W] = xs;
  const OH = Math.floor((H + 2 * pad - k) / s) + 1,
    OW = Math.floor((W + 2 * pad - k) / s) + 1;
  const r = random(N * C * OH * OW, seed + 1, 0.5, 1.5);
  const o = naivePool(kind, x, [N * C, H, W], k, s, pad, r);
  const method = kind === 'max' ? 'maxPool2d' : 'avgPool2d';
  return {
    name: `${method}: kernel ${k}, stride ${s}, padding ${pad}${ties ? ', tied maxima' : ''}, x ${JSON.stringify(xs)}`,
    f: () =>
      define({ params: { x: xs }, inputs: { r: [N, C, OH, OW] } }, (p, i) =>
        p.x[method](k, { stride: s, padding: pad }).mul(i.r).sum(),
      ),
    params: { x },
    inputs: { r },
    // central differences step across a tie (half the gradient each side): checked against the oracle only
    oracle: { value: o.value, grad: { x: o.gx }, tol: 1e-12, fdTol: ties ? 0 : 1e-6 },
  };
}

/** Non-finite and extreme values: every output compared with js element by element. */
function edgeCase(name: string, x: number[], w: number[], opts: Conv2dOptions): Case {
  return {
    name: `conv2d edge values: ${name}`,
    f: () =>
      define({ params: { x: [1, 1, 3, 3], w: [1, 1, 2, 2] } }, (p) => {
        const out = p.x.conv2d(p.w, opts);
        return { loss: out.sum(), out, pooled: p.x.maxPool2d(2, { stride: 1 }), avg: p.x.avgPool2d(2, { padding: 1 }) };
      }),
    params: { x, w },
    oracle: { fdTol: 0 },
  };
}

export const CONV: Case[] = [
  convCase('3x3, stride 1, padding 1', [2, 3, 5, 6], [4, 3, 3, 3], { padding: 1 }, 101),
  convCase('no padding (valid)', [2, 2, 6, 5], [3, 2, 3, 2], { padding: 'valid' }, 111),
  convCase(
    'stride [2,1], padding [1,2], dilation [2,1]',
    [2, 2, 7, 6],
    [3, 2, 3, 3],
    { stride: [2, 1], padding: [1, 2], dilation: [2, 1] },
    121,
  ),
  convCase('stride 3 (windows that skip input), padding 2', [1, 2, 8, 8], [2, 2, 2, 3], { stride: 3, padding: 2 }, 131),
  convCase('groups 2', [2, 4, 5, 5], [6, 2, 3, 3], { groups: 2, padding: 1 }, 141),
  convCase('depthwise (groups = channels), 1x1', [2, 3, 4, 4], [3, 1, 1, 1], { groups: 3 }, 151),
  convCase("'same' padding, 5x5 kernel", [1, 2, 6, 7], [2, 2, 5, 5], { padding: 'same' }, 161),
  convCase('a kernel as large as the padded input (one output)', [2, 1, 3, 4], [2, 1, 5, 6], { padding: 1 }, 171),
  convCase('LeNet first layer shape (1 -> 6, 5x5, padding 2) on 7x7', [1, 1, 7, 7], [6, 1, 5, 5], { padding: 2 }, 181),
  poolCase('max', [2, 3, 6, 6], 2, 2, 0, 201),
  poolCase('max', [2, 2, 7, 5], 3, 2, 1, 211),
  poolCase('max', [1, 3, 6, 6], 2, 1, 0, 221, true),
  poolCase('avg', [2, 3, 6, 6], 2, 2, 0, 231),
  poolCase('avg', [2, 2, 7, 5], 3, 2, 1, 241),
  poolCase('avg', [1, 2, 5, 5], 3, 1, 1, 251),
  {
    name: 'conv2d -> relu -> maxPool2d -> conv2d -> avgPool2d (a small CNN, bias added by broadcasting)',
    f: () =>
      define({ params: { w1: [4, 2, 3, 3], b1: [4], w2: [3, 4, 2, 2] }, inputs: { x: [2, 2, 8, 8] } }, (p, i) =>
        i.x
          .conv2d(p.w1, { padding: 1 })
          .add(p.b1.reshape([4, 1, 1]))
          .relu()
          .maxPool2d(2)
          .conv2d(p.w2)
          .tanh()
          .avgPool2d(3)
          .square()
          .sum(),
      ),
    params: { w1: random(72, 301, -0.5, 0.5), b1: random(4, 302, -0.1, 0.1), w2: random(48, 303, -0.5, 0.5) },
    inputs: { x: random(256, 304, 0, 1) },
  },
  edgeCase(
    'a NaN in the input, an infinite weight (zero padding makes NaN at the border, as PyTorch)',
    [1, NaN, 2, 3, 4, 5, 6, 7, 8],
    [Infinity, 1, 1, 1],
    { padding: 1 },
  ),
  edgeCase(
    'products that overflow (1e300 x 1e300) and -0',
    [1e300, -0, 2, 3, -1e300, 5, 6, 7, 8],
    [1e300, -0, 0, 1],
    {},
  ),
  edgeCase('-Infinity in a max window and ties at -0/+0', [-Infinity, -0, 0, 3, -0, 5, 0, 7, 8], [1, 2, 3, 4], {
    stride: 2,
    padding: 1,
  }),
];
