/**
 * The elementwise ops, each defined once: its forward rule and its local partial derivatives as
 * expression trees (src/ops/expr.ts). Everything else derives from this table:
 * - the op set's entries (src/ops/opset.ts: shape rule, extents, what the backward rule reads,
 *   FLOP counts, doc);
 * - the kernels of all three backends (`npm run gen`, scripts/gen-kernels.ts): the js reference
 *   (src/backends/js/kernels.gen.ts), AssemblyScript (assembly/generated/) and C++
 *   (native/core/k_elementwise.gen.h), scalar loops and SIMD bodies evaluating the same
 *   operations in the same order.
 *
 * Partials: `partials[i]` is ∂out/∂x_i at one element, over a, b, c and out. The same numbers serve
 * - reverse mode (what the kernels do now): g_i += gout · ∂out/∂x_i, the product simplified by
 *   `scaled` (expr.ts) so that a zero partial accumulates nothing at all (an Inf or NaN adjoint
 *   does not leak through a branch that was not taken: relu below 0, where's other side);
 * - forward mode (tangents): out_dot = Σ_i ∂out/∂x_i · x_i_dot, the same `scaled` applied to each
 *   x_i_dot and the terms summed in operand order a, b, c.
 * `null` means the operand takes no gradient (an index, a comparison's inputs); an op with
 * `differentiable: false` has no backward rule at all.
 *
 * Element type: the trees have no type; the emitters take one (f64 today). A float32 dtype
 * generates f32 kernels from the same trees, with f32 versions of the primitives.
 *
 * Adding an op: one entry here and one conformance case (CONTRIBUTING.md).
 */
import {
  a,
  abs,
  add,
  b,
  div,
  eq,
  exp,
  ge,
  gt,
  log,
  log1p,
  lt,
  mul,
  neg,
  out,
  pow,
  select,
  sign,
  sqrt,
  sub,
  tanh,
  and,
  c,
  cos,
  erf,
  le,
  ne,
  num,
  sin,
  type Expr,
} from './expr.js';

export interface ElementwiseDef {
  /** tape name (opcode order follows this table) */
  readonly name: string;
  readonly arity: 1 | 2 | 3;
  readonly fwd: Expr;
  /** ∂out/∂a, ∂out/∂b, ∂out/∂c (as many as the arity); null: no gradient to that operand */
  readonly partials: readonly (Expr | null)[];
  /** value, derivative, ties, NaN and edge cases */
  readonly doc: string;
  /** piecewise constant (comparisons): no backward rule, no gradient flows through */
  readonly differentiable?: false;
  /**
   * native: the interpreter folds "broadcast a scalar, then this op" into one kernel reading the
   * scalar (k_scalar variants, generated); worth it for the cheap ops models use with constants
   */
  readonly fuseScalar?: true;
  /** operands that are one number for all elements (clamp's bounds): extent [], shape [] */
  readonly scalar?: readonly ('b' | 'c')[];
}

const unary = (name: string, fwd: Expr, d: Expr | null, doc: string): ElementwiseDef => ({
  name,
  arity: 1,
  fwd,
  partials: [d],
  doc,
});
const binary = (name: string, fwd: Expr, da: Expr | null, db: Expr | null, doc: string): ElementwiseDef => ({
  name,
  arity: 2,
  fwd,
  partials: [da, db],
  doc,
});

const emx = exp(neg(a));
/** erf(x / sqrt(2)) as erf(x * SQRT1_2), gelu's (PyTorch's spelling: x * M_SQRT1_2) */
const erfHalf = erf(mul(a, Math.SQRT1_2));
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** max(x, lo) with NaN passing through, clamp's first step */
const clampLo = select(lt(a, b), b, a);

