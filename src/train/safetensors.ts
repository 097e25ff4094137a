/**
 * Parameters saved and loaded in the safetensors format (https://github.com/huggingface/safetensors),
 * which Python's `safetensors` and PyTorch read:
 *   8 bytes   N, the header's length in bytes (unsigned 64-bit little-endian)
 *   N bytes   a JSON object { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { key: string } },
 *             padded with spaces so that the data starts at a multiple of 8
 *   the data  every tensor row-major, little-endian, at [begin, end) of this buffer, which the
 *             tensors cover exactly (no overlap, no gap)
 * tapegrad writes F64 (float64). Parameters keep tapegrad's shapes: a layer weight is [in, out]
 * (x.matmul(w)), the transpose of PyTorch's nn.Linear weight.
 *
 * encode/decode are pure (no Node import); saveParams/loadParams import node:fs/promises only
 * when called, so a browser bundle of the library does not pull it in.
 */
import { Compiled } from '../api/compiled.js';
import { arrayOf, type DType, type FloatArray } from '../api/dtype.js';
import { Defined } from '../trace/define.js';
import { describeValue } from '../trace/tensor.js';

/** The dtypes of the safetensors format and their sizes in bytes. */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};
/** The header limit of the reference implementation (100 MB): larger is a corrupt or hostile file. */
const MAX_HEADER = 100_000_000;

export interface DecodedTensor {
  /** 'F64' or 'F32' */
  readonly dtype: 'F64' | 'F32';
  readonly shape: readonly number[];
  /** row-major values, a copy of the file's bytes (Float64Array for F64, Float32Array for F32) */
  readonly data: Float64Array | Float32Array;
}

