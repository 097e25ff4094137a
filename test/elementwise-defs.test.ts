/**
 * The elementwise definitions themselves (src/ops/elementwise.ts), independent of any kernel: each
 * partial derivative against central differences of the forward tree, through the tangent rule
 * forward mode will use (out_dot with one operand's tangent 1, the others 0).
 */
import { describe, expect, it } from 'vitest';
import { ELEMENTWISE, tangentRule } from '../src/ops/elementwise.js';
import { evaluate, type Expr, type Operand } from '../src/ops/expr.js';
import { erf } from '../src/backends/js/math.js';
import { random } from './harness.js';

const ROLES = ['a', 'b', 'c'] as const;
/** ops defined for positive operands only (here) */
const POSITIVE = new Set(['log', 'log1p', 'sqrt', 'pow']);

describe('elementwise definitions', () => {
  for (const d of ELEMENTWISE) {
    if (d.differentiable === false) continue;
    it(`${d.name}: each partial equals central differences of the forward tree`, () => {
      const xs = random(20, d.name.length * 31, 0.3, 2.5);
      for (let k = 0; k < 5; k++) {
        const env: Partial<Record<Operand, number>> = {};
        ROLES.slice(0, d.arity).forEach(
          (r, i) => (env[r] = xs[(k * 3 + i) % 20] * (i === 0 && !POSITIVE.has(d.name) && k % 2 ? -1 : 1)),
        );
        if (d.scalar) {
          env.b = -1.5; // clamp's bounds around the point
          env.c = 2;
        }
        if (d.name === 'where') env.a = k % 2; // cond
        const fwd = (e: Partial<Record<Operand, number>>) => evaluate(d.fwd, e, { erf });
        env.out = fwd(env);
        ROLES.slice(0, d.arity).forEach((r, i) => {
          if (!d.partials[i]) return;
          // tangent 1 on operand i, 0 on the others (read through placeholders)
          const dots = ROLES.map((_, j) => ({ k: 'num', v: j === i ? 1 : 0 }) as Expr);
          const t = tangentRule(d, dots);
          const h = 1e-6 * Math.max(1, Math.abs(env[r]!));
          const up = fwd({ ...env, [r]: env[r]! + h }),
            down = fwd({ ...env, [r]: env[r]! - h });
          const fd = (up - down) / (2 * h);
          const got = t ? evaluate(t, env, { erf }) : 0;
          expect(Math.abs(got - fd), `${d.name} d/d${r} at ${JSON.stringify(env)}: ${got} vs ${fd}`).toBeLessThan(
            1e-6 * Math.max(1, Math.abs(fd)),
          );
        });
      }
    });
  }
});
