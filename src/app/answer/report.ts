/**
 * What the main job prints: the terminal table and the plain-language answer, both built only from
 * the measured numbers handed in (pure functions, so tests can feed them numbers).
 */
import type { AccuracyResult } from './accuracy.js';
import { ALL_VARIANTS, OPTIONAL_VARIANTS, VARIANTS, type Variant } from './fd-timing.js';
import type { Cell, Row } from './sweep.js';

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1) return `${(ms * 1e3).toPrecision(3)} µs`;
  if (ms < 1e3) return `${ms.toPrecision(3)} ms`;
  if (ms < 60e3) return `${(ms / 1e3).toPrecision(3)} s`;
  if (ms < 3600e3) return `${(ms / 60e3).toPrecision(3)} min`;
  if (ms < 86400e3) return `${(ms / 3600e3).toPrecision(3)} h`;
  return `${(ms / 86400e3).toPrecision(3)} days`;
}

/** A multiple: 1.8, 646, 18.3k, 1.02M. */
export function formatRatio(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x < 10) return x.toFixed(1);
  if (x < 1e3) return x.toFixed(0);
  if (x < 1e6) return `${(x / 1e3).toPrecision(3)}k`;
  return `${(x / 1e6).toPrecision(3)}M`;
}

export const formatError = (e: number) => (e === 0 ? '0' : e.toExponential(0));
export const formatInt = (n: number) => n.toLocaleString('en-US');

export function cell(r: Row, id: Variant['id']): Cell {
  const c = r.cells.find((x) => x.variant === id);
  if (!c) throw new Error(`no ${id} measurement for ${r.model} on ${r.backend}`);
  return c;
}

/** Lines of a left-aligned text table (first column left, the rest right-aligned). */
function layout(header: string[], body: string[][]): string[] {
  const w = header.map((h, j) => Math.max(h.length, ...body.map((r) => r[j].length)));
  const line = (r: string[]) =>
    r
      .map((s, j) => (j < 3 ? s.padEnd(w[j]) : s.padStart(w[j])))
      .join('  ')
      .trimEnd();
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)];
}

/**
 * The terminal table: per model and backend, one value's time and each gradient variant as a
 * multiple of it, with the cost model's FLOP ratio in brackets; `~` marks extrapolated times.
 */
export function table(rows: readonly Row[]): string {
  // optional variants (forward AD) get columns when some row has them; '-' where a backend lacks them
  const optional = OPTIONAL_VARIANTS.filter((v) => rows.some((r) => r.cells.some((c) => c.variant === v.id)));
  const shown = [...VARIANTS, ...optional];
  const find = (r: Row, id: Variant['id']) => r.cells.find((c) => c.variant === id);
  const header = [
    'model',
    'N',
    'backend',
    'one value',
    ...shown.map((v) => v.label),
    'fwd error',
    'central error',
    ...optional.map((v) => `${v.label} error`),
  ];
  const body = rows.map((r) => [
    r.model,
    formatInt(r.N),
    r.backend,
    formatMs(r.valueMs),
    ...shown.map((v) => {
      const c = find(r, v.id);
      if (!c) return '-';
      return `${c.extrapolated ? '~' : ''}${formatRatio(c.ratio)} [${Number.isFinite(c.costRatio) ? formatRatio(c.costRatio) : '?'}]`;
    }),
    formatError(cell(r, 'fd-forward').error),
    formatError(cell(r, 'fd-central').error),
    ...optional.map((v) => {
      const c = find(r, v.id);
      return c ? formatError(c.error) : '-';
    }),
  ]);
  // what was not measured, once per variant, backend and reason
  const notes = [
    ...new Set(
      rows.flatMap((r) =>
        (r.skipped ?? []).map(
          (s) =>
            `(${ALL_VARIANTS.find((v) => v.id === s.variant)?.label ?? s.variant} not measured on ${r.backend}: ${s.why})`,
        ),
      ),
    ),
  ];
  return [
    'Time of one gradient as a multiple of the time of one evaluation of f (measured medians);',
    '[cost model: FLOPs of the gradient / FLOPs of one evaluation]; ~ = extrapolated from a random sample of',
    'coordinates, not measured in full. Errors: ||g_FD - g_reverse|| / ||g_reverse|| (on the sampled coordinates).',
    '',
    ...layout(header, body),
    ...notes,
  ].join('\n');
}

