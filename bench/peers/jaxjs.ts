/**
 * jax-js (`@jax-js/jax`) on its wasm device, value-and-gradient under `jit`, float32 and float64.
 * On Node 20 it needs `init('wasm', 'cpu')` and a global `Float16Array` class to exist (Node 20
 * has none; jax-js only checks for it, nothing here uses float16). Its wasm float64 kernels
 * compute exp and log in float32, so its float64 gradients agree with an exact float64 gradient
 * only to about 1e-7.
 */
import { data, flat, LENET_ORDER, type Peer, type PeerCase } from './peer.js';
import { LENET_PARAMS } from '../../src/models/lenet.js';
import type { Workload } from '../workloads.js';

(globalThis as { Float16Array?: unknown }).Float16Array ??= class Float16Array {};
const jax = await import('@jax-js/jax');
const { numpy: np, nn, lax, jit, valueAndGrad } = jax;
type Arr = InstanceType<typeof jax.Array>;

let ready: Promise<unknown> | undefined;

function build(w: Workload, dtype: 'float32' | 'float64'): PeerCase {
  const d = data(w);
  const T = dtype === 'float32' ? Float32Array : Float64Array;
  const arr = (x: ArrayLike<number>, shape: number[]) => np.array(T.from(x)).reshape(shape);
  const scalar = (x: number) => np.array(x, { dtype: dtype === 'float32' ? np.float32 : np.float64 });
  let params: Record<string, Arr>;
  let inputs: Arr[];
  let loss: (p: Record<string, Arr>, ...x: Arr[]) => Arr;
  let order: string[];
  // jax-js arrays are reference-counted: every use but the last takes `.ref`
  if (d.kind === 'W1') {
    params = { a: scalar(d.a), b: scalar(d.b) };
    inputs = [arr(d.x, [d.M])];
    loss = (p, x) => np.sum(p.b.mul(nn.sigmoid(p.a.mul(x))));
    order = ['a', 'b'];
  } else if (d.kind === 'W2') {
    params = { theta: arr(d.theta, [d.d]) };
    inputs = [arr(d.X, [d.M, d.d]), arr(d.y, [d.M])];
    loss = (p, X, y) => np.sum(nn.softplus(np.negative(np.matmul(X, p.theta).mul(y))));
    order = ['theta'];
  } else if (d.kind === 'W4') {
    // NCHW and [out, in, kh, kw] weights are jax-js's own layouts: the parameters go in as they are
    const B = d.B;
    params = Object.fromEntries(LENET_ORDER.map((k) => [k, arr(d.p[k], [...LENET_PARAMS[k]])]));
    inputs = [arr(d.X, [B, 1, 28, 28]), arr(d.Y, [B, 10])];
    const pool = (x: Arr) => lax.reduceWindow(x, (w: Arr) => np.max(w), [2, 2], [2, 2]);
    loss = (p, X, Y) => {
      const c1 = lax.convGeneralDilated(
        X,
        p.c1,
        [1, 1],
        [
          [2, 2],
          [2, 2],
        ],
      );
      const h1 = pool(nn.relu(c1.add(p.cb1.reshape([6, 1, 1]))));
      const h2 = pool(nn.relu(lax.convGeneralDilated(h1, p.c2, [1, 1], 'VALID').add(p.cb2.reshape([16, 1, 1]))));
      const a1 = nn.relu(np.matmul(h2.reshape([B, 400]), p.f1).add(p.fb1));
      const a2 = nn.relu(np.matmul(a1, p.f2).add(p.fb2));
      const z = np.matmul(a2, p.f3).add(p.fb3);
      return np.sum(Y.mul(nn.logsumexp(z.ref, -1, { keepdims: true }).sub(z))).div(B);
    };
    order = LENET_ORDER;
  } else {
    params = { W1: arr(d.W1, [d.D, d.H]), b1: arr(d.b1, [d.H]), W2: arr(d.W2, [d.H, d.C]), b2: arr(d.b2, [d.C]) };
    inputs = [arr(d.X, [d.B, d.D]), arr(d.Y, [d.B, d.C])];
    loss = (p, X, Y) => {
      const z = np.matmul(np.tanh(np.matmul(X, p.W1).add(p.b1)), p.W2).add(p.b2);
      return np.sum(Y.mul(nn.logsumexp(z.ref, -1, { keepdims: true }).sub(z))).div(d.B);
    };
    order = ['W1', 'b1', 'W2', 'b2'];
  }
  const vg = jit(valueAndGrad(loss));
  const run = () => {
    const p = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.ref]));
    const [value, grads] = vg(p, ...inputs.map((x) => x.ref)) as unknown as [Arr, Record<string, Arr>];
    return { value: value.dataSync()[0], grads: order.map((k) => grads[k].dataSync()) };
  };
  return {
    step: () => {
      run();
    },
    result: () => {
      const r = run();
      return { value: r.value, grad: flat(r.grads) };
    },
    dispose: () => {
      for (const a of [...Object.values(params), ...inputs]) a.dispose();
      vg.dispose();
    },
  };
}

export function jaxjs(dtype: 'float32' | 'float64'): Peer {
  return {
    name: `jax-js wasm jit ${dtype}`,
    dtype,
    note: dtype === 'float64' ? 'jax-js float64 on wasm computes exp/log in float32' : undefined,
    async activate() {
      ready ??= jax.init('wasm', 'cpu').then(() => jax.defaultDevice('wasm'));
      await ready;
    },
    build: (w) => build(w, dtype),
  };
}
