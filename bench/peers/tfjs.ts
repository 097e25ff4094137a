/**
 * TensorFlow.js (float32 only) with its pure-JS `cpu` backend and its `wasm` backend (XNNPACK).
 * `@tensorflow/tfjs-node` (the libtensorflow binding) cannot be installed here: its install step
 * downloads a prebuilt TensorFlow library from outside the npm registry.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { data, flat, LENET_ORDER, type Peer, type PeerCase } from './peer.js';
import { LENET_PARAMS } from '../../src/models/lenet.js';
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
  let unlayout = (g: tf.Tensor, _i: number) => g;
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
  } else if (d.kind === 'W4') {
    // TF.js convolves NHWC images with [kh, kw, in, out] filters: the input is transposed once, the
    // filters are parameters in TF's layout (their gradients transposed back in result(), untimed),
    // and the last feature map goes back to NCHW before the flatten, so that f1 sees tapegrad's order
    const B = d.B;
    const X = k(tf.tensor4d(f32(d.X), [B, 1, 28, 28]).transpose([0, 2, 3, 1])),
      Y = k(tf.tensor2d(f32(d.Y), [B, 10]));
    const filter = (w: Float64Array, shape: readonly number[]) =>
      tf.tensor4d(f32(w), shape as [number, number, number, number]).transpose([2, 3, 1, 0]);
    params = LENET_ORDER.map((name) =>
      name === 'c1' || name === 'c2'
        ? filter(d.p[name], LENET_PARAMS[name])
        : tf.tensor(f32(d.p[name]), [...LENET_PARAMS[name]]),
    );
    unlayout = (g, i) => (LENET_ORDER[i] === 'c1' || LENET_ORDER[i] === 'c2' ? g.transpose([3, 2, 0, 1]) : g);
    loss = (c1, cb1, c2, cb2, f1, fb1, f2, fb2, f3, fb3) => {
      const h1 = tf.maxPool(
        tf.relu(tf.conv2d(X as tf.Tensor4D, c1 as tf.Tensor4D, 1, 'same').add(cb1)) as tf.Tensor4D,
        2,
        2,
        'valid',
      );
      const h2 = tf.maxPool(
        tf.relu(tf.conv2d(h1, c2 as tf.Tensor4D, 1, 'valid').add(cb2)) as tf.Tensor4D,
        2,
        2,
        'valid',
      );
      const flatMap = h2.transpose([0, 3, 1, 2]).reshape([B, 400]);
      const a1 = tf.relu(flatMap.matMul(f1 as tf.Tensor2D).add(fb1));
      const a2 = tf.relu(a1.matMul(f2 as tf.Tensor2D).add(fb2));
      const z = a2.matMul(f3 as tf.Tensor2D).add(fb3);
      return Y.mul(tf.logSumExp(z, 1, true).sub(z))
        .sum()
        .div(B);
    };
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
      const r = tf.tidy(() => {
        const { value, grads } = vg(params);
        return { value: value.dataSync()[0], grads: grads.map((g, i) => unlayout(g, i).dataSync()) };
      });
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
