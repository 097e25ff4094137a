/**
 * Finds, reads and compiles build/tapegrad.wasm: from the file system in Node (src/ and dist/ sit
 * at the same depth, so one path relative to this module serves both), with fetch in browsers.
 * The module uses fixed-width SIMD; an engine without it cannot compile the module, and the Error
 * says so (backend() then falls back to js).
 */

/** Where the built module lives, relative to this file (src/backends/wasm or dist/backends/wasm). */
export const WASM_URL = new URL('../../../build/tapegrad.wasm', import.meta.url);

async function readBytes(url: URL): Promise<ArrayBuffer | Uint8Array> {
  if (url.protocol === 'file:') {
    // a computed specifier: browser bundlers must not try to resolve a Node module here
    const fsModule = 'node:fs/promises';
    const { readFile } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ fsModule)) as typeof import('node:fs/promises');
    try {
      return await readFile(url);
    } catch (e) {
      throw new Error(`cannot read ${url.pathname} (run \`npm run build:wasm\`): ${(e as Error).message}`);
    }
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot fetch ${url.href}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

/** Compiles the module once per process. */
let compiled: Promise<WebAssembly.Module> | undefined;

export function compileWasm(url: URL = WASM_URL): Promise<WebAssembly.Module> {
  if (url !== WASM_URL) return compileFrom(url);
  return (compiled ??= compileFrom(url));
}

async function compileFrom(url: URL): Promise<WebAssembly.Module> {
  if (typeof WebAssembly !== 'object') throw new Error('this JavaScript engine has no WebAssembly');
  const bytes = await readBytes(url);
  try {
    return await WebAssembly.compile(bytes as BufferSource);
  } catch (e) {
    if (!simdSupported())
      throw new Error('this JavaScript engine lacks WebAssembly SIMD (fixed-width, 128-bit), which the wasm backend needs');
    throw new Error(`cannot compile ${url.href}: ${(e as Error).message}`);
  }
}

/** A 1-function module that uses one f64x2 instruction: does this engine validate SIMD? */
export function simdSupported(): boolean {
  // (module (func (result v128) (f64x2.splat (f64.const 0))))
  const bytes = Uint8Array.of(
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
    0x03, 0x02, 0x01, 0x00, // function section
    0x0a, 0x0f, 0x01, 0x0d, 0x00, // code section, one body of 13 bytes, no locals
    0x44, 0, 0, 0, 0, 0, 0, 0, 0, // f64.const 0
    0xfd, 0x14, // f64x2.splat
    0x0b, // end
  );
  return WebAssembly.validate(bytes);
}
