import { EXTREMUM } from './cases/extremum.js';
import { runCases } from './cases/case.js';

runCases('max and min reductions', EXTREMUM);
