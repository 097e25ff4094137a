import { describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';
import { breastCancer, digits, head } from '../src/data/datasets.js';
import { logistic, mlp, seed, softmaxRegression, type Model } from '../src/models/models.js';
import { explain, formatExplain } from '../src/app/answer/explain.js';
import { builtin } from '../src/app/answer/catalog.js';

const models: [string, () => Model][] = [
  ['seed', () => seed(100)],
  ['logistic', () => logistic(head(breastCancer(), 40))],
  ['softmax', () => softmaxRegression(head(digits(), 30))],
  ['mlp', () => mlp(head(digits(), 30), 8)],
];

describe('explain', () => {
  for (const [name, build] of models) {
    it(`${name}: the totals summed from the listed instructions equal the cost model's`, async () => {
      const c = (await backend('js')).compile(build().f);
      const e = explain(c);
      const t = e.totals;
      expect(t.value).toBe(c.cost('value').flops);
      expect(t.reverse).toBe(c.cost('reverse').flops);
      expect(t.fdForward).toBe(c.cost('fd-forward').flops);
      expect(t.fdForwardNaive).toBe(c.cost('fd-forward', { reuse: false }).flops);
      expect(t.fdCentral).toBe(c.cost('fd-central').flops);
      expect(t.fdCentralNaive).toBe(c.cost('fd-central', { reuse: false }).flops);
      expect(t.forward).toBe(c.cost('forward').flops);
      expect(e.forward).toHaveLength(c.defined.tape.nInstr);
      expect(e.fd.reduce((s, g) => s + g.coordinates, 0)).toBe(c.paramCount);
      c.dispose();
    });
  }

  it('prints the seed example instruction by instruction, with operand names and totals', async () => {
    const c = (await backend('js')).compile(builtin('seed').f);
    const text = formatExplain('seed', c);
    expect(text).toMatch(/N = 2 parameters \(a \[\], b \[\]\), inputs x \[1000\]/);
    expect(text).toMatch(/t\d+ = sigmoid\(t\d+\)  \[1000\]\s+4,000/);
    expect(text).toMatch(/sum\(t\d+\)  \[\]/);
    expect(text).toMatch(/value\s+[\d,]+ FLOPs\s+=\s+1\.00 x one evaluation/);
    expect(text).toMatch(/fd-central naive {2}\(2N\+1 evaluations\)\s+[\d,]+ FLOPs\s+=\s+5\.00 x one evaluation/);
    c.dispose();
  });

  it('names the built-in models in its error', () => {
    expect(() => builtin('nope')).toThrow(
      /unknown model 'nope' \(built-in models: seed, logistic, softmax, mlp-16,.*fashion-mlp\)/,
    );
  });
});
