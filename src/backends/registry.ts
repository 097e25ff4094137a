/**
 * The backends in Node: native (the addon, when it built), wasm (dist/tapegrad.wasm, read from the
 * file system) and js. Importing this module installs them (index.ts does); the browser entry
 * installs its own (index.browser.ts), without the native loader.
 */
import { jsEngine } from './js/engine.js';
import { loadWasmEngine } from './wasm/engine.js';
import { installLoaders, type Loaders } from './select.js';

export { backend, backends, load, type Backend, type BackendOptions } from './select.js';

/** What to do when the addon does not load, in commands that work in a project that depends on tapegrad. */
export const NATIVE_FIX =
  'run `npm rebuild tapegrad` in your project, which builds the addon with node-gyp; it needs Python 3, make ' +
  'and a C++17 compiler (Debian/Ubuntu: `apt-get install python3 make g++`; macOS: `xcode-select --install`; Windows: Visual ' +
  'Studio Build Tools with "Desktop development with C++"). `npx tapegrad doctor` shows what loads and why not';

export const NODE_LOADERS: Loaders = {
  native: { load: async () => (await import('./native/engine.js')).nativeEngine(), fix: NATIVE_FIX },
  wasm: {
    load: (options) => loadWasmEngine(options.wasm),
    fix:
      'reinstall tapegrad (`npm install tapegrad`; the package ships dist/tapegrad.wasm), or pass the module: ' +
      "backend('wasm', { wasm: '/path/to/tapegrad.wasm' }); it needs WebAssembly SIMD (Node 16.4+)",
  },
  js: { load: async () => jsEngine, fix: 'none needed: the js backend is plain TypeScript' },
};

installLoaders(NODE_LOADERS);
