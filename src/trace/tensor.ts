import { ShapeError, SLICE_RANK, shapeString as fmt, sizeOf, type Shape } from '../ops/opset.js';
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

  /**
   * Matrix product: 2-D x 2-D, 2-D x 1-D (matrix-vector), 1-D x 2-D and 1-D x 1-D (dot); and
   * batched over the leading axes of an operand of rank 3 or more (as NumPy's matmul):
   * [...B,M,K] x [...B,K,N], [M,K] x [...B,K,N] (one matrix for every batch) and
   * [...B,M,K] x [K,N] (one product of [B*M,K] x [K,N]). The batch axes must be equal.
   */
  matmul(other: Tensor): Tensor {
    const b = this.operand(other, 'matmul');
    const [sa, sb] = [this.shape, b.shape];
    if (sa.length < 1 || sb.length < 1)
      throw new ShapeError(`matmul: operands must be at least 1-D, got ${fmt(sa)} x ${fmt(sb)}`);
    const a2 = sa.length === 1 ? [1, sa[0]] : sa;
    const b2 = sb.length === 1 ? [sb[0], 1] : sb;
    const [k, kb] = [a2[a2.length - 1], b2[b2.length - 2]];
    if (k !== kb) throw new ShapeError(`matmul: inner dimensions differ: ${fmt(sa)} x ${fmt(sb)}`);
    // the result's shape: the batch axes, then M and N where the operand had them (NumPy's rule)
    const batchA = a2.slice(0, -2),
      batchB = b2.slice(0, -2);
    const batch = batchA.length ? batchA : batchB;
    const shape = [
      ...batch,
      ...(sa.length > 1 ? [a2[a2.length - 2]] : []),
      ...(sb.length > 1 ? [b2[b2.length - 1]] : []),
    ];
    if (!batchB.length) {
      // [...B,M,K] x [K,N]: one product over all the rows
      const rows = this.reshape([-1, k]);
      return this.wrap(this.graph.op('matmul', [rows.id, b.reshape(b2).id])).reshape(shape);
    }
    if (batchA.length && (batchA.length !== batchB.length || batchA.some((d, i) => d !== batchB[i])))
      throw new ShapeError(`matmul: batch axes differ: ${fmt(sa)} x ${fmt(sb)}`);
    const a3 = this.reshape([sizeOf(batchA), a2[a2.length - 2], k]);
    const b3 = b.reshape([sizeOf(batchB), k, b2[b2.length - 1]]);
    return this.wrap(this.graph.op('batch_matmul', [a3.id, b3.id])).reshape(shape);
  }

  /**
   * The axes permuted: axis i of the result is axis perm[i] of this tensor (as NumPy's and
   * TF.js's transpose); without perm, the axes reversed (a matrix transposed, a 0-D or 1-D
   * tensor unchanged). Each instruction exchanges two adjacent blocks of axes, so a permutation
   * of r axes takes at most r - 1 copies, and the common ones ([m,n], [B,m,n] -> [B,n,m],
   * NCHW -> NHWC) take one.
   */
  transpose(perm?: readonly number[]): Tensor {
    const r = this.rank;
    const p = perm === undefined ? this.shape.map((_, i) => r - 1 - i) : Array.isArray(perm) ? [...perm] : [];
    if (
      (perm !== undefined && !Array.isArray(perm)) ||
      p.length !== r ||
      p.some((x) => !Number.isInteger(x) || x < 0 || x >= r) ||
      new Set(p).size !== r
    )
      throw new ShapeError(
        `transpose: ${describeValue(perm)} is not a permutation of the ${r} axes of ${fmt(this.shape)}`,
      );
    // cur[q] = which original axis sits at position q; move the run the target wants at i forward
    const cur = this.shape.map((_, i) => i);
    let x: Tensor = this;
    for (let i = 0; i < r;) {
      const q = cur.indexOf(p[i]);
      if (q === i) {
        i++;
        continue;
      }
      let len = 1;
      while (q + len < r && cur[q + len] === p[i + len]) len++;
      x = x.wrap(x.graph.op('transpose', [x.id], [i, q, q + len]));
      cur.splice(i, 0, ...cur.splice(q, len));
      i += len;
    }
    return x;
  }

  /**
   * The block of elements from `begin` (per axis) of `size` elements along each axis, as TF.js's
   * slice: a number applies to the first axis, missing axes start at 0 and run to the end, and a
   * size of -1 runs to the end. The gradient adds into that block of this tensor's adjoint.
   */
  slice(begin: number | readonly number[], size?: number | readonly number[]): Tensor {
    const shape = this.shape,
      r = this.rank;
    const list = (x: unknown, what: string): number[] => {
      const l = typeof x === 'number' ? [x] : Array.isArray(x) || ArrayBuffer.isView(x) ? [...(x as number[])] : null;
      if (!l || l.length > r || l.some((d) => !Number.isInteger(d)))
        throw new ShapeError(
          `slice: ${what} ${describeValue(x)} must be an integer or at most ${r} integers for shape ${fmt(shape)}`,
        );
      return l;
    };
    if (r === 0) throw new ShapeError('slice: a scalar (shape []) has no axes to slice');
    const b = list(begin, 'begin'),
      s = size === undefined ? [] : list(size, 'size');
    const bs = shape.map((_, i) => b[i] ?? 0);
    const ss = shape.map((d, i) => (s[i] === undefined || s[i] === -1 ? d - bs[i] : s[i]));
    shape.forEach((d, i) => {
      if (bs[i] < 0 || bs[i] >= d || ss[i] < 1 || bs[i] + ss[i] > d)
        throw new ShapeError(
          `slice: begin ${fmt(bs)} and size ${fmt(s.length ? s : [-1])} do not fit shape ${fmt(shape)} at axis ${i} (need 0 <= begin < ${d} and 1 <= size <= ${d} - begin)`,
        );
    });
    if (ss.every((d, i) => d === shape[i])) return this;
    // merge each axis taken whole into the one before it: the block stays one contiguous range
    const dims: number[] = [],
      bg: number[] = [],
      sz: number[] = [];
    shape.forEach((d, i) => {
      if (i > 0 && ss[i] === d) {
        dims[dims.length - 1] *= d;
        bg[bg.length - 1] *= d;
        sz[sz.length - 1] *= d;
      } else (dims.push(d), bg.push(bs[i]), sz.push(ss[i]));
    });
    const x = this.reshape(dims);
    if (dims.length <= SLICE_RANK) return this.wrap(this.graph.op('slice', [x.id], [...bg, ...sz])).reshape(ss);
    // wider than one instruction: the first SLICE_RANK - 1 axes, then the rest
    const h = SLICE_RANK - 1;
    const rest = sizeOf(dims.slice(h));
    const first = x.reshape([...dims.slice(0, h), rest]).slice([...bg.slice(0, h), 0], [...sz.slice(0, h), rest]);
    return first
      .reshape([...sz.slice(0, h), ...dims.slice(h)])
      .slice([...bg.slice(0, h).map(() => 0), ...bg.slice(h)], [...sz.slice(0, h), ...sz.slice(h)])
      .reshape(ss);
  }

  /**
   * Rows of this tensor picked along `axis` by integer `indices` (an embedding lookup:
   * `table.gather(ids)`): the result's shape is this shape with that axis replaced by the shape
   * of `indices`. Indices are a tensor (an input checked on every call: an index out of range is
   * an Error; a computed one out of range gives a NaN row) or integers fixed at trace time. The
   * gradient scatter-adds into the rows picked (a row picked twice gets both); none flows into
   * the indices.
   */
  gather(indices: Tensor | readonly number[] | Int32Array | Float64Array, axis = 0): Tensor {
    if (this.rank === 0) throw new ShapeError('gather: a scalar (shape []) has no axis to gather from');
    const ax = this.axis(axis, 'gather');
    const n = this.shape[ax];
    let ids: Tensor;
    if (indices instanceof Tensor) ids = this.operand(indices, 'gather');
    else if (Array.isArray(indices) || indices instanceof Int32Array || indices instanceof Float64Array) {
      const bad = [...indices].findIndex((i) => !(Number.isInteger(i) && i >= 0 && i < n));
      if (bad >= 0 || indices.length === 0)
        throw new ShapeError(
          bad >= 0
            ? `gather: index ${indices[bad]} (element ${bad}) is not an integer in [0, ${n}) for axis ${ax} of ${fmt(this.shape)}`
            : 'gather: no indices',
        );
      ids = this.wrap(this.graph.constantTensor(indices, [indices.length]));
    } else
      throw new TypeError(`gather: indices must be a Tensor or an array of integers, got ${describeValue(indices)}`);
    return this.wrap(this.graph.op('gather', [this.id, ids.id], [ax]));
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

  /** @internal */
  wrap(id: number): Tensor {
    return new Tensor(this.graph, id);
  }

  private unary(name: string): Tensor {
    return this.wrap(this.graph.op(name, [this.id]));
  }

  /** @internal */
  binary(name: string, other: TensorLike): Tensor {
    const b = this.operand(other, name);
    const shape = broadcastShapes(name, this.shape, b.shape);
    return this.wrap(this.graph.op(name, [this.expand(shape).id, b.expand(shape).id]));
  }

  /** @internal the operand as a tensor of this trace (a number becomes a constant) */
  operand(x: TensorLike, op: string): Tensor {
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
