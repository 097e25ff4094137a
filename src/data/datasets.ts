/**
 * The small real data sets shipped in data/ (provenance in data/PROVENANCE.md), as float64 arrays
 * ready for the models: features standardised (breast cancer) or scaled to [0, 1] (digits).
 * Node only (reads files next to the package).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export interface Dataset {
  readonly name: string;
  readonly rows: number;
  readonly features: number;
  readonly classes: number;
  /** rows x features, row-major */
  readonly X: Float64Array;
  /** class index per row */
  readonly labels: Int32Array;
}

const DATA = new URL('../../data/', import.meta.url);

function parse(text: string, skipHeader: boolean): number[][] {
  const lines = text.trim().split('\n').slice(skipHeader ? 1 : 0);
  return lines.map((l) => l.split(',').map(Number));
}

function fromRows(name: string, rows: number[][], classes: number): Omit<Dataset, 'X'> & { X: Float64Array } {
  const features = rows[0].length - 1;
  const X = new Float64Array(rows.length * features);
  const labels = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    X.set(r.slice(0, features), i * features);
    labels[i] = r[features];
  });
  return { name, rows: rows.length, features, classes, X, labels };
}

/** Breast Cancer Wisconsin (Diagnostic): 569 x 30, label 1 = benign; features standardised. */
export function breastCancer(): Dataset {
  const d = fromRows('breast cancer', parse(readFileSync(new URL('breast_cancer.csv', DATA), 'utf8'), true), 2);
  standardise(d.X, d.rows, d.features);
  return d;
}

/** Optical Recognition of Handwritten Digits (8x8): 1797 x 64, pixels scaled to [0, 1]. */
export function digits(): Dataset {
  const d = fromRows('digits', parse(gunzipSync(readFileSync(new URL('digits.csv.gz', DATA))).toString('utf8'), false), 10);
  for (let i = 0; i < d.X.length; i++) d.X[i] /= 16;
  return d;
}

/** Zero mean, unit variance per column (constant columns are left centred). */
export function standardise(X: Float64Array, rows: number, cols: number): void {
  for (let j = 0; j < cols; j++) {
    let mean = 0, sq = 0;
    for (let i = 0; i < rows; i++) mean += X[i * cols + j];
    mean /= rows;
    for (let i = 0; i < rows; i++) sq += (X[i * cols + j] - mean) ** 2;
    const sd = Math.sqrt(sq / rows) || 1;
    for (let i = 0; i < rows; i++) X[i * cols + j] = (X[i * cols + j] - mean) / sd;
  }
}

/** One-hot rows x classes. */
export function oneHot(labels: Int32Array, classes: number): Float64Array {
  const y = new Float64Array(labels.length * classes);
  labels.forEach((c, i) => (y[i * classes + c] = 1));
  return y;
}

/** The first `rows` rows of a data set. */
export function head(d: Dataset, rows: number): Dataset {
  return { ...d, rows, X: d.X.slice(0, rows * d.features), labels: d.labels.slice(0, rows) };
}
