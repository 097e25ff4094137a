/**
 * matmul shapes that take the native kernels' large-shape paths (k_matmul.h), on every backend
 * against the js reference: B's columns past a page apart (n >= 512), whose panels the forward
 * product and A^T dC copy into contiguous scratch, the last panel narrower than a tile; dC B^T,
 * which packs B^T's panels straight from B; A^T dC with A's rows past a page apart (k >= 512)
 * and at least 256 columns, whose A it transposes first; backward blocks of 1,024 steps. The
 * forward product must stay the reference's bits: finite differences over one scalar that
 * scales A compare it (a changed rounding anywhere in C, divided by h, shows far above their
 * 1e-9 agreement). The reverse gradients agree to 1e-12. These shapes have too many parameters
 * for expectAD's finite-difference check, so they are compared here directly.
 */
import { it } from 'vitest';
import { define, type Backend } from '../src/index.js';
import { AGREEMENT } from '../src/crosscheck.js';
import { describeEachBackend, expectClose, expectVector, random } from './harness.js';

interface Shape {
  readonly name: string;
  readonly m: number;
  readonly k: number;
  readonly n: number;
}
// Native cuts a product into pieces of rows (k_parallel.h) on more than one thread, and a piece
// packs B's panels only from 32 rows up: the shapes are chosen so that packed and in-place pieces
// occur at the default thread count (test/threads.test.ts compares 1, 2 and 3 threads).
const SHAPES: Shape[] = [
  // forward and dC B^T in pieces of 32 rows (the last one 8, in place); the last panel 2 columns
  { name: 'B packed in panels, the last one 2 columns wide: [40,8] x [8,530]', m: 40, k: 8, n: 530 },
  // A^T dC in pieces of 16 rows of dB, each transposing its columns of A, the last piece 3 rows
  {
    name: 'A transposed for A^T dC (k = 515, pieces of 16 rows of dB and 3): [33,515] x [515,264]',
    m: 33,
    k: 515,
    n: 264,
  },
  {
    name: 'A^T dC over 1,030 rows of A (two backward blocks), dC packed: [1030,33] x [33,520]',
    m: 1030,
    k: 33,
    n: 520,
  },
  { name: 'dC B^T over 1,030 columns (two backward blocks): [9,13] x [13,1030]', m: 9, k: 13, n: 1030 },
];

const js = async (be: () => Backend) => (await import('../src/index.js')).backend('js').then((b) => [be(), b]);

describeEachBackend('matmul on large-shape kernel paths', (be) => {
  for (const { name, m, k, n } of SHAPES) {
    const A = random(m * k, m + 1),
      B = random(k * n, k + 2),
      W = random(m * n, n + 3);
    it(`${name}: reverse gradient and value`, async () => {
      const f = define({ params: { A: [m, k], B: [k, n] }, inputs: { W: [m, n] } }, (p, i) =>
        p.A.matmul(p.B).mul(i.W).sum(),
      );
      const [b, ref] = await js(be);
      const c = b.compile(f),
        r = ref.compile(f);
      try {
        const got = c.grad({ A, B }, { W }, { method: 'reverse' }),
          want = r.grad({ A, B }, { W }, { method: 'reverse' });
        expectClose(got.value, want.value, AGREEMENT.reverse, 'value');
        expectVector(c.flatten(got.grad), r.flatten(want.grad), AGREEMENT.reverse, 'reverse gradient');
      } finally {
        c.dispose();
        r.dispose();
      }
    });
    it(`${name}: the forward product's bits (finite differences over a scale of A)`, async () => {
      const f = define({ params: { s: [] }, inputs: { A: [m, k], B: [k, n], W: [m, n] } }, (p, i) =>
        i.A.mul(p.s).matmul(i.B).mul(i.W).sum(),
      );
      const [b, ref] = await js(be);
      const c = b.compile(f),
        r = ref.compile(f);
      try {
        for (const method of ['fd-forward', 'fd-central'] as const) {
          const got = c.grad({ s: 1.25 }, { A, B, W }, { method }),
            want = r.grad({ s: 1.25 }, { A, B, W }, { method });
          expectVector(c.flatten(got.grad), r.flatten(want.grad), AGREEMENT[method], method);
        }
      } finally {
        c.dispose();
        r.dispose();
      }
    });
  }
});
