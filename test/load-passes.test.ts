/**
 * The native load passes (native/core/program.cpp: scalar broadcasts, and rows repeated, folded into their reader,
 * adjoints passed through adds) count readers and producers in O(log n) per candidate; their
 * first version scanned the whole tape per candidate (quadratic load: 30k instructions took
 * 1.1 s). This file keeps a transcription of that first version as the oracle: on compiled tapes
 * (models, random graphs, long chains) and on hand-made tapes that alias outputs and operands,
 * the native decisions must be the same, instruction by instruction. Values and gradients on
 * tapes that exercise both passes, a long one included, agree with the js reference on every
 * backend.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Field, Flag, INSTR_WIDTH, OPCODE, OPS, type Extent } from '../src/ops/opset.js';
import { ELEMENTWISE } from '../src/ops/elementwise.js';
import type { Tape } from '../src/trace/compile.js';
import { checkTape } from '../src/trace/check-tape.js';
import { load } from '../src/backends/registry.js';
import type { NativeProgramHandle } from '../src/backends/native/loader.js';
import { classifier } from '../src/app/train.js';
import { rosenbrock, seed } from '../src/models/models.js';
import { chain } from '../bench/workloads.js';
import { graph } from './fuzz-graph.js';
import { describeEachBackend, expectAD, TEST_BACKENDS } from './harness.js';

const WORDS = 7; // elided, scalarSide, gout, flags, absA, absB, absC (Program::passes)
/** a broadcast row of this many elements or more folds into its reader (program.cpp, kRowFold) */
const ROW_FOLD = 64;

interface Ins {
  readonly op: string;
  readonly p: readonly number[];
  flags: number;
  readonly out: number;
  absA: number;
  absB: number;
  readonly absC: number;
  readonly eOut: number;
  readonly eA: number;
  /** 0 for an op without that operand, as the first version read them */
  readonly eB: number;
  readonly eC: number;
  readonly arity: number;
  scalarSide: number;
  /** with scalarSide: 0 for a folded scalar, the row's length for a folded row */
  rowInner: number;
  elided: boolean;
  gout: number;
}

const extent = (e: Extent, p: readonly number[]) => e.reduce((s: number, i) => s * p[i], 1);
/** the ops that take a folded scalar (native has their _sa/_sb kernels) */
const FOLDABLE = new Set(ELEMENTWISE.filter((e) => e.fuseScalar).map((e) => e.name));

