/**
 * The main job's charts as Vega-Lite specs, rendered to SVG by vega in Node (no browser, no canvas:
 * renderer 'none' + toSVG). The specs are plain data so tests can check them without rendering;
 * vega and vega-lite are loaded only to render, and their absence is reported, not fatal.
 */
import type { AccuracyResult } from './accuracy.js';
import { BACKEND_NAMES } from '../../backends/types.js';
import { ALL_VARIANTS } from './fd-timing.js';
import type { Row } from './sweep.js';
import { DRIVER_LABELS, type SolveResult } from './time-to-solution.js';

export type Spec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const label = (id: string) => ALL_VARIANTS.find((v) => v.id === id)?.label ?? id;
/** log axes cannot show 0: an exact 0 error is drawn at this floor (the JSON keeps the 0) */
export const ERROR_FLOOR = 1e-18;

/** A log axis labelled at powers of ten only (vega's log ticks also label 2x and 5x). */
function logAxis(field: string, title: string): Spec {
  const decade = 'abs(log(datum.value) / LN10 - round(log(datum.value) / LN10)) < 1e-6';
  return {
    field,
    type: 'quantitative',
    scale: { type: 'log' },
    title,
    axis: { format: '~e', labelExpr: `${decade} ? datum.label : ''` },
  };
}

/** Series of the time charts: one value and every gradient variant, per model and backend. */
function timeData(rows: readonly Row[]) {
  return rows.flatMap((r) => [
    { N: r.N, backend: r.backend, method: 'one value', ms: r.valueMs, ratio: 1, costRatio: 1, timing: 'measured' },
    ...r.cells.map((c) => ({
      N: r.N,
      backend: r.backend,
      method: label(c.variant),
      ms: c.ms,
      ratio: c.ratio,
      costRatio: c.costRatio,
      timing: c.extrapolated ? 'extrapolated' : 'measured',
    })),
  ]);
}

const METHOD_COLORS: Record<string, string> = {
  'one value': '#9e9e9e',
  reverse: '#1f4e9c',
  'fd-forward naive': '#d62728',
  'fd-forward reuse': '#ff9f1c',
  'fd-central reuse': '#2ca02c',
  'forward AD': '#9467bd',
};
/** the colour scale of the methods present (forward AD only where a backend measured it) */
const methodColor = (data: readonly { method: string }[], title = 'method') => {
  const domain = Object.keys(METHOD_COLORS).filter((m) => data.some((d) => d.method === m));
  return {
    field: 'method',
    type: 'nominal',
    title,
    legend: { labelLimit: 260 },
    scale: { domain, range: domain.map((m) => METHOD_COLORS[m]) },
  };
};
const timingShape = {
  field: 'timing',
  type: 'nominal',
  title: 'timing',
  legend: { labelLimit: 260 },
  scale: { domain: ['measured', 'extrapolated'], range: ['circle', 'triangle-up'] },
};

/** Time of one gradient (and of one value) against N, log-log, one panel per backend. */
export function timeVsNSpec(rows: readonly Row[], subtitle: string): Spec {
  const data = timeData(rows);
  return {
    $schema: SCHEMA,
    title: { text: 'Time of one gradient vs number of parameters N', subtitle },
    data: { values: data },
    facet: { column: { field: 'backend', type: 'nominal', title: 'backend', sort: [...BACKEND_NAMES] } },
    spec: {
      width: 300,
      height: 260,
      layer: [
        {
          mark: { type: 'line', strokeWidth: 1.5 },
          encoding: { x: logAxis('N', 'N (parameters)'), y: logAxis('ms', 'time (ms)'), color: methodColor(data) },
        },
        {
          mark: { type: 'point', filled: true, size: 45 },
          encoding: {
            x: { field: 'N', type: 'quantitative' },
            y: { field: 'ms', type: 'quantitative' },
            color: methodColor(data),
            shape: timingShape,
          },
        },
      ],
    },
  };
}

/** Gradient time / value time against N, log-log, with the cost model's FLOP ratio dashed. */
export function ratioVsNSpec(rows: readonly Row[], subtitle: string): Spec {
  // 'one value' is the line at 1 that every gradient is measured against
  const data = timeData(rows).flatMap((d) => [
    { ...d, y: d.ratio, source: 'measured time ratio' },
    ...(d.method === 'one value' || !Number.isFinite(d.costRatio) // no cost-model row (yet) for the method
      ? []
      : [{ ...d, y: d.costRatio, source: 'cost model FLOP ratio', timing: 'measured' }]),
  ]);
  return {
    $schema: SCHEMA,
    title: { text: 'Time of one gradient / time of one evaluation of f', subtitle },
    data: { values: data },
    facet: { column: { field: 'backend', type: 'nominal', title: 'backend', sort: [...BACKEND_NAMES] } },
    spec: {
      width: 300,
      height: 260,
      layer: [
        {
          mark: { type: 'line', strokeWidth: 1.5 },
          encoding: {
            x: logAxis('N', 'N (parameters)'),
            y: logAxis('y', 'multiple of one evaluation'),
            color: methodColor(data),
            strokeDash: {
              field: 'source',
              type: 'nominal',
              title: 'line',
              legend: { labelLimit: 260 },
              scale: {
                domain: ['measured time ratio', 'cost model FLOP ratio'],
                range: [
                  [1, 0],
                  [4, 3],
                ],
              },
            },
          },
        },
        {
          transform: [{ filter: "datum.source === 'measured time ratio'" }],
          mark: { type: 'point', filled: true, size: 45 },
          encoding: {
            x: { field: 'N', type: 'quantitative' },
            y: { field: 'y', type: 'quantitative' },
            color: methodColor(data),
            shape: timingShape,
          },
        },
      ],
    },
  };
}

