import { Field, Flag, INSTR_WIDTH, MAX_ELEMENTS, OPCODE, OPS, sizeOf, type Shape } from '../ops/opset.js';
import type { Graph, Node } from './graph.js';
import type { Output } from './define.js';

/**
 * The compiled, backend-independent form of a traced function: plain typed arrays that any backend
 * takes in one call.
 *
 * Arena layout (float64 elements): [ params | inputs | constants | temporaries and scratch ].
 * Parameters come first in definition order, so the flat parameter vector is arena[0, nParams)
 * and the flat gradient is adjoint[0, nParams). A reverse sweep zeroes adjoint[0, nParams) and
 * adjoint[tempStart, arenaSize); inputs and constants never receive adjoints.
 */
export interface Tape {
  /** nInstr instructions of INSTR_WIDTH words (see ops/opset.ts) */
  readonly code: Int32Array;
  readonly nInstr: number;
  readonly arenaSize: number;
  readonly nParams: number;
  readonly nInputs: number;
  /** sizes of the inputs, which sit one after another from arena[nParams] in definition order */
  readonly inputSizes: Int32Array;
  /** = nParams + nInputs */
  readonly constStart: number;
  /** constant values, copied once to arena[constStart, tempStart) */
  readonly constInit: Float64Array;
  readonly tempStart: number;
  /** arena offset of the scalar loss (the differentiated result; of the first output when there is no loss) */
  readonly output: number;
  /**
   * Named outputs: pairs (arena offset, elements), in the traced function's order; always
   * temporaries (an instruction's result). `value` and `reverse` copy them, one after another,
   * into one caller buffer.
   */
  readonly outputs: Int32Array;
  /**
   * Inputs read as indices (one-hot of integer labels, gather's rows): pairs (input number,
   * bound). The API layer checks every element is an integer in [0, bound) before a call.
   */
  readonly indexChecks: Int32Array;
  /**
   * Finite-difference plan: triples (start, end, firstInstr). Parameter elements [start, end)
   * are first read by instruction firstInstr, so a perturbed evaluation re-runs only
   * instructions firstInstr.. (the suffix) and reuses every earlier value. Triples are sorted by
   * firstInstr descending: each suffix re-run then also repairs the values the previous, shorter
   * suffix left perturbed, and the prefix it reads is never dirty.
   */
  readonly fdPlan: Int32Array;
  /** graph node of each instruction (for explain and error messages) */
  readonly instrNode: Int32Array;
}

export function compileGraph(graph: Graph, loss: number, outputs: readonly Output[], nParamLeaves: number): Tape {
  const nodes = graph.nodes;
  const root = (id: number) => graph.root(id);

  // Which nodes the outputs need (live), which the loss needs (toLoss), which depend on a
  // parameter (dep), and which take part in the reverse sweep (grad: on the loss's side of a
  // parameter through differentiable ops only).
  const reach = (from: readonly number[]) => {
    const r = new Uint8Array(nodes.length);
    for (const id of from) r[id] = 1;
    for (let i = nodes.length - 1; i >= 0; i--) if (r[i]) for (const j of nodes[i].inputs) r[j] = 1;
    return r;
  };
  const live = reach([...(loss >= 0 ? [loss] : []), ...outputs.map((o) => o.node)]);
  const toLoss = reach(loss >= 0 ? [loss] : []);
  const dep: boolean[] = [];
  const grad: boolean[] = [];
  for (const n of nodes) {
    dep[n.id] = n.kind === 'param' || n.inputs.some((j) => dep[j]);
    const differentiable = n.kind !== 'op' || OPS[OPCODE[n.op]].differentiable !== false;
    grad[n.id] =
      toLoss[n.id] === 1 &&
      (n.kind === 'param' || (differentiable && n.inputs.some((j, k) => grad[j] && takesGrad(n, k))));
  }

  const order = schedule(nodes, live, dep, loss);

  // Arena layout.
  const offset = new Int32Array(nodes.length).fill(-1);
  let size = 0;
  const place = (pred: (n: Node) => boolean) => {
    for (const n of nodes)
      if (pred(n)) {
        offset[n.id] = size;
        size += sizeOf(n.shape);
      }
  };
  place((n) => n.kind === 'param');
  const nParams = size;
  place((n) => n.kind === 'input');
  const constStart = size;
  place((n) => n.kind === 'const' && live[n.id] === 1);
  const constInit = new Float64Array(size - constStart);
  for (const n of nodes) if (n.kind === 'const' && live[n.id]) constInit.set(n.value!, offset[n.id] - constStart);
  const tempStart = size;
  for (const id of order) {
    offset[id] = size;
    size += sizeOf(nodes[id].shape);
  }
  const at = (id: number) => offset[root(id)];
  // offsets are int32: name the limit here rather than let them wrap
  const fits = () => {
    if (size > MAX_ELEMENTS)
      throw new RangeError(
        `compile: the tape's arena needs ${size} float64 elements (parameters, inputs, constants and every intermediate), more than the ${MAX_ELEMENTS} (2^31-1) a tape can address`,
      );
  };
  fits();

  // Instructions; scratch regions (extra) go after the temporaries.
  const code = new Int32Array(order.length * INSTR_WIDTH);
  order.forEach((id, i) => {
    const n = nodes[id];
    const def = OPS[OPCODE[n.op]];
    const ins = n.inputs.map((j) => nodes[j].shape);
    const p = def.encode(ins, n.attrs, (extra) => ((size += extra), fits(), size - extra));
    const w = code.subarray(i * INSTR_WIDTH, (i + 1) * INSTR_WIDTH);
    w[Field.op] = OPCODE[n.op];
    const [a, b, c] = n.inputs;
    w[Field.flags] =
      (grad[id] ? Flag.gradOut : 0) |
      (grad[a] && takesGrad(n, 0) ? Flag.gradA : 0) |
      (b !== undefined && grad[b] && takesGrad(n, 1) ? Flag.gradB : 0) |
      (c !== undefined && grad[c] && takesGrad(n, 2) ? Flag.gradC : 0);
    w[Field.out] = offset[id];
    w[Field.a] = at(a);
    w[Field.b] = b !== undefined ? at(b) : -1;
    w[Field.c] = c !== undefined ? at(c) : -1;
    w.set(p, Field.p0);
  });

  const inputNodes = nodes.filter((n) => n.kind === 'input');
  // the operand read as indices and its bound: one_hot's a (classes), gather's b (rows of a)
  const inputNumber = new Map(inputNodes.map((n, j) => [n.id, j]));
  const indexChecks = order.flatMap((id) => {
    const n = nodes[id];
    if (n.op !== 'one_hot' && n.op !== 'gather') return [];
    const [ids, bound] =
      n.op === 'one_hot' ? [n.inputs[0], n.attrs[0]] : [n.inputs[1], nodes[n.inputs[0]].shape[n.attrs[0]]];
    const j = inputNumber.get(root(ids)) ?? -1;
    return j >= 0 ? [j, bound] : [];
  });
  return {
    code,
    nInstr: order.length,
    arenaSize: size,
    nParams,
    nInputs: constStart - nParams,
    inputSizes: Int32Array.from(inputNodes, (n) => sizeOf(n.shape)),
    constStart,
    constInit,
    tempStart,
    output: at(loss >= 0 ? loss : outputs[0].node),
    outputs: Int32Array.from(outputs.flatMap((o) => [at(o.node), sizeOf(o.shape as Shape)])), // concrete here
    indexChecks: Int32Array.from(indexChecks),
    fdPlan: fdPlan(nodes.slice(0, nParamLeaves), offset, code, order.length),
    instrNode: Int32Array.from(order),
  };
}

