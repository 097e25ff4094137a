import { ELEMENTWISE } from './cases/elementwise.js';
import { runCases } from './cases/case.js';

runCases('elementwise ops', ELEMENTWISE);
