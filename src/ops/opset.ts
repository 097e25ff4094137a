/**
 * The op set: the single definition of every tape instruction.
 *
 * Everything else derives from this table: the opcode numbers (array index), the generated C++ and
 * AssemblyScript opcode tables (`npm run gen`), the arena extents that every backend validates
 * before it runs a tape, the shape rules the tracer applies, and the FLOP counts of the cost model.
 *
 * An instruction is INSTR_WIDTH int32 words: [op, flags, out, a, b, c, p0, ..., p17].
 * `out`, `a`, `b`, `c` are offsets (in float64 elements) into the value arena (`b` and `c` are -1
 * when the op has no such operand); the adjoint arena has the same layout, so the adjoint of the
 * value at offset i lives at offset i of the adjoint arena. `p0..p17` are the op's integer
 * parameters (sizes, strides, offsets inside an operand; for `softmax_xent` also the arena offset
 * of an extra scratch region, its saved softmax probabilities); the ones an op does not use are
 * 0. Operands may share an offset (x*x), so a backward rule accumulates into them one after the
 * other, never through aliased restrict pointers.
 *
 * FLOP conventions (cost model): one add, subtract, multiply, divide, compare, negation or one
 * call of exp/log/log1p/sqrt/tanh/pow counts 1; a multiply-add counts 2; copies count 0. Backward
 * counts include the `+=` that accumulates each adjoint.
 */
import { ELEMENTWISE, type ElementwiseDef } from './elementwise.js';
import { flopsOf, g, operandsOf, scaled, type Expr } from './expr.js';

export const INSTR_WIDTH = 24;
/** Integer parameters per instruction: enough for conv2d's shapes, strides, padding and dilation. */
export const MAX_PARAMS = 18;

/** Word positions inside one instruction; parameter q sits at `Field.p0 + q`. */
export const Field = { op: 0, flags: 1, out: 2, a: 3, b: 4, c: 5, p0: 6, p1: 7, p2: 8 } as const;

/** Bits of the flags word: which adjoints the backward sweep writes. */
export const Flag = {
  /** the backward rule accumulates into the adjoint of `a` */
  gradA: 1,
  /** the backward rule accumulates into the adjoint of `b` */
  gradB: 2,
  /** the instruction takes part in the backward sweep (its output depends on a parameter) */
  gradOut: 4,
  /** the backward rule accumulates into the adjoint of `c` */
  gradC: 8,
} as const;

export type Shape = readonly number[];

/** The most float64 elements a tensor or an arena may hold: tape offsets and sizes are int32. */
export const MAX_ELEMENTS = 2 ** 31 - 1;
/** An instruction's parameters p0.. (as many as the op's `params` names). */
export type Params = readonly number[];

/** Raised at trace time; the message names the op and the shapes involved. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

const fmt = (s: readonly (number | string)[]) => `[${s.join(',')}]`;
export const shapeString = fmt;
export const sizeOf = (s: Shape) => s.reduce((p, d) => p * d, 1);

/**
 * Arena extent of one operand, as the product of some of the params (indices; `[]` is 1). Data,
 * not code, so the generator can write the same rule in C++ and AssemblyScript and every backend
 * can check that an instruction stays inside its arena.
 */
export type Extent = readonly number[];

/**
 * A bound between params that the kernel relies on: p[sum[0]] + p[sum[1]] + ... <= p[max] (a
 * slice's begin + size within its axis, say). Checked by every backend before a tape runs.
 */
export interface Limit {
  readonly sum: readonly number[];
  readonly max: number;
}

