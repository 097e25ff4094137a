/**
 * `tapegrad explain MODEL`: the tape of a built-in model, instruction by instruction with its
 * FLOPs (forward, then the reverse sweep), the suffix each parameter's finite differences re-run,
 * and the totals of one value, one reverse gradient and one FD gradient: operation counts that
 * settle the question independently of timing noise. Same FLOP conventions as the cost model
 * (src/ops/opset.ts); the totals are summed here from the per-instruction lines, and a test checks
 * them against `Compiled.cost()`.
 */
import type { Compiled } from '../../api/compiled.js';
import { Field, Flag, INSTR_WIDTH, OPS, shapeString } from '../../ops/opset.js';
import { instructionFlops } from '../../trace/cost.js';
import { formatInt } from './report.js';

export interface ExplainLine {
  readonly index: number;
  readonly text: string;
  readonly flops: number;
}

export interface FdGroup {
  readonly param: string;
  readonly coordinates: number;
  /** first instruction that reads the parameter: a perturbed evaluation re-runs from there */
  readonly from: number;
  /** FLOPs of that suffix */
  readonly suffixFlops: number;
}

/** An op the tape uses: its definition's doc (value, derivative, edge cases) and what its backward rule reads. */
export interface OpLegend {
  readonly name: string;
  readonly doc: string;
  readonly saves: readonly string[];
}

export interface Explanation {
  readonly forward: readonly ExplainLine[];
  readonly ops: readonly OpLegend[];
  readonly backward: readonly ExplainLine[];
  readonly fd: readonly FdGroup[];
  /** FLOPs of one call of each kind */
  readonly totals: {
    readonly value: number;
    readonly reverse: number;
    readonly fdForwardNaive: number;
    readonly fdForward: number;
    readonly fdCentralNaive: number;
    readonly fdCentral: number;
    /** forward-mode AD: the value and one tangent sweep per parameter (its suffix) */
    readonly forward: number;
  };
}

/** Names of arena offsets: parameters and inputs by name, constants by value, temporaries t<i>. */
function operandNames(c: Compiled): (offset: number) => string {
  const tape = c.defined.tape;
  const names = new Map<number, string>();
  for (const p of c.params) names.set(p.offset, p.name);
  for (const x of c.inputs) names.set(tape.nParams + x.offset, x.name);
  tape.constInit.forEach((v, j) => names.set(tape.constStart + j, String(v)));
  for (let i = 0; i < tape.nInstr; i++) names.set(tape.code[i * INSTR_WIDTH + Field.out], `t${i}`);
  return (offset) => names.get(offset) ?? `@${offset}`;
}

export function explain(c: Compiled): Explanation {
  const tape = c.defined.tape;
  const nodes = c.defined.graph.nodes;
  const { fwd, bwd, tangent } = instructionFlops(tape);
  const name = operandNames(c);
  const forward: ExplainLine[] = [];
  const backward: ExplainLine[] = [];
  for (let i = 0; i < tape.nInstr; i++) {
    const w = tape.code.subarray(i * INSTR_WIDTH, (i + 1) * INSTR_WIDTH);
    const op = OPS[w[Field.op]].name;
    const node = nodes[tape.instrNode[i]];
    // a tensor constant by its shape (the map names constants by their first value)
    const args = [Field.a, Field.b, Field.c]
      .filter((f) => w[f] >= 0)
      .map((f, k) => {
        const src = nodes[c.defined.graph.root(node.inputs[k])];
        return src?.kind === 'const' && src.shape.length ? `const${shapeString(src.shape)}` : name(w[f]);
      });
    forward.push({
      index: i,
      text: `t${i} = ${op}(${args.join(', ')})  ${shapeString(nodes[tape.instrNode[i]].shape)}`,
      flops: fwd[i],
    });
  }
  for (let i = tape.nInstr - 1; i >= 0; i--) {
    const w = tape.code.subarray(i * INSTR_WIDTH, (i + 1) * INSTR_WIDTH);
    const flags = w[Field.flags];
    if (!(flags & Flag.gradOut)) continue;
    const into = (
      [
        [Flag.gradA, Field.a],
        [Flag.gradB, Field.b],
        [Flag.gradC, Field.c],
      ] as const
    )
      .filter(([flag]) => flags & flag)
      .map(([, f]) => name(w[f]));
    backward.push({
      index: i,
      text: `${OPS[w[Field.op]].name} backward: dt${i} -> d${into.join(', d')}`,
      flops: bwd[i],
    });
  }
  const suffix = (from: number) => fwd.subarray(from).reduce((s, x) => s + x, 0);
  const fd: FdGroup[] = [];
  for (let k = 0; k < tape.fdPlan.length; k += 3) {
    const [start, end, from] = [tape.fdPlan[k], tape.fdPlan[k + 1], tape.fdPlan[k + 2]];
    fd.push({
      param: c.params.find((p) => p.offset === start)?.name ?? `[${start}, ${end})`,
      coordinates: end - start,
      from,
      suffixFlops: suffix(from),
    });
  }
  const value = forward.reduce((s, l) => s + l.flops, 0);
  const N = c.paramCount;
  const reuse = fd.reduce((s, g) => s + g.coordinates * g.suffixFlops, 0);
  const tangentSuffix = (from: number) => tangent.subarray(from).reduce((s, x) => s + x, 0);
  const sweeps = fd.reduce((s, g) => s + g.coordinates * tangentSuffix(g.from), 0);
  const used = new Set<number>();
  for (let i = 0; i < tape.nInstr; i++) used.add(tape.code[i * INSTR_WIDTH + Field.op]);
  const ops = [...used]
    .sort((x, y) => x - y)
    .map((op) => ({ name: OPS[op].name, doc: OPS[op].doc, saves: OPS[op].saves }));
  return {
    forward,
    ops,
    backward,
    fd,
    totals: {
      value,
      reverse: value + backward.reduce((s, l) => s + l.flops, 0),
      fdForwardNaive: value * (N + 1),
      fdForward: value + reuse,
      fdCentralNaive: value * (2 * N + 1),
      fdCentral: value + 2 * reuse,
      forward: value + sweeps,
    },
  };
}

