/**
 * Random traced functions for the property-based fuzz test (test/fuzz.test.ts): fast-check
 * arbitraries for leaves, recipes and values, a builder that resolves recipes into tensor-method
 * calls through the public API, and a printer that shows the built function as source code.
 *
 * A recipe names an operation and picks its operands by position; the builder resolves it against
 * the shapes of the tensors built so far (only compatible operands are candidates, so every recipe
 * list is a valid function). Shrinking removes recipes, leaves and values freely and the result
 * is still valid, so fast-check's minimal counterexample is a minimal printed graph.
 */
import fc from 'fast-check';
import { concat, define, type Defined, type Tensor } from '../src/index.js';
import { broadcastShapes } from '../src/trace/tensor.js';

const UNARY = ['neg', 'exp', 'log', 'log1p', 'sqrt', 'square', 'abs', 'sigmoid', 'tanh', 'relu', 'softplus'] as const;
/** the ops with a restricted domain: a `domain` recipe maps the operand into it first */
const RESTRICTED = new Set(['log', 'log1p', 'sqrt', 'pow']);
const BINARY = ['add', 'sub', 'mul', 'div'] as const;
const REDUCE = ['sum', 'mean', 'logSumExp'] as const;
const EXPONENTS = [2, 3, 0.5, -1, 2.5, 0, -0.5, 1, -2, 1.5] as const;
/** no broadcast or matmul result above this many elements: finite differences stay cheap */
const MAX_SIZE = 256;

/** A parameter or input: a suffix of the shared base shape (so leaves broadcast together), or a free shape. */
interface LeafRecipe {
  readonly input: boolean;
  readonly rank: number;
  /** bit i set: dimension i is 1 (a broadcasting operand) */
  readonly ones: number;
  readonly free: readonly number[] | null;
}

export type Recipe =
  | { readonly op: 'unary'; readonly fn: number; readonly at: number; readonly domain: boolean }
  | { readonly op: 'pow'; readonly p: number; readonly at: number; readonly domain: boolean }
  | {
      readonly op: 'binary';
      readonly fn: number;
      readonly at: number;
      readonly with: number;
      readonly swap: boolean;
      readonly scalar: number | null;
    }
  | { readonly op: 'matmul'; readonly at: number; readonly with: number }
  | { readonly op: 'transpose'; readonly at: number }
  | {
      readonly op: 'reduce';
      readonly fn: number;
      readonly at: number;
      readonly axis: number | null;
      readonly keepDims: boolean;
    }
  | { readonly op: 'reshape'; readonly at: number; readonly choice: number }
  | { readonly op: 'xent'; readonly at: number; readonly with: number }
  | { readonly op: 'slice'; readonly at: number; readonly choice: number }
  | { readonly op: 'permute'; readonly at: number; readonly choice: number }
  | { readonly op: 'concat'; readonly at: number; readonly with: number; readonly axis: number }
  | { readonly op: 'gather'; readonly at: number; readonly choice: number }
  | { readonly op: 'bmm'; readonly at: number; readonly with: number };

/**
 * Parameter and input values: mostly ordinary numbers, then simple ones, then any finite double
 * (huge, tiny, subnormal), IEEE edge values and NaN/±Infinity. Shrinks toward ordinary numbers.
 */
export const value: fc.Arbitrary<number> = fc.oneof(
  { weight: 12, arbitrary: fc.double({ min: -3, max: 3, noNaN: true }) },
  { weight: 3, arbitrary: fc.constantFrom(0, 1, -1, 0.5, 2, -0) },
  { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(1e300, -1e300, 1e-300, 5e-324, -5e-324, 2.5e-310, Number.MAX_VALUE, 710, -745, 40),
  },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity) },
);

const pick = fc.nat(7);
const recipe: fc.Arbitrary<Recipe> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('unary' as const),
      fn: fc.nat(UNARY.length - 1),
      at: pick,
      domain: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('pow' as const),
      p: fc.nat(EXPONENTS.length - 1),
      at: pick,
      domain: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('binary' as const),
      fn: fc.nat(BINARY.length - 1),
      at: pick,
      with: pick,
      swap: fc.boolean(),
      scalar: fc.option(value, { freq: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('matmul' as const), at: pick, with: pick }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('transpose' as const), at: pick }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('reduce' as const),
      fn: fc.nat(REDUCE.length - 1),
      at: pick,
      axis: fc.option(fc.integer({ min: -3, max: 2 })),
      keepDims: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reshape' as const), at: pick, choice: fc.nat(31) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('xent' as const), at: pick, with: pick }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('slice' as const), at: pick, choice: fc.nat(1023) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('permute' as const), at: pick, choice: fc.nat(5) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('concat' as const), at: pick, with: pick, axis: fc.nat(2) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('gather' as const), at: pick, choice: fc.nat(1023) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('bmm' as const), at: pick, with: pick }) },
);

