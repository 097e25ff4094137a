/**
 * The main job's logic on tiny configurations: extrapolation arithmetic, sampling, FD timing in
 * full and sampled, one sweep row, the table and the answer from given numbers, the JSON shape,
 * the chart specs. Timings here are real but tiny; no assertion depends on their values.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';
import { breastCancer, digits, head } from '../src/data/datasets.js';
import { logistic, mlp, seed } from '../src/models/models.js';
import {
  ALL_VARIANTS,
  coordinateGroups,
  extrapolate,
  sampleIndices,
  timeFd,
  VARIANTS,
} from '../src/app/answer/fd-timing.js';
import type { Method } from '../src/trace/cost.js';
import { sweepModel, type Cell, type Row } from '../src/app/answer/sweep.js';
import { answer, formatMs, formatRatio, table } from '../src/app/answer/report.js';
import { errorVsStepSpec, ratioVsNSpec, renderSvg, timeVsNSpec } from '../src/app/answer/charts.js';
import { logisticGradient, seedGradient, studyModel, STEPS } from '../src/app/answer/accuracy.js';
import { runAnswer, type AnswerResult } from '../src/app/answer/main.js';
import { median, pairedMedian, timeEach } from '../src/app/answer/timing.js';

const tiny = { budgetMs: 5, fd: { fullLimitMs: 5, sampleMs: 2, budgetMs: 5, seed: 1 } };

describe('timing and extrapolation', () => {
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('times functions round-robin, one sample of each per round; cheap calls in batches', () => {
    // a simulated clock: the slow call takes 0.3 ms, the cheap one 1 µs, whatever the machine's load
    const order: number[] = [];
    let clock = 0;
    const now = () => clock;
    const t = timeEach(
      [
        () => {
          order.push(0);
          clock += 0.3;
        },
        () => {
          order.push(1);
          clock += 0.001;
        },
      ],
      { budgetMs: 5, minRuns: 3, now },
    );
    expect(t.map((x) => x.samples.length)).toEqual([t[0].runs, t[0].runs]);
    expect(t[0].runs).toBeGreaterThanOrEqual(3);
    // the slow call once per sample, the cheap one batched: several calls per sample
    expect(order.filter((i) => i === 1).length).toBeGreaterThan(3 * order.filter((i) => i === 0).length);
    expect(t[0].ms).toBeCloseTo(0.3, 9);
    expect(t[1].ms).toBeCloseTo(0.001, 9);
  });

  it("extrapolates: one evaluation once, plus each group's extra time scaled by n/k", () => {
    // group A: 1000 coordinates, 10 timed at 5 evaluations' extra time; group B: all 4, 2 evaluations extra
    const r = extrapolate([
      { n: 1000, k: 10, extra: 5, valueMs: 2 },
      { n: 4, k: 4, extra: 2, valueMs: 4 },
    ]);
    expect(r).toEqual({ ratio: 1 + 500 + 2, ms: 503 * 3, valueMs: 3 });
    // a sample cheaper than its own evaluation (noise) adds nothing rather than a negative time
    expect(extrapolate([{ n: 100, k: 1, extra: -0.1, valueMs: 1 }]).ratio).toBe(1);
  });

  it('compares two functions timed together round by round', () => {
    const a = { ms: 0, runs: 3, samples: [10, 30, 12] },
      b = { ms: 0, runs: 3, samples: [5, 10, 4] };
    expect(pairedMedian(a, b)).toBe(3);
    expect(pairedMedian(a, b, (x, y) => x - y)).toBe(8);
  });

  it('samples k distinct sorted indices of [0, n), the same for the same seed', () => {
    const a = sampleIndices(1000, 50, 7);
    expect(new Set(a).size).toBe(50);
    expect(Array.from(a).every((i, j) => i >= 0 && i < 1000 && (j === 0 || a[j - 1] < i))).toBe(true);
    expect(Array.from(sampleIndices(1000, 50, 7))).toEqual(Array.from(a));
    expect(Array.from(sampleIndices(4, 4, 1))).toEqual([0, 1, 2, 3]);
  });
});

describe('finite-difference timing', async () => {
  const js = await backend('js');
  const m = mlp(head(digits(), 20), 5);

  it('groups coordinates by the tape suffix they reach, covering every coordinate once', () => {
    const c = js.compile(m.f);
    const groups = coordinateGroups(c, true);
    expect(groups.map((g) => g.end - g.start).reduce((s, n) => s + n, 0)).toBe(c.paramCount);
    expect(groups.every((g) => g.evaluations > 0 && g.evaluations <= 1)).toBe(true);
    expect(coordinateGroups(c, false)).toEqual([{ start: 0, end: c.paramCount, evaluations: 1 }]);
    c.dispose();
  });

  it('times the whole gradient when it is cheap, a labelled sample when not; the sample is the real FD there', () => {
    const c = js.compile(m.f);
    const theta = c.flatten(m.params);
    const full = new Float64Array(c.paramCount);
    c.gradFlat(theta, m.inputs, full, { method: 'fd-forward' });
    const v = VARIANTS.find((x) => x.id === 'fd-forward')!;

    const out = new Float64Array(c.paramCount);
    const whole = timeFd(c, theta, m.inputs, v, 0.01, { ...tiny.fd, fullLimitMs: 1e9 }, out);
    expect([whole.extrapolated, whole.sampled, whole.of]).toEqual([false, c.paramCount, c.paramCount]);
    expect(Array.from(out)).toEqual(Array.from(full));

    const part = new Float64Array(c.paramCount).fill(42);
    // pretend one evaluation takes 1 ms, so the 2 ms target samples a few coordinates per group
    const s = timeFd(c, theta, m.inputs, v, 1, { ...tiny.fd, fullLimitMs: 0 }, part);
    expect(s.extrapolated).toBe(true);
    expect(s.sampled).toBeLessThan(c.paramCount);
    expect(s.coordinates).toHaveLength(s.sampled);
    expect(s.ms).toBeCloseTo(s.ratio * s.valueMs, 9);
    expect(s.ratio).toBeGreaterThanOrEqual(1);
    const sampled = new Set(s.coordinates);
    part.forEach((g, i) => expect(g).toBe(sampled.has(i) ? full[i] : 42));
    c.dispose();
  });
});

describe('sweep', async () => {
  const js = await backend('js');

  it('measures one model: every variant, ratios, cost model, errors against reverse', () => {
    const m = logistic(head(breastCancer(), 30));
    const r = sweepModel('logistic', m, js, tiny);
    expect([r.model, r.N, r.backend]).toEqual(['logistic', 31, 'js']);
    // every variant, but an optional one (forward AD) the backend lacks, which the row names
    const skipped = (r.skipped ?? []).map((s) => s.variant);
    expect(r.cells.map((x) => x.variant)).toEqual(ALL_VARIANTS.filter((v) => !skipped.includes(v.id)).map((v) => v.id));
    expect(VARIANTS.every((v) => !skipped.includes(v.id))).toBe(true);
    const c = js.compile(m.f);
    for (const x of r.cells) {
      const v = ALL_VARIANTS.find((y) => y.id === x.variant)!;
      expect(x.ratio).toBeGreaterThan(0);
      if (x.extrapolated) expect(x.ms).toBeCloseTo(x.ratio * x.valueMs, 9);
      expect(x.costRatio).toBe(c.cost(v.method as Method, { reuse: v.reuse }).relative);
      expect(x.evaluations).toBe(c.cost(v.method as Method, { reuse: v.reuse }).evaluations);
      expect(x.error).toBeLessThan(v.method === 'reverse' ? 1e-300 : 1e-4);
    }
    expect(r.cells.find((x) => x.variant === 'fd-central')!.error).toBeLessThan(
      r.cells.find((x) => x.variant === 'fd-forward')!.error,
    );
    c.dispose();
  });

  it("checks another backend's reverse gradient against the given reference", () => {
    const m = seed(50);
    const wrong = Float64Array.of(1, 1);
    const r = sweepModel('seed', m, js, tiny, wrong);
    expect(r.cells[0].error).toBeGreaterThan(0.1);
  });
});

describe('accuracy study', async () => {
  const js = await backend('js');
  it('closed forms agree with reverse mode; FD error is V-shaped with its minimum inside the range', () => {
    for (const [m, exact] of [
      [seed(200), seedGradient],
      [logistic(head(breastCancer(), 50)), logisticGradient],
    ] as const) {
      const r = studyModel('m', m, exact(m), js);
      expect(r.reverse).toBeLessThan(1e-14);
      for (const curve of r.curves) {
        expect(curve.points).toHaveLength(STEPS.length);
        const i = curve.points.indexOf(curve.best);
        expect(i).toBeGreaterThan(0);
        expect(i).toBeLessThan(STEPS.length - 1);
        expect(curve.points[0].error).toBeGreaterThan(100 * curve.best.error);
        expect(curve.points[STEPS.length - 1].error).toBeGreaterThan(100 * curve.best.error);
        expect(curve.atDefault.error).toBeLessThan(10 * curve.best.error + 1e-12);
      }
    }
  });
});

/** A row from given numbers: value 1 ms, the ratios given per variant. */
function row(
  model: string,
  N: number,
  backendName: Row['backend'],
  ratios: number[],
  extrapolated = false,
  error = 1e-7,
): Row {
  const cells: Cell[] = VARIANTS.map((v, i) => ({
    variant: v.id,
    ms: ratios[i],
    valueMs: 1,
    ratio: ratios[i],
    costRatio: i === 0 ? 2.2 : ratios[i],
    evaluations: i === 0 ? 1 : N + 1,
    extrapolated: i > 0 && extrapolated,
    sampled: i > 0 && extrapolated ? 3 : N,
    error: i === 0 ? 0 : i === 3 ? error / 1000 : error,
  }));
  return { model, name: model, N, backend: backendName, valueMs: 1, cells };
}

