/**
 * Hand-written plain-JS float64 gradients of W1 (the seed example), W2 (logistic regression) and
 * W3 (the tanh MLP): the code a careful engineer would write without a library. Used as the
 * yardstick for the js tape interpreter and, in the peers benchmark, as a peer. Buffers are
 * allocated once per instance.
 */

/** sum_i b sigmoid(a x_i) and its gradient [b sum x s(1-s), sum s]; theta = [a, b]. */
export function seedGrad(M: number) {
  return (theta: Float64Array, x: Float64Array, grad: Float64Array): number => {
    const a = theta[0],
      b = theta[1];
    let f = 0,
      da = 0;
    for (let i = 0; i < M; i++) {
      const s = 1 / (1 + Math.exp(-a * x[i]));
      f += s;
      da += x[i] * s * (1 - s);
    }
    grad[0] = b * da;
    grad[1] = f;
    return b * f;
  };
}

/** sum_i softplus(-y_i (X theta)_i) and its gradient X^T r, r_i = -y_i sigmoid(-y_i z_i). */
export function logisticGrad(M: number, d: number) {
  const r = new Float64Array(M);
  return (theta: Float64Array, X: Float64Array, y: Float64Array, grad: Float64Array): number => {
    let loss = 0;
    for (let i = 0; i < M; i++) {
      let z = 0;
      for (let j = 0; j < d; j++) z += X[i * d + j] * theta[j];
      const m = -y[i] * z;
      loss += (m > 0 ? m : 0) + Math.log1p(Math.exp(-Math.abs(m)));
      r[i] = -y[i] / (1 + Math.exp(-m));
    }
    grad.fill(0);
    for (let i = 0; i < M; i++) {
      const ri = r[i];
      for (let j = 0; j < d; j++) grad[j] += ri * X[i * d + j];
    }
    return loss;
  };
}

/** C[m,n] = A[m,k] B[k,n] (i-k-j order) */
function mm(A: Float64Array, B: Float64Array, C: Float64Array, m: number, k: number, n: number) {
  C.fill(0);
  for (let i = 0; i < m; i++)
    for (let t = 0; t < k; t++) {
      const a = A[i * k + t];
      for (let j = 0; j < n; j++) C[i * n + j] += a * B[t * n + j];
    }
}

/**
 * Mean softmax cross-entropy of tanh(X W1 + b1) W2 + b2 and its gradient, written out:
 * dz = (softmax - Y)/B, dW2 = h^T dz, dh = dz W2^T, da = dh (1 - h^2), dW1 = X^T da.
 * Parameters and gradient are flat [W1 | b1 | W2 | b2] as tapegrad lays them out.
 */
export function mlpGrad(B: number, D: number, H: number, C: number) {
  const h = new Float64Array(B * H),
    z = new Float64Array(B * C),
    da = new Float64Array(B * H);
  return (theta: Float64Array, X: Float64Array, Y: Float64Array, grad: Float64Array): number => {
    const W1 = theta.subarray(0, D * H),
      b1 = theta.subarray(D * H, D * H + H);
    const W2 = theta.subarray(D * H + H, D * H + H + H * C),
      b2 = theta.subarray(D * H + H + H * C);
    const gW1 = grad.subarray(0, D * H),
      gb1 = grad.subarray(D * H, D * H + H);
    const gW2 = grad.subarray(D * H + H, D * H + H + H * C),
      gb2 = grad.subarray(D * H + H + H * C);
    mm(X, W1, h, B, D, H);
    for (let i = 0; i < B; i++) for (let j = 0; j < H; j++) h[i * H + j] = Math.tanh(h[i * H + j] + b1[j]);
    mm(h, W2, z, B, H, C);
    let loss = 0;
    for (let i = 0; i < B; i++) {
      let m = -Infinity;
      for (let j = 0; j < C; j++) {
        z[i * C + j] += b2[j];
        m = Math.max(m, z[i * C + j]);
      }
      let s = 0;
      for (let j = 0; j < C; j++) s += Math.exp(z[i * C + j] - m);
      const lse = m + Math.log(s);
      for (let j = 0; j < C; j++) {
        loss += Y[i * C + j] * (lse - z[i * C + j]);
        z[i * C + j] = (Math.exp(z[i * C + j] - lse) - Y[i * C + j]) / B; // z now holds dz
      }
    }
    grad.fill(0);
    for (let i = 0; i < B; i++)
      for (let t = 0; t < H; t++) {
        const ht = h[i * H + t];
        let dh = 0;
        for (let j = 0; j < C; j++) {
          gW2[t * C + j] += ht * z[i * C + j];
          dh += z[i * C + j] * W2[t * C + j];
        }
        da[i * H + t] = dh * (1 - ht * ht);
      }
    for (let i = 0; i < B; i++) for (let j = 0; j < C; j++) gb2[j] += z[i * C + j];
    for (let i = 0; i < B; i++)
      for (let t = 0; t < D; t++) {
        const x = X[i * D + t];
        for (let j = 0; j < H; j++) gW1[t * H + j] += x * da[i * H + j];
      }
    for (let i = 0; i < B; i++) for (let j = 0; j < H; j++) gb1[j] += da[i * H + j];
    return loss / B;
  };
}
