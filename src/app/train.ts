/**
 * `tapegrad train`: trains a classifier on Fashion-MNIST (Debian's dataset-fashion-mnist) or the
 * bundled 8x8 digits with `fit`, showing a progress bar per epoch (plain lines when stdout is not
 * a terminal), and writes the model (safetensors), the history (JSON) and a loss/accuracy chart
 * (SVG). Ctrl-C stops after the step in progress and saves a checkpoint.
 */
import { arrayOf, DTYPES, type DType, type FloatArray } from '../api/dtype.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Compiled } from '../api/compiled.js';
import { backend } from '../backends/registry.js';
import { BACKEND_NAMES, type BackendName } from '../backends/types.js';
import { renderSvg, type Spec } from './answer/charts.js';
import { digits, type Dataset } from '../data/datasets.js';
import { FASHION_MNIST_DIR, fashionMnist } from '../data/idx.js';
import { mulberry32 } from '../models/random.js';
import { define, type Defined } from '../trace/define.js';
import { distributed } from '../train/distributed.js';
import { fit, type EpochInfo } from '../train/fit.js';
import { init } from '../train/init.js';
import { adam, sgd } from '../train/optimizers.js';
import { saveParams } from '../train/safetensors.js';

export interface TrainOptions {
  readonly data: 'fashion-mnist' | 'digits' | 'auto';
  readonly dataDir: string;
  readonly model: 'mlp' | 'linear';
  readonly hidden: number;
  readonly epochs: number;
  readonly batch: number;
  readonly optimizer: 'adam' | 'sgd';
  /** default: 1e-3 (adam), 0.05 (sgd with momentum 0.9) */
  readonly lr?: number;
  readonly backend?: BackendName;
  /** the element type of the compiled model (default float64) */
  readonly dtype?: DType;
  readonly out: string;
  readonly seed: number;
  readonly charts: boolean;
  /** rows of the training split to use (all by default) */
  readonly rows?: number;
  /** data-parallel over MPI (under mpirun); batch is per rank; only rank 0 prints and saves */
  readonly distributed?: boolean;
}

export const TRAIN_DEFAULTS = {
  data: 'auto',
  dataDir: FASHION_MNIST_DIR,
  model: 'mlp',
  hidden: 128,
  epochs: 5,
  batch: 64,
  optimizer: 'adam',
  out: 'tapegrad-train',
  seed: 1,
  charts: true,
} as const satisfies Partial<TrainOptions>;

export const TRAIN_USAGE = `tapegrad train [options]      trains a classifier with fit(); writes the model (safetensors), history and chart
      --data fashion-mnist|digits   default: Fashion-MNIST when installed (apt-get install dataset-fashion-mnist), else digits
      --data-dir DIR            where the Fashion-MNIST IDX files are (default ${TRAIN_DEFAULTS.dataDir})
      --model mlp|linear        a tanh MLP with one hidden layer, or softmax regression (default mlp)
      --hidden N                hidden units of the MLP (default ${TRAIN_DEFAULTS.hidden})
      --epochs N  --batch N     (default ${TRAIN_DEFAULTS.epochs} and ${TRAIN_DEFAULTS.batch})
      --optimizer adam|sgd      (default adam); --lr X (default 1e-3 for adam, 0.05 for sgd with momentum 0.9)
      --rows N                  train on the first N training rows only
      --backend NAME            native, wasm or js (default: the best that loads)
      --dtype float64|float32   the model's element type (default float64; float32: the optimizer keeps float64 master weights)
      --seed N                  initialisation and shuffling (default ${TRAIN_DEFAULTS.seed})
      --out DIR                 model.safetensors, history.json, training.svg (default ./${TRAIN_DEFAULTS.out})
      --no-charts               skip the SVG chart
      --distributed             data-parallel over MPI: mpirun -np K npx tapegrad train --distributed
                                (--batch is per rank; rank 0 prints and saves; needs npm run build:mpi)`;