/** The passes as main's program.cpp had them before they were made linear, statement for statement. */
function firstVersion(t: Tape): Int32Array {
  const ins: Ins[] = [];
  for (let i = 0; i < t.nInstr; i++) {
    const w = t.code.subarray(i * INSTR_WIDTH, (i + 1) * INSTR_WIDTH);
    const def = OPS[w[Field.op]];
    const p = Array.from(w.subarray(Field.p0));
    const arity = def.arity;
    ins.push({
      op: def.name,
      p,
      flags: w[Field.flags],
      out: w[Field.out],
      absA: w[Field.a],
      absB: arity >= 2 ? w[Field.b] : -1,
      absC: arity >= 3 ? w[Field.c] : -1,
      eOut: extent(def.extent.out, p),
      eA: extent(def.extent.a, p),
      eB: arity >= 2 ? extent(def.extent.b!, p) : 0,
      eC: arity >= 3 ? extent(def.extent.c!, p) : 0,
      arity,
      scalarSide: 0,
      rowInner: 0,
      elided: false,
      gout: w[Field.out],
    });
  }
  const arithmetic = (o: Ins) => FOLDABLE.has(o.op);

  // fuseScalarBroadcasts
  for (let i = 0; i < ins.length; i++) {
    const bc = ins[i];
    // a scalar, or (added with the row fold) a row of at least ROW_FOLD elements repeated
    if (bc.op !== 'broadcast' || bc.p[0] !== 1 || (bc.p[2] !== 1 && bc.p[2] < ROW_FOLD) || bc.p[1] < 1) continue;
    const [lo, hi] = [bc.out, bc.out + bc.p[1] * bc.p[2]];
    if (t.output >= lo && t.output < hi) continue;
    let isOutput = false;
    for (let k = 0; k < t.outputs.length; k += 2)
      isOutput ||= t.outputs[k] < hi && lo < t.outputs[k] + t.outputs[k + 1];
    if (isOutput) continue;
    let reader = -1;
    let ok = true;
    for (let q = 0; q < ins.length && ok; q++) {
      const o = ins[q];
      const readsA = o.eA > 0 && o.absA < hi && lo < o.absA + o.eA;
      const readsB = o.eB > 0 && o.absB < hi && lo < o.absB + o.eB;
      if (o.eC > 0 && o.absC < hi && lo < o.absC + o.eC) ok = false;
      if (!readsA && !readsB) continue;
      const whole = readsA !== readsB && (readsA ? o.absA === lo : o.absB === lo) && o.p[0] === bc.p[1] * bc.p[2];
      if (reader >= 0 || q <= i || !arithmetic(o) || !whole || o.scalarSide !== 0) ok = false;
      reader = q;
    }
    if (!ok || reader < 0) continue;
    const r = ins[reader];
    const side = r.absA === lo ? Flag.gradA : Flag.gradB;
    if (r.flags & Flag.gradOut && r.flags & side && !(bc.flags & Flag.gradOut)) continue;
    r.rowInner = bc.p[2] > 1 ? bc.p[2] : 0;
    if (r.absA === lo) {
      r.scalarSide = 1;
      r.absA = bc.absA;
    } else {
      r.scalarSide = 2;
      r.absB = bc.absA;
    }
    bc.elided = true;
  }

  // passAdjoints
  const read = (o: Ins, side: number): [number, number] => {
    if (side > o.arity) return [0, 0];
    const lo = side === 1 ? o.absA : side === 2 ? o.absB : o.absC;
    const len = o.scalarSide === side ? o.rowInner || 1 : side === 1 ? o.eA : side === 2 ? o.eB : o.eC;
    return [lo, lo + len];
  };
  const overlaps = (x: [number, number], lo: number, hi: number) => x[0] < x[1] && x[0] < hi && lo < x[1];
  for (let i = ins.length - 1; i >= 0; i--) {
    const it = ins[i];
    if (it.elided || !(it.flags & Flag.gradOut) || (it.op !== 'add' && it.op !== 'sub')) continue;
    for (let side = 1; side <= (it.op === 'add' ? 2 : 1); side++) {
      const flag = side === 1 ? Flag.gradA : Flag.gradB;
      if (!(it.flags & flag) || it.scalarSide === side) continue;
      const [lo, hi] = read(it, side);
      if (lo < t.tempStart || (t.output >= lo && t.output < hi)) continue;
      let producer = -1;
      let readers = 0;
      let ok = true;
      for (let q = 0; q < ins.length && ok; q++) {
        const o = ins[q];
        if (o.elided) continue;
        for (const side of [1, 2, 3]) readers += Number(overlaps(read(o, side), lo, hi));
        if (!overlaps([o.out, o.out + o.eOut], lo, hi)) continue;
        ok = producer < 0 && o.out === lo && o.eOut === hi - lo && q < i && (o.flags & Flag.gradOut) !== 0;
        producer = q;
      }
      if (!ok || producer < 0 || readers !== 1) continue;
      ins[producer].gout = it.gout;
      it.flags &= ~flag;
    }
  }
  return Int32Array.from(
    ins.flatMap((o) => [o.elided ? 1 : 0, o.scalarSide, o.gout, o.flags, o.absA, o.absB, o.absC] as number[]),
  );
}

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

const LAYOUT = { nParams: 3, inputSizes: [2, 0, 3], constInit: [0.5, 2] };
const TEMP_START = 10;
const ARENA = 64;

/** One instruction's words; c and the unused params as the compiler writes them (-1, 0). */
function word(op: string, flags: number, out: number, a: number, b: number, p: readonly number[], c = -1): number[] {
  const w = new Array<number>(INSTR_WIDTH).fill(0);
  [w[Field.op], w[Field.flags], w[Field.out], w[Field.a], w[Field.b], w[Field.c]] = [OPCODE[op], flags, out, a, b, c];
  p.forEach((x, i) => (w[Field.p0 + i] = x));
  return w;
}

