import { MATMUL } from './cases/matmul.js';
import { runCases } from './cases/case.js';

runCases('matmul and transpose', MATMUL);
