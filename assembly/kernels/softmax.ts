/**
 * softmax_xent: per row r of logits z [rows, c] and labels y, loss_r = sum_j y_j (lse_r - z_j) with
 * lse_r = logsumexp(z_r); the softmax p is saved in the extra region for the backward rule.
 * Forward in the reference's order (exp two lanes at a time, the sums sequential), so values are
 * bit-identical; IEEE NaN/Inf, no special cases. lse_r - z_j is computed as (m - z_j) + log(s),
 * m the row's max: adding m first would carry lse's rounding (an ulp of |m|) into the loss.
 */
import { exp, log } from '../math';
import { expRare, vexp } from '../vmath';

function rowMax(z: usize, c: i32): f64 {
  let m = -Infinity;
  const end = z + (<usize>c << 3);
  for (let p = z; p < end; p += 8) {
    const x = load<f64>(p);
    if (x > m) m = x;
  }
  return m;
}

/** sum_j exp(z_j - m), in order; writes the exps to e when e != 0; redone in scalar if a lane was rare */
function sumExp(z: usize, e: usize, c: i32, m: f64): f64 {
  const bytes = <usize>c << 3;
  const mv = f64x2.splat(m);
  let s: f64 = 0;
  let rare = i64x2.splat(0);
  let j: usize = 0;
  for (; j + 16 <= bytes; j += 16) {
    const d = f64x2.sub(v128.load(z + j), mv);
    rare = v128.or(rare, expRare(d));
    const x = vexp(d);
    if (e) v128.store(e + j, x);
    s += f64x2.extract_lane(x, 0);
    s += f64x2.extract_lane(x, 1);
  }
  if (v128.any_true(rare)) {
    s = 0;
    j = 0;
  }
  for (; j < bytes; j += 8) {
    const x = exp(load<f64>(z + j) - m);
    if (e) store<f64>(e + j, x);
    s += x;
  }
  return s;
}

export function softmaxXentFwd(o: usize, a: usize, b: usize, probs: usize, rows: i32, c: i32): void {
  const bytes = <usize>c << 3;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * bytes;
    const z = a + off, y = b + off, p = probs + off;
    const m = rowMax(z, c);
    const s = sumExp(z, p, c, m);
    const ls = log(s);
    const sv = f64x2.splat(s);
    let loss: f64 = 0;
    let j: usize = 0;
    for (; j + 16 <= bytes; j += 16) v128.store(p + j, f64x2.div(v128.load(p + j), sv));
    if (j < bytes) store<f64>(p + j, load<f64>(p + j) / s);
    for (j = 0; j < bytes; j += 8) loss += load<f64>(y + j) * ((m - load<f64>(z + j)) + ls);
    store<f64>(o + (<usize>r << 3), loss);
  }
}

/** d/dz = dy (p * sum_j y_j - y); d/dy = dy (lse - z), lse - z recomputed as in the forward rule */
export function softmaxXentBwd(flags: i32, go: usize, ga: usize, gb: usize, va: usize, vb: usize, probs: usize, rows: i32, c: i32): void {
  const bytes = <usize>c << 3;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * bytes;
    const z = va + off, y = vb + off, p = probs + off;
    const dy = load<f64>(go + (<usize>r << 3));
    if (flags & 1) {
      let sy: f64 = 0;
      for (let j: usize = 0; j < bytes; j += 8) sy += load<f64>(y + j);
      const gz = ga + off;
      const dv = f64x2.splat(dy), syv = f64x2.splat(sy);
      let j: usize = 0;
      for (; j + 16 <= bytes; j += 16) {
        const d = f64x2.mul(dv, f64x2.sub(f64x2.mul(v128.load(p + j), syv), v128.load(y + j)));
        v128.store(gz + j, f64x2.add(v128.load(gz + j), d));
      }
      if (j < bytes) store<f64>(gz + j, load<f64>(gz + j) + dy * (load<f64>(p + j) * sy - load<f64>(y + j)));
    }
    if (flags & 2) {
      const m = rowMax(z, c);
      const ls = log(sumExp(z, 0, c, m));
      const gy = gb + off;
      for (let j: usize = 0; j < bytes; j += 8) store<f64>(gy + j, load<f64>(gy + j) + dy * ((m - load<f64>(z + j)) + ls));
    }
  }
}
