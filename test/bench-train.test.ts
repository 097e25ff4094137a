// The arithmetic and tables of `npm run bench:train` (bench/train/report.ts), on numbers made up
// here: medians, steps per epoch, the ratios against native and the targets' verdicts.
import { describe, expect, it } from 'vitest';
import {
  failureLines,
  HEADER,
  markdownTable,
  median,
  stepsPerEpoch,
  summarise,
  tableRows,
  targetLines,
  textTable,
  type RunRow,
} from '../bench/train/report.js';

const row = (id: string, epochSeconds: number[], testAccuracy = 0.87, error?: string): RunRow => ({
  id,
  implementation: id,
  dtype: 'float64',
  epochSeconds,
  testAccuracy,
  lastLoss: 0.4,
  ...(error ? { error } : {}),
});

describe('bench:train report', () => {
  it('median: odd, even, unsorted, empty', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5])).toBe(5);
    expect(median([])).toBeNaN();
  });

  it('steps per epoch count the last partial batch', () => {
    expect(stepsPerEpoch(60_000, 64)).toBe(938);
    expect(stepsPerEpoch(6000, 64)).toBe(94);
    expect(stepsPerEpoch(640, 64)).toBe(10);
  });

  it('ratios: native vs the W3 budget, vs TF.js wasm and jax-js, from the median epoch', () => {
    // native median 0.5 s; 938 steps x 500 µs = 0.469 s
    const rows = [row('native', [0.9, 0.5, 0.4]), row('tfjs-wasm', [6, 5, 7]), row('jaxjs', [0.6, 0.6])];
    const s = summarise(rows, 500, 938, 5);
    expect(s.seconds.native).toBe(0.5);
    expect(s.nativeVsW3).toBeCloseTo(0.5 / 0.469, 12);
    expect(s.nativeVsTfjsWasm).toBe(12);
    expect(s.nativeVsJax).toBeCloseTo(1.2, 12);
    expect(s.targets.map((t) => t.met)).toEqual([true, true, true, true]);
  });

  it('targets fail on the measured side of the bound, and are unknown when not measured', () => {
    const s = summarise(
      [row('native', [1]), row('tfjs-wasm', [9.9]), row('jaxjs', [1]), row('js', [5], 0.859)],
      800,
      938,
      5,
    ); // 1 s / (938 x 800 µs) = 1.33
    expect(s.targets.map((t) => t.met)).toEqual([false, false, false, false]);
    expect(s.targets[3].value).toBe(0.859);
    const none = summarise([row('js', [5])], NaN, 938, 1);
    expect(none.targets.map((t) => t.met)).toEqual([undefined, undefined, undefined]); // no accuracy target under 5 epochs
    expect(targetLines(none.targets)[0]).toMatch(/^not measured: native s\/epoch/);
    expect(targetLines(s.targets)[1]).toMatch(/^NO: native >= 10x faster than TensorFlow\.js wasm.*\(9\.90\)$/);
  });

  it('a failed run is excluded from the accuracy target and listed with its error', () => {
    const rows = [row('native', [1]), row('jaxjs', [], NaN, 'out of memory')];
    const s = summarise(rows, 1000, 938, 5);
    expect(s.targets[3].met).toBe(true);
    expect(tableRows(rows)[1].slice(2, 4)).toEqual(['failed', '—']);
    expect(failureLines(rows)).toEqual(['jaxjs failed: out of memory']);
  });

  it('tables: one row per run, time relative to native, aligned columns', () => {
    const body = tableRows([row('native', [2, 2.5, 3]), row('js', [20, 25, 30])]);
    expect(body[1]).toEqual(['js', 'float64', '25.00', '20.00 25.00 30.00', '0.4000', '0.8700', '10.00x']);
    const text = textTable(HEADER, body).split('\n');
    expect(new Set(text.map((l) => l.length)).size).toBe(1);
    const md = markdownTable(HEADER, body).split('\n');
    expect(md).toHaveLength(4);
    expect(md[1]).toBe('|---|---|---:|---:|---:|---:|---:|');
    expect(tableRows([row('js', [1])])[0][6]).toBe('—'); // no native run: no ratio
  });
});
