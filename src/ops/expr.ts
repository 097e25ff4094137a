/**
 * A tiny expression language for elementwise ops (src/ops/elementwise.ts): an op's forward rule
 * and its local partial derivatives are trees over the operands `a`, `b`, `c` (one element of
 * each), the forward result `out` (partials only), numbers, IEEE arithmetic, comparisons, selects
 * and a few math primitives. scripts/gen-kernels.ts turns each tree into TypeScript,
 * AssemblyScript and C++ loops by one recursive walk per language, so every backend evaluates the
 * same IEEE operations in the same order: the bit-for-bit agreement of the forward rules holds by
 * construction.
 *
 * Trees are plain immutable objects; a node object used twice is evaluated once (the emitters
 * number nodes by identity), so `const e = exp(x)` in a rule is one call.
 */

/**
 * What a rule reads per element: the operands, (in partials) the forward result `out`, and (in
 * what a backward rule accumulates) `g`, the adjoint of out (a tangent in forward mode).
 */
export type Operand = 'a' | 'b' | 'c' | 'out' | 'g';

/**
 * Math primitives. Each must be the same function on every backend: Math.* in js and the fdlibm
 * ports (jsmath.h/vmath.h, assembly/math.ts/vmath.ts) elsewhere. `pow` takes two arguments.
 */
export type Prim = 'exp' | 'log' | 'log1p' | 'expm1' | 'tanh' | 'sqrt' | 'abs' | 'sin' | 'cos' | 'erf' | 'pow';
export type ArithOp = '+' | '-' | '*' | '/';
export type CmpOp = '<' | '>' | '<=' | '>=' | '==' | '!=';

export type Expr =
  | { readonly k: 'in'; readonly x: Operand }
  | { readonly k: 'num'; readonly v: number }
  | { readonly k: 'neg'; readonly x: Expr }
  | { readonly k: 'bin'; readonly op: ArithOp; readonly x: Expr; readonly y: Expr }
  | { readonly k: 'call'; readonly f: Prim; readonly args: readonly Expr[] }
  /** c ? x : y, lane by lane; both sides are computed, only the chosen one is kept */
  | { readonly k: 'sel'; readonly c: Cond; readonly x: Expr; readonly y: Expr };

/** A boolean per element: an IEEE comparison (false whenever a NaN is involved, but for !=). */
export type Cond =
  | { readonly k: 'cmp'; readonly op: CmpOp; readonly x: Expr; readonly y: Expr }
  | { readonly k: 'and' | 'or'; readonly x: Cond; readonly y: Cond };

export type Node = Expr | Cond;
type E = Expr | number;

export const num = (v: number): Expr => ({ k: 'num', v });
const ex = (x: E): Expr => (typeof x === 'number' ? num(x) : x);

export const a: Expr = { k: 'in', x: 'a' };
export const b: Expr = { k: 'in', x: 'b' };
export const c: Expr = { k: 'in', x: 'c' };
export const out: Expr = { k: 'in', x: 'out' };
export const g: Expr = { k: 'in', x: 'g' };

const bin =
  (op: ArithOp) =>
  (x: E, y: E): Expr => ({ k: 'bin', op, x: ex(x), y: ex(y) });
export const add = bin('+');
export const sub = bin('-');
export const mul = bin('*');
export const div = bin('/');
export const neg = (x: E): Expr => ({ k: 'neg', x: ex(x) });

const call =
  (f: Prim) =>
  (...args: E[]): Expr => ({ k: 'call', f, args: args.map(ex) });
export const exp = call('exp');
export const log = call('log');
export const log1p = call('log1p');
export const expm1 = call('expm1');
export const tanh = call('tanh');
export const sqrt = call('sqrt');
export const abs = call('abs');
export const sin = call('sin');
export const cos = call('cos');
export const erf = call('erf');
export const pow = call('pow');

const cmp =
  (op: CmpOp) =>
  (x: E, y: E): Cond => ({ k: 'cmp', op, x: ex(x), y: ex(y) });
export const lt = cmp('<');
export const gt = cmp('>');
export const le = cmp('<=');
export const ge = cmp('>=');
export const eq = cmp('==');
export const ne = cmp('!=');
export const and = (x: Cond, y: Cond): Cond => ({ k: 'and', x, y });
export const or = (x: Cond, y: Cond): Cond => ({ k: 'or', x, y });
export const select = (cond: Cond, x: E, y: E): Expr => ({ k: 'sel', c: cond, x: ex(x), y: ex(y) });

