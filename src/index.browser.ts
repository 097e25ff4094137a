/**
 * The browser entry (exports condition "browser"): the wasm and js backends only, so this module
 * graph has no `node:` import and no native loader. The wasm is found with the
 * `new URL('./tapegrad.wasm', import.meta.url)` pattern (and tapegrad-relaxed.wasm alike), which
 * Vite, webpack 5 and Parcel resolve as assets; with a bundler that leaves them alone (esbuild),
 * serve dist/tapegrad.wasm and dist/tapegrad-relaxed.wasm next to the bundle or pass one:
 * backend('wasm', { wasm: url }).
 */
import { jsEngine } from './backends/js/engine.js';
import { installLoaders } from './backends/select.js';
import { loadWasmEngine } from './backends/wasm/engine.js';
import { relaxedSimdSupported } from './backends/wasm/loader.js';

/**
 * Where the bundled page finds the module (a function: import.meta.url is missing in classic
 * scripts, an Error then): tapegrad-relaxed.wasm where the browser validates relaxed SIMD (Chrome
 * 114 and later: value() and reverse() fuse multiply-adds), else tapegrad.wasm. One literal
 * `new URL` per file, so that bundlers emit both.
 */
function packageWasm(): URL {
  return relaxedSimdSupported()
    ? new URL('./tapegrad-relaxed.wasm', import.meta.url)
    : new URL('./tapegrad.wasm', import.meta.url);
}

installLoaders({
  wasm: {
    load: async (options) => loadWasmEngine(options.wasm ?? packageWasm()),
    fix:
      'serve tapegrad.wasm and tapegrad-relaxed.wasm (node_modules/tapegrad/dist/) next to your bundle, or pass a location: ' +
      "backend('wasm', { wasm: '/tapegrad.wasm' }) (a URL, Response, ArrayBuffer or WebAssembly.Module also works); " +
      'the browser needs WebAssembly SIMD (Chrome 91, Firefox 89, Safari 16.4 or later)',
  },
  js: { load: async () => jsEngine, fix: 'none needed: the js backend is plain TypeScript' },
});

export * from './exports.js';
