/**
 * jax-js (float32, wasm device) as a JAX user trains without a framework: one jitted train step,
 * `valueAndGrad` of the mean cross-entropy and an Adam update (PyTorch's rule) written in
 * jax-js numpy (no jax-js optimizer package is on npm), the batches gathered on the host in the
 * same seeded order as tapegrad's `fit`. The loss is read back every step, as fit does.
 */
import { jaxjs as jaxPeer } from '../peers/jaxjs.js';
import { mulberry32 } from '../../src/models/random.js';
import { shuffle } from '../../src/train/fit.js';
import { blocks, type Trainer, type TrainSetup } from './trainer.js';

const jax = await import('@jax-js/jax');
const { numpy: np, nn, jit, valueAndGrad } = jax;
type Arr = InstanceType<typeof jax.Array>;
type Params = { w1: Arr; b1: Arr; w2: Arr; b2: Arr };
const KEYS = ['w1', 'b1', 'w2', 'b2'] as const;

const logitsOf = (p: Params, x: Arr) => np.matmul(np.tanh(np.matmul(x, p.w1).add(p.b1)), p.w2).add(p.b2);

// jax-js arrays are reference-counted: every use but the last takes `.ref`; a jitted call consumes its arguments
function loss(p: Params, x: Arr, y: Arr): Arr {
  const z = logitsOf(p, x);
  const rows = z.shape[0];
  return np.sum(y.mul(nn.logsumexp(z.ref, -1, { keepdims: true }).sub(z))).div(rows);
}

/** One step: [loss, params, m, v] from params, the moments, a batch and the step's scalars a = lr / (1 - b1^t), c = 1 / sqrt(1 - b2^t). */
function trainStep(
  p: Params,
  m: Params,
  v: Params,
  x: Arr,
  y: Arr,
  a: Arr,
  c: Arr,
  b1: number,
  b2: number,
  eps: number,
): [Arr, Params, Params, Params] {
  const [value, g] = valueAndGrad(loss)(
    { w1: p.w1.ref, b1: p.b1.ref, w2: p.w2.ref, b2: p.b2.ref },
    x,
    y,
  ) as unknown as [Arr, Params];
  const out = { p: {} as Params, m: {} as Params, v: {} as Params };
  for (const k of KEYS) {
    const mk = m[k].mul(b1).add(g[k].ref.mul(1 - b1));
    const vk = v[k].mul(b2).add(g[k].ref.mul(g[k]).mul(1 - b2));
    out.p[k] = p[k].sub(a.ref.mul(mk.ref).div(np.sqrt(vk.ref).mul(c.ref).add(eps)));
    out.m[k] = mk;
    out.v[k] = vk;
  }
  a.dispose();
  c.dispose();
  return [value, out.p, out.m, out.v];
}

export const jaxjs: Trainer = {
  id: 'jaxjs',
  name: 'jax-js wasm jit float32',
  dtype: 'float32',
  async train(s: TrainSetup) {
    await jaxPeer('float32').activate();
    const F = s.train.features,
      H = s.hidden,
      C = s.train.classes;
    const [b1, b2, eps] = [0.9, 0.999, 1e-8];
    const f32 = (x: ArrayLike<number>, shape: number[]) => np.array(Float32Array.from(x)).reshape(shape);
    const q = blocks(s);
    let p: Params = { w1: f32(q.w1, [F, H]), b1: f32(q.b1, [H]), w2: f32(q.w2, [H, C]), b2: f32(q.b2, [C]) };
    const zeros = (): Params => ({ w1: np.zeros([F, H]), b1: np.zeros([H]), w2: np.zeros([H, C]), b2: np.zeros([C]) });
    let m = zeros(),
      v = zeros();
    const step = jit((p: Params, m: Params, v: Params, x: Arr, y: Arr, a: Arr, c: Arr) =>
      trainStep(p, m, v, x, y, a, c, b1, b2, eps),
    );
    const predict = jit((p: Params, x: Arr) => np.argmax(logitsOf(p, x), 1));
    const order = Int32Array.from({ length: s.train.rows }, (_, i) => i);
    const next = mulberry32(s.seed);
    const xb = new Float32Array(s.batchSize * F),
      yb = new Float32Array(s.batchSize * C);
    const epochSeconds: number[] = [];
    let t = 0,
      lastLoss = NaN;
    try {
      for (let e = 0; e < s.epochs; e++) {
        shuffle(order, next);
        const start = performance.now();
        let sum = 0;
        for (let at = 0; at < s.train.rows; at += s.batchSize) {
          const n = Math.min(s.batchSize, s.train.rows - at);
          yb.fill(0);
          for (let r = 0; r < n; r++) {
            const row = order[at + r];
            xb.set(s.train.X.subarray(row * F, (row + 1) * F), r * F);
            yb[r * C + s.train.labels[row]] = 1;
          }
          t++;
          const a = np.array(new Float32Array([s.lr / (1 - b1 ** t)])).reshape([]);
          const c = np.array(new Float32Array([1 / Math.sqrt(1 - b2 ** t)])).reshape([]);
          const x = np.array(xb.subarray(0, n * F)).reshape([n, F]),
            y = np.array(yb.subarray(0, n * C)).reshape([n, C]);
          const [value, p2, m2, v2] = step(p, m, v, x, y, a, c) as unknown as [Arr, Params, Params, Params];
          [p, m, v] = [p2, m2, v2];
          const l = value.dataSync()[0]; // consumes value
          if (!Number.isFinite(l)) throw new Error(`jax-js: the loss is ${l} at step ${t}`);
          sum += l * n;
        }
        epochSeconds.push((performance.now() - start) / 1000);
        lastLoss = sum / s.train.rows;
      }
      let correct = 0;
      for (let at = 0; at < s.test.rows; at += 1000) {
        const n = Math.min(1000, s.test.rows - at);
        const k = predict(
          { w1: p.w1.ref, b1: p.b1.ref, w2: p.w2.ref, b2: p.b2.ref },
          f32(s.test.X.subarray(at * F, (at + n) * F), [n, F]),
        );
        Array.from(k.dataSync(), Number).forEach((c, i) => {
          if (c === s.test.labels[at + i]) correct++;
        }); // consumes k
      }
      return { epochSeconds, lastLoss, testAccuracy: correct / s.test.rows };
    } finally {
      for (const a of [...Object.values(p), ...Object.values(m), ...Object.values(v)]) a.dispose();
      step.dispose();
      predict.dispose();
    }
  },
};
