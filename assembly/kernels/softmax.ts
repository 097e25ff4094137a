/**
 * softmax_xent: per row r of logits z [rows, c] and labels y, loss_r = sum_j y_j (lse_r - z_j) with
 * lse_r = logsumexp(z_r); the softmax p is saved in the extra region for the backward rule.
 * Forward in the reference's order (exp two lanes at a time, the sums sequential), so values are
 * bit-identical; IEEE NaN/Inf, no special cases. lse_r - z_j is computed as (m - z_j) + log(s),
 * m the row's max: adding m first would carry lse's rounding (an ulp of |m|) into the loss.
 */
import { ld, st, vld, vst } from '../elem';
import { exp, log } from '../math';
import { expRare, vexp } from '../vmath';

function rowMax<T>(z: usize, c: i32): f64 {
  let m = -Infinity;
  const end = z + (<usize>c << alignof<T>());
  for (let p = z; p < end; p += sizeof<T>()) {
    const x = ld<T>(p);
    if (x > m) m = x;
  }
  return m;
}

/** sum_j exp(z_j - m), in order; writes the exps to e when e != 0; redone in scalar if a lane was rare */
function sumExp<T>(z: usize, e: usize, c: i32, m: f64): f64 {
  const bytes = <usize>c << alignof<T>();
  const mv = f64x2.splat(m);
  let s: f64 = 0;
  let rare = i64x2.splat(0);
  let j: usize = 0;
  for (; j + (sizeof<T>() << 1) <= bytes; j += (sizeof<T>() << 1)) {
    const d = f64x2.sub(vld<T>(z + j), mv);
    rare = v128.or(rare, expRare(d));
    const x = vexp(d);
    if (e) vst<T>(e + j, x);
    s += f64x2.extract_lane(x, 0);
    s += f64x2.extract_lane(x, 1);
  }
  if (v128.any_true(rare)) {
    s = 0;
    j = 0;
  }
  for (; j < bytes; j += sizeof<T>()) {
    const x = exp(ld<T>(z + j) - m);
    if (e) st<T>(e + j, x);
    s += x;
  }
  return s;
}

export function softmaxXentFwd<T>(o: usize, a: usize, b: usize, probs: usize, rows: i32, c: i32): void {
  const bytes = <usize>c << alignof<T>();
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * bytes;
    const z = a + off, y = b + off, p = probs + off;
    const m = rowMax<T>(z, c);
    const s = sumExp<T>(z, p, c, m);
    const ls = log(s);
    const sv = f64x2.splat(s);
    let loss: f64 = 0;
    let j: usize = 0;
    for (; j + (sizeof<T>() << 1) <= bytes; j += (sizeof<T>() << 1)) vst<T>(p + j, f64x2.div(vld<T>(p + j), sv));
    if (j < bytes) st<T>(p + j, ld<T>(p + j) / s);
    for (j = 0; j < bytes; j += sizeof<T>()) loss += ld<T>(y + j) * ((m - ld<T>(z + j)) + ls);
    st<T>(o + (<usize>r << alignof<T>()), loss);
  }
}

/** d/dz = dy (p * sum_j y_j - y); d/dy = dy (lse - z), lse - z recomputed as in the forward rule */
export function softmaxXentBwd<T>(flags: i32, go: usize, ga: usize, gb: usize, va: usize, vb: usize, probs: usize, rows: i32, c: i32): void {
  const bytes = <usize>c << alignof<T>();
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * bytes;
    const z = va + off, y = vb + off, p = probs + off;
    const dy = ld<T>(go + (<usize>r << alignof<T>()));
    if (flags & 1) {
      let sy: f64 = 0;
      for (let j: usize = 0; j < bytes; j += sizeof<T>()) sy += ld<T>(y + j);
      const gz = ga + off;
      const dv = f64x2.splat(dy), syv = f64x2.splat(sy);
      let j: usize = 0;
      for (; j + (sizeof<T>() << 1) <= bytes; j += (sizeof<T>() << 1)) {
        const d = f64x2.mul(dv, f64x2.sub(f64x2.mul(vld<T>(p + j), syv), vld<T>(y + j)));
        vst<T>(gz + j, f64x2.add(vld<T>(gz + j), d));
      }
      if (j < bytes) st<T>(gz + j, ld<T>(gz + j) + dy * (ld<T>(p + j) * sy - ld<T>(y + j)));
    }
    if (flags & 2) {
      const m = rowMax<T>(z, c);
      const ls = log(sumExp<T>(z, 0, c, m));
      const gy = gb + off;
      for (let j: usize = 0; j < bytes; j += sizeof<T>()) st<T>(gy + j, ld<T>(gy + j) + dy * ((m - ld<T>(z + j)) + ls));
    }
  }
}