export interface OpDef {
  /** tape name; the C++/AS constant is OP_<NAME> */
  readonly name: string;
  readonly kind:
    | 'unary'
    | 'binary'
    | 'ternary'
    | 'broadcast'
    | 'reduce'
    | 'matmul'
    | 'transpose'
    | 'loss'
    | 'index'
    | 'conv'
    | 'pool'
    | 'structure';
  readonly arity: 1 | 2 | 3;
  /** meaning of p0.. (at most MAX_PARAMS) */
  readonly params: readonly string[];
  /** sizes of out, a, b, c; `extra` is an additional arena region whose offset is param `at` */
  readonly extent: { out: Extent; a: Extent; b?: Extent; c?: Extent; extra?: { at: number; size: Extent } };
  /**
   * params that may be 0 (offsets, padding); every other param but the extra offset is a size
   * or a stride, >= 1 in a valid tape
   */
  readonly zeroOk?: readonly number[];
  /** bounds between params that the kernels rely on (checked on load by every backend) */
  readonly limits?: readonly Limit[];
  /** what the backward rule reads besides the output adjoint (all values stay in the arena) */
  readonly saves: readonly ('a' | 'b' | 'c' | 'out' | 'extra')[];
  /** output shape from input shapes and node attributes; throws ShapeError */
  readonly shape: (ins: readonly Shape[], attrs: readonly number[]) => Shape;
  /** integer params p0..; `extra(size)` reserves scratch in the arena and returns its offset */
  readonly encode: (ins: readonly Shape[], attrs: readonly number[], extra: (size: number) => number) => Params;
  /**
   * FLOPs of the forward rule, of the backward rule per input (a, b, c), and of a custom tangent
   * rule (the other tangent modes are counted from fwd and bwd: src/trace/cost.ts)
   */
  readonly flops: {
    fwd: (p: Params) => number;
    bwd: readonly ((p: Params) => number)[];
    tangent?: (p: Params) => number;
  };
  /** value and derivative, NaN and edge cases included */
  readonly doc: string;
  /**
   * false for ops whose output is piecewise constant (indices, one-hot rows): no gradient flows
   * through them, the compiler never sets their gradOut flag and their backward rule is never run
   */
  readonly differentiable?: false;
  /**
   * How forward mode carries tangents (x' = dx/dt along a direction) through the op, built from
   * rules the op already has, so an op needs no tangent kernel of its own unless 'custom':
   * - 'diagonal': elementwise ops (a diagonal Jacobian J, so J = J^T): out' = sum_k df/dx_k x_k',
   *   computed by the backward rule run with x_k' in place of the output adjoint, one operand at a
   *   time, accumulating into out' (the local partials are shared with reverse mode by construction);
   * - 'linear': linear in all operands together (broadcast, sum, transpose): out' = f(a', b', ...);
   * - 'bilinear': linear in each operand (matmul): out' = f(a', b) + f(a, b'), the terms of the
   *   operands that depend on a parameter (their grad flags);
   * - 'custom': a tangent rule of the op's own in every backend.
   * Required for every differentiable op.
   */
  readonly tangent?: Tangent;
  /**
   * operands that take no gradient (gather's indices): the compiler never sets their grad flag,
   * so neither the backward rule nor a tangent rule reads their adjoint or tangent
   */
  readonly noGrad?: readonly ('a' | 'b' | 'c')[];
}

export type Tangent = 'diagonal' | 'linear' | 'bilinear' | 'custom';
/** The tangent modes as numbers (generated TANGENT_* in C++ and AssemblyScript; 0 = none). */
export const TANGENTS: readonly Tangent[] = ['diagonal', 'linear', 'bilinear', 'custom'];
const elems = (ins: readonly Shape[]): Params => [sizeOf(ins[0])];

/**
 * The op-set entry of an elementwise op, derived from its definition (src/ops/elementwise.ts):
 * operands of one shape (or shape [] for its scalar operands), one param n, FLOPs counted on the
 * forward tree and on each accumulated g * partial (plus the += itself).
 */
function elementwiseOp(d: ElementwiseDef): OpDef {
  const roles = (['a', 'b', 'c'] as const).slice(0, d.arity);
  const isScalar = (r: 'a' | 'b' | 'c') => r !== 'a' && (d.scalar ?? []).includes(r);
  const ext = (r: 'a' | 'b' | 'c'): Extent => (isScalar(r) ? [] : [0]);
  const contributions = d.differentiable === false ? [] : d.partials.map((p) => p && scaled(g, p));
  const fwd = flopsOf([d.fwd]);
  const bwd = roles.map((_, i) => (contributions[i] ? flopsOf([contributions[i]!]) + 1 : 0));
  const reads = operandsOf(contributions.filter((x): x is Expr => x !== null));
  return {
    name: d.name,
    kind: d.arity === 1 ? 'unary' : d.arity === 2 ? 'binary' : 'ternary',
    arity: d.arity,
    params: ['n'],
    extent: {
      out: [0],
      a: ext('a'),
      ...(d.arity >= 2 ? { b: ext('b') } : {}),
      ...(d.arity >= 3 ? { c: ext('c') } : {}),
    },
    saves: (['a', 'b', 'c', 'out'] as const).filter((r) => reads.has(r)),
    shape: (ins) => {
      const [x] = ins;
      roles.forEach((r, i) => {
        const s = ins[i];
        if (isScalar(r)) {
          if (s.length !== 0) throw new ShapeError(`${d.name}: operand ${r} must be a scalar, got ${fmt(s)}`);
        } else if (s.length !== x.length || s.some((v, j) => v !== x[j]))
          throw new ShapeError(`${d.name}: shapes ${fmt(x)} and ${fmt(s)} differ`);
      });
      return x;
    },
    encode: elems,
    flops: { fwd: (p) => fwd * p[0], bwd: bwd.map((k) => (p: Params) => k * p[0]) },
    doc: d.doc,
    ...(d.differentiable === false ? { differentiable: false as const } : { tangent: 'diagonal' as const }),
  };
}

