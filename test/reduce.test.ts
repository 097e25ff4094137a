import { REDUCE } from './cases/reduce.js';
import { runCases } from './cases/case.js';

runCases('reductions and reshape', REDUCE);
