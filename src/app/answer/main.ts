/**
 * `tapegrad answer` (npm start): runs the sweep on every backend that loads here, the accuracy
 * study, prints the table and the answer, and writes the JSON and the SVG charts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, platform, arch, totalmem, loadavg } from 'node:os';
import { join } from 'node:path';
import { backend, backends } from '../../backends/registry.js';
import type { BackendName } from '../../backends/types.js';
import { breastCancer } from '../../data/datasets.js';
import { logistic, seed } from '../../models/models.js';
import { accuracyStudy, logisticGradient, seedGradient, type AccuracyResult } from './accuracy.js';
import { catalog, FASHION_MISSING } from './catalog.js';
import { errorVsStepSpec, ratioVsNSpec, renderSvg, timeToSolutionSpec, timeVsNSpec, type Spec } from './charts.js';
import { VARIANTS } from './fd-timing.js';
import { answer, cell, formatInt, formatMs, formatRatio, table } from './report.js';
import { referenceGradient, sweepModel, type Row, type SweepOptions } from './sweep.js';
import { SOLVE_DEFAULTS, timeToSolution, type SolveOptions, type SolveResult } from './time-to-solution.js';
import { solveAnswer, solveTable } from './time-to-solution-report.js';

export interface AnswerOptions {
  /** directory for answer.json and the SVG charts */
  readonly out: string;
  readonly backends?: readonly BackendName[];
  /** catalog keys; default all */
  readonly models?: readonly string[];
  readonly sweep: SweepOptions;
  readonly fashionRows: number;
  /** where Fashion-MNIST's IDX files are (default: Debian's dataset-fashion-mnist) */
  readonly dataDir?: string;
  readonly charts: boolean;
  /** the time-to-solution study on the first backend (absent or false: skipped) */
  readonly timeToSolution?: SolveOptions | false;
}

export const DEFAULTS: AnswerOptions = {
  // relative to where it runs: a consumer's `npx tapegrad answer` must not write into `results/`
  out: 'tapegrad-results',
  sweep: { budgetMs: 100, fd: { fullLimitMs: 300, sampleMs: 60, budgetMs: 100, seed: 1 } },
  fashionRows: 500,
  charts: true,
  timeToSolution: SOLVE_DEFAULTS,
};

/** What the JSON holds. */
export interface AnswerResult {
  readonly tool: string;
  readonly date: string;
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly memoryGB: number;
    readonly node: string;
    readonly platform: string;
    /** the 1-minute load average when the run began: other processes' share of the cores */
    readonly load: number;
  };
  readonly backends: readonly BackendName[];
  readonly options: AnswerOptions;
  readonly definitions: Readonly<Record<string, string>>;
  readonly rows: readonly Row[];
  readonly accuracy: AccuracyResult;
  readonly answer: readonly string[];
  /** the time-to-solution study's measurements (absent when it was skipped) */
  readonly timeToSolution?: SolveResult;
  /** its result in plain words, from those measurements */
  readonly optimisation: readonly string[];
  /** model x backend measurements that threw (none, normally) */
  readonly failures: readonly { readonly model: string; readonly backend: BackendName; readonly error: string }[];
  /** the SVG files written beside answer.json (none when vega is missing or charts are off) */
  readonly charts: readonly string[];
  readonly seconds: number;
}

/**
 * A warning when the 1-minute load average exceeds the cores: other processes then take CPU time
 * from the timings, which become unreliable. Undefined otherwise.
 */
export function loadWarning(load = loadavg()[0], cores = cpus().length): string | undefined {
  if (!(load > cores)) return undefined;
  return `the 1-minute load average is ${load.toFixed(2)} on ${cores} cores: other processes are busy, so the timings will be unreliable`;
}

