/** The hand-written plain-JS float64 gradients of bench/handwritten.ts as a peer. */
import { logisticGrad, mlpGrad, seedGrad } from '../handwritten.js';
import type { Workload } from '../workloads.js';
import { data, flat, type Peer, type PeerCase } from './peer.js';

function build(w: Workload): PeerCase {
  const d = data(w);
  let theta: Float64Array;
  let run: (g: Float64Array) => number;
  if (d.kind === 'W1') {
    theta = Float64Array.of(d.a, d.b);
    const g = seedGrad(d.M);
    run = (out) => g(theta, d.x, out);
  } else if (d.kind === 'W2') {
    theta = d.theta;
    const g = logisticGrad(d.M, d.d);
    run = (out) => g(theta, d.X, d.y, out);
  } else if (d.kind === 'W3') {
    theta = flat([d.W1, d.b1, d.W2, d.b2]);
    const g = mlpGrad(d.B, d.D, d.H, d.C);
    run = (out) => g(theta, d.X, d.Y, out);
  } else {
    throw new Error('no hand-written gradient of this workload');
  }
  const grad = new Float64Array(theta.length);
  return {
    step: () => {
      run(grad);
    },
    result: () => ({ value: run(grad), grad: grad.slice() }),
    dispose: () => {},
  };
}

export const handwritten: Peer = { name: 'hand-written plain JS', dtype: 'float64', activate: async () => {}, build };
