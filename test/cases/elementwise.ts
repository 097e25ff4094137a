import { define, type Tensor } from '../../src/index.js';
import { random } from '../harness.js';
import type { Case } from './case.js';

type Unary = (x: Tensor) => Tensor;
interface UnarySpec {
  readonly op: string;
  readonly apply: Unary;
  /** independent oracles: value and derivative */
  readonly value: (x: number) => number;
  readonly deriv: (x: number) => number;
  /** domain of the ordinary values */
  readonly lo: number;
  readonly hi: number;
}

const sig = (x: number) => 1 / (1 + Math.exp(-x));
/**
 * erf by the series 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1 3 5 ... (2n+1)) (all terms
 * positive, no cancellation): an oracle independent of the fdlibm port, for |x| <= 6; ±1 beyond.
 */
function erfSeries(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) > 6) return Math.sign(x);
  let term = x,
    sum = x;
  for (let n = 1; n < 400 && Math.abs(term) > 1e-18 * Math.abs(sum); n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}
const phi = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
const gelu = (x: number) => 0.5 * x * (1 + erfSeries(x / Math.SQRT2));
/** the derivative of gelu, Phi(x) + x phi(x), with x phi(x) = 0 where phi underflows (x finite) */
const geluDeriv = (x: number) => 0.5 * (1 + erfSeries(x / Math.SQRT2)) + x * phi(x);
const UNARY: readonly UnarySpec[] = [
  { op: 'neg', apply: (x) => x.neg(), value: (x) => -x, deriv: () => -1, lo: -5, hi: 5 },
  { op: 'exp', apply: (x) => x.exp(), value: Math.exp, deriv: Math.exp, lo: -5, hi: 5 },
  { op: 'log', apply: (x) => x.log(), value: Math.log, deriv: (x) => 1 / x, lo: 0.05, hi: 20 },
  { op: 'log1p', apply: (x) => x.log1p(), value: Math.log1p, deriv: (x) => 1 / (1 + x), lo: -0.9, hi: 20 },
  { op: 'sqrt', apply: (x) => x.sqrt(), value: Math.sqrt, deriv: (x) => 0.5 / Math.sqrt(x), lo: 0.05, hi: 20 },
  { op: 'square', apply: (x) => x.square(), value: (x) => x * x, deriv: (x) => 2 * x, lo: -5, hi: 5 },
  { op: 'abs', apply: (x) => x.abs(), value: Math.abs, deriv: Math.sign, lo: -5, hi: 5 },
  { op: 'sigmoid', apply: (x) => x.sigmoid(), value: sig, deriv: (x) => sig(x) * (1 - sig(x)), lo: -8, hi: 8 },
  { op: 'tanh', apply: (x) => x.tanh(), value: Math.tanh, deriv: (x) => 1 - Math.tanh(x) ** 2, lo: -4, hi: 4 },
  { op: 'relu', apply: (x) => x.relu(), value: (x) => (x < 0 ? 0 : x), deriv: (x) => (x > 0 ? 1 : 0), lo: -5, hi: 5 },
  {
    op: 'softplus',
    apply: (x) => x.softplus(),
    value: (x) => (x > 0 ? x : 0) + Math.log1p(Math.exp(-Math.abs(x))),
    deriv: sig,
    lo: -30,
    hi: 30,
  },
  { op: 'sin', apply: (x) => x.sin(), value: Math.sin, deriv: Math.cos, lo: -10, hi: 10 },
  { op: 'cos', apply: (x) => x.cos(), value: Math.cos, deriv: (x) => -Math.sin(x), lo: -10, hi: 10 },
  {
    op: 'erf',
    apply: (x) => x.erf(),
    value: erfSeries,
    deriv: (x) => (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x),
    lo: -4,
    hi: 4,
  },
  { op: 'gelu', apply: (x) => x.gelu(), value: gelu, deriv: geluDeriv, lo: -5, hi: 5 },
  // piecewise constant: no gradient flows through it (0 everywhere, as documented)
  { op: 'sign', apply: (x) => x.sign(), value: Math.sign, deriv: () => 0, lo: -5, hi: 5 },
  {
    op: 'clamp(-1, 1)',
    apply: (x) => x.clamp(-1, 1),
    value: (x) => Math.min(Math.max(x, -1), 1),
    // 1 inside and at the bounds (as PyTorch), 0 outside and at NaN
    deriv: (x) => (x >= -1 && x <= 1 ? 1 : 0),
    lo: -3,
    hi: 3,
  },
  ...[2, 3, 0.5, -1, 2.5, 0].map((p): UnarySpec => ({
    op: `pow ${p}`,
    apply: (x) => x.pow(p),
    value: (x) => x ** p,
    deriv: (x) => (p === 0 ? 0 : p * x ** (p - 1)),
    lo: 0.1,
    hi: 4,
  })),
];

/** IEEE edge values: each op must give what Math gives, and the documented derivative. */
const EDGES = [0, -0, 1, -1, 0.5, 1e-300, -1e-300, 5e-324, 1e300, -1e300, 710, -745, Infinity, -Infinity, NaN];
const N = 64;

export const ELEMENTWISE: Case[] = UNARY.flatMap((u): Case[] => {
  const x = random(N, u.op.length * 7919, u.lo, u.hi);
  const w = random(N, 17, 0.5, 1.5);
  let value = 0;
  const grad = new Float64Array(N);
  x.forEach((xi, i) => {
    value += w[i] * u.value(xi);
    grad[i] = w[i] * u.deriv(xi);
  });
  const weighted: Case = {
    name: `${u.op}: sum_i w_i op(x_i) over [${u.lo}, ${u.hi}]`,
    f: () => define({ params: { x: [N] }, inputs: { w: [N] } }, (p, i) => u.apply(p.x).mul(i.w).sum()),
    params: { x },
    inputs: { w },
    oracle: { value, grad: { x: grad } },
  };
  const edges = EDGES.map((e): Case => ({
    name: `${u.op}: edge value ${Object.is(e, -0) ? '-0' : e}`,
    f: () => define({ params: { x: [] } }, (p) => u.apply(p.x)),
    params: { x: e },
    // finite differences mean nothing across a kink, an overflow or a NaN: exact oracle only
    oracle: { value: u.value(e), grad: { x: [u.deriv(e)] }, fdTol: 0 },
  }));
  return [weighted, ...edges];
});