const dim = fc.integer({ min: 1, max: 4 });
const leaf: fc.Arbitrary<LeafRecipe> = fc.record({
  input: fc.boolean(),
  rank: fc.integer({ min: 0, max: 3 }),
  ones: fc.nat(7),
  free: fc.option(fc.array(dim, { minLength: 1, maxLength: 2 }), { freq: 4 }),
});

/** One statement of the built function: its operands (indices of earlier tensors) and its source text. */
interface Statement {
  readonly deps: readonly number[];
  readonly apply: (args: readonly Tensor[]) => Tensor;
  readonly text: (names: readonly string[]) => string;
}

interface LeafSpec {
  readonly name: string;
  readonly input: boolean;
  readonly shape: readonly number[];
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);
const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

/** Resolves recipes into statements over live tensors (inside a trace). */
class Builder {
  readonly tensors: Tensor[];
  readonly statements: Statement[] = [];

  constructor(leaves: readonly Tensor[]) {
    this.tensors = [...leaves];
  }

  emit(deps: readonly number[], apply: Statement['apply'], text: Statement['text']): number {
    this.statements.push({ deps, apply, text });
    this.tensors.push(apply(deps.map((d) => this.tensors[d])));
    return this.tensors.length - 1;
  }

  /** `at` counts back from the newest tensor, so small numbers (what shrinking tends to) make chains */
  recent(at: number): number {
    return this.tensors.length - 1 - (at % this.tensors.length);
  }

  shape(i: number): readonly number[] {
    return this.tensors[i].shape;
  }

  unary(i: number, name: string): number {
    return this.emit(
      [i],
      ([x]) => (x as unknown as Record<string, () => Tensor>)[name](),
      ([x]) => `${x}.${name}()`,
    );
  }

  reshape(i: number, to: readonly number[]): number {
    return this.emit(
      [i],
      ([x]) => x.reshape(to),
      ([x]) => `${x}.reshape([${to.join(', ')}])`,
    );
  }

  /** a 1-D or 2-D view of tensor i (scalars become [1], rank 3 folds its leading axes) */
  matrixLike(i: number): number {
    const s = this.shape(i);
    if (s.length === 0) return this.reshape(i, [1]);
    if (s.length > 2) return this.reshape(i, [s[0] * s[1], s[2]]);
    return i;
  }

  /** `(x) => x.square().add(0.25)`: the operand moved into (0.25, ∞), the domain of log, sqrt and pow */
  intoDomain(i: number): number {
    return this.emit(
      [this.unary(i, 'square')],
      ([x]) => x.add(0.25),
      ([x]) => `${x}.add(0.25)`,
    );
  }

