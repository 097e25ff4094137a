import { it } from 'vitest';
import { backend, define } from '../src/index.js';
it('x', async () => {
  const x = 3.0523143206562425e-224;
  for (const name of ['js', 'wasm', 'native'] as const) {
    const be = await backend(name);
    const a = be.compile(define({ params: { p: [] } }, (p) => p.p.log1p().sub(p.p))).value({ p: x });
    const f = be.compile(define({ params: { p0: [1, 4] } }, (p) => p.p0.log1p().sub(p.p0.transpose()).sum()));
    console.log(name, a, f.value({ p0: [0, 0, 0, x] }), f.grad({ p0: [0, 0, 0, x] }).value);
  }
});
