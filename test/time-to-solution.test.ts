/**
 * The time-to-solution study (src/app/answer/time-to-solution.ts): correctness only, no timing
 * thresholds. On a tiny problem the study produces every field, reverse-mode L-BFGS reaches f*,
 * the counters count what they claim; a constructed inexact gradient makes runs stall and line
 * searches fail, and the study says so; the words come from the numbers; --quick runs through the CLI.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { backend, define, minimize } from '../src/index.js';
import { breastCancer, head } from '../src/data/datasets.js';
import { regularisedLogistic, type Model } from '../src/models/models.js';
import { lbfgs } from '../src/train/lbfgs.js';
import { timeToSolutionSpec } from '../src/app/answer/charts.js';
import { report, runAnswer, type AnswerResult } from '../src/app/answer/main.js';
import {
  chooseStep,
  onPlateau,
  PLATEAU_MIN_ITERATIONS,
  SOLVE_METHODS,
  solveRun,
  timeToSolution,
  TARGET_RTOL,
  unsupported,
  type SolveResult,
  type SolveRun,
} from '../src/app/answer/time-to-solution.js';
import { pace, solveAnswer, solveTable } from '../src/app/answer/time-to-solution-report.js';

const be = await backend('js');
const tiny: Model = regularisedLogistic(head(breastCancer(), 40), 1e-2);
const options = { runMs: 5000, totalMs: 60_000, referenceMs: 10_000, probeIterations: 50 };

/** sum(x^2) from x = 1: f* = 0 at x = 0 */
const square: Model = {
  name: 'sum of squares',
  f: define({ params: { x: [2] } }, ({ x }) => x.square().sum()),
  params: { x: Float64Array.of(1, -1) },
  inputs: {},
};
/**
 * fd-forward with relative step 1 on sum(x^2): (f(x + 1) - f(x)) / 1 = 2x + 1 per coordinate, 0 at x = -1/2:
 * a gradient that is wrong by a constant, so descent settles at f = 1/2, never at f* = 0.
 */
const biased = { method: 'fd-forward', eps: 1 } as const;

describe('time to solution on a tiny problem (js backend)', () => {
  const study = timeToSolution(be, options, () => {}, [{ key: 'tiny', build: () => tiny }]);
  const p = study.problems[0];
  const forwardWhy = (() => {
    const c = be.compile(tiny.f);
    try {
      return unsupported(c, c.flatten(tiny.params), tiny.inputs, 'forward');
    } finally {
      c.dispose();
    }
  })();

  it('runs every optimizer with every supported gradient method, and says which it skipped', () => {
    const methods = SOLVE_METHODS.filter((m) => m !== 'forward' || forwardWhy === undefined);
    expect(p.runs.map((r) => `${r.driver} ${r.method}`).sort()).toEqual(
      methods.flatMap((m) => [`lbfgs ${m}`, `gd ${m}`]).sort(),
    );
    expect(study.skipped.some((s) => s.method === 'forward')).toBe(forwardWhy !== undefined);
    expect(p.N).toBe(31);
    expect(p.target).toBe(p.fStar + TARGET_RTOL * (1 + Math.abs(p.fStar)));
    expect(p.gdStep.probes.at(-1)).toEqual({ lr: p.gdStep.lr, stable: true });
    for (const r of p.runs) {
      expect(r.total.iterations).toBeGreaterThan(0);
      expect(r.total.gradientCalls).toBeGreaterThanOrEqual(r.total.iterations);
      expect(r.gap).toBe(r.value - p.fStar);
      expect(r.bestGap).toBeLessThanOrEqual(r.gap);
      expect(Number.isFinite(r.finalGradNorm)).toBe(true);
      expect(r.trace.length).toBeGreaterThan(0);
      expect(r.trace.at(-1)![1]).toBe(r.value);
      expect(['reached', 'stalled', 'budget']).toContain(r.outcome);
      if (r.driver === 'gd') expect(r.step).toBe(p.gdStep.lr);
    }
  });

  it('reaches f* with reverse-mode L-BFGS, and stops there', () => {
    const rev = p.runs.find((r) => r.driver === 'lbfgs' && r.method === 'reverse')!;
    expect(rev.outcome).toBe('reached');
    expect(rev.value).toBeLessThanOrEqual(p.target);
    // the study stops a run at the target: the counters there are the run's last
    expect({ ...rev.atTarget, ms: 0 }).toEqual({ ...rev.total, ms: 0 });
    expect(rev.lineSearchFailures).toBe(0);
    // the reference run went further than the target, to rounding level
    expect(p.reference.gradNorm).toBeLessThan(1e-9);
  });

  it('writes the words and the table from these numbers', () => {
    const words = solveAnswer(study);
    const rev = p.runs.find((r) => r.driver === 'lbfgs' && r.method === 'reverse')!;
    expect(words[0]).toContain(`At N = 31 (tiny), L-BFGS with reverse-mode gradients reached f* in`);
    expect(words[0]).toContain(`${rev.atTarget!.fEvaluations} evaluations of f`);
    expect(solveTable(study)).toMatch(/tiny \(N = 31\)\s+L-BFGS\s+reverse\s+reached/);
  });

  it('draws f - f* against time, one series per optimizer and method, all on the log scale', () => {
    const spec = timeToSolutionSpec(study, 'test') as { data: { values: { layer: string; gap: number }[] } };
    const values = spec.data.values;
    expect(values.filter((v) => v.layer === 'target')).toHaveLength(1);
    expect(values.every((v) => v.gap > 0)).toBe(true);
    expect(values.filter((v) => v.layer === 'run')).toHaveLength(p.runs.reduce((s, r) => s + r.trace.length, 0));
  });
});