const range = (xs: number[], f: (x: number) => string) => {
  const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
  return f(lo) === f(hi) ? f(lo) : `${f(lo)} to ${f(hi)}`;
};
/** a multiple in prose: 1.8x, 29x, 19,211x */
const x = (r: number) => `${r < 10 ? r.toFixed(1) : formatInt(Math.round(r))}x`;
const how = (c: Cell) =>
  c.extrapolated
    ? `extrapolated from ${formatInt(c.sampled)} sampled coordinate${c.sampled === 1 ? '' : 's'}`
    : 'measured';
const FD = ['fd-forward-naive', 'fd-forward', 'fd-central'] as const;
const labelOf = (c: Cell) => ALL_VARIANTS.find((v) => v.id === c.variant)!.label;

/**
 * The plain-language answer, from the rows of the best backend (the first backend in `order` that
 * has rows) and the accuracy study. Every number in it comes from the arguments, and each claim is
 * only made when the numbers support it.
 */
export function answer(rows: readonly Row[], order: readonly string[], acc?: AccuracyResult): string[] {
  const backend = order.find((b) => rows.some((r) => r.backend === b));
  if (!backend) return ['No measurements.'];
  const rs = rows.filter((r) => r.backend === backend).sort((a, b) => a.N - b.N);
  const small = rs[0],
    big = rs[rs.length - 1];
  const rev = rs.map((r) => cell(r, 'reverse'));
  const naive = (r: Row) => cell(r, 'fd-forward-naive');
  // comparisons use the ratios (each timed against its own interleaved evaluation), not the raw ms
  const fastestFd = (r: Row) => FD.map((id) => cell(r, id)).reduce((a, b) => (b.ratio < a.ratio ? b : a));
  const out: string[] = [];

  const bigRev = cell(big, 'reverse'),
    bigFd = fastestFd(big);
  const wins = bigRev.ratio < bigFd.ratio;
  out.push(
    `${wins ? 'Yes' : 'Not on this machine'}: at N = ${formatInt(big.N)} (${big.model}, ${backend} backend) one reverse gradient took ` +
      `${formatMs(bigRev.ms)}, ${x(bigRev.ratio)} one evaluation of f; the fastest finite differences (${labelOf(bigFd)}) would take ` +
      `${formatMs(bigFd.ms)} (${how(bigFd)}), ${x(bigFd.ratio)} one evaluation: reverse mode was ` +
      `${wins ? `${x(bigFd.ratio / bigRev.ratio)} faster` : `${x(bigRev.ratio / bigFd.ratio)} slower`}.`,
  );

  out.push(
    `The reverse gradient cost ${range(
      rev.map((c) => c.ratio),
      x,
    )} one evaluation at every N from ${formatInt(small.N)} to ` +
      `${formatInt(big.N)} (cost model: ${range(
        rev.map((c) => c.costRatio),
        x,
      )} the FLOPs). Forward differences need N+1 evaluations ` +
      `and central differences 2N+1; measured, forward differences took ${x(naive(small).ratio)} one evaluation at N = ${formatInt(small.N)} ` +
      `and ${x(naive(big).ratio)} at N = ${formatInt(big.N)} (${how(naive(big))}), central differences ${x(cell(big, 'fd-central').ratio)}.`,
  );

  // how far the measured FD multiples sit from the cost model's, over the models with N > 100
  const drift = rs
    .filter((r) => r.N > 100)
    .flatMap((r) => FD.map((id) => cell(r, id).ratio / cell(r, id).costRatio))
    .sort((a, b) => a - b);
  const typical = drift.length ? drift[drift.length >> 1] : 1;
  if (typical > 1.3 || typical < 0.77)
    out.push(
      `On the ${backend} backend a perturbed evaluation inside the finite-difference loop took about ${typical.toFixed(1)}x as long ` +
        `as a plain evaluation of f (the measured FD multiples are ${typical.toFixed(1)}x the cost model's, median over the models with N > 100).`,
    );

  const slower = rs.filter((r) => cell(r, 'reverse').ratio >= fastestFd(r).ratio);
  if (slower.length === 0)
    out.push(
      `Only at N = ${formatInt(small.N)} is the question's "it saves about one evaluation" close: reverse took ` +
        `${x(cell(small, 'reverse').ratio)} one evaluation against ${x(naive(small).ratio)} for forward differences. ` +
        `Reverse mode was the fastest method at every N measured.`,
    );
  else
    out.push(
      `Finite differences were as fast or faster at N = ${slower.map((r) => formatInt(r.N)).join(', ')}, where a gradient costs ` +
        `only a few evaluations either way; reverse mode was faster at every other N measured.`,
    );

  const pct = (g: number) => `${Math.round(100 * g)}%`;
  const gain = (r: Row) => 1 - cell(r, 'fd-forward').ratio / naive(r).ratio;
  const modelGain = (r: Row) => 1 - cell(r, 'fd-forward').costRatio / naive(r).costRatio;
  out.push(
    `Re-running only the tape suffix a perturbed parameter reaches (suffix reuse) changed the naive forward-difference ` +
      `time by ${range(
        rs.map((r) => -gain(r)),
        (g) => (g > 0 ? '+' : '') + pct(g),
      )} (cost model: ${range(
        rs.map((r) => -modelGain(r)),
        (g) => (g > 0 ? '+' : '') + pct(g),
      )}): ` +
      `every parameter still needs its own perturbed evaluation, so the cost still grows with N.`,
  );

  const sweepErr = (id: 'fd-forward' | 'fd-central') =>
    range(
      rs.map((r) => cell(r, id).error),
      formatError,
    );
  if (acc) {
    const rv = acc.reverse.map((r) => r.error);
    const curve = (m: string) => acc.curves.filter((c) => c.method === m);
    const dflt = (m: string) =>
      range(
        curve(m).map((c) => c.atDefault.error),
        formatError,
      );
    const bestOf = (m: string) => formatError(Math.min(...curve(m).map((c) => c.best.error)));
    out.push(
      `Accuracy: against closed-form gradients (${acc.reverse.map((r) => r.model).join(', ')}) reverse mode was exact to rounding ` +
        `(relative error ${range(rv, formatError)}), fd-forward at its default step erred by ${dflt('fd-forward')} and fd-central by ` +
        `${dflt('fd-central')}, and no step did better than ${bestOf('fd-forward')} (forward) or ${bestOf('fd-central')} (central): ` +
        `larger steps add truncation error, smaller ones cancellation. Across the sweep, fd-forward differed from the reverse gradient by ` +
        `${sweepErr('fd-forward')} and fd-central by ${sweepErr('fd-central')}.`,
    );
  } else {
    out.push(
      `Accuracy: fd-forward differed from the reverse gradient by ${sweepErr('fd-forward')} and fd-central by ${sweepErr('fd-central')}.`,
    );
  }

  // forward-mode AD, where the backend has it: exact like reverse mode, but one sweep per parameter
  const ad = (r: Row) => r.cells.find((c) => c.variant === 'forward');
  const withAd = rs.filter((r) => ad(r));
  if (withAd.length) {
    const [lo, hi] = [withAd[0], withAd[withAd.length - 1]];
    const a = ad(hi)!,
      rv = cell(hi, 'reverse');
    const err = Math.max(...withAd.map((r) => ad(r)!.error));
    out.push(
      `Forward-mode AD is exact like reverse mode (it differed from the reverse gradient by at most ${formatError(err)}), but it ` +
        `needs one tangent sweep per parameter: it took ${x(ad(lo)!.ratio)} one evaluation at N = ${formatInt(lo.N)} and ` +
        `${x(a.ratio)} at N = ${formatInt(hi.N)} (${how(a)}), against ${x(rv.ratio)} for reverse mode` +
        (a.ratio > 2 * rv.ratio
          ? `: exactness is not what makes backprop fast, the single reverse sweep is.`
          : `: at these sizes it was no slower than reverse mode.`),
    );
  }

  const others = order.filter((b) => b !== backend && rows.some((r) => r.backend === b));
  if (others.length) {
    const oRev = rows.filter((r) => others.includes(r.backend)).map((r) => cell(r, 'reverse'));
    const checked = rows.filter((r) => r.backend !== 'js').map((r) => cell(r, 'reverse').error);
    out.push(
      `The other backends (${others.join(', ')}) tell the same story: reverse mode cost ${range(
        oRev.map((c) => c.ratio),
        x,
      )} one evaluation.` +
        (checked.length
          ? ` Reverse gradients off the js backend agreed with the js reference to ${formatError(Math.max(...checked))} (normwise).`
          : ''),
    );
  }
  return out;
}