  apply(r: Recipe): void {
    const x = this.recent(r.at);
    switch (r.op) {
      case 'unary': {
        const name = UNARY[r.fn];
        this.unary(r.domain && RESTRICTED.has(name) ? this.intoDomain(x) : x, name);
        return;
      }
      case 'pow': {
        const p = EXPONENTS[r.p];
        this.emit(
          [r.domain ? this.intoDomain(x) : x],
          ([t]) => t.pow(p),
          ([t]) => `${t}.pow(${p})`,
        );
        return;
      }
      case 'binary': {
        const name = BINARY[r.fn];
        const c = r.scalar;
        if (c !== null) {
          this.emit(
            [x],
            ([t]) => (t as unknown as Record<string, (v: number) => Tensor>)[name](c),
            ([t]) => `${t}.${name}(${num(c)})`,
          );
          return;
        }
        const fits = this.candidates((j) => {
          try {
            return size(broadcastShapes(name, this.shape(x), this.shape(j))) <= MAX_SIZE;
          } catch {
            return false;
          }
        });
        const y = fits[r.with % fits.length];
        const [a, b] = r.swap ? [y, x] : [x, y];
        this.emit(
          [a, b],
          ([s, t]) => (s as unknown as Record<string, (v: Tensor) => Tensor>)[name](t),
          ([s, t]) => `${s}.${name}(${t})`,
        );
        return;
      }
      case 'matmul': {
        const a = this.matrixLike(x);
        const sa = this.shape(a);
        const k = sa[sa.length - 1];
        const out = (s: readonly number[]) => sa.slice(0, -1).concat(s.slice(1));
        // operands that fit as they are, or transposed; the operand itself (transposed if 2-D) always fits
        const direct = this.candidates((j) => {
          const s = this.shape(j);
          return (s.length === 1 || s.length === 2) && s[0] === k && size(out(s)) <= MAX_SIZE;
        }).map((j) => [j, false] as const);
        const flipped = this.candidates((j) => {
          const s = this.shape(j);
          return s.length === 2 && s[1] === k && size(out([s[1], s[0]])) <= MAX_SIZE;
        }).map((j) => [j, true] as const);
        const options = [...direct, ...flipped];
        const [j, transpose] = options.length ? options[r.with % options.length] : [a, sa.length === 2];
        const b = transpose ? this.unary(j, 'transpose') : j;
        this.emit(
          [a, b],
          ([s, t]) => s.matmul(t),
          ([s, t]) => `${s}.matmul(${t})`,
        );
        return;
      }
      case 'transpose':
        this.unary(this.shape(x).length > 2 ? this.matrixLike(x) : x, 'transpose');
        return;
      case 'reduce': {
        const name = REDUCE[r.fn];
        const rank = this.shape(x).length;
        // an axis in range, kept negative when the recipe's is (both forms are API)
        const axis = r.axis === null || rank === 0 ? undefined : r.axis < 0 ? -1 - (~r.axis % rank) : r.axis % rank;
        const keep = r.keepDims;
        const args = axis === undefined ? (keep ? `undefined, true` : '') : `${axis}${keep ? ', true' : ''}`;
        this.emit(
          [x],
          ([t]) => t[name](axis, keep),
          ([t]) => `${t}.${name}(${args})`,
        );
        return;
      }
      case 'reshape': {
        const options = reshapes(size(this.shape(x)));
        this.reshape(x, options[r.choice % options.length]);
        return;
      }
      case 'slice': {
        // a begin and a size per axis from the choice's bits (a size of -1 sometimes)
        const sh = this.shape(x);
        if (!sh.length) return;
        let c = r.choice;
        const begin: number[] = [],
          sz: number[] = [];
        for (const d of sh) {
          const b = c % d;
          c = Math.floor(c / d);
          const n = 1 + (c % (d - b));
          c = Math.floor(c / (d - b));
          begin.push(b);
          sz.push(n === d - b && c % 2 ? -1 : n);
        }
        this.emit(
          [x],
          ([t]) => t.slice(begin, sz),
          ([t]) => `${t}.slice([${begin.join(', ')}], [${sz.join(', ')}])`,
        );
        return;
      }
      case 'permute': {
        const rank = this.shape(x).length;
        if (rank < 2) return;
        const perms = permutations(rank);
        const perm = perms[r.choice % perms.length];
        this.emit(
          [x],
          ([t]) => t.transpose(perm),
          ([t]) => `${t}.transpose([${perm.join(', ')}])`,
        );
        return;
      }
      case 'concat': {
        const sx = this.shape(x);
        if (!sx.length) return;
        const axis = r.axis % sx.length;
        const fits = this.candidates((j) => {
          const s = this.shape(j);
          return (
            s.length === sx.length && s.every((d, i) => i === axis || d === sx[i]) && 2 * size(sx) + size(s) <= MAX_SIZE
          );
        });
        if (!fits.length) return;
        const y = fits[r.with % fits.length];
        this.emit(
          [x, y],
          ([s, t]) => concat([s, t, s], axis),
          ([s, t]) => `concat([${s}, ${t}, ${s}], ${axis})`,
        );
        return;
      }
      case 'bmm': {
        // a batched product: [B,M,K] x [B,K,N] or [K,N], [M,K] x [B,K,N]
        const sx = this.shape(x);
        const fits = this.candidates((j) => {
          const s = this.shape(j);
          if (sx.length === 3)
            return (
              ((s.length === 3 && s[0] === sx[0] && s[1] === sx[2]) || (s.length === 2 && s[0] === sx[2])) &&
              sx[0] * sx[1] * s[s.length - 1] <= MAX_SIZE
            );
          return sx.length === 2 && s.length === 3 && s[1] === sx[1] && s[0] * sx[0] * s[2] <= MAX_SIZE;
        });
        if (!fits.length) {
          // x as [B,M,K] (a tensor of another rank as [first dim, 1, the rest]) times its own transpose
          if (!sx.length) return;
          const v = sx.length === 3 ? x : this.reshape(x, [sx[0], 1, size(sx) / sx[0]]);
          const sv = this.shape(v);
          if (sv[0] * sv[1] * sv[1] > MAX_SIZE) return;
          this.emit(
            [v],
            ([t]) => t.matmul(t.transpose([0, 2, 1])),
            ([t]) => `${t}.matmul(${t}.transpose([0, 2, 1]))`,
          );
          return;
        }
        this.emit(
          [x, fits[r.with % fits.length]],
          ([s, t]) => s.matmul(t),
          ([s, t]) => `${s}.matmul(${t})`,
        );
        return;
      }
      case 'gather': {
        // indices fixed at trace time along axis 0, repeats allowed
        const sh = this.shape(x);
        if (!sh.length) return;
        const n = sh[0];
        const ids = [r.choice % n, Math.floor(r.choice / n) % n, r.choice % n];
        this.emit(
          [x],
          ([t]) => t.gather(ids),
          ([t]) => `${t}.gather([${ids.join(', ')}])`,
        );
        return;
      }
      case 'xent': {
        const z = this.matrixLike(x);
        const labels = this.candidates((j) => sameShape(this.shape(j), this.shape(z)));
        const y = labels[r.with % labels.length];
        this.emit(
          [z, y],
          ([s, t]) => s.softmaxCrossEntropy(t),
          ([s, t]) => `${s}.softmaxCrossEntropy(${t})`,
        );
        return;
      }
    }
  }