describe('the counters', () => {
  it('gradient calls, f-evaluations and iterations are what the run did', () => {
    const c = be.compile(tiny.f);
    try {
      const theta = c.flatten(tiny.params);
      const spy = vi.spyOn(c, 'gradFlat');
      let iterations = 0;
      // the fStar given is unreachable, so the run ends at its budget of iterations' time
      const { run, result } = solveRun(c, theta, tiny.inputs, -1, {
        driver: 'lbfgs',
        method: 'fd-forward',
        budgetMs: 0,
      });
      iterations = result.history.length;
      // every gradient call of minimize, then one reverse gradient at the end
      expect(spy).toHaveBeenCalledTimes(run.total.gradientCalls + 1);
      expect(spy.mock.calls.at(-1)![3]).toBeUndefined();
      expect(spy.mock.calls.slice(0, -1).every((call) => call[3]?.method === 'fd-forward')).toBe(true);
      expect(run.total.iterations).toBe(iterations);
      expect(run.total.iterations).toBe(1); // budget 0: one iteration, then stop
      expect(run.total.fEvaluations).toBe(run.total.gradientCalls * (c.paramCount + 1));
      expect(run.total.evalEquivalents).toBeCloseTo(run.total.gradientCalls * c.cost('fd-forward').relative, 9);
      expect(run.outcome).toBe('budget');
      spy.mockRestore();
    } finally {
      c.dispose();
    }
  });

  it('minimize counts failed line searches: each retry along -g, and the last', () => {
    const c = be.compile(square.f);
    try {
      const x0 = c.flatten(square.params);
      const ok = minimize(c, x0, undefined, { optimizer: lbfgs(), gtol: 1e-12 });
      expect(ok.lineSearchFailures).toBe(0);
      const bad = minimize(c, x0, undefined, { optimizer: lbfgs(), gradient: biased, gtol: 0, ftol: 0 });
      expect(bad.reason).toBe('line-search');
      expect(bad.lineSearchFailures).toBeGreaterThanOrEqual(1);
    } finally {
      c.dispose();
    }
  });
});

