import { LOSS } from './cases/loss.js';
import { runCases } from './cases/case.js';

runCases('softmax cross-entropy', LOSS);
