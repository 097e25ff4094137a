import { MAX_ELEMENTS, opDef, ShapeError, shapeString, sizeOf, type Shape } from '../ops/opset.js';

/**
 * A traced function: a DAG of nodes in creation order. Leaves are parameters, inputs and
 * constants; `reshape` nodes are views that share their input's storage (no instruction); every
 * other node is one instruction of the op set.
 */
export type NodeKind = 'param' | 'input' | 'const' | 'reshape' | 'op';

export interface Node {
  readonly id: number;
  readonly kind: NodeKind;
  /** op-set name for kind 'op'; the leaf's name for params and inputs */
  readonly op: string;
  readonly shape: Shape;
  readonly inputs: readonly number[];
  readonly attrs: readonly number[];
  /** constants only: the elements, in row-major order (one for a scalar) */
  readonly value?: Float64Array;
}

/** The graphs being traced (innermost last): free functions that take no tensor, constant(), record here. */
const tracing: Graph[] = [];

/** Runs `fn` with `graph` as the graph of the trace under way. */
export function tracingInto<T>(graph: Graph, fn: () => T): T {
  tracing.push(graph);
  try {
    return fn();
  } finally {
    tracing.pop();
  }
}

/** The graph of the trace under way, or undefined outside `define`'s function. */
export function currentGraph(): Graph | undefined {
  return tracing[tracing.length - 1];
}

export class Graph {
  readonly nodes: Node[] = [];
  private readonly constants = new Map<string, number>();
  /** root() of each node, set when it is created: a chain of views is never walked again */
  private readonly roots: number[] = [];

  /** limits: refuse results of more than MAX_ELEMENTS elements (off for a trace at placeholder sizes) */
  constructor(readonly limits = true) {}

  leaf(kind: 'param' | 'input', name: string, shape: Shape): number {
    return this.push({ kind, op: name, shape, inputs: [], attrs: [] });
  }

  /** A scalar constant; equal values share one node (0 and -0 stay apart). */
  constant(value: number): number {
    const key = Object.is(value, -0) ? '-0' : String(value);
    let id = this.constants.get(key);
    if (id === undefined) {
      id = this.push({ kind: 'const', op: 'const', shape: [], inputs: [], attrs: [], value: Float64Array.of(value) });
      this.constants.set(key, id);
    }
    return id;
  }

  /** A tensor constant (its own node; `values` is copied and holds sizeOf(shape) elements). */
  constantTensor(values: ArrayLike<number>, shape: Shape): number {
    if (this.limits && sizeOf(shape) > MAX_ELEMENTS)
      throw new ShapeError(`constant: shape ${shapeString(shape)} has more than ${MAX_ELEMENTS} elements`);
    return this.push({ kind: 'const', op: 'const', shape, inputs: [], attrs: [], value: Float64Array.from(values) });
  }

  reshape(input: number, shape: Shape): number {
    return this.push({ kind: 'reshape', op: 'reshape', shape, inputs: [input], attrs: [] });
  }

  /** An instruction node; the op's shape rule checks the operands and gives the output shape. */
  op(name: string, inputs: readonly number[], attrs: readonly number[] = []): number {
    const def = opDef(name);
    if (inputs.length !== def.arity)
      throw new ShapeError(`${name}: expected ${def.arity} operands, got ${inputs.length}`);
    const shape = def.shape(
      inputs.map((i) => this.nodes[i].shape),
      attrs,
    );
    if (this.limits && sizeOf(shape) > MAX_ELEMENTS)
      throw new ShapeError(
        `${name}: the result ${shapeString(shape)} has ${sizeOf(shape)} elements, more than the ${MAX_ELEMENTS} (2^31-1) a tape can address`,
      );
    return this.push({ kind: 'op', op: name, shape, inputs, attrs });
  }

  /** The node whose storage `id` views: itself, or the first non-reshape below a chain of reshapes. */
  root(id: number): number {
    return this.roots[id];
  }

  shapeOf(id: number): Shape {
    return this.nodes[id].shape;
  }

  describe(id: number): string {
    return shapeString(this.nodes[id].shape);
  }

  private push(n: Omit<Node, 'id'>): number {
    const id = this.nodes.length;
    this.nodes.push({ ...n, id });
    this.roots.push(n.kind === 'reshape' ? this.roots[n.inputs[0]] : id);
    return id;
  }
}
