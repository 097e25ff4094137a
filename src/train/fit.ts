/**
 * `fit`: stochastic mini-batch training of a compiled function with a first-order optimizer (the
 * Keras `model.fit` / PyTorch training loop). Every input is per example: its leading dimension
 * is the symbolic batch dimension (`['batch', 784]`), so a batch is a block of rows.
 */
import type { Compiled } from '../api/compiled.js';
import { arrayOf, type DType, type FloatArray } from '../api/dtype.js';
import { checkFlat, type Value, type Values } from '../api/validate.js';
import { mulberry32 } from '../models/random.js';
import { describeValue } from '../trace/tensor.js';
import {
  enterDistributedFit,
  reduceStep,
  resolveDistributed,
  shardOf,
  shareValidation,
  type Distributed,
} from './data-parallel.js';
import { booleanOption, checkOptions, numberOption } from './options.js';
import type { Optimizer } from './types.js';

export interface FitOptions {
  /** the optimizer (`sgd(...)`, `adam(...)`); its state lives in the compiled function's backend */
  readonly optimizer: Optimizer;
  /** passes over the data (default 1) */
  readonly epochs?: number;
  /** rows per step (default 32; per rank when distributed); the last batch of an epoch holds the rest unless dropLast */
  readonly batchSize?: number;
  /** a new seeded order of the rows every epoch (default true); false: batches are views of the data, no copy */
  readonly shuffle?: boolean;
  /** seed of the shuffles (default 0) */
  readonly seed?: number;
  /** skip the last, smaller batch of each epoch (default false) */
  readonly dropLast?: boolean;
  /** inputs evaluated after every epoch (forward only): validation loss, and accuracy when the function returns `pred` */
  readonly validation?: Values;
  /** rows per forward call of the validation (default 1024): bounds the memory it takes */
  readonly validationBatchSize?: number;
  /** after every step */
  readonly onStep?: (step: StepInfo) => void;
  /** after every epoch (awaited) */
  readonly onEpoch?: (epoch: EpochInfo) => void | Promise<void>;
  /** stops training after the step in progress (fit then resolves with `stopped: 'aborted'`) */
  readonly signal?: AbortSignal;
  /**
   * Data-parallel training over MPI (run under `mpirun -np K`; see distributed.ts): true or a
   * `distributed()` world. Rank 0's theta is broadcast first; every rank shuffles alike and takes
   * its shard of each global batch of batchSize × K rows; the gradients are averaged (weighted by
   * rows) before each step, so the result is that of one process with batch batchSize × K. Only
   * rank 0 evaluates the validation and calls onStep/onEpoch; every rank gets the same history.
   */
  readonly distributed?: boolean | Distributed;
}

export interface StepInfo {
  readonly epoch: number;
  /** steps taken so far, over all epochs (1 for the first) */
  readonly step: number;
  /** the batch's loss, before the update */
  readonly loss: number;
  readonly batchSize: number;
  /** the learning rate the update used */
  readonly lr: number;
}

export interface EpochInfo {
  /** 1 for the first */
  readonly epoch: number;
  /** the training loss: the mean over the epoch's examples of the batch losses (before each update) */
  readonly loss: number;
  /** training accuracy over the epoch (the batch predictions before each update), when the function returns `pred` and the inputs hold `y` */
  readonly accuracy?: number;
  readonly valLoss?: number;
  readonly valAccuracy?: number;
  readonly steps: number;
  /** wall time of the epoch's steps (validation excluded) */
  readonly seconds: number;
}

export interface FitResult {
  /** one entry per epoch completed */
  readonly history: readonly EpochInfo[];
  readonly steps: number;
  readonly stopped: 'completed' | 'aborted';
}

const KNOWN = [
  'optimizer',
  'epochs',
  'batchSize',
  'shuffle',
  'seed',
  'dropLast',
  'validation',
  'validationBatchSize',
  'onStep',
  'onEpoch',
  'signal',
  'distributed',
];

/**
 * Trains `theta` (the flat parameter vector, updated in place) on `data`: every input's leading
 * dimension is the example index. Each step takes a batch, computes the loss and its reverse
 * gradient in the backend, and applies one optimizer step there. The loss must stay finite: a
 * NaN or infinite batch loss stops training with an Error naming the epoch and step, before that
 * step changes the parameters. A float32 function trains in float32 (theta a Float32Array, the
 * data kept as float32 rows); its optimizer updates float64 master weights (optimizers.ts).
 */
