/**
 * The time-to-solution study in words and as a table, built only from the measured numbers handed
 * in (pure functions: tests feed them numbers). Extrapolated times are said to be extrapolated.
 */
import { formatInt, formatMs } from './report.js';
import {
  DRIVER_LABELS,
  type GradientName,
  type SolveProblemResult,
  type SolveResult,
  type SolveRun,
} from './time-to-solution.js';

const gapOf = (x: number) => (x <= 0 ? `${x === 0 ? '0' : x.toExponential(1)}` : x.toExponential(1));
const plural = (n: number, one: string) => `${formatInt(n)} ${one}${n === 1 ? '' : 's'}`;
const METHOD_WORDS: Record<string, string> = {
  reverse: 'reverse-mode gradients',
  forward: 'forward-mode gradients',
  'fd-forward': 'fd-forward',
  'fd-central': 'fd-central',
};
const words = (m: GradientName) => METHOD_WORDS[m] ?? m;
/** a, b and c */
const inWords = (xs: readonly string[]) =>
  xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;

/** Lines of the terminal table: one per run, grouped by problem. */
export function solveTable(r: SolveResult): string {
  const header = [
    'problem',
    'optimizer',
    'gradient',
    'outcome',
    'time',
    'iterations',
    'grad calls',
    'f-evals',
    'f - f*',
    'max|g| (rev)',
    'LS fails',
  ];
  const body = r.problems.flatMap((p) =>
    p.runs.map((run) => {
      const at = run.atTarget ?? run.total;
      return [
        `${p.key} (N = ${formatInt(p.N)})`,
        DRIVER_LABELS[run.driver],
        run.method,
        run.outcome === 'stalled' ? `stalled: ${run.stallReason}` : run.outcome,
        `${run.atTarget ? '' : '>'}${formatMs(at.ms)}`,
        formatInt(at.iterations),
        formatInt(at.gradientCalls),
        Number.isFinite(at.fEvaluations) ? formatInt(at.fEvaluations) : '?',
        gapOf(run.gap),
        run.finalGradNorm.toExponential(1),
        String(run.lineSearchFailures),
      ];
    }),
  );
  const w = header.map((h, j) => Math.max(h.length, ...body.map((row) => row[j].length)));
  const line = (row: string[]) =>
    row
      .map((s, j) => (j < 4 ? s.padEnd(w[j]) : s.padStart(w[j])))
      .join('  ')
      .trimEnd();
  return [
    `Time to solution on the ${r.backend} backend: minimise until f <= f* + ${r.targetRtol} (1 + |f*|), f* from a long reverse-mode`,
    'L-BFGS run. time/iterations/grad calls/f-evals: to the target when reached, else (">") when the run stopped.',
    `f-evals: evaluations of f the gradients cost (cost model: 1 per reverse gradient, N+1 fd-forward, 2N+1 fd-central).`,
    'max|g| (rev): the true gradient at the final point, by reverse mode. LS fails: failed L-BFGS line searches.',
    '',
    line(header),
    w.map((n) => '-'.repeat(n)).join('  '),
    ...body.map(line),
    ...skippedLines(r).map((l) => `(${l})`),
  ].join('\n');
}

/** What was not run, one line per method, optimizer and reason, with the problems it concerns. */
export function skippedLines(r: SolveResult): string[] {
  const groups = new Map<string, { what: string; why: string; problems: string[] }>();
  for (const s of r.skipped) {
    const what = `${s.method} gradients${s.driver ? ` with ${DRIVER_LABELS[s.driver]}` : ''}`;
    const key = `${what}\0${s.why}`;
    const g = groups.get(key) ?? { what, why: s.why, problems: [] };
    g.problems.push(s.problem);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => `${g.what} not measured on ${g.problems.join(', ')}: ${g.why}`);
}

/** How a non-reverse run went, as a clause after "with <method>". */
function clause(run: SolveRun, rev: SolveRun | undefined): string {
  const t = run.atTarget;
  if (t)
    return `it took ${formatMs(t.ms)} and ${Number.isFinite(t.fEvaluations) ? formatInt(t.fEvaluations) : formatInt(t.gradientCalls)} evaluations of f${Number.isFinite(t.fEvaluations) ? '' : ' (gradient calls: the cost model has no row for it)'} (${plural(t.iterations, 'iteration')})`;
  const end = `${plural(run.total.iterations, 'iteration')}, ${gapOf(run.gap)} above f*`;
  if (run.outcome === 'stalled')
    return `it stopped at ${gapOf(run.gap)} above f* after ${formatMs(run.total.ms)} and ${plural(run.total.iterations, 'iteration')} (${stallWords(run)})`;
  const proj =
    run.projectedMs !== undefined && rev?.atTarget
      ? `; at its measured time per gradient it would need about ${formatMs(run.projectedMs)} for the ${formatInt(rev.atTarget.gradientCalls)} gradients reverse mode needed (extrapolated, not measured)`
      : '';
  return `it had not reached f* when its ${formatMs(run.budgetMs)} budget ran out (${formatMs(run.total.ms)}, ${end}${proj})`;
}

function stallWords(run: SolveRun): string {
  switch (run.stallReason) {
    case 'line-search':
      return 'the line search found no decrease, even along -g';
    case 'plateau':
      return 'no progress over the last half of the run';
    case 'non-finite':
      return 'a step reached a non-finite value';
    default:
      return `stop rule ${run.stallReason}`;
  }
}