describe('report', () => {
  const rows = [row('seed', 2, 'js', [1.8, 3, 2.5, 5]), row('big', 19210, 'js', [2.1, 19211, 16000, 32000], true)];

  it('formats times and multiples', () => {
    expect([formatMs(0.0234), formatMs(2.19), formatMs(1234), formatMs(4.03 * 3600e3)]).toEqual([
      '23.4 µs',
      '2.19 ms',
      '1.23 s',
      '4.03 h',
    ]);
    expect([formatRatio(1.84), formatRatio(29.4), formatRatio(19211), formatRatio(2.5e6)]).toEqual([
      '1.8',
      '29',
      '19.2k',
      '2.50M',
    ]);
  });

  it('the table marks extrapolated cells and shows the cost model beside each', () => {
    const t = table(rows);
    expect(t).toMatch(/seed\s+2\s+js\s+1\.00 ms\s+1\.8 \[2\.2\]\s+3\.0 \[3\.0\]/);
    expect(t).toMatch(
      /big\s+19,210\s+js\s+1\.00 ms\s+2\.1 \[2\.2\]\s+~19\.2k \[19\.2k\]\s+~16\.0k \[16\.0k\]\s+~32\.0k \[32\.0k\]\s+1e-7\s+1e-10/,
    );
  });

  it('the answer is built from the numbers', () => {
    const a = answer(rows, ['native', 'wasm', 'js']).join('\n');
    expect(a).toMatch(
      /^Yes: at N = 19,210 \(big, js backend\) one reverse gradient took 2\.10 ms, 2\.1x one evaluation of f; the fastest finite differences \(fd-forward reuse\) would take 16\.0 s \(extrapolated from 3 sampled coordinates\), 16,000x one evaluation: reverse mode was 7,619x faster\./,
    );
    expect(a).toMatch(
      /The reverse gradient cost 1\.8x to 2\.1x one evaluation at every N from 2 to 19,210 \(cost model: 2\.2x the FLOPs\)/,
    );
    expect(a).toMatch(
      /forward differences took 3\.0x one evaluation at N = 2 and 19,211x at N = 19,210 \(extrapolated from 3 sampled coordinates\), central differences 32,000x/,
    );
    expect(a).not.toMatch(/perturbed evaluation inside/);
    expect(a).toMatch(
      /Only at N = 2 .*reverse took 1\.8x one evaluation against 3\.0x .*fastest method at every N measured/,
    );
    expect(a).toMatch(/\(suffix reuse\) changed the naive forward-difference time by -17% \(cost model: -17%\)/);
    expect(a).toMatch(/fd-forward differed from the reverse gradient by 1e-7 and fd-central by 1e-10/);
  });

  it('says so when finite differences win, and speaks for the best backend', () => {
    const slow = [
      row('seed', 2, 'wasm', [4, 3, 2.5, 5]),
      row('big', 500, 'wasm', [2, 501, 400, 1000]),
      row('seed', 2, 'js', [1, 3, 3, 5]),
    ];
    const a = answer(slow, ['native', 'wasm', 'js']).join('\n');
    expect(a).toMatch(/\(big, wasm backend\)/);
    expect(a).toMatch(/as fast or faster at N = 2, .*faster at every other N/);
    expect(a).toMatch(/The other backends \(js\) tell the same story: reverse mode cost 1\.0x/);
    expect(answer([row('seed', 2, 'js', [4, 3, 2.5, 5])], ['js'])[0]).toMatch(
      /^Not on this machine: .*reverse mode was 1\.6x slower/,
    );
    expect(answer([], ['js'])).toEqual(['No measurements.']);
    // FD measured at twice the cost model's multiples: said, with the factor
    const slowFd = row('big', 1000, 'native', [2, 2002, 2002, 4004]).cells.map((c, i) =>
      i ? { ...c, costRatio: c.ratio / 2 } : c,
    );
    expect(answer([{ ...row('big', 1000, 'native', [2, 0, 0, 0]), cells: slowFd }], ['native']).join('\n')).toMatch(
      /On the native backend a perturbed evaluation inside the finite-difference loop took about 2\.0x as long/,
    );
  });
});

