import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  backend,
  decodeSafetensors,
  define,
  encodeSafetensors,
  init,
  loadParams,
  saveParams,
  type Tensor,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tapegrad-safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A safetensors file assembled by hand from the spec: u64 LE header length, the header, spaces, data. */
function file(header: object | string, data: ArrayLike<number>, headerLength?: number): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  let json = [...text].map((ch) => ch.charCodeAt(0)); // ASCII headers only here
  while ((8 + json.length) % 8 !== 0) json = [...json, 0x20];
  const n = headerLength ?? json.length;
  const length = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => Math.floor(n / 2 ** (8 * k)) % 256);
  return Uint8Array.from([...length, ...json, ...Array.from(data)]);
}
// little-endian bytes of a few numbers, written out by hand
const F64 = {
  '1.5': [0, 0, 0, 0, 0, 0, 0xf8, 0x3f],
  '-2': [0, 0, 0, 0, 0, 0, 0, 0xc0],
  '0.25': [0, 0, 0, 0, 0, 0, 0xd0, 0x3f],
};
const F32 = { '0.25': [0, 0, 0x80, 0x3e] };

const small = define({ params: { w: [1, 2], c: [] } }, ({ w, c }) => w.sum().mul(c) as Tensor);

describe('safetensors', () => {
  it('the writer follows the spec byte for byte', () => {
    const bytes = encodeSafetensors(small.params, Float64Array.of(1.5, -2, 0.25));
    const header =
      '{"w":{"dtype":"F64","shape":[1,2],"data_offsets":[0,16]},"c":{"dtype":"F64","shape":[],"data_offsets":[16,24]}}';
    expect(header.length).toBe(111); // + 8 = 119, padded with 1 space to 120
    const want = file(header, [...F64['1.5'], ...F64['-2'], ...F64['0.25']]);
    expect(want.length).toBe(8 + 112 + 24);
    expect(Array.from(want.subarray(0, 8))).toEqual([112, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(bytes)).toEqual(Array.from(want));
  });

  it('reads a file written by hand (F64 and F32, metadata), and loadParams widens F32 to float64', async () => {
    const bytes = file(
      '{"__metadata__":{"by":"hand"},"c":{"dtype":"F32","shape":[],"data_offsets":[16,20]},"w":{"dtype":"F64","shape":[1,2],"data_offsets":[0,16]}}',
      [...F64['1.5'], ...F64['-2'], ...F32['0.25']],
    );
    const d = decodeSafetensors(bytes);
    expect(d.metadata).toEqual({ by: 'hand' });
    expect(d.tensors.w).toEqual({ dtype: 'F64', shape: [1, 2], data: Float64Array.of(1.5, -2) });
    expect(d.tensors.c).toEqual({ dtype: 'F32', shape: [], data: Float32Array.of(0.25) });
    const path = join(dir, 'hand.safetensors');
    writeFileSync(path, bytes);
    expect(await loadParams(path, small)).toEqual(Float64Array.of(1.5, -2, 0.25));
  });

  it('round trip through a file: every bit back (signed zeros, subnormals, extremes), metadata kept', async () => {
    const model = define(
      { params: { w1: [7, 5], b1: [5], w2: [5, 3], b2: [3], s: [] }, inputs: { x: [2, 7] } },
      ({ w1, b1, w2, b2, s }, { x }) => x.matmul(w1).add(b1).tanh().matmul(w2).add(b2).sum().mul(s) as Tensor,
    );
    const c = (await backend('js')).compile(model);
    const theta = init(c, { seed: 4, scheme: { b1: 'he-normal' } });
    theta.set([-0, 5e-324, -Number.MAX_VALUE, Infinity], theta.length - 4);
    const path = join(dir, 'round.safetensors');
    await saveParams(path, c, theta, { format: 'pt', note: 'tapegrad test' });
    const back = await loadParams(path, c);
    expect(Buffer.from(back.buffer).equals(Buffer.from(theta.buffer))).toBe(true);
    expect(Object.is(back[back.length - 4], -0)).toBe(true);
    const d = decodeSafetensors(readFileSync(path));
    expect(d.metadata).toEqual({ format: 'pt', note: 'tapegrad test' });
    expect(Object.keys(d.tensors)).toEqual(['w1', 'b1', 'w2', 'b2', 's']);
    expect(d.tensors.w1.shape).toEqual([7, 5]);
    expect(readFileSync(path).readUInt32LE(0) % 8).toBe(0); // the data starts 8-byte aligned
    c.dispose();
  });

  it('a float32 function saves F32 tensors and loads into a Float32Array (F64 files rounded, as a cast)', async () => {
    const be = await backend('js');
    const c32 = be.compile(small, { dtype: 'float32' });
    const theta = Float32Array.of(1.5, -2, 0.1);
    const bytes = encodeSafetensors(small.params, theta);
    const d = decodeSafetensors(bytes);
    expect(d.tensors.w).toEqual({ dtype: 'F32', shape: [1, 2], data: Float32Array.of(1.5, -2) });
    expect(bytes.length).toBe(8 + new DataView(bytes.buffer).getUint32(0, true) + 12); // 4 bytes per element
    const path = join(dir, 'f32.safetensors');
    await saveParams(path, c32, theta);
    const back = await loadParams(path, c32);
    expect(back).toBeInstanceOf(Float32Array);
    expect(Array.from(back)).toEqual(Array.from(theta));
    // an F64 file into a float32 function: each value rounded to float32
    const p64 = join(dir, 'f64-into-f32.safetensors');
    await saveParams(p64, small, Float64Array.of(1.5, -2, 0.1));
    expect(Array.from(await loadParams(p64, c32))).toEqual([1.5, -2, Math.fround(0.1)]);
    // theta of the wrong element type for the function is an error naming the type
    await expect(saveParams(path, c32, Float64Array.of(1, 2, 3) as never)).rejects.toThrow(
      /Float32Array of 3 elements/,
    );
    await expect(saveParams(path, small, theta as never)).rejects.toThrow(/Float64Array of 3 elements/);
  });

  const good = () => encodeSafetensors(small.params, Float64Array.of(1.5, -2, 0.25));
  const entry = (dtype: string, shape: number[], begin: number, end: number) => ({
    dtype,
    shape,
    data_offsets: [begin, end],
  });

  it('a truncated file is a clear error wherever it is cut', async () => {
    const bytes = good();
    expect(() => decodeSafetensors(bytes.subarray(0, 5))).toThrow(
      /truncated file: 5 bytes, less than the 8-byte header length/,
    );
    expect(() => decodeSafetensors(bytes.subarray(0, 50))).toThrow(
      /truncated file: the header needs 112 bytes after the first 8, the file has 42/,
    );
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 3))).toThrow(
      /truncated file: tensor 'c' needs bytes \[16, 24\) of the data, the file has 21/,
    );
    const path = join(dir, 'cut.safetensors');
    writeFileSync(path, bytes.subarray(0, bytes.length - 3));
    await expect(loadParams(path, small)).rejects.toThrow(`${path}: safetensors: truncated file`);
  });

  it('a wrong shape, a missing tensor, an extra tensor are errors naming the tensor', async () => {
    const data = [...F64['1.5'], ...F64['-2'], ...F64['0.25']];
    const load = (header: object) => {
      const path = join(dir, 'bad.safetensors');
      writeFileSync(path, file(header, data));
      return loadParams(path, small);
    };
    await expect(load({ w: entry('F64', [2, 1], 0, 16), c: entry('F64', [], 16, 24) })).rejects.toThrow(
      /tensor 'w' has shape \[2,1\] in the file, the model's parameter is \[1,2\]/,
    );
    await expect(load({ w: entry('F64', [1, 3], 0, 24) })).rejects.toThrow(/tensor 'w' has shape \[1,3\]/);
    await expect(load({ w: entry('F64', [1, 2], 0, 16), z: entry('F64', [1], 16, 24) })).rejects.toThrow(
      /the file holds tensor 'z', which is not a parameter \('w', 'c'\)/,
    );
    await expect(load({ w: entry('F64', [3], 0, 24) })).rejects.toThrow(/tensor 'w' has shape \[3\]/);
    const two = file({ w: entry('F64', [1, 2], 0, 16) }, data.slice(0, 16));
    writeFileSync(join(dir, 'two.safetensors'), two);
    await expect(loadParams(join(dir, 'two.safetensors'), small)).rejects.toThrow(
      /missing tensor 'c' \(shape \[\]\) in the file/,
    );
  });

  it('dtypes: an unknown one and an unsupported one are errors; the sizes must match the shape', () => {
    const data = [...F64['1.5'], ...F64['-2']];
    expect(() => decodeSafetensors(file({ w: entry('F65', [2], 0, 16) }, data))).toThrow(
      /tensor 'w': unknown dtype 'F65' \(safetensors dtypes: BOOL, U8/,
    );
    expect(() => decodeSafetensors(file({ w: entry('float64', [2], 0, 16) }, data))).toThrow(/unknown dtype 'float64'/);
    expect(() => decodeSafetensors(file({ w: entry('I32', [4], 0, 16) }, data))).toThrow(
      /tensor 'w': dtype I32 is not supported \(tapegrad reads F64 and F32\)/,
    );
    expect(() => decodeSafetensors(file({ w: entry('F64', [2], 0, 8) }, data.slice(0, 8)))).toThrow(
      /data_offsets \[0, 8\] hold 8 bytes, shape \[2\] of F64 needs 16/,
    );
  });

  it('malformed headers and data layouts are errors', () => {
    const d16 = [...F64['1.5'], ...F64['-2']];
    const bad = (bytes: Uint8Array, message: RegExp) => expect(() => decodeSafetensors(bytes)).toThrow(message);
    bad(file({}, [], 2 ** 40), /header length 1099511627776 is larger than the 100000000-byte limit/);
    bad(file('[1, 2, 3]', []), /the header is not a JSON object \(it must start with "\{"\)/);
    bad(file('{"w": oops}', []), /the header is not valid UTF-8 JSON/);
    bad(file({ w: { dtype: 'F64', shape: [1] } }, d16.slice(0, 8)), /tensor 'w': data_offsets must be \[begin, end\]/);
    bad(
      file({ w: entry('F64', [-1], 0, 8) }, d16.slice(0, 8)),
      /tensor 'w': shape must be an array of non-negative integers/,
    );
    bad(file({ w: entry('F64', [1], 8, 0) }, d16), /data_offsets must be \[begin, end\] with 0 <= begin <= end/);
    bad(
      file({ a: entry('F64', [1], 0, 8), b: entry('F64', [1], 0, 8) }, d16.slice(0, 8)),
      /tensor '(a|b)' overlaps another tensor's data/,
    );
    bad(
      file({ a: entry('F64', [1], 0, 8), b: entry('F64', [1], 4, 12) }, [...d16, 0, 0, 0, 0].slice(0, 12)),
      /overlaps/,
    );
    bad(file({ a: entry('F64', [1], 8, 16) }, d16), /bytes \[0, 8\) of the data belong to no tensor \(before 'a'\)/);
    bad(file({ a: entry('F64', [1], 0, 8) }, d16), /8 bytes after the last tensor's data belong to no tensor/);
    bad(
      file({ __metadata__: { n: 1 }, a: entry('F64', [1], 0, 8) }, d16.slice(0, 8)),
      /__metadata__ must map strings to strings/,
    );
    expect(() => decodeSafetensors('abc' as never)).toThrow(/expected a Uint8Array, got 'abc'/);
    expect(() => encodeSafetensors(small.params, Float64Array.of(1, 2, 3), { n: 1 } as never)).toThrow(
      /__metadata__ must map strings to strings/,
    );
    expect(() => encodeSafetensors(small.params, Float64Array.of(1, 2))).toThrow(
      /tensor 'c' \[\] at offset 2 does not fit theta \(2 elements\)/,
    );
  });

  it('saveParams and loadParams check their arguments', async () => {
    await expect(saveParams(join(dir, 'x.safetensors'), small, Float64Array.of(1, 2))).rejects.toThrow(
      /theta must be a Float64Array of 3 elements, got 2 elements/,
    );
    await expect(saveParams(join(dir, 'x.safetensors'), {} as never, Float64Array.of(1))).rejects.toThrow(
      /saveParams: expected a compiled or defined function/,
    );
    await expect(loadParams(join(dir, 'absent.safetensors'), small)).rejects.toThrow(/ENOENT/);
  });

  // Python: numpy parses tapegrad's file by hand, and writes one by hand for tapegrad to read
  const python = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  const noNumpy = python.error
    ? `python3 is not available (${python.error.message})`
    : python.status !== 0
      ? `numpy is not importable (${python.stderr.trim().split('\n').at(-1)})`
      : '';
  if (noNumpy) console.log(`skipping the Python interoperability test: ${noNumpy}`);
  it.skipIf(noNumpy !== '')(
    "Python with numpy reads tapegrad's file and writes one tapegrad reads (both parsed by hand to the spec)",
    async () => {
      const theta = Float64Array.of(1.5, -2, 0.1);
      const ours = join(dir, 'ours.safetensors'),
        theirs = join(dir, 'theirs.safetensors');
      await saveParams(ours, small, theta, { format: 'pt' });
      const script = `
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
header = json.loads(raw[8:8 + n])
meta = header.pop('__metadata__', {})
got = {}
for name, t in header.items():
    begin, end = t['data_offsets']
    assert t['dtype'] == 'F64'
    a = np.frombuffer(raw[8 + n + begin:8 + n + end], dtype='<f8').reshape(t['shape'])
    got[name] = {'shape': list(a.shape), 'data': a.ravel().tolist()}
x = (np.arange(6, dtype='<f8') * 0.5 - 1).reshape(2, 3)
y = np.array([0.1, 0.2, 0.3], dtype='<f4')
h = json.dumps({'x': {'dtype': 'F64', 'shape': [2, 3], 'data_offsets': [0, 48]},
                'y': {'dtype': 'F32', 'shape': [3], 'data_offsets': [48, 60]}}).encode()
h += b' ' * (-(8 + len(h)) % 8)
open(sys.argv[2], 'wb').write(struct.pack('<Q', len(h)) + h + x.tobytes() + y.tobytes())
print(json.dumps({'got': got, 'meta': meta}))
`;
      const r = spawnSync('python3', ['-c', script, ours, theirs], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const { got, meta } = JSON.parse(r.stdout);
      expect(meta).toEqual({ format: 'pt' });
      expect(got).toEqual({ w: { shape: [1, 2], data: [1.5, -2] }, c: { shape: [], data: [0.1] } });
      const d = decodeSafetensors(readFileSync(theirs));
      expect(d.tensors.x).toEqual({ dtype: 'F64', shape: [2, 3], data: Float64Array.of(-1, -0.5, 0, 0.5, 1, 1.5) });
      expect(d.tensors.y).toEqual({ dtype: 'F32', shape: [3], data: Float32Array.of(0.1, 0.2, 0.3) });
    },
  );
});
