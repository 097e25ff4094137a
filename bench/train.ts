/**
 * `npm run bench:train`: training for real, side by side in one run. Fashion-MNIST (60,000 train
 * images; the digits where it is not installed), the 784-128-10 tanh MLP, batch 64, Adam lr 1e-3,
 * shuffled (seed 1), Glorot-uniform weights and zero biases (the same initial weights for every
 * implementation): tapegrad's `fit` on every backend that loads, TensorFlow.js `model.fit` (cpu
 * and wasm backends) and a jitted jax-js train step (float32, wasm). Per implementation: seconds
 * per epoch (median over epochs, performance.now) and the test accuracy after the last epoch; in
 * the same run one W3 reverse gradient on native (tinybench), for the target native s/epoch <=
 * 1.2 x (steps per epoch x that time). Writes results/train.json (results/train-quick.json with
 * --quick, which the README does not show).
 *
 *   --epochs N       epochs per implementation (default 5)
 *   --only a,b       implementations: native, wasm, js, tfjs-cpu, tfjs-wasm, jaxjs
 *   --quick          a smoke test: the first 6,000 training images, 1 epoch
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { backend, backends } from '../src/index.js';
import { machine } from '../src/app/answer/main.js';
import { medianUs } from './tiny.js';
import { w3 } from './workloads.js';
import { init } from '../src/train/init.js';
import { classifier, loadSplit } from '../src/app/train.js';
import { FASHION_MNIST_DIR } from '../src/data/idx.js';
import {
  failureLines,
  HEADER,
  median,
  stepsPerEpoch,
  summarise,
  tableRows,
  targetLines,
  textTable,
  type RunRow,
} from './train/report.js';
import { tapegrad } from './train/tapegrad.js';
import type { Trainer, TrainSetup } from './train/trainer.js';

const OPTIMIZER_SOURCE =
  'tapegrad: adam({ lr }) of src/train/optimizers.ts (the fused step in the backend); TensorFlow.js: tf.train.adam(lr, 0.9, 0.999, 1e-8); jax-js: Adam in its jitted step; all three the same rule as PyTorch';
const IDS = ['native', 'wasm', 'js', 'tfjs-cpu', 'tfjs-wasm', 'jaxjs'];

function args(argv: string[]) {
  let epochs: number | undefined,
    only: string[] | undefined,
    quick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--epochs') {
      epochs = Number(argv[++i]);
      if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`--epochs must be an integer >= 1, got ${argv[i]}`);
    } else if (a === '--only') {
      only = (argv[++i] ?? '').split(',').filter(Boolean);
      const bad = only.filter((x) => !IDS.includes(x));
      if (bad.length || !only.length)
        throw new Error(`--only takes a comma-separated list of ${IDS.join(', ')}; got '${argv[i] ?? ''}'`);
    } else throw new Error(`unknown argument '${a}' (expected --epochs N, --only ${IDS.join(',')}, --quick)`);
  }
  return { epochs: epochs ?? (quick ? 1 : 5), only: only ?? IDS, quick };
}

const o = args(process.argv.slice(2));
const host = machine();
const date = new Date().toISOString();
const log = (s: string) => process.stderr.write(s);

const split = loadSplit({ data: 'auto', dataDir: FASHION_MNIST_DIR, seed: 1, rows: o.quick ? 6000 : undefined });
if (split.note) console.log(`Note: ${split.note}.`);
const hidden = 128;
const setup: Omit<TrainSetup, 'theta0'> = {
  train: split.train,
  test: split.test,
  hidden,
  epochs: o.epochs,
  batchSize: 64,
  lr: 1e-3,
  seed: 1,
};
const model = classifier(split.train.features, split.train.classes, 'mlp', hidden);
const theta0 = init(model, { seed: 1 });

// the peers load only when asked for (each pulls in a library and its wasm)
const available = await backends();
const trainers: Trainer[] = [];
for (const id of o.only) {
  if (['native', 'wasm', 'js'].includes(id)) {
    if (available.includes(id as never)) trainers.push(tapegrad(id as 'native'));
    else console.log(`Note: tapegrad's ${id} backend does not load here; not measured.`);
  } else if (id.startsWith('tfjs-')) trainers.push((await import('./train/tfjs.js')).tfjs(id.slice(5) as 'cpu'));
  else trainers.push((await import('./train/jaxjs.js')).jaxjs);
}

log(
  `${split.name}: ${split.train.rows} training rows, ${split.test.rows} test rows; ${o.epochs} epoch(s), batch ${setup.batchSize}; 1-minute load average ${host.load} on ${host.cores} cores\n`,
);

// one W3 reverse gradient on native, measured in this run (just before native trains)
let w3Us = NaN;
if (available.includes('native') && o.only.includes('native')) {
  const w = w3();
  const c = (await backend('native')).compile(w.f);
  const theta = c.flatten(w.params),
    g = new Float64Array(c.paramCount);
  w3Us = await medianUs(() => {
    c.gradFlat(theta, w.inputs, g);
  }, 1000);
  c.dispose();
  log(`W3 reverse gradient on native: ${w3Us.toFixed(1)} µs (tinybench median)\n`);
}

const rows: RunRow[] = [];
for (const t of trainers) {
  log(`${t.name}: `);
  try {
    const r = await t.train({ ...setup, theta0 });
    rows.push({ id: t.id, implementation: t.name, dtype: t.dtype, ...r });
    log(
      `${median(r.epochSeconds).toFixed(2)} s/epoch (${r.epochSeconds.map((x) => x.toFixed(2)).join(', ')}), test accuracy ${r.testAccuracy.toFixed(4)}\n`,
    );
  } catch (e) {
    rows.push({
      id: t.id,
      implementation: t.name,
      dtype: t.dtype,
      epochSeconds: [],
      testAccuracy: NaN,
      error: (e as Error).message,
    });
    log(`failed: ${(e as Error).message}\n`);
  }
}

const steps = stepsPerEpoch(split.train.rows, setup.batchSize);
const sum = summarise(rows, w3Us, steps, o.epochs);
console.log(
  `\nOne epoch of ${split.name} (${split.train.rows} images), MLP ${split.train.features}-${hidden}-${split.train.classes} tanh, batch ${setup.batchSize}, Adam lr ${setup.lr}; ` +
    `test accuracy on ${split.test.rows} test images after ${o.epochs} epoch(s)${o.quick ? ' (--quick: a smoke test, not the benchmark)' : ''}`,
);
console.log(
  `${host.cpu} (${host.cores} cores), Node ${host.node}, ${date.slice(0, 10)}; 1-minute load average ${host.load} at the start${host.load > host.cores * 0.75 ? ' (other jobs were running)' : ''}\n`,
);
console.log(textTable(HEADER, tableRows(rows)));
for (const l of failureLines(rows)) console.log(l);
console.log(
  `\nW3 reverse gradient on native: ${Number.isFinite(w3Us) ? `${w3Us.toFixed(1)} µs; x ${steps} steps = ${((w3Us * steps) / 1e6).toFixed(3)} s` : 'not measured'}`,
);
console.log('Targets (issue 8 item 10):');
for (const l of targetLines(sum.targets)) console.log(`  ${l}`);
console.log(`\nOptimizer: ${OPTIMIZER_SOURCE}.`);
const notes = [...new Set(trainers.flatMap((t) => (t.note ? [t.note] : [])))];
for (const n of notes) console.log(`Note: ${n}.`);

mkdirSync('results', { recursive: true });
const file = o.quick ? 'results/train-quick.json' : 'results/train.json';
writeFileSync(
  file,
  JSON.stringify(
    {
      date,
      machine: host,
      quick: o.quick,
      data: { name: split.name, trainRows: split.train.rows, testRows: split.test.rows, note: split.note },
      config: {
        model: `MLP ${split.train.features}-${hidden}-${split.train.classes} tanh`,
        epochs: o.epochs,
        batchSize: setup.batchSize,
        lr: setup.lr,
        seed: setup.seed,
        init: 'init(model, { seed: 1 }) of src/train/init.ts: glorot-uniform weights, zero biases',
        optimizer: OPTIMIZER_SOURCE,
      },
      w3Us,
      stepsPerEpoch: steps,
      rows,
      ratios: { nativeVsW3: sum.nativeVsW3, nativeVsTfjsWasm: sum.nativeVsTfjsWasm, nativeVsJax: sum.nativeVsJax },
      targets: sum.targets,
      notes,
    },
    null,
    2,
  ) + '\n',
);
console.log(`Raw numbers: ${file}`);