/** Options from the command line's --key value flags. */
export const TRAIN_FLAGS = [
  'data',
  'data-dir',
  'model',
  'hidden',
  'epochs',
  'batch',
  'optimizer',
  'lr',
  'backend',
  'dtype',
  'out',
  'seed',
  'no-charts',
  'rows',
  'distributed',
];

export function trainOptions(flags: ReadonlyMap<string, string | true>): TrainOptions {
  for (const k of flags.keys()) if (!TRAIN_FLAGS.includes(k)) throw new Error(`unknown option --${k} for train`);
  const str = (k: string) => {
    const v = flags.get(k);
    if (v === true) throw new Error(`--${k} needs a value`);
    return v;
  };
  const pick = <T extends string>(k: string, allowed: readonly T[], d: T): T => {
    const v = str(k) ?? d;
    if (!allowed.includes(v as T)) throw new Error(`--${k} must be one of ${allowed.join(', ')}, got '${v}'`);
    return v as T;
  };
  const int = (k: string, d: number | undefined) => {
    const v = str(k);
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isInteger(n) || n < (k === 'seed' ? 0 : 1))
      throw new Error(`--${k} must be a positive integer, got '${v}'`);
    return n;
  };
  const lr = str('lr');
  if (lr !== undefined && !(Number(lr) > 0)) throw new Error(`--lr must be a positive number, got '${lr}'`);
  const be = str('backend');
  if (be !== undefined && !BACKEND_NAMES.includes(be as BackendName)) throw new Error(`unknown backend '${be}'`);
  return {
    data: pick('data', ['fashion-mnist', 'digits', 'auto'], TRAIN_DEFAULTS.data),
    dataDir: str('data-dir') ?? TRAIN_DEFAULTS.dataDir,
    model: pick('model', ['mlp', 'linear'], TRAIN_DEFAULTS.model),
    hidden: int('hidden', TRAIN_DEFAULTS.hidden)!,
    epochs: int('epochs', TRAIN_DEFAULTS.epochs)!,
    batch: int('batch', TRAIN_DEFAULTS.batch)!,
    optimizer: pick('optimizer', ['adam', 'sgd'], TRAIN_DEFAULTS.optimizer),
    lr: lr === undefined ? undefined : Number(lr),
    backend: be as BackendName | undefined,
    dtype: pick('dtype', DTYPES, 'float64'),
    out: str('out') ?? TRAIN_DEFAULTS.out,
    seed: int('seed', TRAIN_DEFAULTS.seed)!,
    charts: !flags.has('no-charts'),
    rows: int('rows', undefined),
    distributed: flags.has('distributed'),
  };
}

/** The classifier: logits from a tanh MLP or a linear layer; loss, logits and predicted classes. */
export function classifier(features: number, classes: number, model: TrainOptions['model'], hidden: number): Defined {
  if (model === 'linear')
    return define(
      { params: { w: [features, classes], b: [classes] }, inputs: { x: ['batch', features], y: ['batch'] } },
      ({ w, b }, { x, y }) => {
        const logits = x.matmul(w).add(b);
        return { loss: logits.softmaxCrossEntropy(y).mean(), logits, pred: logits.argmax(1) };
      },
    );
  return define(
    {
      params: { w1: [features, hidden], b1: [hidden], w2: [hidden, classes], b2: [classes] },
      inputs: { x: ['batch', features], y: ['batch'] },
    },
    ({ w1, b1, w2, b2 }, { x, y }) => {
      const logits = x.matmul(w1).add(b1).tanh().matmul(w2).add(b2);
      return { loss: logits.softmaxCrossEntropy(y).mean(), logits, pred: logits.argmax(1) };
    },
  );
}

export interface Split {
  readonly name: string;
  readonly train: Dataset;
  readonly test: Dataset;
  /** why the data set is not the one asked for, if so */
  readonly note?: string;
}

