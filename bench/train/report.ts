/**
 * The numbers `npm run bench:train` reports, computed from the measured runs only (pure functions,
 * tested in test/bench-train.test.ts): medians over epochs, the ratios against tapegrad native,
 * the targets, and the tables (terminal and README markdown).
 */

export interface RunRow {
  readonly id: string;
  readonly implementation: string;
  readonly dtype: string;
  /** per epoch; empty when the run failed */
  readonly epochSeconds: readonly number[];
  readonly testAccuracy: number;
  readonly lastLoss?: number;
  readonly error?: string;
}

/** The median (mean of the middle two for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Steps in one epoch of `rows` rows: the last, smaller batch counts as one. */
export const stepsPerEpoch = (rows: number, batchSize: number) => Math.ceil(rows / batchSize);

export interface Summary {
  /** median seconds per epoch, by implementation id */
  readonly seconds: Record<string, number>;
  /** native's seconds per epoch / (steps per epoch x one W3 reverse gradient on native) */
  readonly nativeVsW3: number;
  /** TF.js wasm's seconds per epoch / native's (how many times faster native is) */
  readonly nativeVsTfjsWasm: number;
  /** jax-js float32's seconds per epoch / native's */
  readonly nativeVsJax: number;
  readonly targets: readonly { name: string; value: number; met: boolean | undefined }[];
}

export const TARGETS = { nativeVsW3: 1.2, nativeVsTfjsWasm: 10, nativeVsJax: 1, accuracy: 0.86 };

/**
 * The ratios and targets of issue 8 item 10. `w3Us` is one W3 reverse gradient on native (µs),
 * `steps` the steps in one epoch. A target whose numbers are missing is `met: undefined`. The
 * accuracy target applies after 5 epochs or more only.
 */
export function summarise(rows: readonly RunRow[], w3Us: number, steps: number, epochs: number): Summary {
  const seconds = Object.fromEntries(rows.map((r) => [r.id, median(r.epochSeconds)]));
  const s = (id: string) => seconds[id] ?? NaN;
  const nativeVsW3 = s('native') / ((steps * w3Us) / 1e6);
  const nativeVsTfjsWasm = s('tfjs-wasm') / s('native');
  const nativeVsJax = s('jaxjs') / s('native');
  const known = (x: number, ok: boolean) => (Number.isFinite(x) ? ok : undefined);
  const ran = rows.filter((r) => !r.error && Number.isFinite(r.testAccuracy));
  const targets = [
    {
      name: `native s/epoch <= ${TARGETS.nativeVsW3} x (${steps} x one W3 reverse gradient)`,
      value: nativeVsW3,
      met: known(nativeVsW3, nativeVsW3 <= TARGETS.nativeVsW3),
    },
    {
      name: `native >= ${TARGETS.nativeVsTfjsWasm}x faster than TensorFlow.js wasm model.fit`,
      value: nativeVsTfjsWasm,
      met: known(nativeVsTfjsWasm, nativeVsTfjsWasm >= TARGETS.nativeVsTfjsWasm),
    },
    {
      name: 'native faster than jax-js float32 (jit)',
      value: nativeVsJax,
      met: known(nativeVsJax, nativeVsJax > TARGETS.nativeVsJax),
    },
    ...(epochs >= 5
      ? [
          {
            name: `test accuracy >= ${TARGETS.accuracy} after ${epochs} epochs, every implementation`,
            value: Math.min(...ran.map((r) => r.testAccuracy)),
            met: ran.length ? ran.every((r) => r.testAccuracy >= TARGETS.accuracy) : undefined,
          },
        ]
      : []),
  ];
  return { seconds, nativeVsW3, nativeVsTfjsWasm, nativeVsJax, targets };
}

const fixed = (x: number | undefined, d: number) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '—');
const times = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '—');

/** One row per implementation: seconds per epoch (median), each epoch, test accuracy, time / native's. */
export function tableRows(rows: readonly RunRow[]): string[][] {
  const native = median(rows.find((r) => r.id === 'native')?.epochSeconds ?? []);
  return rows.map((r) => {
    const s = median(r.epochSeconds);
    return r.error
      ? [r.implementation, r.dtype, 'failed', '—', '—', '—', '—']
      : [
          r.implementation,
          r.dtype,
          fixed(s, 2),
          r.epochSeconds.map((x) => x.toFixed(2)).join(' '),
          fixed(r.lastLoss, 4),
          fixed(r.testAccuracy, 4),
          times(s / native),
        ];
  });
}

export const HEADER = [
  'implementation',
  'dtype',
  's / epoch (median)',
  'each epoch (s)',
  'last epoch loss',
  'test accuracy',
  'time / native',
];

/** A plain-text table, first two columns left-aligned. */
export function textTable(header: readonly string[], body: readonly string[][]): string {
  const w = header.map((h, j) => Math.max(h.length, ...body.map((r) => r[j].length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, j) => (j < 2 ? c.padEnd(w[j]) : c.padStart(w[j])))
      .join('  ')
      .trimEnd();
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

/** A markdown table. */
export function markdownTable(header: readonly string[], body: readonly string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, j) => (j < 2 ? '---|' : '---:|')).join('')}`,
    ...body.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** Why runs failed, one line each. */
export function failureLines(rows: readonly RunRow[]): string[] {
  return rows.filter((r) => r.error).map((r) => `${r.implementation} failed: ${r.error}`);
}

/** The target lines: yes / NO / not measured, with the measured value. */
export function targetLines(t: Summary['targets']): string[] {
  return t.map(
    (x) =>
      `${x.met === undefined ? 'not measured' : x.met ? 'yes' : 'NO'}: ${x.name} (${fixed(x.value, x.name.startsWith('test') ? 4 : 2)})`,
  );
}
