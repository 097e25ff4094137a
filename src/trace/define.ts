import { MAX_ELEMENTS, sizeOf, shapeString, type Shape } from '../ops/opset.js';
import { Graph, tracingInto } from './graph.js';
import { Tensor, describeValue } from './tensor.js';
import { compileGraph, type Tape } from './compile.js';

/** A dimension: a size, or the name of a symbolic dimension fixed at call time ('batch'). */
export type Dim = number | string;
export type ShapeSpec = Readonly<Record<string, readonly Dim[]>>;
export interface Spec {
  /** parameter shapes: sizes only (the flat parameter vector has one length) */
  readonly params: ShapeSpec;
  /** input shapes; a string names a symbolic dimension, the same name the same size */
  readonly inputs?: ShapeSpec;
}
type Tensors<S extends ShapeSpec | undefined> = { readonly [K in keyof S]: Tensor };
/** The traced function as stored (its argument types erased). */
type TraceFn = (params: Readonly<Record<string, Tensor>>, inputs: Readonly<Record<string, Tensor>>) => Returned;
/** What a traced function returns: the scalar to differentiate, or named outputs (`loss` is differentiated). */
export type Returned = Tensor | Readonly<Record<string, Tensor>>;

/** A parameter or input: its name, shape, and where it sits in the flat vector of its kind. */
export interface Leaf {
  readonly name: string;
  /** sizes; an input of a symbolic function may hold dimension names */
  readonly shape: readonly Dim[];
  /** elements (NaN while the shape holds a dimension name) */
  readonly size: number;
  /** offset in the flat parameter vector (params) or in the flat input vector (inputs; NaN if unknown) */
  readonly offset: number;
}

/** A named output: its graph node and its shape. */
export interface Output {
  readonly name: string;
  readonly node: number;
  /** sizes; in a function with symbolic dimensions, their names where they stand */
  readonly shape: readonly Dim[];
}

/** Values of the symbolic dimensions, by name. */
export type Dims = Readonly<Record<string, number>>;

/** Distinct sizes stand in for symbolic dimensions in the first trace (shape checks only, nothing is allocated). */
const PLACEHOLDERS = [7919, 7927, 7933, 7937, 7949, 7951, 7963, 7993];
/** Concrete traces kept per symbolic function (least recently used first out). */
const MAX_SIZES = 16;

/**
 * A traced function: its graph, its parameter and input layout, its outputs and (compiled on
 * first use) its tape. A function with symbolic dimensions is traced again for each new set of
 * sizes (`at`); the traced function must therefore depend on its arguments only.
 */
export class Defined<S extends Spec = Spec> {
  private compiled?: Tape;
  private readonly sizes = new Map<string, Defined<S>>();

  /** @internal */
  constructor(
    readonly spec: S,
    /** @internal the user's function, re-traced for each new size of a symbolic dimension */
    readonly fn: TraceFn,
    readonly graph: Graph,
    /** graph node of the scalar loss (the differentiated output), or -1 when there is none */
    readonly output: number,
    readonly outputs: readonly Output[],
    readonly params: readonly Leaf[],
    readonly inputs: readonly Leaf[],
    /** names of the symbolic dimensions ([] for a concrete function) */
    readonly dims: readonly string[],
  ) {}

  /** Total number of parameter elements N. */
  get paramCount(): number {
    return this.params.reduce((n, p) => n + p.size, 0);
  }

  /** true when the function returns (or names) a scalar `loss`, the output `grad` differentiates */
  get hasLoss(): boolean {
    return this.output >= 0;
  }

  /** true while some input shape holds a dimension name: `at` gives the traced function at given sizes */
  get symbolic(): boolean {
    return this.dims.length > 0;
  }

  /** The backend-independent tape; compiled once and shared by every backend. */
  get tape(): Tape {
    if (this.symbolic)
      throw new Error(
        `this function has symbolic dimensions (${this.dims.join(', ')}): take its tape at given sizes with .at({ ${this.dims[0]}: n })`,
      );
    return (this.compiled ??= compileGraph(this.graph, this.output, this.outputs, this.params.length));
  }

  /** The function traced at the given sizes of its symbolic dimensions (cached). */
  at(dims: Dims): Defined<S> {
    if (!this.symbolic) return this;
    const key = this.dims
      .map((d) => {
        const n = dims[d];
        if (n === undefined)
          throw new Error(`this function has symbolic dimensions (${this.dims.join(', ')}): give the size of '${d}'`);
        if (!Number.isInteger(n) || n < 1)
          throw new RangeError(`dimension '${d}' must be a positive integer, got ${describeValue(n)}`);
        return n;
      })
      .join(',');
    let hit = this.sizes.get(key);
    if (hit) this.sizes.delete(key);
    else hit = trace(this.spec, this.fn, dims);
    this.sizes.set(key, hit);
    if (this.sizes.size > MAX_SIZES) this.sizes.delete(this.sizes.keys().next().value!);
    return hit;
  }

