/**
 * TensorFlow.js (float32) as a Keras user trains: `tf.sequential` of two dense layers, compiled with
 * `tf.train.adam` and sparse categorical cross-entropy, trained by `model.fit` with its own
 * shuffling. The last layer has a softmax activation: TF.js's 'sparseCategoricalCrossentropy'
 * takes probabilities (its from-logits path clips the logits to [eps, 1 - eps] first, so it
 * cannot be used on logits).
 */
import * as tf from '@tensorflow/tfjs';
import { tfjs as tfjsPeer } from '../peers/tfjs.js';
import { blocks, toFloat32, type Trainer, type TrainSetup } from './trainer.js';

export function tfjs(backendName: 'cpu' | 'wasm'): Trainer {
  return {
    id: `tfjs-${backendName}`,
    name: `TensorFlow.js ${backendName} model.fit`,
    dtype: 'float32',
    note: 'TensorFlow.js model.fit shuffles with Math.random (not seedable); the output layer is a softmax (its sparse cross-entropy takes probabilities)',
    async train(s: TrainSetup) {
      await tfjsPeer(backendName).activate();
      const F = s.train.features,
        C = s.train.classes;
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [F], units: s.hidden, activation: 'tanh' }),
          tf.layers.dense({ units: C, activation: 'softmax' }),
        ],
      });
      const p = blocks(s);
      const f32 = (x: Float64Array, shape: number[]) => tf.tensor(toFloat32(x), shape, 'float32');
      const init = [f32(p.w1, [F, s.hidden]), f32(p.b1, [s.hidden]), f32(p.w2, [s.hidden, C]), f32(p.b2, [C])];
      model.layers[0].setWeights(init.slice(0, 2));
      model.layers[1].setWeights(init.slice(2));
      tf.dispose(init);
      model.compile({ optimizer: tf.train.adam(s.lr, 0.9, 0.999, 1e-8), loss: 'sparseCategoricalCrossentropy' });
      const x = tf.tensor2d(toFloat32(s.train.X), [s.train.rows, F]);
      const y = tf.tensor1d(Float32Array.from(s.train.labels));
      const xTest = tf.tensor2d(toFloat32(s.test.X), [s.test.rows, F]);
      try {
        const epochSeconds: number[] = [];
        let start = 0;
        const h = await model.fit(x, y, {
          batchSize: s.batchSize,
          epochs: s.epochs,
          shuffle: true,
          verbose: 0,
          yieldEvery: 'never',
          callbacks: {
            onEpochBegin: async () => {
              start = performance.now();
            },
            onEpochEnd: async () => {
              epochSeconds.push((performance.now() - start) / 1000);
            },
          },
        });
        const pred = tf.tidy(() => (model.predict(xTest, { batchSize: 1024 }) as tf.Tensor).argMax(1).dataSync());
        let correct = 0;
        pred.forEach((k, i) => {
          if (k === s.test.labels[i]) correct++;
        });
        return { epochSeconds, lastLoss: h.history.loss.at(-1) as number, testAccuracy: correct / s.test.rows };
      } finally {
        tf.dispose([x, y, xTest]);
        model.dispose();
      }
    },
  };
}
