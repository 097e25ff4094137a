import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fashionMnist, idxDataset, parseIdx, readIdx } from '../src/data/idx.js';

/** An IDX file as the format says: 0, 0, type, rank, big-endian uint32 dims, big-endian data. */
function idx(
  type: number,
  dims: number[],
  values: number[],
  size: number,
  put: (v: DataView, at: number, x: number) => void,
): Uint8Array {
  const header = 4 + 4 * dims.length;
  const bytes = new Uint8Array(header + values.length * size);
  const view = new DataView(bytes.buffer);
  bytes[2] = type;
  bytes[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  values.forEach((x, i) => put(view, header + i * size, x));
  return bytes;
}
const ubyte = (dims: number[], values: number[]) => idx(0x08, dims, values, 1, (v, at, x) => v.setUint8(at, x));

describe('IDX reader', () => {
  const images = ubyte([3, 2, 2], [0, 255, 17, 3, 4, 5, 6, 7, 8, 9, 10, 200]);
  const labels = ubyte([3], [9, 0, 4]);

  it("reads unsigned bytes, plain and gzip'd, from files", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapegrad-idx-'));
    writeFileSync(join(dir, 'plain-idx3-ubyte'), images);
    writeFileSync(join(dir, 'zipped-idx3-ubyte.gz'), gzipSync(images));
    for (const file of ['plain-idx3-ubyte', 'zipped-idx3-ubyte.gz']) {
      const r = readIdx(join(dir, file));
      expect(r.dims).toEqual([3, 2, 2]);
      expect(Array.from(r.data)).toEqual([0, 255, 17, 3, 4, 5, 6, 7, 8, 9, 10, 200]);
    }
  });

  it('reads big-endian signed, int32, float32 and float64 elements', () => {
    expect(Array.from(parseIdx(idx(0x09, [2], [-3, 5], 1, (v, at, x) => v.setInt8(at, x))).data)).toEqual([-3, 5]);
    expect(Array.from(parseIdx(idx(0x0b, [2], [-300, 7], 2, (v, at, x) => v.setInt16(at, x))).data)).toEqual([-300, 7]);
    expect(Array.from(parseIdx(idx(0x0c, [1, 2], [-70000, 1 << 30], 4, (v, at, x) => v.setInt32(at, x))).data)).toEqual(
      [-70000, 1 << 30],
    );
    expect(Array.from(parseIdx(idx(0x0d, [1], [0.5], 4, (v, at, x) => v.setFloat32(at, x))).data)).toEqual([0.5]);
    expect(Array.from(parseIdx(idx(0x0e, [2], [Math.PI, -1e300], 8, (v, at, x) => v.setFloat64(at, x))).data)).toEqual([
      Math.PI,
      -1e300,
    ]);
  });

  it('rejects a wrong magic, an unknown type and a truncated file, saying which', () => {
    expect(() => parseIdx(Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 1, 0))).toThrow(/not an IDX file/);
    expect(() => parseIdx(Uint8Array.of(0, 0, 0x42, 1, 0, 0, 0, 1, 0))).toThrow(/unknown element type 0x42/);
    expect(() => parseIdx(images.subarray(0, images.length - 1))).toThrow(
      /11 data bytes for dimensions \[3,2,2\], expected 12/,
    );
    expect(() => parseIdx(Uint8Array.of(0, 0, 8, 3, 0, 0))).toThrow(/truncated header/);
  });

  it('makes a data set: rows x pixels scaled to [0, 1], labels, a row limit', () => {
    const d = idxDataset('tiny', parseIdx(images), parseIdx(labels), 2, 10);
    expect([d.rows, d.features, d.classes]).toEqual([2, 4, 10]);
    expect(Array.from(d.X)).toEqual([0, 1, 17 / 255, 3 / 255, 4 / 255, 5 / 255, 6 / 255, 7 / 255]);
    expect(Array.from(d.labels)).toEqual([9, 0]);
    expect(() => idxDataset('bad', parseIdx(images), parseIdx(ubyte([2], [1, 2])), 2, 10)).toThrow(
      /3 images but 2 labels/,
    );
  });

  it('finds Fashion-MNIST by its file names, and is undefined where the files are missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tapegrad-fashion-'));
    expect(fashionMnist(10, dir)).toBeUndefined();
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(images));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(labels));
    const d = fashionMnist(10, dir)!;
    expect([d.name, d.rows, d.features]).toEqual(['Fashion-MNIST', 3, 4]);
    expect(Array.from(d.labels)).toEqual([9, 0, 4]);
  });
});
