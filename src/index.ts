/** The Node entry: native, wasm and js backends (exports condition "node" / "default"). */
import './backends/registry.js';

export * from './exports.js';
export { saveParams, loadParams } from './train/safetensors.js';
// data-parallel training over MPI (a native addon of its own, loaded with process.dlopen)
export { distributed, type Distributed } from './train/distributed.js';
