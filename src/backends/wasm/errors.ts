import { INSTR_WIDTH, OPS } from '../../ops/opset.js';
import { ruleMessage } from '../../trace/tape-rules.js';
import { E, E_RULE, WASM_ERRORS } from './error-codes.js';

/** The module's error codes (assembly/program.ts) as messages. */
export interface ErrorSource {
  lastError(): number;
  errorInstruction(): number;
}

export { E_RULE };
export const E_OUT_OF_MEMORY = E.out_of_memory;
export const E_TOO_LARGE = E.too_large;

/** An Error for the module's last error; `detail` replaces the generic text where the caller knows more. */
export function wasmError(w: ErrorSource, code: Int32Array | undefined, what: string, detail?: string): Error {
  const err = w.lastError();
  const at = w.errorInstruction();
  let msg: string;
  if (err === E.bad_plan && at >= 0)
    msg = `finite-difference plan entry ${at} is out of range or out of order (firstInstr must not increase)`;
  else if (err >= E_RULE) {
    const op = code?.[at * INSTR_WIDTH];
    msg = ruleMessage(err - E_RULE, at, op !== undefined ? OPS[op]?.name : '');
  } else msg = WASM_ERRORS.find((e) => e.code === err)?.text ?? `error code ${err}`;
  return new Error(`wasm backend: ${what}: ${detail ?? msg}`);
}
