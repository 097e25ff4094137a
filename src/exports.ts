/** Everything the package exports except backend selection, which each entry installs (index.ts, index.browser.ts). */
export {
  define,
  softmaxCrossEntropy,
  where,
  Defined,
  type Spec,
  type Leaf,
  type Dim,
  type Dims,
  type Output,
  type Returned,
} from './trace/define.js';
export { Tensor, type TensorLike } from './trace/tensor.js';
export { conv2d, maxPool2d, avgPool2d, type Conv2dOptions, type Pool2dOptions, type Pair } from './trace/window.js';
export { constant, add, sub, mul, div, pow, concat, stack } from './trace/functions.js';
export { ShapeError, OPS } from './ops/opset.js';
export type { Tape } from './trace/compile.js';
export { METHODS, type Method, type Cost } from './trace/cost.js';
export { backend, backends, type Backend, type BackendOptions } from './backends/select.js';
export type { WasmSource } from './backends/wasm/loader.js';
export { BACKEND_NAMES, type BackendName } from './backends/types.js';
export { Compiled, type GradResult, type JvpResult, type Outputs } from './api/compiled.js';
export { DEFAULT_STEP, type GradOptions, type Value, type Values } from './api/validate.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck.js';
export { crossCheck, AGREEMENT, type CrossCheckRow } from './crosscheck.js';
export { fit, evaluate, type FitOptions, type FitResult, type EpochInfo, type StepInfo } from './train/fit.js';
export type { Optimizer, OptimizerState, LbfgsOptimizer, Schedule, LearningRate } from './train/types.js';
export { sgd, adam, type SgdOptions, type AdamOptions } from './train/optimizers.js';
export { constantLr, stepLr, cosineLr, linearWarmup } from './train/schedules.js';
export { init, fans, INIT_SCHEMES, type InitOptions, type InitScheme } from './train/init.js';
export { lbfgs, type LbfgsOptions } from './train/lbfgs.js';
export {
  minimize,
  type MinimizeOptions,
  type MinimizeResult,
  type IterationRecord,
  type StopReason,
} from './train/minimize.js';
// saveParams/loadParams read and write files (node:fs): the Node entry adds them
export {
  encodeSafetensors,
  decodeSafetensors,
  paramsFromSafetensors,
  type Decoded,
  type DecodedTensor,
  type TensorLeaf,
} from './train/safetensors.js';