describe('stall detection', () => {
  it('onPlateau: flat values are a plateau, steady geometric progress is not', () => {
    const n = 2 * PLATEAU_MIN_ITERATIONS;
    const flat = Float64Array.from({ length: n }, (_, i) => 1 + (i < 5 ? 5 - i : 0));
    const geometric = Float64Array.from({ length: n }, (_, i) => 0.99 ** i);
    expect(onPlateau(flat, n, 0)).toBe(true);
    expect(onPlateau(geometric, n, 0)).toBe(false);
    expect(onPlateau(flat, PLATEAU_MIN_ITERATIONS - 1, 0)).toBe(false); // too early to judge
  });

  it('a run on a biased gradient stalls, with its distance from f*', () => {
    const c = be.compile(square.f);
    try {
      const x0 = c.flatten(square.params);
      const gd = solveRun(c, x0, {}, 0, { driver: 'gd', ...biased, step: 0.25, budgetMs: 10_000 }).run;
      expect(gd.outcome).toBe('stalled');
      expect(gd.stallReason).toBe('plateau');
      expect(gd.gap).toBeCloseTo(0.5, 6); // x = (-1/2, -1/2)
      expect(gd.finalGradNorm).toBeCloseTo(1, 6); // the true gradient 2x there
    } finally {
      c.dispose();
    }
  });

  it('a run on a biased gradient with L-BFGS stalls on its line search', () => {
    const c = be.compile(square.f);
    try {
      const x0 = c.flatten(square.params);
      const r = solveRun(c, x0, {}, 0, { driver: 'lbfgs', ...biased, budgetMs: 10_000 }).run;
      expect(r.outcome).toBe('stalled');
      expect(r.stallReason).toBe('line-search');
      expect(r.lineSearchFailures).toBeGreaterThanOrEqual(1);
      expect(r.gap).toBeGreaterThan(0.1);
    } finally {
      c.dispose();
    }
  });

  it('the step rule picks the largest step whose probe decreases f at every step', () => {
    const c = be.compile(square.f);
    try {
      // on sum(x^2) a step lr maps x to (1 - 2 lr) x: f decreases for lr < 1, but lr = 1/2 lands on
      // the minimum at once and then cannot decrease (nor, with gradient 0, continue)
      const { lr, probes } = chooseStep(c, c.flatten(square.params), {}, 20);
      expect(lr).toBe(0.25);
      expect(probes.filter((p) => !p.stable).map((p) => p.lr)).toEqual([64, 32, 16, 8, 4, 2, 1, 0.5]);
    } finally {
      c.dispose();
    }
  });
});

/** A SolveResult of hand-made numbers, for the words. */
function handMade(fd: Partial<SolveRun>): SolveResult {
  const progress = (ms: number, iterations: number, calls: number, per: number) => ({
    ms,
    iterations,
    gradientCalls: calls,
    fEvaluations: calls * per,
    evalEquivalents: calls * per,
  });
  const base = { lineSearchFailures: 0, finalGradNorm: 1e-6, trace: [[1, 1] as const], budgetMs: 1000 };
  const rev: SolveRun = {
    ...base,
    driver: 'lbfgs',
    method: 'reverse',
    outcome: 'reached',
    reason: 'callback',
    atTarget: progress(12, 100, 110, 1),
    total: progress(12, 100, 110, 1),
    value: 1,
    gap: 1e-9,
    bestGap: 1e-9,
  };
  const other: SolveRun = {
    ...base,
    driver: 'lbfgs',
    method: 'fd-central',
    outcome: 'reached',
    reason: 'callback',
    atTarget: progress(3400, 101, 111, 1301),
    total: progress(3400, 101, 111, 1301),
    value: 1,
    gap: 1e-9,
    bestGap: 1e-9,
    ...fd,
  };
  return {
    backend: 'native',
    options,
    targetRtol: TARGET_RTOL,
    lambda: 1e-3,
    problems: [
      {
        key: 'softmax-l2',
        name: 'x',
        N: 650,
        fStar: 1,
        target: 1 + 2e-8,
        reference: { reason: 'line-search', iterations: 300, ms: 100, gradNorm: 1e-10 },
        gdStep: { lr: 2, probes: [] },
        runs: [rev, other],
      },
    ],
    skipped: [],
    seconds: 1,
  };
}

describe('the words', () => {
  it('say when finite differences converged as fast per iteration', () => {
    const r = handMade({});
    expect(pace(r.problems[0].runs[1], r.problems[0].runs[0])).toBe('same');
    const [s] = solveAnswer(r);
    expect(s).toBe(
      'At N = 650 (softmax-l2), L-BFGS with reverse-mode gradients reached f* in 12.0 ms and 110 evaluations of f, each with its ' +
        'backward sweep (100 iterations); with fd-central it took 3.40 s and 144,411 evaluations of f (101 iterations). Per iteration, ' +
        'fd-central kept pace with reverse mode (fd-central 101 iterations to f* against 100): there the difference is the cost of ' +
        'each gradient, not its accuracy.',
    );
  });

  it('say where a run stalled, and mark an extrapolation', () => {
    const stalled = handMade({
      outcome: 'stalled',
      stallReason: 'line-search',
      reason: 'line-search',
      atTarget: undefined,
      gap: 3.2e-7,
      lineSearchFailures: 2,
      sameIterations: { iterations: 60, gap: 3.2e-7, reverseGap: 1e-6 },
    });
    const words = solveAnswer(stalled).join('\n');
    expect(words).toContain(
      'with fd-central it stopped at 3.2e-7 above f* after 3.40 s and 101 iterations (the line search',
    );
    expect(words).toContain('Failed L-BFGS line searches: fd-central 2 at N = 650.');
    const budget = handMade({
      outcome: 'budget',
      atTarget: undefined,
      gap: 1e-3,
      projectedMs: 50_000,
      sameIterations: { iterations: 101, gap: 1e-3, reverseGap: 1e-9 },
    });
    const w = solveAnswer(budget)[0];
    expect(w).toContain(
      'would need about 50.0 s for the 110 gradients reverse mode needed (extrapolated, not measured)',
    );
    expect(w).toContain('fd-central fell behind reverse mode');
  });
});