/** [outer, n, inner] of a shape split around `axis` */
export function splitAxis(s: Shape, axis: number): Params {
  return [sizeOf(s.slice(0, axis)), s[axis] ?? 1, sizeOf(s.slice(axis + 1))];
}
function checkAxis(name: string, s: Shape, axis: number, max = s.length - 1) {
  if (!Number.isInteger(axis) || axis < 0 || axis > max)
    throw new ShapeError(`${name}: axis ${axis} is out of range for shape ${fmt(s)}`);
}
/** The index of the largest (argmax) or smallest (argmin) element along an axis, as a float64. */
function argReduce(name: 'argmax' | 'argmin', doc: string): OpDef {
  return {
    name,
    kind: 'reduce',
    arity: 1,
    params: ['outer', 'n', 'inner'],
    extent: { out: [0, 2], a: [0, 1, 2] },
    saves: [],
    shape: ([a], [axis]) => (checkAxis(name, a, axis), a.filter((_, i) => i !== axis)),
    encode: ([a], [axis]) => splitAxis(a, axis),
    flops: { fwd: (p) => p[0] * p[1] * p[2], bwd: [() => 0] },
    doc,
    differentiable: false,
  };
}
function reduce(name: string, fwd: number, bwd: number, doc: string): OpDef {
  return {
    name,
    kind: 'reduce',
    arity: 1,
    params: ['outer', 'n', 'inner'],
    extent: { out: [0, 2], a: [0, 1, 2] },
    saves: name === 'sum' ? [] : ['a', 'out'],
    shape: ([a], [axis]) => (checkAxis(name, a, axis), a.filter((_, i) => i !== axis)),
    encode: ([a], [axis]) => splitAxis(a, axis),
    flops: {
      fwd: (p) => fwd * p[0] * p[1] * p[2],
      bwd: [(p) => bwd * p[0] * p[1] * p[2]],
      // logsumexp: out' = sum_j exp(a - out) a' (exp(a - out) computed as in the backward rule)
      tangent: (p) => bwd * p[0] * p[1] * p[2],
    },
    doc,
    tangent: name === 'sum' ? 'linear' : 'custom',
  };
}

/**
 * max (sign 1) or min (sign -1) along an axis. The gradient goes to the element argmax/argmin
 * picks (the first extremal one; the first NaN when there is one, whose value NaN is the result).
 */
function extremum(name: 'max' | 'min', doc: string): OpDef {
  return {
    name,
    kind: 'reduce',
    arity: 1,
    params: ['outer', 'n', 'inner'],
    extent: { out: [0, 2], a: [0, 1, 2] },
    saves: ['a'],
    shape: ([a], [axis]) => (checkAxis(name, a, axis), a.filter((_, i) => i !== axis)),
    encode: ([a], [axis]) => splitAxis(a, axis),
    // a compare per element; backward: the compares again to find the element, one add per output
    flops: {
      fwd: (p) => p[0] * p[1] * p[2],
      bwd: [(p) => p[0] * p[1] * p[2] + p[0] * p[2]],
      tangent: (p) => p[0] * p[1] * p[2],
    },
    doc,
    // out' = a' at the element the value picks
    tangent: 'custom',
  };
}