/** FD error against the exact gradient vs the relative step; default steps marked; reverse as a rule. */
export function errorVsStepSpec(acc: AccuracyResult, subtitle: string): Spec {
  const clamp = (e: number) => Math.max(e, ERROR_FLOOR);
  const curves = acc.curves.flatMap((c) =>
    c.points.map((p) => ({ model: c.model, method: c.method, eps: p.eps, error: clamp(p.error) })),
  );
  const defaults = acc.curves.map((c) => ({
    model: c.model,
    method: c.method,
    eps: c.atDefault.eps,
    error: clamp(c.atDefault.error),
    note: 'default step',
  }));
  const reverse = acc.reverse.map((r) => ({ model: r.model, method: 'reverse', error: clamp(r.error) }));
  const color = {
    field: 'method',
    type: 'nominal',
    title: 'method',
    scale: { domain: ['fd-forward', 'fd-central', 'reverse'], range: ['#ff9f1c', '#2ca02c', '#1f4e9c'] },
  };
  return {
    $schema: SCHEMA,
    title: { text: 'Gradient error vs finite-difference step (against the closed-form gradient)', subtitle },
    facet: { column: { field: 'model', type: 'nominal', title: 'model', sort: acc.reverse.map((r) => r.model) } },
    data: {
      values: [
        ...curves.map((d) => ({ ...d, layer: 'curve' })),
        ...defaults.map((d) => ({ ...d, layer: 'default' })),
        ...reverse.map((d) => ({ ...d, layer: 'reverse' })),
      ],
    },
    spec: {
      width: 300,
      height: 260,
      layer: [
        {
          transform: [{ filter: "datum.layer === 'curve'" }],
          mark: { type: 'line', point: { size: 20 } },
          encoding: {
            x: logAxis('eps', 'relative step eps (h = eps max(1, |theta|))'),
            y: logAxis('error', '||g - g_exact|| / ||g_exact||'),
            color,
          },
        },
        {
          transform: [{ filter: "datum.layer === 'default'" }],
          mark: { type: 'point', shape: 'diamond', size: 160, filled: false, strokeWidth: 2.5 },
          encoding: {
            x: { field: 'eps', type: 'quantitative' },
            y: { field: 'error', type: 'quantitative' },
            color,
            tooltip: [{ field: 'note' }],
          },
        },
        {
          transform: [{ filter: "datum.layer === 'reverse'" }],
          mark: { type: 'rule', strokeDash: [4, 3] },
          encoding: { y: { field: 'error', type: 'quantitative' }, color },
        },
      ],
    },
  };
}

/** Renders a Vega-Lite spec to SVG text. Throws when vega or vega-lite cannot be loaded. */
export async function renderSvg(spec: Spec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** log axes cannot show f - f* <= 0: such points (at or below the reference's f*) are drawn at this floor */
export const GAP_FLOOR = 1e-16;
const SOLVE_COLORS: Record<string, string> = {
  reverse: '#1f4e9c',
  forward: '#9467bd',
  'fd-forward': '#ff9f1c',
  'fd-central': '#2ca02c',
};

/** f - f* against wall time, log-log, one line per gradient method and optimizer, a panel per problem. */
export function timeToSolutionSpec(r: SolveResult, subtitle: string): Spec {
  const panel = (p: SolveResult['problems'][number]) => `${p.key} (N = ${p.N.toLocaleString('en-US')})`;
  const lines = r.problems.flatMap((p) =>
    p.runs.flatMap((run) =>
      run.trace.map(([ms, f]) => ({
        layer: 'run',
        problem: panel(p),
        method: run.method,
        optimizer: DRIVER_LABELS[run.driver],
        ms: Math.max(ms, 1e-3),
        gap: Math.max(f - p.fStar, GAP_FLOOR * (1 + Math.abs(p.fStar))),
      })),
    ),
  );
  const targets = r.problems.map((p) => ({ layer: 'target', problem: panel(p), gap: p.target - p.fStar }));
  // only the methods that ran: forward mode is absent where the backend lacks it
  const methods = Object.keys(SOLVE_COLORS).filter((m) => lines.some((d) => d.method === m));
  return {
    $schema: SCHEMA,
    title: { text: 'Time to solution: f - f* against wall time', subtitle },
    data: { values: [...lines, ...targets] },
    facet: { column: { field: 'problem', type: 'nominal', title: 'problem', sort: r.problems.map(panel) } },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: 280,
      height: 260,
      layer: [
        {
          transform: [{ filter: "datum.layer === 'run'" }],
          mark: { type: 'line', strokeWidth: 1.5, interpolate: 'step-after' },
          encoding: {
            x: logAxis('ms', 'wall time (ms)'),
            y: logAxis('gap', 'f - f*'),
            color: {
              field: 'method',
              type: 'nominal',
              title: 'gradient',
              scale: { domain: methods, range: methods.map((m) => SOLVE_COLORS[m]) },
            },
            strokeDash: {
              field: 'optimizer',
              type: 'nominal',
              title: 'optimizer',
              scale: {
                domain: [DRIVER_LABELS.lbfgs, DRIVER_LABELS.gd],
                range: [
                  [1, 0],
                  [5, 3],
                ],
              },
            },
          },
        },
        {
          transform: [{ filter: "datum.layer === 'target'" }],
          mark: { type: 'rule', color: '#9e9e9e', strokeDash: [2, 2] },
          encoding: { y: { field: 'gap', type: 'quantitative' } },
        },
      ],
    },
  };
}
