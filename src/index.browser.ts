/**
 * The browser entry (exports condition "browser"): the wasm and js backends only, so this module
 * graph has no `node:` import and no native loader. The wasm is found with the
 * `new URL('./tapegrad.wasm', import.meta.url)` pattern, which Vite, webpack 5 and Parcel resolve
 * as an asset; with a bundler that leaves it alone (esbuild), serve dist/tapegrad.wasm next to the
 * bundle or pass it: backend('wasm', { wasm: url }).
 */
import { jsEngine } from './backends/js/engine.js';
import { installLoaders } from './backends/select.js';
import { loadWasmEngine } from './backends/wasm/engine.js';

/** Where the bundled page finds the module (a function: import.meta.url is missing in classic scripts, an Error then). */
function packageWasm(): URL {
  return new URL('./tapegrad.wasm', import.meta.url);
}

installLoaders({
  wasm: {
    load: async (options) => loadWasmEngine(options.wasm ?? packageWasm()),
    fix:
      'serve tapegrad.wasm (node_modules/tapegrad/dist/tapegrad.wasm) next to your bundle, or pass its location: ' +
      "backend('wasm', { wasm: '/tapegrad.wasm' }) (a URL, Response, ArrayBuffer or WebAssembly.Module also works); " +
      'the browser needs WebAssembly SIMD (Chrome 91, Firefox 89, Safari 16.4 or later)',
  },
  js: { load: async () => jsEngine, fix: 'none needed: the js backend is plain TypeScript' },
});

export * from './exports.js';
