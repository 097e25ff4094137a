/**
 * `npm run readme [-- --only answer,solve]`: rewrites the README's measured sections from the last runs, so the README
 * only ever shows numbers a real run produced: the answer (results/answer.json, from `npm start`),
 * the time-to-solution study (`solve`, also from results/answer.json), the `tapegrad explain seed`
 * output, and the peers benchmark (results/peers.json, from
 * `npm run bench:peers`), and the training benchmark (results/train.json, from `npm run bench:train`). Each section sits between `<!-- NAME:begin -->` and `<!-- NAME:end -->`.
 * `--only` rewrites just the named sections (the others keep what the README has).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { backend } from '../src/index.js';
import { builtin } from '../src/app/answer/catalog.js';
import { formatExplain } from '../src/app/answer/explain.js';
import type { AnswerResult } from '../src/app/answer/main.js';
import { subtitle } from '../src/app/answer/main.js';
import { table } from '../src/app/answer/report.js';
import { solveTable } from '../src/app/answer/time-to-solution-report.js';
import { HEADER, markdownTable, summarise, tableRows, targetLines, type RunRow } from '../bench/train/report.js';

const SECTIONS = ['answer', 'solve', 'explain', 'peers', 'train'];
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? '').split(',').filter(Boolean) : SECTIONS;
for (const s of only)
  if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section '${s}' (expected ${SECTIONS.join(', ')})`);

function replace(text: string, name: string, body: string): string {
  if (!only.includes(name)) return text;
  const [begin, end] = [`<!-- ${name}:begin -->`, `<!-- ${name}:end -->`];
  const i = text.indexOf(begin),
    j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README.md has no ${begin} ... ${end} section`);
  return `${text.slice(0, i + begin.length)}\n${body.trim()}\n${text.slice(j)}`;
}

let readme = readFileSync('README.md', 'utf8');

const a = JSON.parse(readFileSync('results/answer.json', 'utf8')) as AnswerResult;
readme = replace(
  readme,
  'answer',
  `
From \`npm start\` on ${subtitle(a)}, backends ${a.backends.join(', ')}; the whole run took ${a.seconds.toFixed(0)} s
(1-minute load average ${a.machine.load ?? '?'} on ${a.machine.cores ?? '?'} cores when it began${(a.machine.load ?? 0) > 1.5 ? ': other jobs were running' : ''}). The raw numbers are in
[results/answer.json](results/answer.json).

${a.answer.map((s) => `- ${s}`).join('\n')}

\`\`\`text
${table(a.rows)}
\`\`\`

![time of one gradient vs N, log-log](results/time-vs-n.svg)

![time of one gradient / time of one evaluation vs N, with the cost model's FLOP ratio](results/ratio-vs-n.svg)

![FD error vs step: the V, with the default steps marked and reverse mode's error as a line](results/error-vs-step.svg)
`,
);

{
  const t = a.timeToSolution;
  const loaded = (a.machine.load ?? 0) > 1.5 ? ': other jobs were running' : '';
  readme = replace(
    readme,
    'solve',
    t
      ? `
From \`npm start\` on ${subtitle(a)}, ${t.backend} backend (1-minute load average ${a.machine.load ?? '?'} on ${a.machine.cores ?? '?'} cores when the run began${loaded}):
the study took ${t.seconds.toFixed(0)} s with budgets of ${(t.options.runMs / 1e3).toFixed(1)} s per run and ${(t.options.totalMs / 1e3).toFixed(0)} s in all. Raw numbers (with every run's trace): \`timeToSolution\` in
[results/answer.json](results/answer.json).

${a.optimisation.map((s) => `- ${s}`).join('\n')}

\`\`\`text
${solveTable(t)}
\`\`\`

![f - f* against wall time, log-log, one line per gradient method and optimizer](results/time-to-solution.svg)
`
      : 'results/answer.json has no time-to-solution numbers: its `npm start` predates the study or ran with `--no-tts`.',
  );
}

if (only.includes('explain')) {
  const c = (await backend('js')).compile(builtin('seed').f);
  readme = replace(
    readme,
    'explain',
    `\`\`\`text\n$ npx tapegrad explain seed\n${formatExplain(builtin('seed').name, c)}\n\`\`\``,
  );
  c.dispose();
}

if (existsSync('results/peers.json')) {
  interface Row {
    workload: string;
    implementation: string;
    dtype: string;
    us: number;
    vsBest: number;
    gradError: number;
  }
  const p = JSON.parse(readFileSync('results/peers.json', 'utf8')) as {
    date: string;
    machine: AnswerResult['machine'];
    backends: string[];
    rows: Row[];
  };
  const workloads = [...new Set(p.rows.map((r) => r.workload))];
  // one line per implementation and dtype (tapegrad's backends run in both)
  const key = (r: Row) => `${r.implementation}|${r.dtype}`;
  const impls = [...new Set(p.rows.map(key))];
  const at = (w: string, i: string) => p.rows.find((r) => r.workload === w && key(r) === i);
  const cellOf = (r?: Row) =>
    r && Number.isFinite(r.us)
      ? `${r.us < 100 ? r.us.toFixed(1) : Math.round(r.us).toLocaleString('en-US')} µs (${r.vsBest.toFixed(2)}x)`
      : '—';
  const errOf = (i: string) => {
    const e = p.rows.filter((r) => key(r) === i && Number.isFinite(r.gradError)).map((r) => r.gradError);
    return e.length ? `${Math.max(...e).toExponential(0)}` : '—';
  };
  readme = replace(
    readme,
    'peers',
    `
From \`npm run bench:peers\` on ${subtitle(p)}, tapegrad backends ${p.backends.join(', ')}. One value and gradient per call, tinybench
medians including the read-back to JS; in brackets the time as a multiple of tapegrad's fastest backend of the same dtype on
that workload (float32 rows against tapegrad float32, float64 against float64; above 1: slower than tapegrad). Raw numbers:
[results/peers.json](results/peers.json).

| implementation | dtype | ${workloads.join(' | ')} | largest gradient error vs tapegrad |
|---|---|${workloads.map(() => '---|').join('')}---|
${impls.map((i) => `| ${i.split('|')[0]} | ${i.split('|')[1]} | ${workloads.map((w) => cellOf(at(w, i))).join(' | ')} | ${errOf(i)} |`).join('\n')}
`,
  );
}

if (existsSync('results/train.json')) {
  const t = JSON.parse(readFileSync('results/train.json', 'utf8')) as {
    date: string;
    machine: AnswerResult['machine'];
    data: { name: string; trainRows: number; testRows: number; note?: string };
    config: { epochs: number; optimizer: string };
    w3Us: number;
    stepsPerEpoch: number;
    rows: RunRow[];
    notes: string[];
  };
  const s = summarise(t.rows, t.w3Us, t.stepsPerEpoch, t.config.epochs);
  readme = replace(
    readme,
    'train',
    `
From \`npm run bench:train\` on ${subtitle(t)} (1-minute load average ${t.machine.load ?? '?'} on ${t.machine.cores ?? '?'} cores when it began${(t.machine.load ?? 0) > 1.5 ? ': other jobs were running' : ''}):
${t.data.name}, ${t.data.trainRows.toLocaleString('en-US')} training images, ${t.config.epochs} epoch${t.config.epochs === 1 ? '' : 's'}; seconds per epoch are medians over the epochs, test accuracy on the
${t.data.testRows.toLocaleString('en-US')} test images after the last. One W3 reverse gradient on native in the same run: ${Number.isFinite(t.w3Us) ? `${t.w3Us.toFixed(0)} µs` : 'not measured'}. Raw numbers: [results/train.json](results/train.json).

${markdownTable(HEADER, tableRows(t.rows))}

${targetLines(s.targets)
  .map((l) => `- ${l}`)
  .join('\n')}

${[...(t.data.note ? [t.data.note] : []), `Optimizer: ${t.config.optimizer}`, ...t.notes].map((n) => `${n}.`).join(' ')}
`,
  );
}

writeFileSync('README.md', readme);
console.log('README.md: measured sections rewritten from results/');
