import { ShapeError, shapeString as fmt, sizeOf, type Shape } from '../ops/opset.js';
import type { Graph } from './graph.js';
import { convAttrs, poolAttrs, type Conv2dOptions, type Pair, type Pool2dOptions } from './window.js';

export type TensorLike = Tensor | number;

/**
 * A symbolic float64 tensor inside a trace. Methods record nodes in the graph; nothing is computed.
 * Composite operations (broadcasting, mean, vector forms of matmul, reshape) are resolved here into
 * primitives of the op set, so that every backend only implements the primitives.
 */
export class Tensor {
  /** @internal */
  constructor(
    readonly graph: Graph,
    readonly id: number,
  ) {}

  get shape(): Shape {
    return this.graph.shapeOf(this.id);
  }
  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }

  add(other: TensorLike): Tensor {
    return this.binary('add', other);
  }
  sub(other: TensorLike): Tensor {
    return this.binary('sub', other);
  }
  mul(other: TensorLike): Tensor {
    return this.binary('mul', other);
  }
  div(other: TensorLike): Tensor {
    return this.binary('div', other);
  }

  neg(): Tensor {
    return this.unary('neg');
  }
  exp(): Tensor {
    return this.unary('exp');
  }
  log(): Tensor {
    return this.unary('log');
  }
  log1p(): Tensor {
    return this.unary('log1p');
  }
  sqrt(): Tensor {
    return this.unary('sqrt');
  }
  square(): Tensor {
    return this.unary('square');
  }
  abs(): Tensor {
    return this.unary('abs');
  }
  sigmoid(): Tensor {
    return this.unary('sigmoid');
  }
  tanh(): Tensor {
    return this.unary('tanh');
  }
  relu(): Tensor {
    return this.unary('relu');
  }
  softplus(): Tensor {
    return this.unary('softplus');
  }

  /** sin(x), the same bits as Math.sin on every backend; d/dx = cos(x). */
  sin(): Tensor {
    return this.unary('sin');
  }
  /** cos(x), the same bits as Math.cos on every backend; d/dx = -sin(x). */
  cos(): Tensor {
    return this.unary('cos');
  }
  /** The error function (fdlibm's); d/dx = 2/sqrt(pi) exp(-x^2). */
  erf(): Tensor {
    return this.unary('erf');
  }
  /** GELU, the exact form 0.5 x (1 + erf(x / sqrt(2))) (PyTorch's approximate='none'). */
  gelu(): Tensor {
    return this.unary('gelu');
  }
  /** sign(x) as Math.sign (-1, 1; ±0 and NaN unchanged); no gradient flows through it. */
  sign(): Tensor {
    return this.unary('sign');
  }
  /**
   * min(max(x, lo), hi) for numbers lo and hi, as PyTorch's clamp (NaN stays NaN; lo > hi gives
   * hi). The gradient is 1 for lo <= x <= hi, bounds included (as PyTorch), else 0.
   */
  clamp(lo: number, hi: number): Tensor {
    for (const [name, v] of [
      ['lo', lo],
      ['hi', hi],
    ] as const)
      if (typeof v !== 'number' || Number.isNaN(v))
        throw new TypeError(`clamp: ${name} must be a number, got ${describeValue(v)}`);
    return this.wrap(this.graph.op('clamp', [this.id, this.graph.constant(lo), this.graph.constant(hi)]));
  }
  /**
   * The elementwise larger of this and other (broadcast); NaN if either is NaN. The gradient goes
   * to the larger operand; at a tie half to each, as PyTorch and JAX.
   */
  maximum(other: TensorLike): Tensor {
    return this.binary('maximum', other);
  }
  /** The elementwise smaller of this and other; ties and NaN as maximum. */
  minimum(other: TensorLike): Tensor {
    return this.binary('minimum', other);
  }
  /** 1 where this > other, else 0 (0 with a NaN); no gradient. */
  greater(other: TensorLike): Tensor {
    return this.binary('greater', other);
  }
  /** 1 where this < other, else 0 (0 with a NaN); no gradient. */
  less(other: TensorLike): Tensor {
    return this.binary('less', other);
  }
  /** 1 where this == other, else 0 (0 with a NaN, -0 equals 0); no gradient. */
  equal(other: TensorLike): Tensor {
    return this.binary('equal', other);
  }
  /**
   * where(cond, x, y) with this as cond: x where cond is nonzero (NaN counts as nonzero), else y;
   * the three broadcast together. The branch not taken never reaches the value nor the gradient
   * (a NaN or Inf there does not leak); cond takes no gradient.
   */
  where(x: TensorLike, y: TensorLike): Tensor {
    const a = this.operand(x, 'where'),
      b = this.operand(y, 'where');
    const shape = broadcastShapes('where', broadcastShapes('where', this.shape, a.shape), b.shape);
    return this.wrap(this.graph.op('where', [this.expand(shape).id, a.expand(shape).id, b.expand(shape).id]));
  }

  /**
   * x^p elementwise (Math.pow), p a finite number or a tensor (broadcast as NumPy). d/dx = p x^(p-1)
   * (0 where p = 0), d/dp = x^p log(x) (0 where x = 0 and p >= 0).
   */
  pow(p: TensorLike): Tensor {
    if (typeof p === 'number' && !Number.isFinite(p))
      throw new TypeError(`pow: the exponent must be a finite number, got ${describeValue(p)}`);
    return this.binary('pow', p);
  }

  /** Matrix product: 2-D x 2-D, 2-D x 1-D (matrix-vector), 1-D x 2-D and 1-D x 1-D (dot). */
  matmul(other: Tensor): Tensor {
    const b = this.operand(other, 'matmul');
    const [sa, sb] = [this.shape, b.shape];
    if (sa.length < 1 || sa.length > 2 || sb.length < 1 || sb.length > 2)
      throw new ShapeError(`matmul: operands must be 1-D or 2-D, got ${fmt(sa)} x ${fmt(sb)}`);
    const a2 = sa.length === 1 ? [1, sa[0]] : sa;
    const b2 = sb.length === 1 ? [sb[0], 1] : sb;
    if (a2[1] !== b2[0]) throw new ShapeError(`matmul: inner dimensions differ: ${fmt(sa)} x ${fmt(sb)}`);
    const out = this.wrap(this.graph.op('matmul', [this.reshape(a2).id, b.reshape(b2).id]));
    return out.reshape([...sa.slice(0, -1), ...sb.slice(1)]);
  }

  /** Transpose of a 2-D tensor; a 0-D or 1-D tensor is returned unchanged (as in NumPy). */
  transpose(): Tensor {
    if (this.rank < 2) return this;
    return this.wrap(this.graph.op('transpose', [this.id]));
  }

  /** Sum of all elements, or along `axis` (negative counts from the end). */
  sum(axis?: number, keepDims = false): Tensor {
    return this.reduce('sum', axis, keepDims);
  }

  /** Mean of all elements, or along `axis`: the sum divided by the count. */
  mean(axis?: number, keepDims = false): Tensor {
    const n = axis === undefined ? this.size : this.shape[this.axis(axis, 'mean')];
    return this.sum(axis, keepDims).div(n);
  }

  /** log(sum(exp(x))) over all elements or along `axis`, computed without overflow. */
  logSumExp(axis?: number, keepDims = false): Tensor {
    return this.reduce('logsumexp', axis, keepDims);
  }

  /**
   * Index of the largest element along `axis` (of all elements, flattened, without one), as a
   * float64; the first one on ties, the first NaN if any. An output only: no gradient flows
   * through it.
   */
  argmax(axis?: number, keepDims = false): Tensor {
    return this.reduce('argmax', axis, keepDims);
  }

  /** Index of the smallest element along `axis` (see argmax). */
  argmin(axis?: number, keepDims = false): Tensor {
    return this.reduce('argmin', axis, keepDims);
  }

  /**
   * Largest element along `axis` (of all elements without one). NaN if any element is NaN. The
   * gradient goes to the first largest element only (the one argmax picks).
   */
  max(axis?: number, keepDims = false): Tensor {
    return this.reduce('max', axis, keepDims);
  }

  /** Smallest element along `axis` (see max). */
  min(axis?: number, keepDims = false): Tensor {
    return this.reduce('min', axis, keepDims);
  }

  /**
   * 2-D convolution (cross-correlation, as PyTorch's `F.conv2d`) of this input [N, C, H, W] with
   * weights [Cout, C / groups, KH, KW]: output [N, Cout, OH, OW] with
   * OH = floor((H + 2 padH - dilationH (KH - 1) - 1) / strideH) + 1. No bias: add one as
   * `.add(b.reshape([Cout, 1, 1]))`.
   */
  conv2d(weights: Tensor, options: Conv2dOptions = {}): Tensor {
    const w = this.operand(weights, 'conv2d');
    return this.wrap(this.graph.op('conv2d', [this.id, w.id], convAttrs(options, w.shape)));
  }

  /**
   * Max pooling over the last two axes [..., H, W] (PyTorch's `F.max_pool2d`; stride defaults to
   * the kernel size; padding is ignored). NaN if the window holds one; the gradient goes to the
   * first largest element of each window.
   */
  maxPool2d(kernel: Pair, options: Pool2dOptions = {}): Tensor {
    return this.wrap(this.graph.op('max_pool2d', [this.id], poolAttrs('maxPool2d', kernel, options)));
  }

  /** Average pooling over the last two axes (PyTorch's `F.avg_pool2d`, count_include_pad=True). */
  avgPool2d(kernel: Pair, options: Pool2dOptions = {}): Tensor {
    return this.wrap(this.graph.op('avg_pool2d', [this.id], poolAttrs('avgPool2d', kernel, options)));
  }

  /**
   * Rows of one-hot vectors [n, classes] from n class indices (integers in [0, classes)). An
   * input used this way is checked on every call: an index out of range is an Error. No gradient.
   */
  oneHot(classes: number): Tensor {
    if (this.rank > 1) throw new ShapeError(`oneHot: class indices must be 1-D, got ${fmt(this.shape)}`);
    return this.wrap(this.graph.op('one_hot', [this.reshape([this.size]).id], [classes]));
  }

  /**
   * Per-row softmax cross-entropy of logits [rows, classes] with `labels`: the same shape (one-hot
   * rows, or any distribution), or class indices [rows] (integers, as PyTorch's cross_entropy
   * takes them). 1-D logits are one row (labels [classes], or one index of shape []).
   */
  softmaxCrossEntropy(labels: Tensor): Tensor {
    let y = this.operand(labels, 'softmaxCrossEntropy');
    const classes = this.shape[this.rank - 1];
    if (this.rank >= 1 && y.rank === this.rank - 1 && y.shape.every((d, i) => d === this.shape[i]))
      y = y.oneHot(classes).reshape(this.shape);
    if (this.rank === 1 && y.rank === 1) {
      const [z1, y1] = [this.reshape([1, this.size]), y.reshape([1, y.size])];
      return this.wrap(this.graph.op('softmax_xent', [z1.id, y1.id])).reshape([]);
    }
    return this.wrap(this.graph.op('softmax_xent', [this.id, y.id]));
  }

  /** A view with another shape of the same size; one dimension may be -1 (inferred). */
  reshape(shape: readonly number[]): Tensor {
    const target = inferShape(this.shape, shape);
    if (target.length === this.rank && target.every((d, i) => d === this.shape[i])) return this;
    return this.wrap(this.graph.reshape(this.id, target));
  }

  toString(): string {
    return `Tensor${fmt(this.shape)}`;
  }

  private wrap(id: number): Tensor {
    return new Tensor(this.graph, id);
  }

  private unary(name: string): Tensor {
    return this.wrap(this.graph.op(name, [this.id]));
  }

  private binary(name: string, other: TensorLike): Tensor {
    const b = this.operand(other, name);
    const shape = broadcastShapes(name, this.shape, b.shape);
    return this.wrap(this.graph.op(name, [this.expand(shape).id, b.expand(shape).id]));
  }

  private operand(x: TensorLike, op: string): Tensor {
    if (typeof x === 'number') return this.wrap(this.graph.constant(x));
    if (!(x instanceof Tensor)) throw new TypeError(`${op}: expected a Tensor or a number, got ${describeValue(x)}`);
    if (x.graph !== this.graph) throw new Error(`${op}: the operands come from different traces`);
    return x;
  }

  private axis(axis: number, op: string): number {
    const a = axis < 0 ? axis + this.rank : axis;
    if (!Number.isInteger(axis) || a < 0 || a >= this.rank)
      throw new ShapeError(`${op}: axis ${axis} is out of range for shape ${fmt(this.shape)}`);
    return a;
  }

  private reduce(
    name: 'sum' | 'logsumexp' | 'argmax' | 'argmin' | 'max' | 'min',
    axis: number | undefined,
    keepDims: boolean,
  ): Tensor {
    const op = name === 'logsumexp' ? 'logSumExp' : name;
    const flat = axis === undefined;
    const x = flat ? this.reshape([this.size]) : this;
    const a = flat ? 0 : this.axis(axis, op);
    const out = this.wrap(this.graph.op(name, [x.id], [a]));
    if (!keepDims) return out;
    return out.reshape(flat ? this.shape.map(() => 1) : this.shape.map((d, i) => (i === a ? 1 : d)));
  }

  /**
   * Broadcast to `shape` (already checked compatible): drop the axes that repeat, then insert each
   * one with a `broadcast` instruction, whose backward rule sums the repeats back.
   */
  private expand(shape: Shape): Tensor {
    const pad = shape.length - this.rank;
    const kept = shape.map((d, i) => i >= pad && this.shape[i - pad] === d);
    if (kept.every(Boolean)) return this;
    let x = this.reshape(shape.filter((_, i) => kept[i]));
    shape.forEach((d, i) => {
      if (kept[i]) return;
      const grown = [...x.shape.slice(0, i), d, ...x.shape.slice(i)];
      x = d === 1 ? x.reshape(grown) : x.wrap(x.graph.op('broadcast', [x.id], [i, d]));
    });
    return x;
  }
}

/** NumPy broadcasting: align trailing dimensions; a dimension of 1 (or a missing one) repeats. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new ShapeError(`${op}: shapes ${fmt(a)} and ${fmt(b)} cannot be broadcast together`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

function inferShape(from: Shape, to: readonly number[]): Shape {
  if (!Array.isArray(to) || to.some((d) => !Number.isInteger(d) || d < -1))
    throw new ShapeError(`reshape: invalid shape ${describeValue(to)}`);
  const free = to.filter((d) => d === -1).length;
  const known = sizeOf(to.filter((d) => d !== -1));
  const size = sizeOf(from);
  if (free > 1) throw new ShapeError(`reshape: at most one -1 in ${fmt(to)}`);
  const out = free ? to.map((d) => (d === -1 ? size / known : d)) : to;
  if ((free && (known === 0 || size % known !== 0)) || sizeOf(out) !== size)
    throw new ShapeError(`reshape: cannot reshape ${fmt(from)} to ${fmt(to)}`);
  return out;
}

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array [${v.slice(0, 4).map(String).join(', ')}${v.length > 4 ? ', ...' : ''}]`;
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number') return String(v);
  return `${typeof v} ${String(v)}`;
}