export async function fit<A extends FloatArray>(
  c: Compiled<A>,
  theta: A,
  data: Values,
  options: FitOptions,
): Promise<FitResult> {
  const o = resolveFit(options);
  checkFlat('theta', theta, c.paramCount, c.dtype);
  const train = rowsOf(c, data, 'data');
  const val = o.validation && rowsOf(c, o.validation, 'validation');
  if (o.distributed !== undefined && o.distributed !== false && c.dtype !== 'float64')
    throw new Error('fit: distributed training runs on float64 compiled functions only (this one is float32)');
  const dist = resolveDistributed(o.distributed);
  const [rank, global] = dist ? [dist.rank, o.batchSize * dist.size] : [0, o.batchSize];
  const reduced = dist && new Float64Array(c.paramCount + 4);
  const state = o.optimizer.bind(c);
  const grad = arrayOf(c.dtype, c.paramCount) as A;
  const order = Int32Array.from({ length: train.rows }, (_, i) => i);
  const next = mulberry32(o.seed);
  const batchBuffers = new Map<number, Record<string, FloatArray>>();
  const outputBuffers = new Map<number, { buffer: FloatArray; pred: FloatArray }>();
  const history: EpochInfo[] = [];
  let steps = 0;
  let stopped: FitResult['stopped'] = 'completed';
  let lastYield = now();
  const leave = dist && enterDistributedFit();
  try {
    if (dist) await dist.broadcast(theta as Float64Array, 0);
    epochs: for (let epoch = 1; epoch <= o.epochs; epoch++) {
      if (o.shuffle) shuffle(order, next);
      const start = now();
      let lossSum = 0,
        seen = 0,
        correct = 0,
        epochSteps = 0;
      for (let at = 0; at < train.rows; at += global) {
        const n = Math.min(global, train.rows - at);
        if (n < global && o.dropLast) break;
        // this rank's rows of the (global) batch
        const [from, rows] = dist ? shardOf(n, dist) : [0, n];
        let loss = 0,
          batchCorrect = 0;
        if (rows > 0) {
          const batch = o.shuffle ? gather(train, order, at + from, rows, batchBuffers) : slice(train, at + from, rows);
          const outs = train.metric ? outputsFor(c, batch, rows, train.metric.pred, outputBuffers) : undefined;
          loss = c.gradFlat(theta, batch, grad, outs && { outputs: outs.buffer });
          if (outs) batchCorrect = countCorrect(outs.pred, batch[train.metric!.labels]);
        }
        let abort = false;
        if (dist)
          ({
            loss,
            correct: batchCorrect,
            abort,
          } = await reduceStep(dist, grad as Float64Array, reduced!, {
            rows,
            loss,
            correct: batchCorrect,
            abort: o.signal?.aborted === true,
          }));
        if (!Number.isFinite(loss))
          throw new Error(
            `fit: the loss is ${loss} at epoch ${epoch}, step ${steps + 1} (batch of rows ${at}..${at + n - 1}${o.shuffle ? ' of the shuffled order' : ''}); the parameters are as before that step`,
          );
        const lr = state.lr;
        state.step(theta, grad);
        steps++;
        epochSteps++;
        lossSum += loss * n;
        seen += n;
        correct += batchCorrect;
        if (rank === 0) o.onStep?.({ epoch, step: steps, loss, batchSize: n, lr });
        // distributed: the ranks agreed on it in the allreduce (a signal aborted later is seen at the next step)
        if (dist ? abort : o.signal?.aborted) {
          stopped = 'aborted';
          break epochs;
        }
        // let timers, I/O and an abort signal through now and then (not every step: a yield costs time)
        // (a distributed step has already yielded, in its allreduce, and agrees on aborting there)
        if (!dist && now() - lastYield > 50) {
          await yieldToLoop();
          lastYield = now();
          if (o.signal?.aborted) {
            stopped = 'aborted';
            break epochs;
          }
        }
      }
      const seconds = (now() - start) / 1000;
      const info: EpochInfo = {
        epoch,
        loss: lossSum / seen,
        steps: epochSteps,
        seconds,
        ...(train.metric ? { accuracy: correct / seen } : {}),
        ...(val && !dist ? evaluateRows(c, theta, val, o.validationBatchSize) : {}),
        ...(val && dist ? await shareValidation(dist, () => evaluateRows(c, theta, val, o.validationBatchSize)) : {}),
      };
      history.push(info);
      if (rank === 0) await o.onEpoch?.(info);
      await yieldToLoop();
      lastYield = now();
    }
  } finally {
    state.dispose();
    leave?.();
  }
  return { history, steps, stopped };
}

/**
 * Loss of `theta` on `data` (inputs as for fit: one row per example), forward only, in blocks of
 * `blockRows` rows; and the accuracy when the function returns `pred` and the inputs hold `y`.
 */