export const ELEMENTWISE: readonly ElementwiseDef[] = [
  { ...binary('add', add(a, b), num(1), num(1), 'a + b; d/da = 1, d/db = 1'), fuseScalar: true },
  { ...binary('sub', sub(a, b), num(1), neg(num(1)), 'a - b; d/da = 1, d/db = -1'), fuseScalar: true },
  { ...binary('mul', mul(a, b), b, a, 'a * b; d/da = b, d/db = a'), fuseScalar: true },
  {
    ...binary(
      'div',
      div(a, b),
      div(1, b),
      neg(div(out, b)),
      'a / b; d/da = 1/b, d/db = -out/b (b = 0 gives ±Inf or NaN as IEEE says)',
    ),
    fuseScalar: true,
  },
  unary('neg', neg(a), neg(num(1)), '-x; d/dx = -1'),
  unary('exp', exp(a), out, 'exp(x); d/dx = out'),
  unary('log', log(a), div(1, a), 'log(x) (NaN for x < 0, -Inf at 0); d/dx = 1/x'),
  unary('log1p', log1p(a), div(1, add(1, a)), 'log(1 + x), accurate near 0; d/dx = 1/(1 + x)'),
  unary('sqrt', sqrt(a), div(1, mul(2, out)), 'sqrt(x) (NaN for x < 0); d/dx = 1/(2 out) (Inf at 0)'),
  unary('square', mul(a, a), mul(2, a), 'x*x; d/dx = 2x'),
  unary(
    'abs',
    abs(a),
    sign(a),
    '|x|; d/dx = sign(x): 0 at ±0 as PyTorch (grad * sgn(x)), where JAX takes 1 at ±0 (select(x >= 0, g, -g)); NaN at NaN',
  ),
  unary('sigmoid', div(1, add(1, emx)), mul(out, sub(1, out)), '1/(1 + exp(-x)); d/dx = out*(1 - out)'),
  unary('tanh', tanh(a), sub(1, mul(out, out)), 'tanh(x); d/dx = 1 - out^2'),
  unary(
    'relu',
    select(lt(a, 0), 0, a),
    select(gt(a, 0), 1, 0),
    'x < 0 ? 0 : x (NaN stays NaN); d/dx = 1 for x > 0, else 0: 0 at 0 as PyTorch and JAX, 0 at NaN as JAX ' +
      '(PyTorch passes the gradient at NaN: threshold_backward(grad, result, 0) zeroes it only where result <= 0)',
  ),
  unary(
    'softplus',
    add(select(gt(a, 0), a, 0), log1p(exp(neg(abs(a))))),
    div(1, add(1, emx)),
    'log(1 + exp(x)) computed as max(x,0) + log1p(exp(-|x|)); d/dx = sigmoid(x)',
  ),
  binary(
    'pow',
    pow(a, b),
    select(eq(b, 0), 0, mul(b, pow(a, sub(b, 1)))),
    select(and(eq(a, 0), ge(b, 0)), 0, mul(out, log(a))),
    'a^b elementwise (Math.pow semantics; a number exponent is broadcast); d/da = b*a^(b-1), 0 where b = 0; ' +
      'd/db = out*log(a), 0 where a = 0 and b >= 0 (as PyTorch)',
  ),
  // ---- issue 9: trigonometric and error functions, comparisons, selection
  unary('sin', sin(a), cos(a), 'sin(x) (fdlibm, as V8); d/dx = cos(x)'),
  unary('cos', cos(a), neg(sin(a)), 'cos(x) (fdlibm, as V8); d/dx = -sin(x)'),
  unary(
    'erf',
    erf(a),
    mul(TWO_OVER_SQRT_PI, exp(neg(mul(a, a)))),
    'erf(x) (fdlibm s_erf.c; ±1 at ±Inf, NaN at NaN); d/dx = 2/sqrt(pi) exp(-x^2)',
  ),
  unary(
    'gelu',
    mul(mul(0.5, a), add(1, erfHalf)),
    add(mul(0.5, add(1, erfHalf)), mul(a, mul(INV_SQRT_2PI, exp(mul(-0.5, mul(a, a)))))),
    'x Phi(x) = 0.5 x (1 + erf(x/sqrt(2))), the exact form (PyTorch approximate="none"), as (0.5 x)(1 + erf(x * SQRT1_2)); ' +
      'd/dx = Phi(x) + x phi(x) = 0.5 (1 + erf(x/sqrt(2))) + x exp(-x^2/2)/sqrt(2 pi); -Inf gives NaN (-Inf * 0), as the formula in PyTorch and JAX',
  ),
  {
    ...unary(
      'sign',
      sign(a),
      null,
      'sign(x) as Math.sign: -1, 1, ±0 and NaN unchanged; zero gradient (none flows through)',
    ),
    differentiable: false,
  },
  {
    name: 'clamp',
    arity: 3,
    scalar: ['b', 'c'],
    fwd: select(gt(clampLo, c), c, clampLo),
    partials: [select(and(ge(a, b), le(a, c)), 1, 0), null, null],
    doc:
      'min(max(x, lo), hi) with the scalar bounds lo = b, hi = c, as PyTorch: NaN stays NaN, lo > hi gives hi; ' +
      'd/dx = 1 for lo <= x <= hi (at the bounds too, as PyTorch), else 0 (NaN: 0); the bounds take no gradient',
  },
  binary(
    'maximum',
    select(gt(a, b), a, select(lt(a, b), b, select(ne(a, a), a, b))),
    select(gt(a, b), 1, select(eq(a, b), 0.5, 0)),
    select(lt(a, b), 1, select(eq(a, b), 0.5, 0)),
    'the larger of a and b; NaN if either is NaN; at a tie the value of b (equal but for the sign of 0). ' +
      'Gradient to the larger operand; at a tie half to each (as PyTorch and JAX); none at NaN',
  ),
  binary(
    'minimum',
    select(lt(a, b), a, select(gt(a, b), b, select(ne(a, a), a, b))),
    select(lt(a, b), 1, select(eq(a, b), 0.5, 0)),
    select(gt(a, b), 1, select(eq(a, b), 0.5, 0)),
    'the smaller of a and b; NaN if either is NaN; at a tie the value of b (equal but for the sign of 0). ' +
      'Gradient to the smaller operand; at a tie half to each (as PyTorch and JAX); none at NaN',
  ),
  {
    ...binary('greater', select(gt(a, b), 1, 0), null, null, 'a > b as 1 or 0 (0 with a NaN); no gradient'),
    differentiable: false,
  },
  {
    ...binary('less', select(lt(a, b), 1, 0), null, null, 'a < b as 1 or 0 (0 with a NaN); no gradient'),
    differentiable: false,
  },
  {
    ...binary('equal', select(eq(a, b), 1, 0), null, null, 'a == b as 1 or 0 (0 with a NaN; -0 == 0); no gradient'),
    differentiable: false,
  },
  {
    name: 'where',
    arity: 3,
    fwd: select(ne(a, 0), b, c),
    partials: [null, select(ne(a, 0), 1, 0), select(ne(a, 0), 0, 1)],
    doc:
      'where(cond, x, y): x where cond is nonzero (NaN counts as nonzero, as a bool), else y; the other ' +
      'branch is never read into the result, so its NaN or Inf does not leak. d/dx = [cond != 0], ' +
      'd/dy = [cond == 0] (nothing at all accumulates into the branch not taken); cond takes no gradient',
  },
];