  /**
   * The sizes of the symbolic dimensions that inputs of these lengths imply (by definition
   * order; a dimension is taken from the first input that fixes it). Throws, naming the
   * dimension, the inputs and the sizes, when the lengths disagree.
   */
  resolve(lengths: readonly number[]): Dims {
    const known: Record<string, number> = {};
    const from: Record<string, string> = {};
    let pending = this.inputs.map((_, i) => i);
    while (pending.length) {
      const next = pending.filter((i) => {
        const leaf = this.inputs[i];
        const open = leaf.shape.filter((d): d is string => typeof d === 'string' && !(d in known));
        const fixed = sizeOf(leaf.shape.map((d) => (typeof d === 'number' ? d : (known[d] ?? 1))));
        const where = () => `input '${leaf.name}' (shape ${fmtSpec(leaf.shape)}) has ${lengths[i]} elements`;
        if (open.length === 0) {
          if (lengths[i] !== fixed) {
            const named = leaf.shape.filter((d): d is string => typeof d === 'string');
            throw new RangeError(
              `${where()}, but ${named.map((d) => `'${d}' = ${known[d]} (from input '${from[d]}')`).join(', ') || `it needs ${fixed}`}`,
            );
          }
          return false;
        }
        if (new Set(open).size > 1) return true; // wait for another input to fix one of them
        const n = lengths[i] / fixed;
        if (!Number.isInteger(n) || n < 1)
          throw new RangeError(`${where()}: not a positive whole number of '${open[0]}' (${fixed} elements each)`);
        known[open[0]] = n;
        from[open[0]] = leaf.name;
        return false;
      });
      if (next.length === pending.length)
        throw new RangeError(
          `cannot tell the sizes of ${this.dims
            .filter((d) => !(d in known))
            .map((d) => `'${d}'`)
            .join(', ')} from the inputs' lengths`,
        );
      pending = next;
    }
    return known;
  }
}

function fmtSpec(s: readonly Dim[]): string {
  return `[${s.map((d) => (typeof d === 'string' ? `'${d}'` : d)).join(',')}]`;
}

/**
 * Traces `fn` once over symbolic tensors of the given shapes and returns the traced function.
 * `fn` returns the scalar to differentiate, or an object of named tensors whose `loss` (a
 * scalar) is differentiated and whose other entries are outputs (`run`, `grad`'s `outputs`).
 * Shapes may name symbolic dimensions (`['batch', 784]`). Shape errors are thrown here, naming
 * the op and the shapes.
 */
export function define<S extends Spec>(
  spec: S,
  fn: (params: Tensors<S['params']>, inputs: Tensors<S['inputs']>) => Returned,
): Defined<S> {
  if (typeof spec !== 'object' || spec === null || typeof spec.params !== 'object' || spec.params === null)
    throw new TypeError('define: the first argument must be { params: { name: shape }, inputs?: { name: shape } }');
  if (typeof fn !== 'function')
    throw new TypeError(`define: the second argument must be a function, got ${describeValue(fn)}`);
  const dims: string[] = [];
  for (const [kind, shapes] of [
    ['param', spec.params],
    ['input', spec.inputs ?? {}],
  ] as const)
    for (const [name, shape] of Object.entries(shapes)) {
      if (
        !Array.isArray(shape) ||
        shape.some((d) => !(Number.isInteger(d) && d >= 1) && !(typeof d === 'string' && d !== ''))
      )
        throw new TypeError(
          `define: the shape of ${kind} '${name}' must be an array of positive integers${kind === 'input' ? ' or dimension names' : ''}, got ${describeValue(shape)}`,
        );
      for (const d of shape) {
        if (typeof d !== 'string') continue;
        if (kind === 'param')
          throw new TypeError(
            `define: parameter '${name}' has the symbolic dimension '${d}': parameter shapes must be sizes`,
          );
        if (!dims.includes(d)) dims.push(d);
      }
    }
  if (dims.length > PLACEHOLDERS.length)
    throw new RangeError(`define: at most ${PLACEHOLDERS.length} symbolic dimensions`);
  const first = trace(
    spec,
    fn as unknown as TraceFn,
    Object.fromEntries(dims.map((d, i) => [d, PLACEHOLDERS[i]])),
    dims.length === 0,
  );
  if (!dims.length) return first;
  const symbolic = (l: Leaf): Leaf => ({ ...l, shape: [...(spec.inputs ?? {})[l.name]], size: NaN, offset: NaN });
  // output shapes with the dimension names back where a placeholder stands (for display)
  const name = (d: Dim) => (typeof d === 'number' && dims[PLACEHOLDERS.indexOf(d)]) || d;
  const outputs = first.outputs.map((o) => ({ ...o, shape: o.shape.map(name) }));
  return new Defined(
    spec,
    fn as unknown as TraceFn,
    first.graph,
    first.output,
    outputs,
    first.params,
    first.inputs.map(symbolic),
    dims,
  );
}

