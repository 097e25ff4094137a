/**
 * The wasm module's error codes and their messages: the one definition. `npm run gen` writes the
 * AssemblyScript constants (E_<ID> in assembly/opcodes.ts) from this table; errors.ts turns a
 * code into a message. A broken rule of the validation contract is E_RULE + its number in
 * src/trace/tape-rules.ts.
 */
export const WASM_ERRORS = [
  { id: 'bad_id', code: 1, text: 'no such program (it was disposed)' },
  { id: 'not_validated', code: 2, text: 'the tape was not validated' },
  { id: 'out_of_memory', code: 3, text: 'out of memory: wasm memory cannot grow to hold the tape and its arenas' },
  {
    id: 'bad_layout',
    code: 4,
    text: 'bad tape layout: the arena regions (params, inputs, constants, temporaries, output) are out of order',
  },
  // the message names the plan entry (errorInstruction) when there is one
  { id: 'bad_plan', code: 10, text: 'the finite-difference plan is longer than the buffer staged for it' },
  { id: 'too_large', code: 11, text: 'the tape is too large for wasm memory' },
] as const;

export const E_RULE = 100;

type ErrorId = (typeof WASM_ERRORS)[number]['id'];
/** Code of each error id. */
export const E = Object.fromEntries(WASM_ERRORS.map((e) => [e.id, e.code])) as Readonly<Record<ErrorId, number>>;
