import { LANES } from './cases/lanes.js';
import { runCases } from './cases/case.js';

runCases('IEEE specials and rare values in vector lanes', LANES);
