import { OPS } from '../../ops/opset.js';

/** The module's error codes (assembly/program.ts) as messages. */
export interface ErrorSource {
  lastError(): number;
  errorInstruction(): number;
  errorOperandIndex(): number;
}

const OPERAND = ['out', 'a', 'b', 'extra'];

export function wasmError(w: ErrorSource, code: Int32Array | undefined, what: string): Error {
  const err = w.lastError();
  const at = w.errorInstruction();
  const opName = () => {
    const op = code?.[at * 8];
    return op !== undefined && OPS[op] ? ` (${OPS[op].name})` : '';
  };
  const instr = () => `instruction ${at}${opName()}`;
  let msg: string;
  switch (err) {
    case 1: msg = 'no such program (it was disposed)'; break;
    case 2: msg = 'the tape was not validated'; break;
    case 3: msg = 'out of memory: wasm memory cannot grow to hold the tape and its arenas'; break;
    case 4: msg = 'bad tape layout: the arena regions (params, inputs, constants, temporaries, output) are out of order'; break;
    case 5: msg = `${instr()}: opcode out of range`; break;
    case 6: msg = `${instr()}: unknown flag bits`; break;
    case 7: msg = `${instr()}: negative size`; break;
    case 8: {
      const k = w.errorOperandIndex();
      const region = k === 0 || k === 3 ? 'the temporaries' : 'the arena';
      msg = `${instr()}: operand ${OPERAND[k] ?? k} reaches outside ${region}`;
      break;
    }
    case 10:
      msg = at < 0 ? 'the finite-difference plan is longer than the buffer staged for it'
        : `finite-difference plan entry ${at} is out of range or out of order (firstInstr must not increase)`;
      break;
    case 11: msg = 'the tape is too large for wasm memory'; break;
    default: msg = `error code ${err}`;
  }
  return new Error(`wasm backend: ${what}: ${msg}`);
}