/** Fashion-MNIST's train and test splits, or the digits split 80/20 by a seeded shuffle. */
export function loadSplit(o: Pick<TrainOptions, 'data' | 'dataDir' | 'seed' | 'rows'>): Split {
  if (o.data !== 'digits') {
    const train = fashionMnist(o.rows ?? 60_000, o.dataDir, 'train');
    const test = fashionMnist(10_000, o.dataDir, 'test');
    if (train && test) return { name: 'Fashion-MNIST', train, test };
    if (o.data === 'fashion-mnist')
      throw new Error(
        `Fashion-MNIST is not in ${o.dataDir}: apt-get install dataset-fashion-mnist, or give --data-dir`,
      );
  }
  const d = digits();
  const order = Int32Array.from({ length: d.rows }, (_, i) => i);
  const next = mulberry32(o.seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const take = (idx: Int32Array): Dataset => {
    const X = new Float64Array(idx.length * d.features);
    idx.forEach((r, k) => X.set(d.X.subarray(r * d.features, (r + 1) * d.features), k * d.features));
    return { ...d, rows: idx.length, X, labels: Int32Array.from(idx, (r) => d.labels[r]) };
  };
  const cut = Math.round(d.rows * 0.8);
  const train = take(order.subarray(0, o.rows ? Math.min(o.rows, cut) : cut));
  return {
    name: 'digits (8x8)',
    train,
    test: take(order.subarray(cut)),
    note:
      o.data === 'auto'
        ? `Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); training on the digits`
        : undefined,
  };
}

export interface TrainResult {
  readonly data: string;
  readonly backend: BackendName;
  readonly history: readonly EpochInfo[];
  readonly stopped: 'completed' | 'aborted';
  readonly files: readonly string[];
}

/** The command: train, print progress, save. `signal` stops it (the command wires Ctrl-C to it). */
export async function runTrain(
  o: TrainOptions,
  signal?: AbortSignal,
  log: (line: string) => void = console.log,
): Promise<TrainResult> {
  const world = o.distributed ? distributed() : undefined;
  const [rank, ranks] = world ? [world.rank, world.size] : [0, 1];
  if (rank !== 0) log = () => {};
  const split = loadSplit(o);
  if (split.note) log(split.note);
  const be = await backend(o.backend);
  const f = classifier(split.train.features, split.train.classes, o.model, o.hidden);
  const dtype = o.dtype ?? 'float64';
  if (dtype !== 'float64' && o.distributed) throw new Error('--distributed trains float64 models only');
  const c = be.compile(f, { dtype });
  try {
    const theta = arrayOf(dtype, c.paramCount);
    theta.set(init(f, { seed: o.seed }));
    const optimizer = o.optimizer === 'adam' ? adam({ lr: o.lr ?? 1e-3 }) : sgd({ lr: o.lr ?? 0.05, momentum: 0.9 });
    const stepsPerEpoch = Math.ceil(split.train.rows / (o.batch * ranks));
    log(
      `training ${o.model === 'mlp' ? `a ${split.train.features}-${o.hidden}-${split.train.classes} tanh MLP` : 'softmax regression'} ` +
        `(N = ${c.paramCount.toLocaleString('en-US')}) on ${split.name}: ${split.train.rows.toLocaleString('en-US')} training and ` +
        `${split.test.rows.toLocaleString('en-US')} test images, ${o.optimizer} on the ${be.name} backend${dtype === 'float32' ? ' in float32' : ''}, batch ${o.batch}${world ? ` per rank × ${ranks} ranks (MPI)` : ''}, ${o.epochs} epochs`,
    );
    const bar = progress(stepsPerEpoch);
    const r = await fit(
      c,
      theta,
      { x: split.train.X, y: split.train.labels },
      {
        optimizer,
        epochs: o.epochs,
        batchSize: o.batch,
        shuffle: true,
        seed: o.seed,
        signal,
        distributed: world,
        validation: { x: split.test.X, y: split.test.labels },
        onStep: (s) => bar.step(s.epoch, s.step - (s.epoch - 1) * stepsPerEpoch, s.loss),
        onEpoch: (e) => {
          bar.done();
          log(
            `epoch ${e.epoch}/${o.epochs}: train loss ${e.loss.toFixed(4)}, train accuracy ${pct(e.accuracy)}, ` +
              `test loss ${e.valLoss!.toFixed(4)}, test accuracy ${pct(e.valAccuracy)} (${e.seconds.toFixed(2)} s)`,
          );
        },
      },
    );
    bar.done();
    const files = rank === 0 ? await save(o, c, theta, r.history, split.name) : [];
    if (r.stopped === 'aborted') log(`interrupted after ${r.steps} steps: checkpoint saved to ${files[0]}`);
    else log(`saved ${files.join(', ')}`);
    return { data: split.name, backend: be.name, history: r.history, stopped: r.stopped, files };
  } finally {
    c.dispose();
  }
}

const pct = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(2)}%`);

/** A progress bar per epoch on a terminal; nothing between epoch lines otherwise. */
function progress(total: number): { step(epoch: number, k: number, loss: number): void; done(): void } {
  if (!process.stdout.isTTY) return { step() {}, done() {} };
  let bar: cliProgress.SingleBar | undefined;
  return {
    step(epoch, k, loss) {
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            format: `epoch ${epoch} [{bar}] {value}/{total} steps | loss {loss} | {eta_formatted} left`,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { loss: '-' });
      }
      bar.update(k, { loss: loss.toFixed(4) });
    },
    done() {
      bar?.stop();
      bar = undefined;
    },
  };
}

/** model.safetensors, history.json and (charts) training.svg in o.out; returns their paths. */
async function save(
  o: TrainOptions,
  c: Compiled<FloatArray>,
  theta: FloatArray,
  history: readonly EpochInfo[],
  data: string,
): Promise<string[]> {
  await mkdir(o.out, { recursive: true });
  const model = join(o.out, 'model.safetensors');
  await saveParams(model, c, theta);
  const hist = join(o.out, 'history.json');
  await writeFile(
    hist,
    JSON.stringify(
      { data, model: o.model, hidden: o.hidden, optimizer: o.optimizer, batch: o.batch, backend: c.backend, history },
      null,
      2,
    ) + '\n',
  );
  const files = [model, hist];
  if (o.charts && history.length) {
    try {
      const svg = join(o.out, 'training.svg');
      await writeFile(
        svg,
        await renderSvg(trainingChart(history, `${data}, ${o.model}, ${o.optimizer}, batch ${o.batch}`)),
      );
      files.push(svg);
    } catch (e) {
      console.error(`tapegrad: no chart written (${(e as Error).message})`);
    }
  }
  return files;
}

/** Loss (train and test) and test accuracy per epoch, one panel each. */
export function trainingChart(history: readonly EpochInfo[], subtitle: string): Spec {
  const values = history.flatMap((h) => [
    { epoch: h.epoch, series: 'train loss', value: h.loss, panel: 'loss' },
    ...(h.valLoss === undefined ? [] : [{ epoch: h.epoch, series: 'test loss', value: h.valLoss, panel: 'loss' }]),
    ...(h.accuracy === undefined
      ? []
      : [{ epoch: h.epoch, series: 'train accuracy', value: h.accuracy, panel: 'accuracy' }]),
    ...(h.valAccuracy === undefined
      ? []
      : [{ epoch: h.epoch, series: 'test accuracy', value: h.valAccuracy, panel: 'accuracy' }]),
  ]);
  const panel = (name: string, title: string): Spec => ({
    width: 360,
    height: 220,
    transform: [{ filter: `datum.panel === '${name}'` }],
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Training', subtitle },
    data: { values },
    hconcat: [panel('loss', 'loss'), panel('accuracy', 'accuracy')],
    resolve: { scale: { color: 'independent' } },
  };
}