describe('forward AD in the table and the answer (where a backend measures it)', () => {
  const withAd = (r: Row, ratio: number): Row => ({
    ...r,
    cells: [
      ...r.cells,
      {
        variant: 'forward',
        ms: ratio,
        valueMs: 1,
        ratio,
        costRatio: NaN,
        evaluations: NaN,
        extrapolated: false,
        sampled: r.N,
        error: 2e-16,
      },
    ],
  });
  const rows = [
    withAd(row('seed', 2, 'native', [1.8, 3, 2.5, 5]), 3.1),
    withAd(row('big', 1000, 'native', [2, 1001, 900, 2001]), 1100),
    {
      ...row('big', 1000, 'js', [2, 1001, 900, 2001]),
      skipped: [{ variant: 'forward' as const, why: "unknown method 'forward'" }],
    },
  ];

  it('gets its columns, a dash where a backend lacks it, and a note saying why', () => {
    const t = table(rows);
    expect(t).toMatch(/fd-central reuse\s+forward AD\s+fwd error\s+central error\s+forward AD error/);
    expect(t).toMatch(/big\s+1,000\s+native\s+.*2\.00k \[2\.00k\]\s+1\.10k \[\?\]\s+1e-7\s+1e-10\s+2e-16/);
    expect(t).toMatch(/big\s+1,000\s+js\s+.*\s+-\s+1e-7\s+1e-10\s+-$/m);
    expect(t).toMatch(/\(forward AD not measured on js: unknown method 'forward'\)$/);
    expect(table(rows.slice(0, 1).map((r) => ({ ...r, cells: r.cells.slice(0, 4) })))).not.toMatch(/forward AD/);
  });

  it('the answer says what exactness costs in sweeps', () => {
    const a = answer(rows, ['native', 'js']).join('\n');
    expect(a).toMatch(
      /Forward-mode AD is exact like reverse mode \(it differed from the reverse gradient by at most 2e-16\), but it needs one tangent sweep per parameter: it took 3\.1x one evaluation at N = 2 and 1,100x at N = 1,000 \(measured\), against 2\.0x for reverse mode: exactness is not what makes backprop fast, the single reverse sweep is\./,
    );
    expect(answer(rows.slice(2), ['js']).join('\n')).not.toMatch(/Forward-mode AD/);
  });
});

