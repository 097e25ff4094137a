import { INSTR_WIDTH, OPS } from '../../ops/opset.js';
import { ruleMessage } from '../../trace/tape-rules.js';

/** The module's error codes (assembly/program.ts) as messages. */
export interface ErrorSource {
  lastError(): number;
  errorInstruction(): number;
}

export const E_OUT_OF_MEMORY = 3;
export const E_TOO_LARGE = 11;
/** a broken rule of the validation contract: E_RULE + its number in src/trace/tape-rules.ts */
const E_RULE = 100;

/** An Error for the module's last error; `detail` replaces the generic text where the caller knows more. */
export function wasmError(w: ErrorSource, code: Int32Array | undefined, what: string, detail?: string): Error {
  const err = w.lastError();
  const at = w.errorInstruction();
  let msg: string;
  switch (err) {
    case 1:
      msg = 'no such program (it was disposed)';
      break;
    case 2:
      msg = 'the tape was not validated';
      break;
    case E_OUT_OF_MEMORY:
      msg = 'out of memory: wasm memory cannot grow to hold the tape and its arenas';
      break;
    case 4:
      msg = 'bad tape layout: the arena regions (params, inputs, constants, temporaries, output) are out of order';
      break;
    case 10:
      msg =
        at < 0
          ? 'the finite-difference plan is longer than the buffer staged for it'
          : `finite-difference plan entry ${at} is out of range or out of order (firstInstr must not increase)`;
      break;
    case E_TOO_LARGE:
      msg = 'the tape is too large for wasm memory';
      break;
    default: {
      const op = code?.[at * INSTR_WIDTH];
      msg = err >= E_RULE ? ruleMessage(err - E_RULE, at, op !== undefined ? OPS[op]?.name : '') : `error code ${err}`;
    }
  }
  return new Error(`wasm backend: ${what}: ${detail ?? msg}`);
}