function handTape(words: readonly number[][], output: number, outputs: readonly number[]): Tape {
  return {
    code: Int32Array.from(words.flat()),
    nInstr: words.length,
    arenaSize: ARENA,
    nParams: LAYOUT.nParams,
    nInputs: 5,
    inputSizes: Int32Array.from(LAYOUT.inputSizes),
    constStart: 8,
    constInit: Float64Array.from(LAYOUT.constInit),
    tempStart: TEMP_START,
    output,
    outputs: Int32Array.from(outputs),
    indexChecks: new Int32Array(0),
    fdPlan: new Int32Array(0),
    instrNode: new Int32Array(words.length),
  };
}

/**
 * A random valid tape over a small arena, built to collide: outputs written twice, operands read
 * at and across other instructions' outputs, scalar broadcasts and adds everywhere, named
 * outputs of zero elements, a result inside a broadcast.
 */
function randomTape(r: () => number): Tape {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const words: number[][] = [];
  const outs: number[] = [];
  let next = TEMP_START;
  // how often operands land anywhere and outputs are written twice (clean tapes fold more)
  const chaos = r();
  const where = () =>
    r() < chaos
      ? outs.length && r() < 0.5
        ? pick(outs) + int(-1, 1)
        : int(0, ARENA - 1)
      : outs.length && r() < 0.2
        ? pick(outs)
        : int(0, TEMP_START - 1);
  const n = int(2, 24);
  while (words.length < n) {
    const kind = r();
    const [op, p] =
      kind < 0.3
        ? ['broadcast', [1, int(1, 5), 1]]
        : kind < 0.35
          ? ['broadcast', [int(1, 2), int(1, 3), int(1, 2)]]
          : kind < 0.7
            ? [pick(['add', 'sub', 'mul', 'div']), [int(1, 5)]]
            : kind < 0.8
              ? [pick(['tanh', 'neg']), [int(1, 5)]]
              : kind < 0.88
                ? ['where', [int(1, 5)]]
                : ['sum', [1, int(1, 5), 1]];
    const def = OPS[OPCODE[op]];
    const flags =
      (r() < 0.8 ? Flag.gradOut : 0) |
      (r() < 0.7 ? Flag.gradA : 0) |
      (def.arity >= 2 && r() < 0.7 ? Flag.gradB : 0) |
      (def.arity >= 3 && r() < 0.7 ? Flag.gradC : 0);
    // a clean tape places each output after the last, as the compiler does, while there is room
    const out =
      outs.length && r() < 0.4 * chaos
        ? pick(outs)
        : r() < chaos || next + 5 > ARENA
          ? int(TEMP_START, ARENA - 1)
          : next;
    const [a, b, c] = [where(), def.arity >= 2 ? where() : -1, def.arity >= 3 ? where() : -1];
    const w = word(op, flags, out, a, b, p, c);
    // often an elementwise op reads one earlier result whole (a broadcast to fold, an adjoint to pass)
    if (p.length === 1 && words.length && r() < 0.6) {
      const j = pick(words);
      const n = extent(OPS[j[Field.op]].extent.out, j.slice(Field.p0));
      if (n <= 5) {
        w[Field.p0] = n;
        w[pick([Field.a, Field.b, Field.c].slice(0, def.arity))] = j[Field.out];
      }
    }
    try {
      checkTape(handTape([w], 0, []));
    } catch {
      continue; // outside the arena or overlapping its output: draw again
    }
    words.push(w);
    outs.push(out);
    next = Math.max(next, out + extent(def.extent.out, w.slice(Field.p0)));
  }
  const outputs: number[] = [];
  for (let k = int(0, 2); k > 0; k--) {
    const at = r() < 0.5 ? pick(outs) + int(0, 2) : int(TEMP_START, ARENA - 1);
    outputs.push(Math.min(at, ARENA), int(0, Math.min(3, ARENA - Math.min(at, ARENA))));
  }
  const t = handTape(words, r() < 0.5 ? Math.min(pick(outs) + int(0, 1), ARENA - 1) : int(0, ARENA - 1), outputs);
  checkTape(t);
  return t;
}