/**
 * One trace of `fn` with the symbolic dimensions at the given sizes. `limits`: check every size
 * against what a tape can address (off for the trace at placeholder sizes, which is never compiled).
 */
function trace<S extends Spec>(spec: S, fn: TraceFn, sizes: Dims, limits = true): Defined<S> {
  const graph = new Graph(limits);
  const seen = new Set<string>();
  const leaves = (kind: 'param' | 'input', shapes: ShapeSpec = {}) => {
    const tensors: Record<string, Tensor> = {};
    const list: Leaf[] = [];
    let offset = 0;
    for (const [name, shape] of Object.entries(shapes)) {
      if (seen.has(name)) throw new Error(`define: the name '${name}' is used twice`);
      seen.add(name);
      const s = shape.map((d) => (typeof d === 'string' ? sizes[d] : d));
      if (limits && sizeOf(s) > MAX_ELEMENTS)
        throw new RangeError(
          `define: ${kind} '${name}' of shape ${shapeString(s)} has ${sizeOf(s)} elements, more than the ${MAX_ELEMENTS} (2^31-1) a tape can address`,
        );
      tensors[name] = new Tensor(graph, graph.leaf(kind, name, s));
      list.push({ name, shape: s, size: sizeOf(s), offset });
      offset += sizeOf(s);
    }
    return { tensors, list };
  };
  const p = leaves('param', spec.params);
  const x = leaves('input', spec.inputs);
  const returned = tracingInto(graph, () => fn(p.tensors, x.tensors));
  const isOurs = (t: unknown): t is Tensor => t instanceof Tensor && t.graph === graph;
  // a bare tensor is the loss: { loss: t }
  const named = isOurs(returned) ? { loss: returned } : returned;
  if (typeof named !== 'object' || named === null || named instanceof Tensor || Array.isArray(named))
    throw new TypeError(
      `define: the function must return a Tensor of its arguments or an object of them, got ${describeValue(returned)}`,
    );
  const outputs: Output[] = [];
  for (const [name, t] of Object.entries(named)) {
    if (!isOurs(t))
      throw new TypeError(
        `define: output '${name}' must be a Tensor of the function's arguments, got ${describeValue(t)}`,
      );
    // an output must be an instruction's result: a parameter, input or constant is copied by an exact x * 1
    const node = graph.nodes[graph.root(t.id)];
    outputs.push({ name, node: node.kind === 'op' ? t.id : t.mul(1).id, shape: t.shape });
  }
  if (!outputs.length)
    throw new TypeError('define: the function returned an empty object; return a scalar loss or named tensors');
  const loss: Tensor | undefined = named.loss;
  if (loss !== undefined && loss.rank !== 0)
    throw new TypeError(
      `define: the loss must be a scalar (shape []), got shape ${shapeString(loss.shape)}; reduce it with .sum() or .mean()`,
    );
  return new Defined(spec, fn, graph, loss?.id ?? -1, outputs, p.list, x.list, []);
}

/** Per-row softmax cross-entropy of `logits` [rows, classes] with `labels`; see Tensor.softmaxCrossEntropy. */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  if (!(logits instanceof Tensor))
    throw new TypeError(`softmaxCrossEntropy: logits must be a Tensor, got ${describeValue(logits)}`);
  return logits.softmaxCrossEntropy(labels);
}

/**
 * where(cond, x, y): x where cond is nonzero (NaN counts as nonzero), else y, elementwise, the three
 * broadcast together (numbers allowed for x and y). The branch not taken never reaches the value
 * nor the gradient, so a NaN or Inf there (log of a negative in a masked branch, say) does not
 * leak; cond takes no gradient.
 */
export function where(cond: Tensor, x: Tensor | number, y: Tensor | number): Tensor {
  if (!(cond instanceof Tensor)) throw new TypeError(`where: cond must be a Tensor, got ${describeValue(cond)}`);
  return cond.where(x, y);
}
