import { BINARY, BINARY_EDGES, PASS_THROUGH, SELECTION, WHERE } from './cases/binary.js';
import { runCases } from './cases/case.js';

runCases('binary ops and broadcasting', [...BINARY, ...BINARY_EDGES, ...PASS_THROUGH]);
runCases('maximum, minimum, comparisons, pow with a tensor exponent', SELECTION);
runCases('where', WHERE);