describe.runIf(TEST_BACKENDS.includes('native'))('native load passes decide as their first version did', () => {
  const decide = async (t: Tape) => {
    const p = (await load('native')).load(t) as NativeProgramHandle;
    try {
      return p.passes();
    } finally {
      p.dispose();
    }
  };
  /** folded broadcasts and passed-through adjoints in a decision list */
  const tally = (d: Int32Array, t: Tape) => {
    let [folded, passed] = [0, 0];
    for (let i = 0; i < t.nInstr; i++) {
      folded += d[i * WORDS];
      passed += Number(d[i * WORDS + 2] !== t.code[i * INSTR_WIDTH + Field.out]);
    }
    return { folded, passed };
  };

  it('on models, long chains and random traced functions', async () => {
    const tapes: [string, Tape][] = [
      ['chain 1000', chain(1000).f.tape],
      ['chain 4000', chain(4000).f.tape],
      ['mlp classifier', classifier(12, 3, 'mlp', 5).at({ batch: 4 }).tape],
      ['seed', seed(20).f.tape],
      ['rosenbrock', rosenbrock(6).f.tape],
      ...fc.sample(graph, { seed: 11, numRuns: 150 }).flatMap((g, k): [string, Tape][] => [
        [`random graph ${k}`, g.defined.tape],
        [`random graph ${k} (twin)`, g.twin.tape],
      ]),
    ];
    let total = { folded: 0, passed: 0 };
    for (const [name, t] of tapes) {
      const got = await decide(t);
      expect(Array.from(got), name).toEqual(Array.from(firstVersion(t)));
      const c = tally(got, t);
      total = { folded: total.folded + c.folded, passed: total.passed + c.passed };
    }
    const long = tally(await decide(chain(4000).f.tape), chain(4000).f.tape);
    expect(long).toEqual({ folded: 1000, passed: 1000 }); // every layer: its broadcast and its bias add
    console.log(`compiled tapes: ${tapes.length}, ${JSON.stringify(total)}`);
    expect(total.folded).toBeGreaterThan(1200);
    expect(total.passed).toBeGreaterThan(1200);
  });

  it('counts a folded reader at its full extent from the scalar, as the first version did', async () => {
    const [one, all] = [Flag.gradOut | Flag.gradA, Flag.gradOut | Flag.gradA | Flag.gradB];
    const t = handTape(
      [
        word('neg', one, 10, 0, -1, [1]), // the scalar s at 10
        word('broadcast', one, 20, 10, -1, [1, 4, 1]), // s broadcast to 20..23
        word('add', all, 30, 20, 40, [4]), // folded: then reads 10..13 as far as the count goes
        word('broadcast', one, 11, 1, -1, [1, 2, 1]), // writes 11..12
        word('mul', all, 50, 11, 44, [2]), // its only reader, but the count sees two
      ],
      52,
      [],
    );
    checkTape(t);
    const got = await decide(t);
    expect(Array.from(got)).toEqual(Array.from(firstVersion(t)));
    expect([1, 3].map((i) => got[i * WORDS])).toEqual([1, 0]); // the first broadcast folded, not the second
  });

  it('on hand-made tapes that alias outputs and operands', async () => {
    const r = rng(20261202);
    let total = { folded: 0, passed: 0, tapes: 0 };
    for (let k = 0; k < 5000; k++) {
      const t = randomTape(r);
      const got = await decide(t);
      const want = firstVersion(t);
      if (Array.from(got).join() !== Array.from(want).join())
        expect(
          Array.from(got),
          `tape ${k}: ${JSON.stringify({ code: Array.from(t.code), output: t.output, outputs: Array.from(t.outputs) })}`,
        ).toEqual(Array.from(want));
      const c = tally(got, t);
      total = { folded: total.folded + c.folded, passed: total.passed + c.passed, tapes: total.tapes + 1 };
    }
    console.log(`hand-made tapes: ${JSON.stringify(total)}`);
    // the cases are not vacuous: both passes act on many of them
    expect(total.folded).toBeGreaterThan(400);
    expect(total.passed).toBeGreaterThan(120);
  });
});

describeEachBackend('tapes where both load passes act agree with js', (be) => {
  it('a chain of 250 layers', async () => {
    const m = chain(1000);
    await expectAD(be(), m.f, m.params, m.inputs);
  });

  it('a chain of 7500 layers (30,000 instructions)', async () => {
    const m = chain(30000);
    expect(m.f.tape.nInstr).toBe(30001);
    await expectAD(be(), m.f, m.params, m.inputs, { methods: ['reverse', 'fd-forward'] });
  }, 120_000);
});
