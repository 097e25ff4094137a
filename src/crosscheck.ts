import { difference } from './api/compare.js';
import type { Values } from './api/validate.js';
import { backend, backends } from './backends/select.js';
import type { BackendName } from './backends/types.js';
import { METHODS, type Method } from './trace/cost.js';
import type { Defined } from './trace/define.js';

export interface CrossCheckRow {
  readonly backend: BackendName;
  readonly method: Method;
  /** |value - reference value| / max(1, |reference value|) */
  readonly valueError: number;
  /** max |grad_i - reference grad_i| */
  readonly gradMaxAbs: number;
  /** ||grad - reference grad||_2 / ||reference grad||_2 */
  readonly gradNormRel: number;
  /** within 1e-12 (reverse, forward) or 1e-9 (finite differences) normwise, the project's conformance bar */
  readonly ok: boolean;
}

/** Tolerances of the conformance suite: exact methods agree to 1e-12, finite differences to 1e-9. */
export const AGREEMENT = { reverse: 1e-12, forward: 1e-12, 'fd-forward': 1e-9, 'fd-central': 1e-9 } as const;

/**
 * Runs `f` on every backend that loads here with every method and reports, per backend and method,
 * the largest disagreement of value and gradient with the js reference backend.
 */
export async function crossCheck(f: Defined, params: Values, inputs?: Values): Promise<CrossCheckRow[]> {
  const ref = (await backend('js')).compile(f);
  const rows: CrossCheckRow[] = [];
  try {
    const expected = METHODS.map((method) => ref.grad(params, inputs, { method }));
    for (const name of await backends()) {
      const c = (await backend(name)).compile(f);
      try {
        METHODS.forEach((method, m) => {
          const got = c.grad(params, inputs, { method });
          const want = expected[m];
          const d = difference(c.flatten(got.grad), ref.flatten(want.grad));
          const valueError = difference([got.value], [want.value]).maxAbs / Math.max(1, Math.abs(want.value));
          const tol = AGREEMENT[method];
          rows.push({
            backend: name,
            method,
            valueError,
            gradMaxAbs: d.maxAbs,
            gradNormRel: d.normRel,
            ok: valueError <= tol && d.normRel <= tol,
          });
        });
      } finally {
        c.dispose();
      }
    }
  } finally {
    ref.dispose();
  }
  return rows;
}
