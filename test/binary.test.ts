import { BINARY, BINARY_EDGES, PASS_THROUGH } from './cases/binary.js';
import { runCases } from './cases/case.js';

runCases('binary ops and broadcasting', [...BINARY, ...BINARY_EDGES, ...PASS_THROUGH]);