/** Output size of a sliding window (PyTorch's formula, floor division); < 1 means no window fits. */
export function windowOut(size: number, kernel: number, stride: number, pad: number, dilation = 1): number {
  return Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/**
 * conv2d attrs: [strideH, strideW, padH, padW, dilationH, dilationW, groups]; input [N, C, H, W],
 * weights [Cout, C / groups, KH, KW] (PyTorch's layout).
 */
function convShape(ins: readonly Shape[], attrs: readonly number[]): Shape {
  const [x, w] = ins;
  const [sh, sw, ph, pw, dh, dw, groups] = attrs;
  const both = `input ${fmt(x)} and weights ${fmt(w)}`;
  if (x.length !== 4) throw new ShapeError(`conv2d: the input must be 4-D [N, C, H, W], got ${fmt(x)}`);
  if (w.length !== 4) throw new ShapeError(`conv2d: the weights must be 4-D [Cout, C/groups, KH, KW], got ${fmt(w)}`);
  if (x[1] % groups !== 0 || w[0] % groups !== 0)
    throw new ShapeError(`conv2d: ${groups} groups do not divide the channels of ${both}`);
  if (w[1] * groups !== x[1])
    throw new ShapeError(
      `conv2d: ${both}: the weights take ${w[1]} channels per group x ${groups} groups, the input has ${x[1]}`,
    );
  const oh = windowOut(x[2], w[2], sh, ph, dh),
    ow = windowOut(x[3], w[3], sw, pw, dw);
  if (oh < 1 || ow < 1)
    throw new ShapeError(
      `conv2d: the kernel (dilated) is larger than the padded input: ${both}, padding [${ph},${pw}], dilation [${dh},${dw}]`,
    );
  return [x[0], w[0], oh, ow];
}

/** Pooling attrs: [kernelH, kernelW, strideH, strideW, padH, padW]; input [..., H, W]. */
function poolShape(name: string) {
  return ([x]: readonly Shape[], attrs: readonly number[]): Shape => {
    const [kh, kw, sh, sw, ph, pw] = attrs;
    if (x.length < 2)
      throw new ShapeError(`${name}: the input must have at least 2 dimensions [..., H, W], got ${fmt(x)}`);
    if (2 * ph > kh || 2 * pw > kw)
      throw new ShapeError(`${name}: padding [${ph},${pw}] must be at most half the kernel [${kh},${kw}] (as PyTorch)`);
    const [h, w] = x.slice(-2);
    const oh = windowOut(h, kh, sh, ph),
      ow = windowOut(w, kw, sw, pw);
    if (oh < 1 || ow < 1)
      throw new ShapeError(`${name}: the kernel [${kh},${kw}] is larger than the padded input ${fmt(x)}`);
    return [...x.slice(0, -2), oh, ow];
  };
}

function pool(name: 'max_pool2d' | 'avg_pool2d', doc: string): OpDef {
  const shape = poolShape(name === 'max_pool2d' ? 'maxPool2d' : 'avgPool2d');
  return {
    name,
    kind: 'pool',
    arity: 1,
    params: ['planes', 'h', 'w', 'oh', 'ow', 'kh', 'kw', 'strideH', 'strideW', 'padH', 'padW'],
    extent: { out: [0, 3, 4], a: [0, 1, 2] },
    zeroOk: [9, 10],
    saves: name === 'max_pool2d' ? ['a'] : [],
    shape,
    encode: ([x], attrs) => {
      const [oh, ow] = shape([x], attrs).slice(-2);
      const [h, w] = x.slice(-2);
      return [sizeOf(x.slice(0, -2)), h, w, oh, ow, ...attrs];
    },
    // a compare or add per window element (+ a divide per output for avg); backward: max finds the
    // element again and adds once, avg adds dout/count into every element of the window
    flops: {
      fwd: (p) => p[0] * p[3] * p[4] * (p[5] * p[6] + (name === 'avg_pool2d' ? 1 : 0)),
      bwd: [(p) => p[0] * p[3] * p[4] * (p[5] * p[6] + 1)],
      tangent: (p) => p[0] * p[3] * p[4] * p[5] * p[6],
    },
    doc,
    // max: out' = a' at the window's element the value picks (custom); avg: linear
    tangent: name === 'max_pool2d' ? 'custom' : 'linear',
  };
}

const is2d = (name: string, s: Shape, role: string) => {
  if (s.length !== 2) throw new ShapeError(`${name}: ${role} must be 2-D, got ${fmt(s)}`);
};

/** How many axes one `slice` instruction spans; a tracer merges full axes and chains wider slices. */
export const SLICE_RANK = 6;
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const product = (p: Params, qs: readonly number[]) => qs.reduce((s, q) => s * p[q], 1);
const nonNegInt = (x: number) => Number.isInteger(x) && x >= 0;

/**
 * Copies and index ops: slice, concat, gather, transpose (an exchange of two adjacent blocks of
 * axes) and the batched matmul. Copies count 0 FLOPs; their backward rules count one add per
 * element they accumulate.
 */
const STRUCTURE_OPS: readonly OpDef[] = [
  {
    name: 'slice',
    kind: 'structure',
    arity: 1,
    // a's dims, the begin and the size along each of them; leading axes padded with dim 1
    params: [
      ...range(SLICE_RANK).map((i) => `dim${i}`),
      ...range(SLICE_RANK).map((i) => `begin${i}`),
      ...range(SLICE_RANK).map((i) => `size${i}`),
    ],
    extent: { out: range(SLICE_RANK, 2 * SLICE_RANK), a: range(SLICE_RANK) },
    zeroOk: range(SLICE_RANK, SLICE_RANK),
    limits: range(SLICE_RANK).map((i) => ({ sum: [SLICE_RANK + i, 2 * SLICE_RANK + i], max: i })),
    saves: [],
    shape: ([a], attrs) => {
      const r = a.length;
      const [begin, size] = [attrs.slice(0, r), attrs.slice(r)];
      if (r < 1 || r > SLICE_RANK || attrs.length !== 2 * r)
        throw new ShapeError(
          `slice: expected 1 to ${SLICE_RANK} axes with a begin and a size each, got shape ${fmt(a)} and ${attrs.length} numbers`,
        );
      a.forEach((d, i) => {
        if (!nonNegInt(begin[i]) || !(Number.isInteger(size[i]) && size[i] >= 1) || begin[i] + size[i] > d)
          throw new ShapeError(
            `slice: begin ${fmt(begin)} and size ${fmt(size)} do not fit in shape ${fmt(a)} (axis ${i})`,
          );
      });
      return size;
    },
    encode: ([a], attrs) => {
      const pad = SLICE_RANK - a.length;
      const ones = new Array<number>(pad).fill(1);
      return [...ones, ...a, ...ones.map(() => 0), ...attrs.slice(0, a.length), ...ones, ...attrs.slice(a.length)];
    },
    flops: { fwd: () => 0, bwd: [(p) => product(p, range(SLICE_RANK, 2 * SLICE_RANK))] },
    doc: 'out[i0..i5] = a[begin0 + i0, ..., begin5 + i5] (a copy); d/da adds the output adjoint into the slice region of a',
    tangent: 'linear',
  },
  {
    name: 'concat',
    kind: 'structure',
    arity: 2,
    params: ['outer', 'na', 'nb', 'n', 'inner'],
    extent: { out: [0, 3, 4], a: [0, 1, 4], b: [0, 2, 4] },
    limits: [{ sum: [1, 2], max: 3 }],
    saves: [],
    shape: ([a, b], [axis]) => {
      checkAxis('concat', a, axis);
      if (a.length !== b.length || a.some((d, i) => i !== axis && d !== b[i]))
        throw new ShapeError(`concat: shapes ${fmt(a)} and ${fmt(b)} differ outside axis ${axis}`);
      return a.map((d, i) => (i === axis ? d + b[i] : d));
    },
    encode: ([a, b], [axis]) => {
      const [outer, na, inner] = splitAxis(a, axis);
      return [outer, na, b[axis], na + b[axis], inner];
    },
    flops: { fwd: () => 0, bwd: [(p) => p[0] * p[1] * p[4], (p) => p[0] * p[2] * p[4]] },
    doc: 'out[o,:,i] = a[o,:,i] followed by b[o,:,i] (a copy; columns past na + nb, never in a compiled tape, are 0); d/da and d/db take their parts of the output adjoint',
    tangent: 'linear',
  },
  {
    name: 'gather',
    kind: 'structure',
    arity: 2,
    params: ['outer', 'n', 'inner', 'm'],
    extent: { out: [0, 3, 2], a: [0, 1, 2], b: [3] },
    saves: ['b'],
    shape: ([a, ids], [axis]) => {
      checkAxis('gather', a, axis);
      return [...a.slice(0, axis), ...ids, ...a.slice(axis + 1)];
    },
    encode: ([a, ids], [axis]) => [...splitAxis(a, axis), sizeOf(ids)],
    flops: { fwd: () => 0, bwd: [(p) => p[0] * p[3] * p[2], () => 0] },
    doc:
      'out[o,j,i] = a[o,b[j],i] for an integer b[j] in [0, n); a NaN row for any other b[j] (inputs are checked before the call, so only a computed index can get there); ' +
      'd/da scatter-adds the output adjoint into the rows b[j] (repeated indices accumulate); the indices b take no gradient',
    noGrad: ['b'],
    // linear in a: the forward rule with a's tangent and b's values (b never has a gradient flag)
    tangent: 'bilinear',
  },
  {
    name: 'batch_matmul',
    kind: 'matmul',
    arity: 2,
    params: ['batch', 'm', 'k', 'n', 'batchA', 'batchB'],
    extent: { out: [0, 1, 3], a: [4, 1, 2], b: [5, 2, 3] },
    saves: ['a', 'b'],
    shape: ([a, b]) => {
      if (a.length !== 3 || b.length !== 3 || a[2] !== b[1] || (a[0] !== b[0] && a[0] !== 1 && b[0] !== 1))
        throw new ShapeError(`matmul: shapes ${fmt(a)} x ${fmt(b)} do not fit a batched product [B,M,K] x [B,K,N]`);
      return [Math.max(a[0], b[0]), a[1], b[2]];
    },
    encode: ([a, b]) => [Math.max(a[0], b[0]), a[1], a[2], b[2], a[0], b[0]],
    flops: {
      fwd: (p) => 2 * p[0] * p[1] * p[2] * p[3],
      bwd: [(p) => 2 * p[0] * p[1] * p[2] * p[3], (p) => 2 * p[0] * p[1] * p[2] * p[3]],
    },
    doc:
      'out[s] = a[s] b[s] for each of the batch products (an operand whose batch is not `batch`, a batch of 1 in a compiled tape, is its matrix 0 for every s); ' +
      'd/da[s] += dout[s] b[s]^T, d/db[s] += a[s]^T dout[s] (summed over s for a shared operand)',
    tangent: 'bilinear',
  },
];

export const OPS: readonly OpDef[] = [
  ...ELEMENTWISE.map(elementwiseOp),
  {
    name: 'broadcast',
    kind: 'broadcast',
    arity: 1,
    params: ['outer', 'rep', 'inner'],
    extent: { out: [0, 1, 2], a: [0, 2] },
    saves: [],
    shape: ([a], [axis, rep]) => {
      checkAxis('broadcast', a, axis, a.length);
      return [...a.slice(0, axis), rep, ...a.slice(axis)];
    },
    encode: ([a], [axis, rep]) => [sizeOf(a.slice(0, axis)), rep, sizeOf(a.slice(axis))],
    flops: { fwd: () => 0, bwd: [(p) => p[0] * p[1] * p[2]] },
    doc: 'inserts an axis of size rep: out[o,r,i] = a[o,i]; the backward rule sums over r',
    tangent: 'linear',
  },
  reduce('sum', 1, 1, 'sum over one axis: out[o,i] = sum_j a[o,j,i]; d/da = 1'),
  reduce(
    'logsumexp',
    4,
    4,
    'log sum_j exp(a[o,j,i]) with the max m subtracted first; any NaN gives NaN, else an infinite m gives m; d/da = exp(a - out), computed as exp((a - m) - log sum_j exp(a - m)) (out would add its rounding, an ulp of |out|; IEEE where out is infinite)',
  ),
  {
    name: 'matmul',
    kind: 'matmul',
    arity: 2,
    params: ['m', 'k', 'n'],
    extent: { out: [0, 2], a: [0, 1], b: [1, 2] },
    saves: ['a', 'b'],
    shape: ([a, b]) => {
      is2d('matmul', a, 'left operand');
      is2d('matmul', b, 'right operand');
      if (a[1] !== b[0]) throw new ShapeError(`matmul: inner dimensions differ: ${fmt(a)} x ${fmt(b)}`);
      return [a[0], b[1]];
    },
    encode: ([a, b]) => [a[0], a[1], b[1]],
    flops: { fwd: (p) => 2 * p[0] * p[1] * p[2], bwd: [(p) => 2 * p[0] * p[1] * p[2], (p) => 2 * p[0] * p[1] * p[2]] },
    doc: 'out[m,n] = sum_k a[m,k] b[k,n]; d/da = dout b^T, d/db = a^T dout',
    tangent: 'bilinear',
  },
  {
    name: 'transpose',
    kind: 'transpose',
    arity: 1,
    params: ['outer', 'm', 'n', 'inner'],
    extent: { out: [0, 1, 2, 3], a: [0, 1, 2, 3] },
    saves: [],
    // attrs [i, j, k]: the block of axes [j, k) moves in front of the block [i, j)
    shape: ([a], [i, j, k]) => {
      if (!(
        Number.isInteger(i) &&
        Number.isInteger(j) &&
        Number.isInteger(k) &&
        0 <= i &&
        i < j &&
        j < k &&
        k <= a.length
      ))
        throw new ShapeError(`transpose: blocks of axes [${i}, ${j}) and [${j}, ${k}) do not fit shape ${fmt(a)}`);
      return [...a.slice(0, i), ...a.slice(j, k), ...a.slice(i, j), ...a.slice(k)];
    },
    encode: ([a], [i, j, k]) => [
      sizeOf(a.slice(0, i)),
      sizeOf(a.slice(i, j)),
      sizeOf(a.slice(j, k)),
      sizeOf(a.slice(k)),
    ],
    flops: { fwd: () => 0, bwd: [(p) => p[0] * p[1] * p[2] * p[3]] },
    doc: 'out[o,j,i,r] = a[o,i,j,r] for a of shape [outer,m,n,inner] (a copy; [1,m,n,1] is the matrix transpose); the backward rule transposes the adjoint back',
    tangent: 'linear',
  },
  {
    name: 'softmax_xent',
    kind: 'loss',
    arity: 2,
    params: ['rows', 'classes', 'probsAt'],
    extent: { out: [0], a: [0, 1], b: [0, 1], extra: { at: 2, size: [0, 1] } },
    saves: ['a', 'b', 'extra'],
    shape: ([z, y]) => {
      is2d('softmaxCrossEntropy', z, 'logits');
      if (z.length !== y.length || z.some((d, i) => d !== y[i]))
        throw new ShapeError(`softmaxCrossEntropy: logits ${fmt(z)} and labels ${fmt(y)} differ`);
      return [z[0]];
    },
    encode: ([z], _attrs, extra) => [z[0], z[1], extra(z[0] * z[1])],
    flops: {
      fwd: (p) => 7 * p[0] * p[1],
      bwd: [(p) => 4 * p[0] * p[1], (p) => 6 * p[0] * p[1]],
      // sum_c b'(lse - a) + (sum_c b)(sum_c p a') - sum_c b a'
      tangent: (p) => 8 * p[0] * p[1],
    },
    doc:
      'per row r: sum_c b[r,c] (lse_r - a[r,c]) with lse_r = logsumexp(a[r,:]); saves p = softmax(a[r,:]); ' +
      'd/da = p * sum_c b[r,c] - b, d/db = lse_r - a (lse_r recomputed, only when b needs a gradient); IEEE NaN/Inf, no special cases',
    tangent: 'custom',
  },
  argReduce(
    'argmax',
    'index j of the largest a[o,j,i] (the first one on ties; the first NaN if any, as NumPy and PyTorch); no gradient',
  ),
  argReduce(
    'argmin',
    'index j of the smallest a[o,j,i] (the first one on ties; the first NaN if any, as NumPy and PyTorch); no gradient',
  ),
  {
    name: 'one_hot',
    kind: 'index',
    arity: 1,
    params: ['rows', 'classes'],
    extent: { out: [0, 1], a: [0] },
    saves: [],
    shape: ([a], [classes]) => {
      if (a.length !== 1) throw new ShapeError(`oneHot: class indices must be 1-D, got ${fmt(a)}`);
      if (!Number.isInteger(classes) || classes < 1)
        throw new ShapeError(`oneHot: the number of classes must be a positive integer, got ${classes}`);
      return [a[0], classes];
    },
    encode: ([a], [classes]) => [a[0], classes, 0],
    flops: { fwd: () => 0, bwd: [() => 0] },
    doc: 'out[r,c] = (c == a[r]) for an integer a[r] in [0, classes); a row of NaN for any other a[r] (inputs are checked before the call, so only a computed index can get there); no gradient',
    differentiable: false,
  },
  extremum(
    'max',
    'largest a[o,j,i] along an axis (NaN if any element is NaN, as NumPy and PyTorch); the gradient goes to the first largest element only (the first NaN if any), as argmax picks it',
  ),
  extremum(
    'min',
    'smallest a[o,j,i] along an axis (NaN if any element is NaN); the gradient goes to the first smallest element only (the first NaN if any), as argmin picks it',
  ),
  {
    name: 'conv2d',
    kind: 'conv',
    arity: 2,
    params: [
      'n',
      'groups',
      'cin',
      'h',
      'w',
      'cout',
      'kh',
      'kw',
      'oh',
      'ow',
      'strideH',
      'strideW',
      'padH',
      'padW',
      'dilationH',
      'dilationW',
      'colAt',
    ],
    // cin and cout per group: a [n, groups, cin, h, w], b [groups, cout, cin, kh, kw]
    extent: { out: [0, 1, 5, 8, 9], a: [0, 1, 2, 3, 4], b: [1, 5, 2, 6, 7], extra: { at: 16, size: [2, 6, 7, 8, 9] } },
    zeroOk: [12, 13],
    saves: ['a', 'b', 'extra'],
    shape: convShape,
    encode: ([x, w], attrs, extra) => {
      const [, , oh, ow] = convShape([x, w], attrs);
      const [sh, sw, ph, pw, dh, dw, groups] = attrs;
      const col = extra(w[1] * w[2] * w[3] * oh * ow);
      return [x[0], groups, w[1], x[2], x[3], w[0] / groups, w[2], w[3], oh, ow, sh, sw, ph, pw, dh, dw, col];
    },
    flops: {
      fwd: (p) => 2 * p[0] * p[1] * p[5] * p[8] * p[9] * p[2] * p[6] * p[7],
      bwd: [
        (p) => 2 * p[0] * p[1] * p[5] * p[8] * p[9] * p[2] * p[6] * p[7],
        (p) => 2 * p[0] * p[1] * p[5] * p[8] * p[9] * p[2] * p[6] * p[7],
      ],
    },
    doc:
      'cross-correlation as PyTorch: out[n,co,y,x] = sum_{ci,i,j} a[n,g*cin+ci, y*sh-ph+i*dh, x*sw-pw+j*dw] b[co,ci,i,j] (g = group of co), ' +
      'summed in (ci, i, j) order from 0 with the padding taken as zeros (so an infinite weight makes NaN at the border, as zero padding does); ' +
      'scratch: one image of im2col columns [cin*kh*kw, oh*ow]; d/da = the transposed convolution of dout with b, d/db = sum_n dout (x) columns',
    tangent: 'bilinear',
  },
  pool(
    'max_pool2d',
    'largest element of each window, padding ignored (PyTorch); NaN if the window holds a NaN; the gradient goes to the first largest element of the window (the first NaN if any)',
  ),
  pool(
    'avg_pool2d',
    'sum of each window / (kh*kw), padding counted as zeros (PyTorch count_include_pad=True); d/da = dout/(kh*kw) into each element of its windows',
  ),
  ...STRUCTURE_OPS,
];

/**
 * Which params are sizes or strides (all but the offset of the extra region and the `zeroOk`
 * ones): each must be >= 1 in a valid tape (src/trace/tape-rules.ts), so the operand extents
 * bound every loop.
 */
export function sizeParams(def: OpDef): number[] {
  return def.params.map((_, i) => i).filter((i) => i !== def.extent.extra?.at && !def.zeroOk?.includes(i));
}

/** Every op's params fit in an instruction, and every differentiable op has a tangent mode (checked once, when this module loads). */
for (const def of OPS) {
  if (def.params.length > MAX_PARAMS) throw new Error(`op ${def.name}: more than ${MAX_PARAMS} params`);
  if (def.differentiable !== false && !def.tangent) throw new Error(`op ${def.name}: no tangent mode (OpDef.tangent)`);
}

/** Opcode of each op name. */
export const OPCODE: Readonly<Record<string, number>> = Object.fromEntries(OPS.map((o, i) => [o.name, i]));

export function opDef(name: string): OpDef {
  const code = OPCODE[name];
  if (code === undefined) throw new Error(`unknown op ${name}`);
  return OPS[code];
}
