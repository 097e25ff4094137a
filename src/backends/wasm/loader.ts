/**
 * Reads and compiles tapegrad.wasm from any source: a URL or a string (read from the file system
 * for file: URLs and Node paths, fetched otherwise), a fetch Response, the bytes, or an already
 * compiled WebAssembly.Module. The module is shipped as dist/tapegrad.wasm (outside build/, which
 * `node-gyp rebuild` deletes). It uses fixed-width SIMD; an engine without it cannot compile the
 * module, and the Error says so (backend() then falls back to js, with a warning).
 */

/** Where the module's bytes come from. */
type ByteSource = URL | string | Response | ArrayBuffer | ArrayBufferView;
export type WasmSource = ByteSource | WebAssembly.Module;

/**
 * The module for Node, relative to this file: src/ and dist/ sit at the same depth, so one path
 * serves both. Two modules ship: tapegrad-relaxed.wasm, built with relaxed SIMD (its value() and
 * reverse() fuse multiply-adds), where this engine validates relaxed SIMD, else tapegrad.wasm.
 * Browser entries pass their own URL (index.browser.ts), which bundlers resolve.
 */
export function defaultWasmUrl(relaxed = relaxedSimdSupported()): URL {
  return relaxed
    ? new URL('../../../dist/tapegrad-relaxed.wasm', import.meta.url)
    : new URL('../../../dist/tapegrad.wasm', import.meta.url);
}

const isNode = () =>
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

/** A string as a URL: absolute URLs as they are; else relative to the page, or a path in Node. */
async function toUrl(s: string): Promise<URL> {
  if (/^[a-z][a-z0-9+.-]*:/i.test(s) && !/^[a-z]:[\\/]/i.test(s)) return new URL(s);
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  if (base !== undefined && !isNode()) return new URL(s, base);
  const urlModule = 'node:url'; // computed: browser bundlers must not try to resolve a Node module here
  const { pathToFileURL } = (await import(
    /* @vite-ignore */ /* webpackIgnore: true */ urlModule
  )) as typeof import('node:url');
  return pathToFileURL(s);
}

async function readUrl(url: URL): Promise<ArrayBuffer | Uint8Array> {
  if (url.protocol === 'file:') {
    const fsModule = 'node:fs/promises'; // computed, as above
    const { readFile } = (await import(
      /* @vite-ignore */ /* webpackIgnore: true */ fsModule
    )) as typeof import('node:fs/promises');
    try {
      return await readFile(url);
    } catch (e) {
      throw new Error(
        `cannot read ${url.pathname} (in a tapegrad checkout: \`npm run build:wasm\`; an installed package ships it): ${(e as Error).message}`,
      );
    }
  }
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`cannot fetch ${url.href}: ${(e as Error).message}`);
  }
  return readResponse(res);
}

async function readResponse(res: Response): Promise<ArrayBuffer> {
  if (!res.ok) throw new Error(`cannot fetch ${res.url || 'the wasm module'}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

async function bytesOf(source: ByteSource): Promise<ArrayBuffer | Uint8Array | ArrayBufferView> {
  if (source instanceof URL) return readUrl(source);
  if (typeof source === 'string') return readUrl(await toUrl(source));
  if (typeof Response === 'function' && (source as unknown) instanceof Response)
    return readResponse(source as Response);
  if ((source as unknown) instanceof ArrayBuffer || ArrayBuffer.isView(source))
    return source as ArrayBuffer | ArrayBufferView;
  throw new TypeError(
    `wasm: expected a URL, a string, a Response, an ArrayBuffer, a typed array or a WebAssembly.Module, got ${Object.prototype.toString.call(source)}`,
  );
}

/** The default module, compiled once per process. */
let compiled: Promise<WebAssembly.Module> | undefined;

export function compileWasm(source?: WasmSource): Promise<WebAssembly.Module> {
  if (source === undefined) return (compiled ??= compileFrom(defaultWasmUrl()));
  return compileFrom(source);
}

async function compileFrom(source: WasmSource): Promise<WebAssembly.Module> {
  if (typeof WebAssembly !== 'object') throw new Error('this JavaScript engine has no WebAssembly');
  if (source instanceof WebAssembly.Module) return source;
  const bytes = await bytesOf(source as ByteSource);
  try {
    return await WebAssembly.compile(bytes as BufferSource);
  } catch (e) {
    if (!simdSupported())
      throw new Error(
        'this JavaScript engine lacks WebAssembly SIMD (fixed-width, 128-bit), which the wasm backend needs',
      );
    const what = source instanceof URL ? source.href : typeof source === 'string' ? source : 'the given bytes';
    throw new Error(`cannot compile ${what}: ${(e as Error).message}`);
  }
}

/** f64.const 0; f64x2.splat */
const SPLAT_ZERO = [0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0x14];

/**
 * A 1-function module that uses f64x2.relaxed_madd: does this engine validate relaxed SIMD?
 * (Chrome 114 and later; Node 20's V8 only behind --experimental-wasm-relaxed-simd.)
 */
export function relaxedSimdSupported(): boolean {
  // (module (func (result v128) (f64x2.relaxed_madd (f64x2.splat (f64.const 0)) x3)))
  const body = [0x00, ...SPLAT_ZERO, ...SPLAT_ZERO, ...SPLAT_ZERO, 0xfd, 0x87, 0x02, 0x0b];
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b];
  const bytes = Uint8Array.of(...header, 0x03, 0x02, 0x01, 0x00, 0x0a, body.length + 2, 0x01, body.length, ...body);
  return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
}

/** A 1-function module that uses one f64x2 instruction: does this engine validate SIMD? */
export function simdSupported(): boolean {
  // (module (func (result v128) (f64x2.splat (f64.const 0))))
  const bytes = Uint8Array.of(
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00, // magic, version
    0x01,
    0x05,
    0x01,
    0x60,
    0x00,
    0x01,
    0x7b, // type section: () -> v128
    0x03,
    0x02,
    0x01,
    0x00, // function section
    0x0a,
    0x0f,
    0x01,
    0x0d,
    0x00, // code section, one body of 13 bytes, no locals
    0x44,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0, // f64.const 0
    0xfd,
    0x14, // f64x2.splat
    0x0b, // end
  );
  return WebAssembly.validate(bytes);
}
