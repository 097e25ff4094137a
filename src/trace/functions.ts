import { ShapeError, shapeString as fmt, sizeOf } from '../ops/opset.js';
import { currentGraph } from './graph.js';
import { Tensor, describeValue, type TensorLike } from './tensor.js';

/**
 * Free functions of the tracer: the ones that take a list of tensors (concat, stack), constants,
 * and the binary ops with a number on either side (`sub(2, x)`, `div(1, x)`). Like the methods,
 * they record nodes in the trace under way; nothing is computed.
 */

/** A tensor constant of the trace under way: `values` (row-major) of `shape` (default [values.length]). */
export function constant(values: number | ArrayLike<number>, shape?: readonly number[]): Tensor {
  const graph = currentGraph();
  if (!graph) throw new Error('constant: call it inside the function given to define (it records into that trace)');
  const list = typeof values === 'number' ? [values] : values;
  if (typeof list !== 'object' || list === null || typeof list.length !== 'number')
    throw new TypeError(`constant: values must be a number or an array of numbers, got ${describeValue(values)}`);
  const s = shape ?? (typeof values === 'number' ? [] : [list.length]);
  if (!Array.isArray(s) || s.some((d) => !Number.isInteger(d) || d < 1))
    throw new ShapeError(`constant: shape ${describeValue(shape)} must be an array of positive integers`);
  if (sizeOf(s) !== list.length)
    throw new ShapeError(`constant: shape ${fmt(s)} needs ${sizeOf(s)} values, got ${list.length}`);
  for (let i = 0; i < list.length; i++)
    if (typeof list[i] !== 'number')
      throw new TypeError(`constant: element ${i} is ${describeValue(list[i])}, not a number`);
  return new Tensor(graph, s.length === 0 ? graph.constant(list[0]) : graph.constantTensor(list, s));
}

/** x and y as tensors of one trace: at least one must be a Tensor; a number becomes a constant of its trace. */
function pair(op: string, x: TensorLike, y: TensorLike): [Tensor, TensorLike] {
  if (x instanceof Tensor) return [x, y];
  if (y instanceof Tensor) {
    if (typeof x !== 'number') throw new TypeError(`${op}: expected a Tensor or a number, got ${describeValue(x)}`);
    return [y.operand(x, op), y];
  }
  throw new TypeError(`${op}: at least one operand must be a Tensor, got ${describeValue(x)} and ${describeValue(y)}`);
}

/** x + y, broadcast; either may be a number. */
export function add(x: TensorLike, y: TensorLike): Tensor {
  const [a, b] = pair('add', x, y);
  return a.add(b);
}
/** x - y, broadcast; either may be a number (`sub(1, p)`). */
export function sub(x: TensorLike, y: TensorLike): Tensor {
  const [a, b] = pair('sub', x, y);
  return a.sub(b);
}
/** x * y, broadcast; either may be a number. */
export function mul(x: TensorLike, y: TensorLike): Tensor {
  const [a, b] = pair('mul', x, y);
  return a.mul(b);
}
/** x / y, broadcast; either may be a number (`div(1, x)`). */
export function div(x: TensorLike, y: TensorLike): Tensor {
  const [a, b] = pair('div', x, y);
  return a.div(b);
}
/** x^y (Math.pow semantics), broadcast; either may be a number (`pow(2, x)`, `pow(x, 3)`). */
export function pow(x: TensorLike, y: TensorLike): Tensor {
  const [a, b] = pair('pow', x, y);
  return a.pow(b);
}

/** The tensors of a list, checked: at least one, all Tensors of one trace. */
function tensors(op: string, list: unknown): readonly Tensor[] {
  if (!Array.isArray(list) || list.length === 0)
    throw new TypeError(`${op}: expected a non-empty array of Tensors, got ${describeValue(list)}`);
  list.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`${op}: element ${i} is ${describeValue(t)}, not a Tensor`);
    if (t.graph !== list[0].graph) throw new Error(`${op}: the tensors come from different traces`);
  });
  return list as Tensor[];
}

/**
 * The tensors joined along `axis` (negative counts from the end); their shapes must agree on
 * every other axis. Joined pairwise in a balanced tree: each element is copied about log2(count)
 * times, never once per tensor.
 */
export function concat(list: readonly Tensor[], axis = 0): Tensor {
  const ts = tensors('concat', list);
  const r = ts[0].rank;
  const shapes = () => ts.map((t) => fmt(t.shape)).join(', ');
  const ax = axis < 0 ? axis + r : axis;
  if (!Number.isInteger(axis) || ax < 0 || ax >= r)
    throw new ShapeError(`concat: axis ${axis} is out of range for shapes ${shapes()}`);
  if (ts.some((t) => t.rank !== r || t.shape.some((d, i) => i !== ax && d !== ts[0].shape[i])))
    throw new ShapeError(`concat: shapes ${shapes()} differ outside axis ${ax}`);
  const join = (lo: number, hi: number): Tensor => {
    if (hi - lo === 1) return ts[lo];
    const mid = (lo + hi) >>> 1;
    const [a, b] = [join(lo, mid), join(mid, hi)];
    return a.wrap(a.graph.op('concat', [a.id, b.id], [ax]));
  };
  return join(0, ts.length);
}

/** The tensors (all of one shape) stacked along a new axis `axis` (0..rank; negative counts from the end). */
export function stack(list: readonly Tensor[], axis = 0): Tensor {
  const ts = tensors('stack', list);
  const s = ts[0].shape;
  const ax = axis < 0 ? axis + s.length + 1 : axis;
  if (!Number.isInteger(axis) || ax < 0 || ax > s.length)
    throw new ShapeError(`stack: axis ${axis} is out of range for shape ${fmt(s)} (0..${s.length})`);
  if (ts.some((t) => t.rank !== s.length || t.shape.some((d, i) => d !== s[i])))
    throw new ShapeError(`stack: shapes ${ts.map((t) => fmt(t.shape)).join(', ')} differ`);
  return concat(
    ts.map((t) => t.reshape([...s.slice(0, ax), 1, ...s.slice(ax)])),
    ax,
  );
}