export interface Decoded {
  readonly tensors: Readonly<Record<string, DecodedTensor>>;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The leaves to write: name, shape and offset into theta (Compiled.params and Defined.params are these). */
export interface TensorLeaf {
  readonly name: string;
  /** sizes (a Leaf's type allows dimension names, which parameters never hold) */
  readonly shape: readonly (number | string)[];
  readonly offset: number;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * The safetensors bytes of a flat parameter vector, one tensor per leaf (in leaf order): F64 from
 * a Float64Array, F32 from a Float32Array (a float32 function's parameters).
 */
export function encodeSafetensors(
  leaves: readonly TensorLeaf[],
  theta: FloatArray,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  if (!Array.isArray(leaves))
    throw new TypeError(
      `encodeSafetensors: leaves must be an array of { name, shape, offset }, got ${describeValue(leaves)}`,
    );
  if (!(theta instanceof Float64Array) && !(theta instanceof Float32Array))
    throw new TypeError(
      `encodeSafetensors: theta must be a Float64Array or a Float32Array, got ${describeValue(theta)}`,
    );
  const f32 = theta instanceof Float32Array;
  const width = f32 ? 4 : 8;
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header.__metadata__ = checkMetadata(metadata, 'encodeSafetensors');
  let bytes = 0;
  for (const l of leaves) {
    if (!l.shape.every((d: number | string) => Number.isInteger(d)))
      throw new TypeError(`encodeSafetensors: tensor '${l.name}' has no concrete shape: [${l.shape.join(',')}]`);
    const size = sizeOf(l.shape as readonly number[]);
    if (typeof l.name !== 'string' || l.name === '__metadata__' || l.name in header)
      throw new Error(`encodeSafetensors: tensor name ${describeValue(l.name)} is reserved or used twice`);
    if (!Number.isInteger(l.offset) || l.offset < 0 || l.offset + size > theta.length)
      throw new RangeError(
        `encodeSafetensors: tensor '${l.name}' [${l.shape.join(',')}] at offset ${l.offset} does not fit theta (${theta.length} elements)`,
      );
    header[l.name] = { dtype: f32 ? 'F32' : 'F64', shape: [...l.shape], data_offsets: [bytes, bytes + width * size] };
    bytes += width * size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  const out = new Uint8Array(8 + padded + bytes);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const l of leaves)
    for (let i = l.offset, end = l.offset + sizeOf(l.shape as readonly number[]); i < end; i++, at += width)
      if (f32) view.setFloat32(at, theta[i], true);
      else view.setFloat64(at, theta[i], true);
  return out;
}

/**
 * Parses safetensors bytes, checking the header length, the JSON, every dtype, shape and offset
 * (in bounds, matching the shape, no overlap, no gap, nothing after the last tensor). F64 and
 * F32 tensors are decoded; any other known dtype is an error naming it.
 */
export function decodeSafetensors(bytes: Uint8Array): Decoded {
  const bad = (why: string) => new Error(`safetensors: ${why}`);
  if (!(bytes instanceof Uint8Array))
    throw new TypeError(`decodeSafetensors: expected a Uint8Array, got ${describeValue(bytes)}`);
  if (bytes.length < 8) throw bad(`truncated file: ${bytes.length} bytes, less than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER))
    throw bad(`header length ${n64} is larger than the ${MAX_HEADER}-byte limit (a corrupt file?)`);
  const n = Number(n64);
  if (8 + n > bytes.length)
    throw bad(`truncated file: the header needs ${n} bytes after the first 8, the file has ${bytes.length - 8}`);
  if (n < 2 || bytes[8] !== 0x7b) throw bad('the header is not a JSON object (it must start with "{")');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw bad(`the header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw bad('the header is not a JSON object');
  const dataStart = 8 + n,
    dataLength = bytes.length - dataStart;
  const { __metadata__: meta, ...entries } = header as Record<string, unknown>;
  const metadata = meta === undefined ? {} : checkMetadata(meta, 'safetensors');
  const spans: [number, number, string][] = [];
  const tensors: Record<string, DecodedTensor> = {};
  for (const [name, e] of Object.entries(entries)) {
    const where = `tensor '${name}'`;
    if (typeof e !== 'object' || e === null)
      throw bad(`${where}: expected { dtype, shape, data_offsets }, got ${describeValue(e)}`);
    const { dtype, shape, data_offsets: offsets } = e as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES))
      throw bad(
        `${where}: unknown dtype ${describeValue(dtype)} (safetensors dtypes: ${Object.keys(DTYPE_BYTES).join(', ')})`,
      );
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0))
      throw bad(`${where}: shape must be an array of non-negative integers, got ${describeValue(shape)}`);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      offsets.some((o) => !Number.isSafeInteger(o) || o < 0) ||
      offsets[0] > offsets[1]
    )
      throw bad(`${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${describeValue(offsets)}`);
    const [begin, end] = offsets as number[];
    const want = sizeOf(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== want)
      throw bad(
        `${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, shape [${shape.join(',')}] of ${dtype} needs ${want}`,
      );
    if (end > dataLength)
      throw bad(`truncated file: ${where} needs bytes [${begin}, ${end}) of the data, the file has ${dataLength}`);
    if (dtype !== 'F64' && dtype !== 'F32')
      throw bad(`${where}: dtype ${dtype} is not supported (tapegrad reads F64 and F32)`);
    const count = sizeOf(shape),
      at = dataStart + begin;
    const data = dtype === 'F64' ? new Float64Array(count) : new Float32Array(count);
    if (dtype === 'F64') for (let i = 0; i < count; i++) data[i] = view.getFloat64(at + 8 * i, true);
    else for (let i = 0; i < count; i++) data[i] = view.getFloat32(at + 4 * i, true);
    tensors[name] = { dtype, shape: [...shape], data };
    spans.push([begin, end, name]);
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let covered = 0;
  for (const [begin, end, name] of spans) {
    if (begin < covered) throw bad(`tensor '${name}' overlaps another tensor's data (bytes [${begin}, ${end}))`);
    if (begin > covered) throw bad(`bytes [${covered}, ${begin}) of the data belong to no tensor (before '${name}')`);
    covered = end;
  }
  if (covered !== dataLength)
    throw bad(`${dataLength - covered} bytes after the last tensor's data belong to no tensor`);
  return { tensors, metadata };
}

function checkMetadata(meta: unknown, what: string): Record<string, string> {
  if (
    typeof meta !== 'object' ||
    meta === null ||
    Array.isArray(meta) ||
    Object.values(meta).some((v) => typeof v !== 'string')
  )
    throw new Error(`${what}: __metadata__ must map strings to strings, got ${JSON.stringify(meta)}`);
  return { ...(meta as Record<string, string>) };
}