export const PACE_MIN_ITERATIONS = 10;

/**
 * Did the run keep pace with reverse mode per iteration? Reached both: iteration counts within
 * 10% (or 2). Otherwise: its gap after as many iterations within a factor 2 of reverse mode's.
 */
export function pace(run: SolveRun, rev: SolveRun): 'same' | 'behind' | undefined {
  if (run.atTarget && rev.atTarget) {
    const [a, b] = [run.atTarget.iterations, rev.atTarget.iterations];
    return Math.abs(a - b) <= Math.max(2, 0.1 * b) ? 'same' : a > b ? 'behind' : 'same';
  }
  const s = run.sameIterations;
  // a few iterations say nothing about the rate
  if (!s || s.iterations < PACE_MIN_ITERATIONS) return undefined;
  return s.gap <= 2 * Math.max(s.reverseGap, 0) + 1e-300 ? 'same' : 'behind';
}

function paceSentence(p: SolveProblemResult, driver: SolveRun['driver'], rev: SolveRun): string | undefined {
  const others = p.runs.filter((r) => r.driver === driver && r.method !== 'reverse');
  const same = others.filter((r) => pace(r, rev) === 'same');
  const behind = others.filter((r) => pace(r, rev) === 'behind');
  const detail = (r: SolveRun) =>
    r.atTarget && rev.atTarget
      ? `${r.method} ${formatInt(r.atTarget.iterations)} iterations to f* against ${formatInt(rev.atTarget.iterations)}`
      : `${r.method} ${gapOf(r.sameIterations!.gap)} above f* after ${plural(r.sameIterations!.iterations, 'iteration')}, reverse mode ${gapOf(r.sameIterations!.reverseGap)}`;
  const parts: string[] = [];
  if (same.length)
    parts.push(
      `per iteration, ${inWords(same.map((r) => r.method))} kept pace with reverse mode (${same.map(detail).join('; ')}): ` +
        `there the difference is the cost of each gradient, not its accuracy`,
    );
  if (behind.length)
    parts.push(
      `per iteration, ${inWords(behind.map((r) => r.method))} fell behind reverse mode (${behind.map(detail).join('; ')})`,
    );
  return parts.length ? `${parts.join('; ')}.` : undefined;
}

/** The plain-words optimisation result, one paragraph per problem and optimizer, from the measurements. */
export function solveAnswer(r: SolveResult): string[] {
  const out: string[] = [];
  for (const p of [...r.problems].sort((a, b) => a.N - b.N)) {
    for (const driver of ['lbfgs', 'gd'] as const) {
      const runs = p.runs.filter((x) => x.driver === driver);
      const rev = runs.find((x) => x.method === 'reverse');
      if (!rev) continue;
      const name =
        driver === 'lbfgs'
          ? 'L-BFGS'
          : `gradient descent at a fixed step (${p.gdStep.lr}, the largest power of 2 whose first ${formatInt(r.options.probeIterations)} reverse-mode steps all decreased f)`;
      const head = `At N = ${formatInt(p.N)} (${p.key}), ${name} with reverse-mode gradients`;
      const revPart = rev.atTarget
        ? `${head} reached f* in ${formatMs(rev.atTarget.ms)} and ${formatInt(rev.atTarget.fEvaluations)} evaluations of f, each with its backward sweep (${plural(rev.atTarget.iterations, 'iteration')})`
        : rev.outcome === 'stalled'
          ? `${head} stopped at ${gapOf(rev.gap)} above f* (${stallWords(rev)})`
          : `${head} had not reached f* when its ${formatMs(rev.budgetMs)} budget ran out (${plural(rev.total.iterations, 'iteration')}, ${gapOf(rev.gap)} above f*)`;
      const rest = runs.filter((x) => x.method !== 'reverse').map((x) => `with ${words(x.method)} ${clause(x, rev)}`);
      const pc = paceSentence(p, driver, rev);
      out.push(`${[revPart, ...rest].join('; ')}.${pc ? ` ${pc[0].toUpperCase()}${pc.slice(1)}` : ''}`);
    }
  }
  const fastest = r.problems.map((p) => {
    const reached = p.runs.filter((x) => x.atTarget).sort((a, b) => a.atTarget!.ms - b.atTarget!.ms);
    return { p, best: reached[0] };
  });
  const withBest = fastest.filter((x) => x.best);
  if (withBest.length)
    out.push(
      `Fastest to f*: ${withBest
        .map(
          ({ p, best }) =>
            `at N = ${formatInt(p.N)} ${DRIVER_LABELS[best.driver]} with ${best.method} (${formatMs(best.atTarget!.ms)})`,
        )
        .join(', ')}${
        fastest.some((x) => !x.best)
          ? `; at N = ${fastest
              .filter((x) => !x.best)
              .map((x) => formatInt(x.p.N))
              .join(', ')} no run reached f* within its budget`
          : ''
      }.`,
    );
  const ls = r.problems.flatMap((p) => p.runs.filter((x) => x.lineSearchFailures > 0).map((x) => ({ p, x })));
  if (ls.length)
    out.push(
      `Failed L-BFGS line searches: ${ls.map(({ p, x }) => `${x.method} ${x.lineSearchFailures} at N = ${formatInt(p.N)}`).join(', ')}.`,
    );
  else if (r.problems.length)
    out.push('No L-BFGS line search failed, with any gradient method, before the target or the budget.');
  for (const l of skippedLines(r)) out.push(`${l}.`);
  return out;
}
