/**
 * What every implementation in `npm run bench:train` gets and returns. All of them train the same
 * model (784-H-10 tanh MLP, softmax cross-entropy on integer labels) from the same initial weights
 * (tapegrad's flat vector w1 [784,H], b1, w2 [H,10], b2; float32 peers round it) on the same data
 * with Adam, and time each epoch with performance.now.
 */
import type { Dataset } from '../../src/data/datasets.js';

export interface TrainSetup {
  readonly train: Dataset;
  readonly test: Dataset;
  readonly hidden: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  /** shuffling seed (peers whose shuffles cannot be seeded say so in their note) */
  readonly seed: number;
  /** initial parameters, tapegrad's layout: w1 [features, hidden], b1, w2 [hidden, classes], b2 */
  readonly theta0: Float64Array;
}

export interface TrainRun {
  /** wall time of each epoch's training steps (evaluation excluded) */
  readonly epochSeconds: number[];
  /** mean training loss of the last epoch, where the implementation reports it */
  readonly lastLoss?: number;
  /** accuracy on the whole test split after the last epoch */
  readonly testAccuracy: number;
}

export interface Trainer {
  /** the name --only selects */
  readonly id: string;
  readonly name: string;
  readonly dtype: 'float32' | 'float64';
  /** a caveat printed under the table */
  readonly note?: string;
  train(s: TrainSetup): Promise<TrainRun>;
}

/** Rows of a data set as Float32Array (the float32 peers' copy). */
export function toFloat32(x: Float64Array): Float32Array {
  return Float32Array.from(x);
}

/** The parameter blocks of theta0 (tapegrad's layout). */
export function blocks(s: TrainSetup): { w1: Float64Array; b1: Float64Array; w2: Float64Array; b2: Float64Array } {
  const F = s.train.features,
    H = s.hidden,
    C = s.train.classes;
  const ends = [F * H, F * H + H, F * H + H + H * C, F * H + H + H * C + C];
  if (s.theta0.length !== ends[3])
    throw new Error(`theta0 has ${s.theta0.length} elements, the ${F}-${H}-${C} MLP has ${ends[3]}`);
  return {
    w1: s.theta0.subarray(0, ends[0]),
    b1: s.theta0.subarray(ends[0], ends[1]),
    w2: s.theta0.subarray(ends[1], ends[2]),
    b2: s.theta0.subarray(ends[2], ends[3]),
  };
}