/** Math.sign: -1, 1, and ±0 and NaN unchanged */
export const sign = (x: Expr): Expr => select(gt(x, 0), 1, select(lt(x, 0), -1, x));

const isNum = (e: Expr, v?: number): e is { k: 'num'; v: number } =>
  e.k === 'num' && (v === undefined || Object.is(e.v, v));

/**
 * g * d, simplified so that what a backward rule accumulates never multiplies the adjoint by a
 * zero it does not need: g * select(c, x, y) = select(c, g*x, g*y), g*0 = 0 (no NaN from an Inf
 * adjoint in a branch that was not taken), g*1 = g, g*-1 = -g, g*(-x) = -(g*x), g*(x/y) =
 * (g*x)/y. Returns null where the product is identically zero (nothing to accumulate).
 */
export function scaled(g: Expr, d: Expr): Expr | null {
  if (isNum(d, 0) || isNum(d, -0)) return null;
  if (isNum(d, 1)) return g;
  if (isNum(d, -1)) return neg(g);
  if (d.k === 'neg') {
    const s = scaled(g, d.x);
    return s && neg(s);
  }
  if (d.k === 'bin' && d.op === '/') {
    const s = scaled(g, d.x);
    return s && div(s, d.y);
  }
  if (d.k === 'sel') {
    const x = scaled(g, d.x),
      y = scaled(g, d.y);
    if (!x && !y) return null;
    return select(d.c, x ?? num(0), y ?? num(0));
  }
  return mul(g, d);
}

/** The distinct nodes of some trees, children before parents (node identity, not structure). */
export function topo(roots: readonly Node[]): Node[] {
  const seen = new Set<Node>();
  const order: Node[] = [];
  const visit = (n: Node) => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const ch of children(n)) visit(ch);
    order.push(n);
  };
  roots.forEach(visit);
  return order;
}

export function children(n: Node): readonly Node[] {
  switch (n.k) {
    case 'in':
    case 'num':
      return [];
    case 'neg':
      return [n.x];
    case 'bin':
    case 'cmp':
    case 'and':
    case 'or':
      return [n.x, n.y];
    case 'call':
      return n.args;
    case 'sel':
      return [n.c, n.x, n.y];
  }
}

/**
 * FLOPs of evaluating the trees once (the cost model's convention, src/ops/opset.ts): every
 * arithmetic operation, negation, comparison and primitive call counts 1; selects, `and`/`or`,
 * numbers and operand reads count 0.
 */
export function flopsOf(roots: readonly Node[]): number {
  return topo(roots).filter((n) => n.k === 'bin' || n.k === 'neg' || n.k === 'cmp' || n.k === 'call').length;
}

/** The primitives a tree calls. */
export function primsOf(roots: readonly Node[]): Set<Prim> {
  return new Set(topo(roots).flatMap((n) => (n.k === 'call' ? [n.f] : [])));
}

/** The operands a tree reads. */
export function operandsOf(roots: readonly Node[]): Set<Operand> {
  return new Set(topo(roots).flatMap((n) => (n.k === 'in' ? [n.x] : [])));
}

/** A tree as readable infix text (for docs and `explain`). */
export function show(n: Node): string {
  switch (n.k) {
    case 'in':
      return n.x;
    case 'num':
      return Object.is(n.v, -0) ? '-0' : String(n.v);
    case 'neg':
      return `-${wrap(n.x)}`;
    case 'bin':
    case 'cmp':
      return `${wrap(n.x)} ${n.op} ${wrap(n.y)}`;
    case 'and':
      return `${wrap(n.x)} && ${wrap(n.y)}`;
    case 'or':
      return `${wrap(n.x)} || ${wrap(n.y)}`;
    case 'call':
      return `${n.f}(${n.args.map(show).join(', ')})`;
    case 'sel':
      return `${wrap(n.c)} ? ${wrap(n.x)} : ${wrap(n.y)}`;
  }
}
const wrap = (n: Node) => (n.k === 'in' || n.k === 'num' || n.k === 'call' ? show(n) : `(${show(n)})`);
