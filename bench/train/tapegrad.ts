/** tapegrad on one backend: `fit` with `adam` (float64, the fused step in the backend), then the test accuracy from `evaluate`. */
import { backend } from '../../src/backends/registry.js';
import type { BackendName } from '../../src/backends/types.js';
import { evaluate, fit } from '../../src/train/fit.js';
import { adam } from '../../src/train/optimizers.js';
import { classifier } from '../../src/app/train.js';
import type { Trainer, TrainSetup } from './trainer.js';

export function tapegrad(name: BackendName): Trainer {
  return {
    id: name,
    name: `tapegrad ${name}`,
    dtype: 'float64',
    async train(s: TrainSetup) {
      const c = (await backend(name)).compile(classifier(s.train.features, s.train.classes, 'mlp', s.hidden));
      try {
        const theta = s.theta0.slice();
        const data = { x: s.train.X, y: Float64Array.from(s.train.labels) };
        const r = await fit(c, theta, data, {
          optimizer: adam({ lr: s.lr }),
          epochs: s.epochs,
          batchSize: s.batchSize,
          shuffle: true,
          seed: s.seed,
        });
        const test = evaluate(c, theta, { x: s.test.X, y: s.test.labels });
        return {
          epochSeconds: r.history.map((h) => h.seconds),
          lastLoss: r.history.at(-1)?.loss,
          testAccuracy: test.valAccuracy!,
        };
      } finally {
        c.dispose();
      }
    },
  };
}
