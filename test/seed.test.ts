import { it } from 'vitest';
import { define } from '../src/index.js';
import { describeEachBackend, expectAD, random } from './harness.js';

describeEachBackend('seed example b*sigmoid(a*x) summed', (be) => {
  it('matches the closed form', async () => {
    const x = random(1000, 7, -3, 3);
    const [a, b] = [0.7, -1.3];
    const f = define({ params: { a: [], b: [] }, inputs: { x: [1000] } }, (p, i) => p.b.mul(p.a.mul(i.x).sigmoid()).sum());
    let value = 0, da = 0, db = 0;
    for (const xi of x) {
      const s = 1 / (1 + Math.exp(-a * xi));
      value += b * s; da += b * xi * s * (1 - s); db += s;
    }
    await expectAD(be(), f, { a, b }, { x }, { value, grad: { a: [da], b: [db] } });
  });
});
