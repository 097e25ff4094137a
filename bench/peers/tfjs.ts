/**
 * TensorFlow.js (float32 only) with its pure-JS `cpu` backend and its `wasm` backend (XNNPACK).
 * `@tensorflow/tfjs-node` (the libtensorflow binding) cannot be installed here: its install step
 * downloads a prebuilt TensorFlow library from outside the npm registry.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { data, flat, type Peer, type PeerCase } from './peer.js';
import type { Workload } from '../workloads.js';

// the wasm binaries sit in the package's dist/; in Node they are read from there
setWasmPaths(
  `${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`,
);

function build(w: Workload): PeerCase {
  const d = data(w);
  const f32 = (x: ArrayLike<number>) => Float32Array.from(x);
  let params: tf.Tensor[];
  let loss: (...p: tf.Tensor[]) => tf.Scalar;
  const keep: tf.Tensor[] = [];
  const k = <T extends tf.Tensor>(t: T) => (keep.push(t), t);
  if (d.kind === 'W1') {
    const x = k(tf.tensor1d(f32(d.x)));
    params = [tf.scalar(d.a), tf.scalar(d.b)];
    loss = (a, b) => b.mul(a.mul(x).sigmoid()).sum();
  } else if (d.kind === 'W2') {
    const X = k(tf.tensor2d(f32(d.X), [d.M, d.d])),
      y = k(tf.tensor1d(f32(d.y)));
    params = [tf.tensor2d(f32(d.theta), [d.d, 1])];
    loss = (theta) => tf.softplus(X.matMul(theta).reshape([d.M]).mul(y).neg()).sum();
  } else {
    const X = k(tf.tensor2d(f32(d.X), [d.B, d.D])),
      Y = k(tf.tensor2d(f32(d.Y), [d.B, d.C]));
    params = [
      tf.tensor2d(f32(d.W1), [d.D, d.H]),
      tf.tensor1d(f32(d.b1)),
      tf.tensor2d(f32(d.W2), [d.H, d.C]),
      tf.tensor1d(f32(d.b2)),
    ];
    loss = (W1, b1, W2, b2) => {
      const z = X.matMul(W1).add(b1).tanh().matMul(W2).add(b2);
      return Y.mul(tf.logSumExp(z, 1, true).sub(z))
        .sum()
        .div(d.B);
    };
  }
  const vg = tf.valueAndGrads(loss);
  const run = () =>
    tf.tidy(() => {
      const { value, grads } = vg(params);
      return { value: value.dataSync()[0], grads: grads.map((g) => g.dataSync()) };
    });
  return {
    step: () => {
      run();
    },
    result: () => {
      const r = run();
      return { value: r.value, grad: flat(r.grads) };
    },
    dispose: () => tf.dispose([...params, ...keep]),
  };
}

export function tfjs(backendName: 'cpu' | 'wasm'): Peer {
  return {
    name: `TensorFlow.js ${backendName}`,
    dtype: 'float32',
    async activate() {
      if (!(await tf.setBackend(backendName)))
        throw new Error(`TensorFlow.js backend '${backendName}' did not initialise`);
      await tf.ready();
    },
    build,
  };
}
