/** The Node entry: native, wasm and js backends (exports condition "node" / "default"). */
import './backends/registry.js';

export * from './exports.js';
export { saveParams, loadParams } from './train/safetensors.js';
