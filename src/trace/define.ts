import { MAX_ELEMENTS, sizeOf, shapeString, type Shape } from '../ops/opset.js';
import { Graph } from './graph.js';
import { Tensor, describeValue } from './tensor.js';
import { compileGraph, type Tape } from './compile.js';

export type ShapeSpec = Readonly<Record<string, readonly number[]>>;
export interface Spec {
  readonly params: ShapeSpec;
  readonly inputs?: ShapeSpec;
}
type Tensors<S extends ShapeSpec | undefined> = { readonly [K in keyof S]: Tensor };

/** A parameter or input: its name, shape, and where it sits in the flat vector of its kind. */
export interface Leaf {
  readonly name: string;
  readonly shape: Shape;
  readonly size: number;
  /** offset in the flat parameter vector (params) or in the flat input vector (inputs) */
  readonly offset: number;
}

/** A traced function: its graph, its parameter and input layout, and (compiled on first use) its tape. */
export class Defined<S extends Spec = Spec> {
  private compiled?: Tape;
  /** @internal */
  constructor(
    readonly spec: S,
    readonly graph: Graph,
    readonly output: number,
    readonly params: readonly Leaf[],
    readonly inputs: readonly Leaf[],
  ) {}

  /** Total number of parameter elements N. */
  get paramCount(): number {
    return this.params.reduce((n, p) => n + p.size, 0);
  }

  /** The backend-independent tape; compiled once and shared by every backend. */
  get tape(): Tape {
    return (this.compiled ??= compileGraph(this.graph, this.output, this.params.length));
  }
}

/**
 * Traces `fn` once over symbolic tensors of the given shapes and returns the traced function.
 * `fn` must return a scalar tensor. Shape errors are thrown here, naming the op and the shapes.
 */
export function define<S extends Spec>(
  spec: S,
  fn: (params: Tensors<S['params']>, inputs: Tensors<S['inputs']>) => Tensor,
): Defined<S> {
  if (typeof spec !== 'object' || spec === null || typeof spec.params !== 'object' || spec.params === null)
    throw new TypeError('define: the first argument must be { params: { name: shape }, inputs?: { name: shape } }');
  if (typeof fn !== 'function') throw new TypeError(`define: the second argument must be a function, got ${describeValue(fn)}`);
  const graph = new Graph();
  const seen = new Set<string>();
  const leaves = (kind: 'param' | 'input', shapes: ShapeSpec = {}) => {
    const tensors: Record<string, Tensor> = {};
    const list: Leaf[] = [];
    let offset = 0;
    for (const [name, shape] of Object.entries(shapes)) {
      if (seen.has(name)) throw new Error(`define: the name '${name}' is used twice`);
      seen.add(name);
      if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 1))
        throw new TypeError(`define: the shape of ${kind} '${name}' must be an array of positive integers, got ${describeValue(shape)}`);
      const s = [...shape];
      if (sizeOf(s) > MAX_ELEMENTS)
        throw new RangeError(`define: ${kind} '${name}' of shape ${shapeString(s)} has ${sizeOf(s)} elements, more than the ${MAX_ELEMENTS} (2^31-1) a tape can address`);
      tensors[name] = new Tensor(graph, graph.leaf(kind, name, s));
      list.push({ name, shape: s, size: sizeOf(s), offset });
      offset += sizeOf(s);
    }
    return { tensors, list };
  };
  const p = leaves('param', spec.params);
  const x = leaves('input', spec.inputs);
  const out = fn(p.tensors as Tensors<S['params']>, x.tensors as Tensors<S['inputs']>);
  if (!(out instanceof Tensor) || out.graph !== graph)
    throw new TypeError(`define: the function must return a Tensor of its arguments, got ${describeValue(out)}`);
  if (out.rank !== 0)
    throw new TypeError(`define: the function must return a scalar (shape []), got shape ${shapeString(out.shape)}; reduce it with .sum() or .mean()`);
  return new Defined(spec, graph, out.id, p.list, x.list);
}

/** Per-row softmax cross-entropy of `logits` [rows, classes] with `labels` of the same shape; see Tensor.softmaxCrossEntropy. */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  if (!(logits instanceof Tensor)) throw new TypeError(`softmaxCrossEntropy: logits must be a Tensor, got ${describeValue(logits)}`);
  return logits.softmaxCrossEntropy(labels);
}