export function evaluate<A extends FloatArray>(
  c: Compiled<A>,
  theta: A,
  data: Values,
  blockRows = 1024,
): { valLoss: number; valAccuracy?: number } {
  return evaluateRows(c, theta, rowsOf(c, data, 'data'), blockRows);
}

/** Loss (and accuracy) of `theta` on `data`, forward only, in blocks of `blockRows` rows. */
function evaluateRows<A extends FloatArray>(
  c: Compiled<A>,
  theta: A,
  data: Rows,
  blockRows: number,
): { valLoss: number; valAccuracy?: number } {
  let loss = 0,
    correct = 0;
  for (let at = 0; at < data.rows; at += blockRows) {
    const n = Math.min(blockRows, data.rows - at);
    const batch = slice(data, at, n);
    const out = c.run(theta, batch);
    loss += out.loss[0] * n;
    if (data.metric) correct += countCorrect(out[data.metric.pred], batch[data.metric.labels]);
  }
  return { valLoss: loss / data.rows, ...(data.metric ? { valAccuracy: correct / data.rows } : {}) };
}

/** Inputs as blocks of rows: each input's elements per row, and the row count they agree on. */
export interface Rows {
  readonly rows: number;
  readonly inputs: readonly { name: string; data: FloatArray; width: number }[];
  /** accuracy: the function's `pred` output against the input `y` (class indices) */
  readonly metric?: { pred: string; labels: string };
}

/** Checks that every input has a symbolic leading dimension and that they agree on the rows. */
export function rowsOf(c: Compiled<FloatArray>, data: Values, what: string): Rows {
  if (typeof data !== 'object' || data === null)
    throw new TypeError(`fit: ${what} must be an object of { input: values }, got ${describeValue(data)}`);
  let rows = -1;
  let first = '';
  const inputs = c.inputs.map((leaf) => {
    const lead = leaf.shape[0];
    if (typeof lead !== 'string')
      throw new Error(
        `fit: input '${leaf.name}' (shape [${leaf.shape.join(',')}]) needs a symbolic leading dimension, the example index (e.g. ['batch', ...])`,
      );
    const width = leaf.shape.slice(1).reduce<number>((p, d) => {
      if (typeof d !== 'number')
        throw new Error(`fit: input '${leaf.name}' may have only its leading dimension symbolic`);
      return p * d;
    }, 1);
    if (!(leaf.name in data)) throw new Error(`fit: ${what} has no input '${leaf.name}'`);
    const x = toArray(data[leaf.name], `${what} '${leaf.name}'`, c.dtype);
    if (x.length % width !== 0)
      throw new RangeError(
        `fit: ${what} '${leaf.name}' has ${x.length} elements, not a whole number of rows of ${width}`,
      );
    const r = x.length / width;
    if (rows >= 0 && r !== rows)
      throw new RangeError(
        `fit: ${what} '${leaf.name}' has ${r} rows but '${first}' has ${rows}: every input needs one row per example`,
      );
    if (rows < 0) [rows, first] = [r, leaf.name];
    return { name: leaf.name, data: x, width };
  });
  for (const k of Object.keys(data))
    if (!c.inputs.some((l) => l.name === k)) throw new Error(`fit: unknown input '${k}' in ${what}`);
  if (rows <= 0) throw new RangeError(`fit: ${what} has no rows`);
  const pred = c.defined.outputs.find((x) => x.name === 'pred');
  const metric =
    pred?.shape.length === 1 && inputs.some((x) => x.name === 'y' && x.width === 1)
      ? { pred: 'pred', labels: 'y' }
      : undefined;
  return { rows, inputs, metric };
}

/** The data as one array of the function's dtype (used in place when it already is one). */
function toArray(x: Value | undefined, what: string, dtype: DType): FloatArray {
  if (x instanceof (dtype === 'float32' ? Float32Array : Float64Array)) return x as FloatArray;
  if (
    Array.isArray(x) ||
    (ArrayBuffer.isView(x) &&
      !(x instanceof DataView) &&
      !(x instanceof BigInt64Array) &&
      !(x instanceof BigUint64Array))
  ) {
    const a = arrayOf(dtype, (x as ArrayLike<number>).length);
    a.set(x as ArrayLike<number>);
    return a;
  }
  throw new TypeError(`fit: ${what} must be a Float64Array, a typed array or number[], got ${describeValue(x)}`);
}