/**
 * The flat parameter vector (definition order) from decoded safetensors: every parameter present
 * with its shape, nothing else. A Float64Array (F32 tensors widened, exactly), or a Float32Array
 * for a float32 compiled function (F64 tensors rounded to float32, as a cast would).
 */
export function paramsFromSafetensors<A extends FloatArray>(model: Compiled<A>, decoded: Decoded): A;
export function paramsFromSafetensors(model: Defined, decoded: Decoded): Float64Array;
export function paramsFromSafetensors(model: Compiled<FloatArray> | Defined, decoded: Decoded): FloatArray;
export function paramsFromSafetensors(model: Compiled<FloatArray> | Defined, decoded: Decoded): FloatArray {
  const leaves = leavesOf(model, 'loadParams');
  const theta = arrayOf(
    dtypeOf(model),
    leaves.reduce((s, l) => s + l.size, 0),
  );
  for (const name of Object.keys(decoded.tensors))
    if (!leaves.some((l) => l.name === name))
      throw new Error(
        `loadParams: the file holds tensor '${name}', which is not a parameter (${leaves.map((l) => `'${l.name}'`).join(', ')})`,
      );
  for (const l of leaves) {
    const t = decoded.tensors[l.name];
    if (!t) throw new Error(`loadParams: missing tensor '${l.name}' (shape [${l.shape.join(',')}]) in the file`);
    if (t.shape.length !== l.shape.length || t.shape.some((d, i) => d !== l.shape[i]))
      throw new Error(
        `loadParams: tensor '${l.name}' has shape [${t.shape.join(',')}] in the file, the model's parameter is [${l.shape.join(',')}]`,
      );
    theta.set(t.data, l.offset);
  }
  return theta;
}

const dtypeOf = (model: Compiled<FloatArray> | Defined): DType => (model instanceof Compiled ? model.dtype : 'float64');

function leavesOf(model: unknown, what: string) {
  if (!(model instanceof Compiled) && !(model instanceof Defined))
    throw new TypeError(`${what}: expected a compiled or defined function, got ${describeValue(model)}`);
  return model.params;
}

/** node:fs/promises, by a computed specifier: browser bundlers (the browser entry exports encode/decode) must not try to resolve it. */
function nodeFs(): Promise<typeof import('node:fs/promises')> {
  const name = 'node:fs/promises';
  return import(/* @vite-ignore */ /* webpackIgnore: true */ name);
}

/**
 * Writes theta (flat, definition order) to `path` as safetensors, one tensor per parameter: F64,
 * or F32 for a float32 compiled function (theta a Float32Array).
 * The file is written next to its final name and renamed, so a reader never sees half a file.
 */
export async function saveParams<A extends FloatArray>(
  path: string,
  model: Compiled<A> | Defined,
  theta: A,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const leaves = leavesOf(model, 'saveParams');
  const n = leaves.reduce((s, l) => s + l.size, 0);
  const dtype = dtypeOf(model as Compiled<FloatArray> | Defined);
  const Want = dtype === 'float32' ? Float32Array : Float64Array;
  if (!(theta instanceof Want) || theta.length !== n)
    throw new RangeError(
      `saveParams: theta must be a ${Want.name} of ${n} elements, got ${theta instanceof Want ? `${theta.length} elements` : describeValue(theta)}`,
    );
  const bytes = encodeSafetensors(leaves, theta, metadata);
  const { writeFile, rename } = await nodeFs();
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

/** Reads a safetensors file into a new flat vector for `model` (checks and dtype as paramsFromSafetensors). */
export async function loadParams<A extends FloatArray>(path: string, model: Compiled<A>): Promise<A>;
export async function loadParams(path: string, model: Defined): Promise<Float64Array>;
export async function loadParams(path: string, model: Compiled<FloatArray> | Defined): Promise<FloatArray> {
  leavesOf(model, 'loadParams');
  const { readFile } = await nodeFs();
  const bytes = await readFile(path);
  try {
    return paramsFromSafetensors(
      model,
      decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
    );
  } catch (e) {
    (e as Error).message = `${path}: ${(e as Error).message}`;
    throw e;
  }
}
