import { ShapeError, shapeString as fmt, type Shape } from '../ops/opset.js';
import { describeValue, Tensor } from './tensor.js';

/** A size per spatial axis: one number for both, or [height, width]. */
export type Pair = number | readonly [number, number];

/** conv2d options, as PyTorch's `F.conv2d` (NCHW input, weights [out, in / groups, kh, kw]). */
export interface Conv2dOptions {
  /** default 1 */
  readonly stride?: Pair;
  /** zeros added on each side; 'valid' is 0, 'same' keeps H and W (stride 1, odd dilated kernels); default 0 */
  readonly padding?: Pair | 'same' | 'valid';
  /** default 1 */
  readonly dilation?: Pair;
  /** default 1; input channels and output channels are split into this many groups */
  readonly groups?: number;
}

/** maxPool2d / avgPool2d options, as PyTorch's (no dilation, ceil_mode false). */
export interface Pool2dOptions {
  /** default: the kernel size */
  readonly stride?: Pair;
  /** default 0; at most half the kernel (max pooling ignores it, average pooling counts it as zeros) */
  readonly padding?: Pair;
}

function pair(op: string, what: string, x: unknown, min: number): [number, number] {
  const ok = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d >= min && d < 2 ** 31;
  if (ok(x)) return [x, x];
  if (Array.isArray(x) && x.length === 2 && ok(x[0]) && ok(x[1])) return [x[0], x[1]];
  throw new TypeError(`${op}: ${what} must be an integer >= ${min} or a pair [h, w] of them, got ${describeValue(x)}`);
}

/** conv2d attrs [sh, sw, ph, pw, dh, dw, groups] from the options, checked. */
export function convAttrs(opts: Conv2dOptions, w: Shape): number[] {
  if (typeof opts !== 'object' || opts === null)
    throw new TypeError(`conv2d: options must be an object, got ${describeValue(opts)}`);
  const stride = pair('conv2d', 'stride', opts.stride ?? 1, 1);
  const dilation = pair('conv2d', 'dilation', opts.dilation ?? 1, 1);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1)
    throw new TypeError(`conv2d: groups must be a positive integer, got ${describeValue(groups)}`);
  let padding: [number, number];
  if (opts.padding === 'valid') padding = [0, 0];
  else if (opts.padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1)
      throw new ShapeError(`conv2d: padding 'same' needs stride 1 (as PyTorch), got [${stride.join(',')}]`);
    if (w.length !== 4) throw new ShapeError(`conv2d: the weights must be 4-D [Cout, C/groups, KH, KW], got ${fmt(w)}`);
    const total = [dilation[0] * (w[2] - 1), dilation[1] * (w[3] - 1)];
    if (total[0] % 2 || total[1] % 2)
      throw new ShapeError(
        `conv2d: padding 'same' with weights ${fmt(w)} and dilation [${dilation.join(',')}] needs uneven padding, which conv2d does not do; pad the input or use an odd kernel`,
      );
    padding = [total[0] / 2, total[1] / 2];
  } else padding = pair('conv2d', 'padding', opts.padding ?? 0, 0);
  return [...stride, ...padding, ...dilation, groups];
}

/** Pooling attrs [kh, kw, sh, sw, ph, pw] from the kernel size and the options, checked. */
export function poolAttrs(op: string, kernel: Pair, opts: Pool2dOptions): number[] {
  if (typeof opts !== 'object' || opts === null)
    throw new TypeError(`${op}: options must be an object, got ${describeValue(opts)}`);
  const k = pair(op, 'the kernel size', kernel, 1);
  return [...k, ...pair(op, 'stride', opts.stride ?? k, 1), ...pair(op, 'padding', opts.padding ?? 0, 0)];
}

/** `x.conv2d(w, options)` as a free function (PyTorch's `F.conv2d(x, w)` without bias). */
export function conv2d(x: Tensor, w: Tensor, options: Conv2dOptions = {}): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`conv2d: the input must be a Tensor, got ${describeValue(x)}`);
  return x.conv2d(w, options);
}

/** `x.maxPool2d(kernel, options)` as a free function. */
export function maxPool2d(x: Tensor, kernel: Pair, options: Pool2dOptions = {}): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`maxPool2d: the input must be a Tensor, got ${describeValue(x)}`);
  return x.maxPool2d(kernel, options);
}

/** `x.avgPool2d(kernel, options)` as a free function. */
export function avgPool2d(x: Tensor, kernel: Pair, options: Pool2dOptions = {}): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`avgPool2d: the input must be a Tensor, got ${describeValue(x)}`);
  return x.avgPool2d(kernel, options);
}