describe('runAnswer with the study', () => {
  it('writes its numbers, its words and its chart beside the others', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tapegrad-answer-tts-'));
    const tinySweep = { budgetMs: 2, fd: { budgetMs: 2, sampleMs: 2, fullLimitMs: 5, seed: 1 } };
    const r = await runAnswer(
      {
        out,
        backends: ['js'],
        models: ['seed'],
        sweep: tinySweep,
        fashionRows: 10,
        charts: true,
        timeToSolution: {
          problems: ['logistic-l2'],
          runMs: 100,
          totalMs: 5000,
          referenceMs: 2000,
          probeIterations: 50,
        },
      },
      () => {},
    );
    const json = JSON.parse(readFileSync(join(out, 'answer.json'), 'utf8')) as AnswerResult;
    expect(json.timeToSolution!.problems[0].runs.length).toBeGreaterThanOrEqual(6);
    expect(json.optimisation).toEqual(solveAnswer(json.timeToSolution!));
    expect(json.charts).toContain(join(out, 'time-to-solution.svg'));
    expect(readFileSync(join(out, 'time-to-solution.svg'), 'utf8')).toContain('Time to solution');
    expect(report(r)).toContain('Optimisation:\n- At N = 31 (logistic-l2)');
  });
});

describe('tapegrad answer --quick (the CLI)', () => {
  const CLI = fileURLToPath(new URL('../src/app/cli.ts', import.meta.url));
  const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const run = (...args: string[]) => {
    const cwd = mkdtempSync(join(tmpdir(), 'tapegrad-tts-'));
    const r = spawnSync(process.execPath, ['--import', TSX, CLI, 'answer', ...args], {
      cwd,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { ...r, cwd };
  };
  const quick = ['--quick', '--models', 'seed', '--backends', 'js', '--no-charts', '--budget-ms', '5'];

  it('runs the study and writes its numbers and words to answer.json', () => {
    const r = run(...quick, '--tts-problems', 'logistic-l2', '--tts-run-ms', '300', '--tts-optimizers', 'lbfgs');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Time to solution on the js backend/);
    expect(r.stdout).toMatch(/Optimisation:\n- At N = 31 \(logistic-l2\), L-BFGS with reverse-mode gradients/);
    const a = JSON.parse(readFileSync(join(r.cwd, 'tapegrad-results', 'answer.json'), 'utf8'));
    expect(a.timeToSolution.problems.map((p: { key: string }) => p.key)).toEqual(['logistic-l2']);
    expect(a.timeToSolution.options.runMs).toBe(300);
    const runs = a.timeToSolution.problems[0].runs as SolveRun[];
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.every((x) => x.driver === 'lbfgs')).toBe(true);
    expect(a.optimisation.length).toBeGreaterThan(0);
    expect(a.definitions.timeToSolution).toMatch(/f\* \+ 1e-8 \(1 \+ \|f\*\|\)/);
  });

  it('--no-tts skips it; an unknown problem or optimizer is an error naming the choices', () => {
    const r = run(...quick, '--no-tts');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/Time to solution/);
    const a = JSON.parse(readFileSync(join(r.cwd, 'tapegrad-results', 'answer.json'), 'utf8'));
    expect(a.timeToSolution).toBeUndefined();
    const bad = run(...quick, '--tts-problems', 'nope');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(
      /unknown time-to-solution problem 'nope' \(expected logistic-l2, softmax-l2, mlp-16-l2\)/,
    );
    expect(run(...quick, '--tts-optimizers', 'newton').stderr).toMatch(
      /unknown time-to-solution optimizer 'newton' \(expected lbfgs, gd\)/,
    );
  });
});
