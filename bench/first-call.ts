/**
 * The cost of a new size of a symbolic dimension: the first call at a batch size nobody used
 * before traces the function again, compiles the tape and loads it into the backend. Prints the
 * median of each part over 15 new sizes, per backend, for the 784-128-10 MLP of `tapegrad train`.
 * Usage: npm run bench:first-call [-- BATCH]   (default 64)
 */
import { backend, backends } from '../src/index.js';
import { classifier } from '../src/app/train.js';

const base = Number(process.argv[2] ?? 64);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const name of await backends()) {
  const engine = (await backend(name)).compile(classifier(784, 10, 'mlp', 128)).engine;
  const f = classifier(784, 10, 'mlp', 128); // a fresh function per backend: nothing cached
  const parts: [number, number, number][] = [];
  for (let k = 0; k < 15; k++) {
    let t = performance.now();
    const d = f.at({ batch: base + k });
    const trace = performance.now() - t;
    t = performance.now();
    const tape = d.tape;
    const compile = performance.now() - t;
    t = performance.now();
    engine.load(tape).dispose();
    parts.push([trace, compile, performance.now() - t]);
  }
  const [trace, compile, load] = [0, 1, 2].map((i) => median(parts.map((p) => p[i])).toFixed(2));
  console.log(
    `${name}: batch ${base}..${base + 14}: trace ${trace} ms, compile ${compile} ms, load ${load} ms (medians of 15 new sizes)`,
  );
}
