/**
 * `npx tsx bench/minimize.ts [backend]`: L-BFGS (history 10) with each gradient method on the
 * minimize test problems, in one run: why it stopped, iterations, gradient calls, the
 * f-evaluations inside them, the distance to the optimum, and the median wall time of a whole run.
 */
import { backend, minimize, type BackendName, type Method } from '../src/index.js';
import { breastCancer } from '../src/data/datasets.js';
import { regularisedLogistic, rosenbrock, type Model } from '../src/models/models.js';
import { medianUs } from './tiny.js';

const be = await backend(process.argv[2] as BackendName | undefined);
const problems: Model[] = [regularisedLogistic(breastCancer()), rosenbrock(2), rosenbrock(100)];
console.log(`backend ${be.name}; machine shared with other processes, times are indicative\n`);
console.log(
  '| problem | gradient | reason | iterations | gradient calls | f-evaluations | f | max abs gradient (reverse) | ms per run |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const m of problems) {
  const c = be.compile(m.f);
  const theta0 = c.flatten(m.params);
  const g = new Float64Array(c.paramCount);
  for (const gradient of ['reverse', 'fd-central', 'fd-forward'] as Method[]) {
    const run = () => minimize(c, theta0, m.inputs, { gradient, maxIterations: 5000 });
    const r = run();
    c.gradFlat(r.theta, m.inputs, g); // the true gradient at the result, by reverse mode
    const gmax = Math.max(...g.map(Math.abs));
    const ms = (await medianUs(run, 300)) / 1000;
    console.log(
      `| ${m.name} | ${gradient} | ${r.reason} | ${r.iterations} | ${r.evaluations} | ${r.fEvaluations.toLocaleString('en')} | ${r.value.toExponential(6)} | ${gmax.toExponential(1)} | ${ms.toFixed(1)} |`,
    );
  }
  c.dispose();
}
