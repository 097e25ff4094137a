import { TILES } from './cases/tiles.js';
import { runCases } from './cases/case.js';

runCases('matmul across kernel blocks', TILES);
