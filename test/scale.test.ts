/**
 * Long and deep tapes: every backend traces, compiles, loads and runs them without a stack
 * overflow (nothing in the tracer, the compiler or a loader recurses over the graph), and the
 * compiler's one-pass FD plan is the per-parameter scan it replaced. Speed lives in
 * bench/load.ts (`npm run bench:load`), not here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { define } from '../src/index.js';
import { Field, INSTR_WIDTH } from '../src/ops/opset.js';
import type { Defined } from '../src/trace/define.js';
import type { Tape } from '../src/trace/compile.js';
import { classifier } from '../src/app/train.js';
import { rosenbrock } from '../src/models/models.js';
import { chain } from '../bench/workloads.js';
import { graph } from './fuzz-graph.js';
import { describeEachBackend, expectAD, random } from './harness.js';

/** 15,000 reshapes, each a view of the one before; every 1,000th also read by an add */
const nestedReshapes = () =>
  define({ params: { p: [16] } }, ({ p }) => {
    let view = p;
    let acc = p;
    for (let k = 0; k < 15_000; k++) {
      view = view.reshape(k % 2 ? [4, 4] : [2, 8]);
      if (k % 1000 === 999) acc = acc.add(view.reshape([16]).mul(0.5));
    }
    return view.reshape([16]).mul(acc).sum();
  });

describeEachBackend('long and deep tapes run', (be) => {
  it('15,000 nested reshapes', async () => {
    const f = nestedReshapes();
    expect(f.graph.nodes.length).toBeGreaterThan(15_000);
    await expectAD(be(), f, { p: random(16, 3) });
  }, 60_000);

  it('a chain of 100,000 instructions', async () => {
    const m = chain(100_000);
    expect(m.f.tape.nInstr).toBe(100_001);
    await expectAD(be(), m.f, m.params, m.inputs, { methods: ['reverse'] });
  }, 240_000);
});

/** The FD plan as the compiler first computed it: for each parameter, a scan of the code. */
function firstReaders(f: Defined, t: Tape): number[] {
  let at = 0;
  return f.params.map((p) => {
    const [lo, hi] = [at, (at += p.size)];
    for (let i = 0; i < t.nInstr; i++)
      for (const f of [Field.a, Field.b, Field.c]) {
        const x = t.code[i * INSTR_WIDTH + f];
        if (x >= lo && x < hi) return i;
      }
    return t.nInstr;
  });
}

describe('the FD plan', () => {
  it("names each parameter's first reading instruction, as the per-parameter scan did", () => {
    const fs: Defined[] = [
      chain(400).f,
      classifier(12, 3, 'mlp', 5).at({ batch: 4 }),
      rosenbrock(5).f,
      ...fc.sample(graph, { seed: 5, numRuns: 150 }).flatMap((g) => [g.defined, g.twin]),
    ];
    for (const f of fs) {
      const t = f.tape;
      const first = firstReaders(f, t);
      let at = 0;
      const want = f.params.map((p, i) => [at, (at += p.size), first[i]]);
      want.sort((x, y) => y[2] - x[2] || x[0] - y[0]);
      expect(Array.from(t.fdPlan)).toEqual(want.flat());
    }
  });
});