/** Rows [at, at + n) as views of the data (no copy). */
function slice(d: Rows, at: number, n: number): Record<string, FloatArray> {
  const b: Record<string, FloatArray> = {};
  for (const x of d.inputs) b[x.name] = x.data.subarray(at * x.width, (at + n) * x.width);
  return b;
}

/** Rows order[at .. at + n) copied into buffers kept per batch size. */
function gather(
  d: Rows,
  order: Int32Array,
  at: number,
  n: number,
  buffers: Map<number, Record<string, FloatArray>>,
): Record<string, FloatArray> {
  let b = buffers.get(n);
  if (!b)
    buffers.set(
      n,
      (b = Object.fromEntries(
        d.inputs.map((x) => [
          x.name,
          x.data instanceof Float32Array ? new Float32Array(n * x.width) : new Float64Array(n * x.width),
        ]),
      )),
    );
  for (const x of d.inputs) {
    const out = b[x.name],
      w = x.width;
    if (w === 1) for (let r = 0; r < n; r++) out[r] = x.data[order[at + r]];
    else for (let r = 0; r < n; r++) out.set(x.data.subarray(order[at + r] * w, (order[at + r] + 1) * w), r * w);
  }
  return b;
}

/** A flat outputs buffer for a batch of n rows, and the view of `pred` in it (kept per batch size). */
function outputsFor<A extends FloatArray>(
  c: Compiled<A>,
  batch: Record<string, FloatArray>,
  n: number,
  pred: string,
  cache: Map<number, { buffer: FloatArray; pred: FloatArray }>,
): { buffer: A; pred: A } {
  const hit = cache.get(n);
  if (hit) return hit as { buffer: A; pred: A };
  const shapes = c.outputShapes(batch);
  let size = 0,
    at = 0;
  for (const [name, s] of Object.entries(shapes)) {
    const n = s.reduce((p, d) => p * d, 1);
    if (name === pred) at = size;
    size += n;
  }
  const buffer = arrayOf(c.dtype, size) as A;
  const out = { buffer, pred: buffer.subarray(at, at + shapes[pred].reduce((p, d) => p * d, 1)) as A };
  cache.set(n, out);
  return out;
}

function countCorrect(pred: FloatArray, labels: FloatArray): number {
  let k = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) k++;
  return k;
}

/** Fisher-Yates over `order` with the generator `next` (the bench's peers reuse it to see the same batches). */
export function shuffle(order: Int32Array, next: () => number): void {
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
}

const now = () => performance.now();
/**
 * One turn of the event loop, so timers, I/O and an abort get through: setImmediate in Node (a
 * timer has a 1 ms floor), a MessageChannel message in browsers (nested timers are clamped to 4 ms).
 */
const yieldToLoop: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((r) => setImmediate(r))
    : typeof MessageChannel === 'function'
      ? messageYield()
      : () => new Promise((r) => setTimeout(r, 0));

function messageYield(): () => Promise<void> {
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  return () =>
    new Promise<void>((r) => {
      waiting.push(r);
      channel.port2.postMessage(0);
    });
}

function resolveFit(options: FitOptions) {
  if (options === undefined) throw new TypeError('fit: options must be an object with an optimizer');
  const o = checkOptions('fit', options, KNOWN) as unknown as FitOptions;
  if (!o.optimizer || typeof o.optimizer.bind !== 'function')
    throw new TypeError(
      `fit: optimizer must be sgd(...) or adam(...), got ${describeValue(o.optimizer)}${(o.optimizer as { kind?: string })?.kind === 'lbfgs' ? ' (L-BFGS is for full-batch problems: use minimize)' : ''}`,
    );
  const int = (k: 'epochs' | 'batchSize' | 'seed' | 'validationBatchSize', d: number, min: number) =>
    numberOption('fit', k, o[k], { min, integer: true }, d);
  for (const k of ['onStep', 'onEpoch'] as const)
    if (o[k] !== undefined && typeof o[k] !== 'function') throw new TypeError(`fit: ${k} must be a function`);
  if (o.signal !== undefined && typeof o.signal?.aborted !== 'boolean')
    throw new TypeError('fit: signal must be an AbortSignal');
  return {
    optimizer: o.optimizer,
    epochs: int('epochs', 1, 0),
    batchSize: int('batchSize', 32, 1),
    seed: int('seed', 0, 0),
    validationBatchSize: int('validationBatchSize', 1024, 1),
    shuffle: booleanOption('fit', 'shuffle', o.shuffle, true),
    dropLast: booleanOption('fit', 'dropLast', o.dropLast, false),
    validation: o.validation,
    onStep: o.onStep,
    onEpoch: o.onEpoch,
    signal: o.signal,
    distributed: o.distributed,
  };
}