export function machine(): AnswerResult['machine'] {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${platform()} ${arch()}`,
    load: +loadavg()[0].toFixed(2),
  };
}

const DEFINITIONS = {
  valueMs:
    'median wall time of one evaluation of f, ms (row: timed with the reverse gradient; cell: timed with that gradient)',
  ms: 'time of one gradient, ms: the median of whole calls, or (extrapolated: true) ratio x valueMs',
  ratio:
    'time of one gradient in evaluations of f. Measured: the median over rounds of (gradient time / evaluation time), the two timed ' +
    'alternately. Extrapolated: 1 + the sum over groups of coordinates that share a tape suffix of (group size / sampled size) x the ' +
    'median over rounds of (time of an FD call on a random sample of the group - evaluation time) / evaluation time',
  costRatio: "the cost model's FLOPs of the gradient / FLOPs of one evaluation (Compiled.cost)",
  error:
    "||g - g_reverse||_2 / ||g_reverse||_2 over the sampled coordinates (reverse rows: against the js backend's reverse gradient)",
  accuracy: 'error against closed-form gradients (src/app/answer/accuracy.ts) at relative FD steps 1e-1..1e-15',
  timeToSolution:
    'minimise each L2-regularised problem (lambda 1e-3) from its start by L-BFGS (m = 10, strong Wolfe) and by gradient descent at a fixed step, ' +
    'each driven by each gradient method, until f <= f* + 1e-8 (1 + |f*|) (atTarget) or the run budget; f*: reverse-mode L-BFGS with gtol 1e-11, ftol 0. ' +
    "outcome 'stalled': stopped by its own rule (line search failed even along -g, non-finite step) or no progress over its last half " +
    "(best f - f* improved by < 0.1%); 'budget': still progressing when the time ran out. fEvaluations: gradient calls x the cost model's " +
    'evaluations per call; evalEquivalents: gradient calls x the FLOPs of a call / the FLOPs of one evaluation. finalGradNorm: max |df/dtheta_i| by ' +
    'reverse mode at the final point. projectedMs (extrapolated): time per gradient call x the gradient calls the reverse-mode run needed. ' +
    'trace: [ms, f] after each iteration, thinned',
};

export async function runAnswer(
  opts: AnswerOptions,
  log: (s: string) => void = (s) => process.stderr.write(s),
): Promise<AnswerResult> {
  const started = performance.now();
  const host = machine();
  const names = opts.backends ?? (await backends());
  const bes = await Promise.all(names.map((n) => backend(n)));
  const js = await backend('js');
  const entries = catalog({ fashionRows: opts.fashionRows, dataDir: opts.dataDir }).filter(
    (e) => !opts.models || opts.models.includes(e.key),
  );
  log(
    `tapegrad answer: ${entries.length} models x ${bes.length} backend(s) (${names.join(', ')}) x ${VARIANTS.length} gradient methods\n`,
  );

  const rows: Row[] = [];
  const failures: { model: string; backend: BackendName; error: string }[] = [];
  let step = 0;
  const noted = new Set<string>();
  for (const e of entries) {
    const m = e.build();
    if (!m) {
      log(`  ${e.key}: skipped (${FASHION_MISSING(opts.dataDir)})\n`);
      continue;
    }
    const ref = bes.some((b) => b.name !== 'js') ? referenceGradient(m, js) : undefined;
    for (const be of bes) {
      const t0 = performance.now();
      log(`  [${++step}/${entries.length * bes.length}] ${e.key} (N = ${formatInt(m.f.paramCount)}) on ${be.name} ...`);
      let r: Row;
      try {
        r = sweepModel(e.key, m, be, opts.sweep, be.name === 'js' ? undefined : ref);
      } catch (err) {
        // one backend failing one model must not hide every other measurement; it is reported
        failures.push({ model: e.key, backend: be.name, error: (err as Error).message });
        log(` FAILED: ${(err as Error).message}\n`);
        continue;
      }
      rows.push(r);
      for (const sk of r.skipped ?? [])
        if (!noted.has(`${be.name} ${sk.variant} ${sk.why}`)) {
          noted.add(`${be.name} ${sk.variant} ${sk.why}`);
          log(` (${sk.variant} not measured on ${be.name}: ${sk.why})`);
        }
      const fwd = cell(r, 'fd-forward-naive');
      log(
        ` ${((performance.now() - t0) / 1e3).toFixed(1)} s: value ${formatMs(r.valueMs)}, reverse ${formatRatio(cell(r, 'reverse').ratio)}x, ` +
          `fd-forward ${fwd.extrapolated ? '~' : ''}${formatRatio(fwd.ratio)}x\n`,
      );
    }
  }

  let solve: SolveResult | undefined;
  if (opts.timeToSolution) {
    log(
      `  time to solution on ${bes[0].name} (budget ${opts.timeToSolution.runMs} ms per run, ${opts.timeToSolution.totalMs / 1e3} s in all):\n`,
    );
    solve = timeToSolution(bes[0], opts.timeToSolution, log);
  }

  log('  accuracy study (FD error vs step) ...');
  const accuracy = accuracyStudy(
    [
      { key: 'seed', model: seed(1000), exact: seedGradient },
      { key: 'logistic', model: logistic(breastCancer()), exact: logisticGradient },
    ],
    bes[0],
  );
  log(' done\n');

  const result: AnswerResult = {
    tool: 'tapegrad answer',
    date: new Date().toISOString(),
    machine: host,
    backends: names,
    options: opts,
    definitions: DEFINITIONS,
    rows,
    accuracy,
    answer: answer(rows, names, accuracy),
    ...(solve ? { timeToSolution: solve } : {}),
    optimisation: solve ? solveAnswer(solve) : [],
    failures,
    charts: [],
    seconds: 0,
  };
  mkdirSync(opts.out, { recursive: true });
  const charts = opts.charts ? await writeCharts(result, opts.out, log) : [];
  const seconds = (performance.now() - started) / 1e3;
  writeFileSync(join(opts.out, 'answer.json'), JSON.stringify({ ...result, charts, seconds }, null, 2) + '\n');
  return { ...result, charts, seconds };
}

/** `cpu, cores, Node, date`: the line every chart carries. */
export function subtitle(r: Pick<AnswerResult, 'machine' | 'date'>): string {
  return `${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}, ${r.date.slice(0, 10)}`;
}

/** Writes the SVG charts; returns the files written (none, with a line saying why, when vega is missing). */
async function writeCharts(r: AnswerResult, out: string, log: (s: string) => void): Promise<string[]> {
  const sub = subtitle(r);
  const charts: [string, Spec][] = [
    ['time-vs-n.svg', timeVsNSpec(r.rows, `${sub}; triangles: extrapolated from sampled coordinates`)],
    ['ratio-vs-n.svg', ratioVsNSpec(r.rows, `${sub}; dashed: cost model FLOP ratio`)],
    ['error-vs-step.svg', errorVsStepSpec(r.accuracy, `${sub}; diamonds: default steps; dashed rule: reverse mode`)],
    ...(r.timeToSolution
      ? ([
          [
            'time-to-solution.svg',
            timeToSolutionSpec(
              r.timeToSolution,
              `${sub}, ${r.timeToSolution.backend} backend; dotted rule: the target 1e-8 (1 + |f*|)`,
            ),
          ],
        ] as [string, Spec][])
      : []),
  ];
  const written: string[] = [];
  try {
    for (const [file, spec] of charts) {
      writeFileSync(join(out, file), await renderSvg(spec));
      written.push(join(out, file));
    }
    log(`  charts: ${written.join(', ')}\n`);
  } catch (e) {
    log(
      `  charts skipped: they need the packages vega and vega-lite (npm install vega vega-lite): ${(e as Error).message}\n`,
    );
  }
  return written;
}

/** The text `tapegrad answer` prints on stdout. */
export function report(r: AnswerResult): string {
  return [
    `tapegrad: is the reverse-mode gradient faster than finite differences? Measured on ${subtitle(r)}`,
    '',
    table(r.rows),
    '',
    'Answer:',
    ...r.answer.map((s) => `- ${s}`),
    ...(r.timeToSolution
      ? ['', solveTable(r.timeToSolution), '', 'Optimisation:', ...r.optimisation.map((s) => `- ${s}`)]
      : []),
    ...r.failures.map((f) => `FAILED: ${f.model} on ${f.backend}: ${f.error}`),
    '',
    `(${r.seconds.toFixed(0)} s; results in ${join(r.options.out, 'answer.json')}${r.charts.length ? `, ${r.charts.length} SVG charts beside it` : ', no charts'})`,
  ].join('\n');
}
