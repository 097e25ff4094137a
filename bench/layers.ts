/**
 * The W4 layers one at a time: conv1, conv2 and the first fully connected matmul as one-op tapes
 * (the op, then a sum), timed forward (value) and forward + backward (reverse gradient) with
 * tinybench (the fastest run), as GFLOP/s by the cost model's counts (a multiply-add is 2 FLOPs). The backward time
 * is the gradient's median minus the value's. conv1's input is data (no input gradient, as in the
 * model); conv2's and the matmul's left operands are parameters here, so their backward rules
 * compute both products, as in the model.
 */
import { backend, define, type BackendName, type Defined, type Values } from '../src/index.js';
import { INSTR_WIDTH, OPS } from '../src/ops/opset.js';
import { instructionFlops } from '../src/trace/cost.js';
import { uniform } from '../src/models/random.js';
import { medianUs } from './tiny.js';

export interface LayerRate {
  readonly layer: string;
  readonly backend: BackendName;
  readonly fwdUs: number;
  readonly bwdUs: number;
  readonly fwdGflops: number;
  readonly bwdGflops: number;
}

interface Layer {
  readonly name: string;
  readonly op: string;
  readonly f: Defined;
  readonly params: Values;
  readonly inputs: Values;
}

const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

export function w4Layers(batch = 64): Layer[] {
  const conv1 = define({ params: { w: [6, 1, 5, 5] }, inputs: { x: [batch, 1, 28, 28] } }, (p, i) =>
    i.x.conv2d(p.w, { padding: 2 }).sum(),
  );
  const conv2 = define({ params: { x: [batch, 6, 14, 14], w: [16, 6, 5, 5] } }, (p) => p.x.conv2d(p.w).sum());
  const fc1 = define({ params: { x: [batch, 400], w: [400, 120] } }, (p) => p.x.matmul(p.w).sum());
  return [
    {
      name: `conv1 1->6 5x5 pad 2, [${batch},1,28,28]`,
      op: 'conv2d',
      f: conv1,
      params: { w: uniform(150, 1, -0.2, 0.2) },
      inputs: { x: uniform(batch * 784, 2, 0, 1) },
    },
    {
      name: `conv2 6->16 5x5, [${batch},6,14,14]`,
      op: 'conv2d',
      f: conv2,
      params: { x: uniform(size([batch, 6, 14, 14]), 3, 0, 1), w: uniform(2400, 4, -0.08, 0.08) },
      inputs: {},
    },
    {
      name: `fc1 matmul [${batch},400]x[400,120]`,
      op: 'matmul',
      f: fc1,
      params: { x: uniform(batch * 400, 5, 0, 1), w: uniform(48000, 6, -0.05, 0.05) },
      inputs: {},
    },
  ];
}

/** FLOPs of the layer's op (forward, backward) from the cost model, without the sum. */
function opFlops(l: Layer): [number, number] {
  const t = l.f.tape;
  const { fwd, bwd } = instructionFlops(t);
  const code = OPS.findIndex((o) => o.name === l.op);
  for (let i = 0; i < t.nInstr; i++) if (t.code[i * INSTR_WIDTH] === code) return [fwd[i], bwd[i]];
  throw new Error(`no ${l.op} in ${l.name}`);
}

export async function layerRates(names: readonly BackendName[], timeMs = 400): Promise<LayerRate[]> {
  const out: LayerRate[] = [];
  for (const l of w4Layers()) {
    const [ff, fb] = opFlops(l);
    for (const name of names) {
      const c = (await backend(name)).compile(l.f);
      const theta = c.flatten(l.params);
      const g = new Float64Array(c.paramCount);
      // the fastest run, not the median: on a shared machine a millisecond-long call is often
      // preempted, and the layer's own speed is what this table is for
      const v = await medianUs(() => c.valueFlat(theta, l.inputs), timeMs, 64, 'min');
      const r = await medianUs(() => c.gradFlat(theta, l.inputs, g), timeMs, 64, 'min');
      c.dispose();
      out.push({
        layer: l.name,
        backend: name,
        fwdUs: v,
        bwdUs: r - v,
        fwdGflops: ff / v / 1e3,
        bwdGflops: fb / (r - v) / 1e3,
      });
    }
  }
  return out;
}