  /** indices of the tensors that satisfy `ok`, newest first */
  private candidates(ok: (j: number) => boolean): number[] {
    const out: number[] = [];
    for (let j = this.tensors.length - 1; j >= 0; j--) if (ok(j)) out.push(j);
    return out;
  }
}

/** Every permutation of 0..rank-1. */
function permutations(rank: number): number[][] {
  if (rank === 1) return [[0]];
  return permutations(rank - 1).flatMap((p) =>
    Array.from({ length: rank }, (_, i) => [...p.slice(0, i), rank - 1, ...p.slice(i)]),
  );
}

/** Shapes of rank 1 to 3 with `n` elements, some with a -1 (inferred). */
function reshapes(n: number): number[][] {
  const out: number[][] = [[n], [-1], [1, n], [n, 1]];
  for (let d = 2; d < n; d++) {
    if (n % d) continue;
    out.push([d, n / d], [d, -1]);
    for (let e = 2; e * d < n; e++) if ((n / d) % e === 0) out.push([d, e, n / d / e], [-1, e, n / d / e]);
  }
  return out;
}

/** A number as JavaScript source (-0, NaN and the infinities included). */
export function num(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

/** A generated function, its arguments, and its source text (what fast-check prints on failure). */
export class FuzzGraph {
  readonly defined: Defined;
  readonly params: Record<string, Float64Array> = {};
  readonly inputs: Record<string, Float64Array> = {};
  /**
   * f with each statement's result t_k scaled by (1 + e_k) (parameters e0, e1, ...), and its
   * parameters at e = 0: the gradient's e-part is df/dt_k * t_k, how f moves when t_k is rounded
   */
  readonly twin: Defined;
  readonly twinParams: Record<string, Float64Array>;
  /** some argument or constant lies outside [2^-100, 2^100] (0, NaN and ±Infinity aside) */
  readonly extreme: boolean;
  private readonly source: string;

  constructor(
    leafRecipes: readonly LeafRecipe[],
    base: readonly number[],
    recipes: readonly Recipe[],
    values: readonly number[],
  ) {
    const counts = { p: 0, x: 0 };
    const leaves: LeafSpec[] = leafRecipes.map((l, i) => {
      const input = l.input && i > 0; // the first leaf is a parameter: there is always a gradient
      const shape = l.free ?? base.slice(3 - l.rank).map((d, k) => ((l.ones >> k) & 1 ? 1 : d));
      return { name: input ? `x${counts.x++}` : `p${counts.p++}`, input, shape };
    });
    const spec = {
      params: Object.fromEntries(leaves.filter((l) => !l.input).map((l) => [l.name, l.shape])),
      inputs: Object.fromEntries(leaves.filter((l) => l.input).map((l) => [l.name, l.shape])),
    };
    const leafTensors = (p: Record<string, Tensor>, x: Record<string, Tensor>) =>
      leaves.map((l) => (l.input ? x : p)[l.name]);

    // first trace: resolve the recipes; the output is the newest tensor, summed if it is not a scalar
    let statements: Statement[] = [];
    let output = 0;
    define(spec, (p, x) => {
      const b = new Builder(leafTensors(p, x));
      for (const r of recipes) b.apply(r);
      output = b.tensors.length - 1;
      if (b.shape(output).length > 0) output = b.unary(output, 'sum');
      statements = b.statements;
      return b.tensors[output];
    });

    // keep the statements the output depends on; the second trace (the one tested) runs just those
    const n = leaves.length;
    const live = new Set([output]);
    for (let s = statements.length - 1; s >= 0; s--)
      if (live.has(n + s)) statements[s].deps.forEach((d) => live.add(d));
    const kept = statements.map((_, s) => s).filter((s) => live.has(n + s));
    const names = new Map<number, string>(leaves.map((l, i) => [i, l.name]));
    kept.forEach((s, k) => names.set(n + s, `t${k}`));
    // the twin: f with every statement's result t_k multiplied by (1 + e_k), e_k a parameter of
    // t_k's shape, which is f itself at e = 0; its gradient there is df/dt_k * t_k, elementwise
    const results: (readonly number[])[] = [];
    const trace = (p: Record<string, Tensor>, x: Record<string, Tensor>, perturb: boolean) => {
      const t = new Map<number, Tensor>(leafTensors(p, x).map((v, i) => [i, v]));
      kept.forEach((s, k) => {
        let r = statements[s].apply(statements[s].deps.map((d) => t.get(d)!));
        if (perturb) r = r.mul(p[`e${k}`].add(1));
        else results.push(r.shape);
        t.set(n + s, r);
      });
      return t.get(output)!;
    };
    this.defined = define(spec, (p, x) => trace(p, x, false));
    const errors = Object.fromEntries(results.map((s, k) => [`e${k}`, s]));
    this.twin = define({ params: { ...spec.params, ...errors }, inputs: spec.inputs }, (p, x) => trace(p, x, true));

    let v = 0;
    for (const l of leaves) {
      const a = Float64Array.from({ length: size(l.shape) }, () => values[v++ % values.length]);
      (l.input ? this.inputs : this.params)[l.name] = a;
    }
    const moderate = (x: number) =>
      x === 0 || !Number.isFinite(x) || (Math.abs(x) >= 2 ** -100 && Math.abs(x) <= 2 ** 100);
    const constants = recipes.flatMap((r) => (r.op === 'binary' && r.scalar !== null ? [r.scalar] : []));
    this.extreme =
      ![...Object.values(this.params), ...Object.values(this.inputs)].every((a) => a.every(moderate)) ||
      !constants.every(moderate);
    this.twinParams = {
      ...this.params,
      ...Object.fromEntries(results.map((s, k) => [`e${k}`, new Float64Array(size(s))])),
    };

    const braces = (items: string[]) => (items.length ? `{ ${items.join(', ')} }` : '{}');
    const shapes = (ls: LeafSpec[]) => braces(ls.map((l) => `${l.name}: [${l.shape.join(', ')}]`));
    const args = (ls: LeafSpec[]) => braces(ls.map((l) => l.name));
    const data = (o: Record<string, Float64Array>) =>
      braces(Object.entries(o).map(([k, a]) => `${k}: [${Array.from(a, num).join(', ')}]`));
    const [ps, xs] = [leaves.filter((l) => !l.input), leaves.filter((l) => l.input)];
    const body = kept.map(
      (s) => `  const ${names.get(n + s)} = ${statements[s].text(statements[s].deps.map((d) => names.get(d)!))};`,
    );
    this.source = [
      `define({ params: ${shapes(ps)}, inputs: ${shapes(xs)} }, (${args(ps)}, ${args(xs)}) => {`,
      ...body,
      `  return ${names.get(output)};`,
      '})',
      `params: ${data(this.params)}`,
      `inputs: ${data(this.inputs)}`,
    ].join('\n');
  }

  [fc.toStringMethod](): string {
    return `\n${this.source}\n`;
  }

  toString(): string {
    return this.source;
  }
}

/** Random functions with their arguments: 1-4 leaves, up to 8 recipes, values from `value`. */
export const graph: fc.Arbitrary<FuzzGraph> = fc
  .record({
    leaves: fc.array(leaf, { minLength: 1, maxLength: 4 }),
    base: fc.tuple(dim, dim, dim),
    recipes: fc.array(recipe, { maxLength: 8 }),
    values: fc.array(value, { minLength: 1, maxLength: 48 }),
  })
  .map(({ leaves, base, recipes, values }) => new FuzzGraph(leaves, base, recipes, values));