describe('charts', () => {
  const rows = [row('seed', 2, 'js', [1.8, 3, 2.5, 5]), row('big', 19210, 'js', [2.1, 19211, 16000, 32000], true)];

  it('specs carry every measured point, extrapolated ones labelled', () => {
    const t = timeVsNSpec(rows, 'machine') as { data: { values: { timing: string; method: string }[] } };
    expect(t.data.values).toHaveLength(rows.length * (VARIANTS.length + 1));
    expect(t.data.values.filter((d) => d.timing === 'extrapolated')).toHaveLength(3);
    const r = ratioVsNSpec(rows, 'machine') as { data: { values: unknown[] } };
    expect(r.data.values).toHaveLength(rows.length * (1 + 2 * VARIANTS.length));
  });

  it('renders SVG with vega', async () => {
    const svg = await renderSvg(timeVsNSpec(rows, 'test machine'));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('test machine');
  });
});

describe('tapegrad answer on a tiny configuration', () => {
  it('writes answer.json with the machine, every row, the accuracy study and the answer', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tapegrad-answer-'));
    const r = await runAnswer(
      { out, backends: ['js'], models: ['seed', 'logistic'], sweep: tiny, fashionRows: 10, charts: true },
      () => {},
    );
    const json = JSON.parse(readFileSync(join(out, 'answer.json'), 'utf8')) as AnswerResult;
    expect(Object.keys(json).sort()).toEqual([
      'accuracy',
      'answer',
      'backends',
      'charts',
      'date',
      'definitions',
      'failures',
      'machine',
      'optimisation',
      'options',
      'rows',
      'seconds',
      'tool',
    ]);
    expect(json.optimisation).toEqual([]); // the time-to-solution study was not asked for
    expect(json.rows.map((x) => [x.model, x.N, x.backend])).toEqual([
      ['seed', 2, 'js'],
      ['logistic', 31, 'js'],
    ]);
    expect(json.machine.cores).toBeGreaterThan(0);
    expect(json.accuracy.curves).toHaveLength(4);
    expect(json.answer).toEqual(r.answer);
    expect(json.failures).toEqual([]);
    for (const f of ['time-vs-n.svg', 'ratio-vs-n.svg', 'error-vs-step.svg'])
      expect(existsSync(join(out, f)), f).toBe(true);
    expect(json.charts).toEqual(['time-vs-n.svg', 'ratio-vs-n.svg', 'error-vs-step.svg'].map((f) => join(out, f)));
    expect(errorVsStepSpec(json.accuracy, 'x')).toHaveProperty('facet');
  });
});