/** Does operand k of node n take a gradient? Not the ones its op lists in noGrad (gather's indices). */
function takesGrad(n: Node, k: number): boolean {
  return n.kind !== 'op' || !OPS[OPCODE[n.op]].noGrad?.includes((['a', 'b', 'c'] as const)[k]);
}

/**
 * Instruction order. Work that no parameter reaches goes first (finite differences never redo
 * it). Then a depth-first post-order from the loss that visits the heavier operand (by FLOPs
 * and elements) first, so a light branch (a bias broadcast, say) runs just before its consumer:
 * every instruction sits as late as it can, and each parameter's finite-difference suffix stays
 * short. Last, in creation order, what only the other outputs need.
 */
function schedule(nodes: readonly Node[], live: Uint8Array, dep: readonly boolean[], loss: number): number[] {
  const isOp = (n: Node) => n.kind === 'op' && live[n.id] === 1;
  const order = nodes.filter((n) => isOp(n) && !dep[n.id]).map((n) => n.id);
  // weight: forward FLOPs plus elements written, of the node and everything below it
  const weight = new Float64Array(nodes.length);
  for (const n of nodes) {
    const def = n.kind === 'op' ? OPS[OPCODE[n.op]] : undefined;
    const own = def
      ? def.flops.fwd(
          def.encode(
            n.inputs.map((j) => nodes[j].shape),
            n.attrs,
            () => 0,
          ),
        ) + sizeOf(n.shape)
      : 0;
    weight[n.id] = own + n.inputs.reduce((s, j) => s + weight[j], 0);
  }
  const done = new Uint8Array(nodes.length);
  const stack: [number, boolean][] = loss >= 0 ? [[loss, false]] : [];
  while (stack.length) {
    const [id, expanded] = stack.pop()!;
    if (done[id]) continue;
    const n = nodes[id];
    if (expanded || !dep[id]) {
      done[id] = 1;
      if (dep[id] && n.kind === 'op') order.push(id);
      continue;
    }
    stack.push([id, true]);
    // pushed last = visited first: the heaviest operand (on a tie, the first one)
    const kids = [...n.inputs].sort((x, y) => weight[x] - weight[y] || y - x);
    for (const j of kids) if (!done[j]) stack.push([j, false]);
  }
  for (const n of nodes) if (isOp(n) && dep[n.id] && !done[n.id]) order.push(n.id);
  return order;
}

function fdPlan(params: readonly Node[], offset: Int32Array, code: Int32Array, nInstr: number): Int32Array {
  // the first instruction whose operand a, b or c starts inside each parameter: one pass over the
  // code, each operand's parameter found by binary search over the parameters' offsets
  const first = params.map(() => nInstr);
  const byOffset = params.map((_, i) => i).sort((x, y) => offset[params[x].id] - offset[params[y].id]);
  const starts = byOffset.map((i) => offset[params[i].id]);
  const holder = (at: number) => {
    let [lo, hi] = [0, starts.length]; // the last parameter starting at or before `at`
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= at) lo = mid + 1;
      else hi = mid;
    }
    const i = byOffset[lo - 1];
    return lo > 0 && at < starts[lo - 1] + sizeOf(params[i].shape) ? i : -1;
  };
  for (let i = nInstr - 1; i >= 0; i--)
    for (const f of [Field.a, Field.b, Field.c]) {
      const p = holder(code[i * INSTR_WIDTH + f]);
      if (p >= 0) first[p] = i;
    }
  const idx = params.map((_, i) => i).sort((x, y) => first[y] - first[x] || x - y);
  return Int32Array.from(
    idx.flatMap((i) => [offset[params[i].id], offset[params[i].id] + sizeOf(params[i].shape), first[i]]),
  );
}
