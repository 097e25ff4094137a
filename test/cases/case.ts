import { it } from 'vitest';
import type { Defined, Values } from '../../src/index.js';
import { describeEachBackend, expectAD, type Oracle } from '../harness.js';

/** One conformance case: a traced function, its arguments and optionally an independent oracle. */
export interface Case {
  readonly name: string;
  /** traced inside the test, so a trace error fails that test by name */
  readonly f: () => Defined;
  readonly params: Values;
  readonly inputs?: Values;
  readonly oracle?: Oracle;
}

/** Runs every case on every backend under test. */
export function runCases(family: string, cases: readonly Case[]): void {
  describeEachBackend(family, (be) => {
    for (const c of cases) it(c.name, () => expectAD(be(), c.f(), c.params, c.inputs, c.oracle));
  });
}
