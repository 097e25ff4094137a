/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS"):
 * two zero bytes, a type byte, the number of dimensions, each dimension as a big-endian uint32,
 * then the data, row-major and big-endian. Files may be gzip'd (`.gz`), as distributed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Dataset } from './datasets.js';

export interface Idx {
  readonly dims: readonly number[];
  /** the elements, converted to float64 */
  readonly data: Float64Array;
}

/** element type byte -> [bytes per element, big-endian reader] */
const TYPES: Record<number, [number, (v: DataView, at: number) => number]> = {
  0x08: [1, (v, at) => v.getUint8(at)],
  0x09: [1, (v, at) => v.getInt8(at)],
  0x0b: [2, (v, at) => v.getInt16(at)],
  0x0c: [4, (v, at) => v.getInt32(at)],
  0x0d: [4, (v, at) => v.getFloat32(at)],
  0x0e: [8, (v, at) => v.getFloat64(at)],
};

/** Parses an IDX buffer, gunzipping it first when it starts with the gzip magic bytes. */
export function parseIdx(bytes: Uint8Array): Idx {
  const buf = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 4 || view.getUint16(0) !== 0) throw new Error('not an IDX file: it must start with two zero bytes');
  const type = TYPES[view.getUint8(2)];
  if (!type) throw new Error(`IDX: unknown element type 0x${view.getUint8(2).toString(16)}`);
  const rank = view.getUint8(3);
  const header = 4 + 4 * rank;
  if (buf.byteLength < header) throw new Error(`IDX: truncated header (${rank} dimensions)`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const count = dims.reduce((p, d) => p * d, 1);
  const [size, read] = type;
  if (buf.byteLength < header + count * size)
    throw new Error(`IDX: ${buf.byteLength - header} data bytes for dimensions [${dims.join(',')}], expected ${count * size}`);
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = read(view, header + i * size);
  return { dims, data };
}

export function readIdx(path: string): Idx {
  return parseIdx(readFileSync(path));
}

/** Where Debian's `dataset-fashion-mnist` package puts the files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * The first `rows` images of a Fashion-MNIST split (the test split: 10,000 images; train: 60,000;
 * 28x28 = 784 pixels, 10 classes), pixels scaled to [0, 1]; undefined when the IDX files are not
 * there (the package is optional).
 */
export function fashionMnist(rows = 10_000, dir = FASHION_MNIST_DIR, split: 'train' | 'test' = 'test'): Dataset | undefined {
  const prefix = split === 'test' ? 't10k' : 'train';
  const images = join(dir, `${prefix}-images-idx3-ubyte.gz`);
  const labels = join(dir, `${prefix}-labels-idx1-ubyte.gz`);
  if (!existsSync(images) || !existsSync(labels)) return undefined;
  return idxDataset('Fashion-MNIST', readIdx(images), readIdx(labels), rows, 10);
}

/** A data set from an images file and a labels file: rows x (product of the other dims), scaled by 1/255. */
export function idxDataset(name: string, images: Idx, labels: Idx, rows: number, classes: number): Dataset {
  if (images.dims[0] !== labels.dims[0]) throw new Error(`${name}: ${images.dims[0]} images but ${labels.dims[0]} labels`);
  const n = Math.min(rows, images.dims[0]);
  const features = images.dims.slice(1).reduce((p, d) => p * d, 1);
  const X = images.data.slice(0, n * features);
  for (let i = 0; i < X.length; i++) X[i] /= 255;
  return { name, rows: n, features, classes, X, labels: Int32Array.from(labels.data.subarray(0, n)) };
}