/** 3 significant digits below 100, whole numbers with separators above. */
const multiple = (x: number) => (x < 100 ? x.toPrecision(3) : formatInt(Math.round(x)));

/** The explanation as text. */
export function formatExplain(title: string, c: Compiled, e: Explanation = explain(c)): string {
  const N = c.paramCount;
  const last = e.forward.length - 1;
  const w = Math.max(...[...e.forward, ...e.backward].map((l) => l.text.length), 40);
  const line = (l: ExplainLine) =>
    `  ${String(l.index).padStart(3)}  ${l.text.padEnd(w)}  ${formatInt(l.flops).padStart(14)}`;
  const head = (s: string) => `${s.padEnd(w + 16)}FLOPs`;
  const t = e.totals;
  const total = (label: string, flops: number) =>
    `  ${label.padEnd(38)} ${formatInt(flops).padStart(18)} FLOPs = ${multiple(flops / t.value).padStart(9)} x one evaluation`;
  return [
    `${title}: N = ${formatInt(N)} parameters (${c.params.map((p) => `${p.name} ${shapeString(p.shape)}`).join(', ')}), ` +
      `inputs ${c.inputs.map((x) => `${x.name} ${shapeString(x.shape)}`).join(', ') || 'none'}; ${e.forward.length} instructions`,
    '',
    head('forward sweep (one evaluation of f)'),
    ...e.forward.map(line),
    '',
    head('reverse sweep (adjoints accumulate with +=)'),
    ...e.backward.map(line),
    '',
    'finite differences: a perturbed evaluation re-runs the tape from the first instruction that reads the parameter',
    ...e.fd.map(
      (g) =>
        `  ${g.param.padEnd(8)} ${formatInt(g.coordinates).padStart(9)} coordinate${g.coordinates === 1 ? ' ' : 's'}` +
        ` x re-run of t${g.from}..t${last}: ${formatInt(g.suffixFlops).padStart(14)} FLOPs each`,
    ),
    '',
    'the ops (src/ops/opset.ts): value and derivative; what the backward rule reads besides the adjoint',
    ...e.ops.map((o) => `  ${o.name.padEnd(13)} ${o.doc}; reads ${o.saves.join(', ') || 'nothing'}`),
    '',
    'totals (FLOPs of one call; conventions in src/ops/opset.ts)',
    total('value', t.value),
    total('reverse gradient', t.reverse),
    total('fd-forward naive  (N+1 evaluations)', t.fdForwardNaive),
    total('fd-forward with suffix reuse', t.fdForward),
    total('fd-central naive  (2N+1 evaluations)', t.fdCentralNaive),
    total('fd-central with suffix reuse', t.fdCentral),
    total('forward mode (N tangent sweeps, reuse)', t.forward),
    '',
    `By FLOPs, one fd-forward gradient costs ${multiple(t.fdForward / t.reverse)} reverse gradients with suffix reuse and ` +
      `${multiple(t.fdForwardNaive / t.reverse)} without (N = ${formatInt(N)}); forward-mode AD, exact like reverse, ` +
      `still costs ${multiple(t.forward / t.reverse)} reverse gradients: one sweep per parameter.`,
  ].join('\n');
}
