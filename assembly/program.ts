/**
 * Compiled tapes inside the module: one block of linear memory per tape holding its record, its
 * instructions, its finite-difference plan, its value arena and its adjoint arena; a table maps
 * the small integer ids that JS holds to blocks, so a stale or made-up id is refused, never
 * dereferenced. validate() checks every instruction against the tape's arena (opcode range,
 * flags, sizes, every operand extent from the generated opExtent) before the tape may run.
 */
import { alloc, free } from './heap';
import { F_A, F_B, F_FLAGS, F_OP, F_OUT, F_P0, INSTR_WIDTH, OP_COUNT, opArity, opExtent, opExtraAt } from './opcodes';

/** error codes, mirrored by src/backends/wasm/errors.ts */
export const E_BAD_ID = 1;
export const E_NOT_VALIDATED = 2;
export const E_OUT_OF_MEMORY = 3;
export const E_BAD_LAYOUT = 4;
export const E_BAD_OPCODE = 5;
export const E_BAD_FLAGS = 6;
export const E_BAD_SIZE = 7;
export const E_OUT_OF_ARENA = 8; // out and extra must also stay in the temporaries
export const E_BAD_PLAN = 10;
export const E_TOO_LARGE = 11;

@final @unmanaged export class Program {
  code: usize;
  nInstr: i32;
  plan: usize;
  nPlan: i32;
  v: usize;
  g: usize;
  arenaSize: i32;
  nParams: i32;
  constStart: i32;
  tempStart: i32;
  output: i32;
  valid: i32;
}

// @ts-ignore: decorator
@inline function align16(n: f64): f64 {
  return Math.ceil(n / 16) * 16;
}

let table: usize = 0; // usize[cap]: block of each id - 1, 0 = free
let cap: i32 = 0;

/** what failed last, for the loader's error messages */
export let lastError: i32 = 0;
/** the instruction (or plan triple) that failed validation, -1 if none */
export let errorWhere: i32 = -1;
/** the operand that failed (0 out, 1 a, 2 b, 3 extra), -1 if none */
export let errorOperand: i32 = -1;

export function fail(code: i32, where: i32 = -1, operand: i32 = -1): i32 {
  lastError = code;
  errorWhere = where;
  errorOperand = operand;
  return -code;
}

/** The program of `id`, or null (and lastError set) when id names no live program; clears lastError. */
export function lookup(id: i32, needValid: bool): Program | null {
  lastError = 0;
  if (id < 1 || id > cap) {
    fail(E_BAD_ID);
    return null;
  }
  const p = load<usize>(table + (<usize>(id - 1) << 2));
  if (p == 0) {
    fail(E_BAD_ID);
    return null;
  }
  const prog = changetype<Program>(p);
  if (needValid && !prog.valid) {
    fail(E_NOT_VALIDATED);
    return null;
  }
  return prog;
}

function newId(block: usize): i32 {
  for (let i = 0; i < cap; i++) {
    if (load<usize>(table + (<usize>i << 2)) == 0) {
      store<usize>(table + (<usize>i << 2), block);
      return i + 1;
    }
  }
  const bigger = cap == 0 ? 16 : cap * 2;
  const t = alloc(<f64>bigger * 4);
  if (t == 0) return 0;
  memory.fill(t, 0, <usize>bigger << 2);
  if (cap > 0) {
    memory.copy(t, table, <usize>cap << 2);
    free(table);
  }
  table = t;
  const id = cap + 1;
  cap = bigger;
  store<usize>(table + (<usize>(id - 1) << 2), block);
  return id;
}

/**
 * Reserves a program for a tape of nInstr instructions, nPlan plan triples and an arena of
 * arenaSize float64 (both arenas zeroed). Returns its id, or -(error code).
 */
export function create(nInstr: i32, nPlan: i32, arenaSize: i32, nParams: i32, constStart: i32, tempStart: i32, output: i32): i32 {
  lastError = 0;
  if (nInstr < 0 || nPlan < 0 || arenaSize < 1 || nParams < 0 || constStart < nParams || tempStart < constStart ||
    tempStart > arenaSize || output < 0 || output >= arenaSize)
    return fail(E_BAD_LAYOUT);
  const head = align16(<f64>offsetof<Program>());
  const code = align16(<f64>nInstr * INSTR_WIDTH * 4);
  const plan = align16(<f64>nPlan * 12);
  const arena = align16(<f64>arenaSize * 8);
  const total = head + code + plan + 2 * arena;
  if (total > 3.5 * 1024 * 1024 * 1024) return fail(E_TOO_LARGE);
  const block = alloc(total);
  if (block == 0) return fail(E_OUT_OF_MEMORY);
  const prog = changetype<Program>(block);
  prog.code = block + <usize>head;
  prog.nInstr = nInstr;
  prog.plan = prog.code + <usize>code;
  prog.nPlan = nPlan;
  prog.v = prog.plan + <usize>plan;
  prog.g = prog.v + <usize>arena;
  prog.arenaSize = arenaSize;
  prog.nParams = nParams;
  prog.constStart = constStart;
  prog.tempStart = tempStart;
  prog.output = output;
  prog.valid = 0;
  memory.fill(prog.code, 0, <usize>(code + plan + 2 * arena));
  const id = newId(block);
  if (id == 0) {
    free(block);
    return fail(E_OUT_OF_MEMORY);
  }
  return id;
}

export function dispose(id: i32): i32 {
  lastError = 0;
  const prog = lookup(id, false);
  if (prog == null) return -lastError;
  store<usize>(table + (<usize>(id - 1) << 2), 0);
  free(changetype<usize>(prog));
  return 0;
}

/** offset + extent inside [lo, arenaSize)? (in f64: a product of int32 sizes can exceed int64) */
// @ts-ignore: decorator
@inline function inside(offset: i32, extent: f64, lo: i32, size: i32): bool {
  return offset >= lo && <f64>offset + extent <= <f64>size;
}

/** Checks the instructions and the plan written into the program; 0 when it may run. */
export function validate(id: i32): i32 {
  lastError = 0;
  const prog = lookup(id, false);
  if (prog == null) return -lastError;
  prog.valid = 0;
  const size = prog.arenaSize;
  for (let i = 0; i < prog.nInstr; i++) {
    const w = prog.code + (<usize>(i * INSTR_WIDTH) << 2);
    const op = load<i32>(w + (F_OP << 2));
    if (op < 0 || op >= OP_COUNT) return fail(E_BAD_OPCODE, i);
    const flags = load<i32>(w + (F_FLAGS << 2));
    if ((flags & ~7) != 0) return fail(E_BAD_FLAGS, i);
    const p0 = load<i32>(w + (F_P0 << 2)), p1 = load<i32>(w, (F_P0 + 1) << 2), p2 = load<i32>(w, (F_P0 + 2) << 2);
    if (p0 < 0 || p1 < 0 || p2 < 0) return fail(E_BAD_SIZE, i);
    // outputs and scratch only in the temporaries: a tape cannot overwrite its parameters or inputs
    if (!inside(load<i32>(w + (F_OUT << 2)), opExtent(op, 0, p0, p1, p2), prog.tempStart, size))
      return fail(E_OUT_OF_ARENA, i, 0);
    if (!inside(load<i32>(w + (F_A << 2)), opExtent(op, 1, p0, p1, p2), 0, size)) return fail(E_OUT_OF_ARENA, i, 1);
    if (opArity(op) == 2 && !inside(load<i32>(w + (F_B << 2)), opExtent(op, 2, p0, p1, p2), 0, size))
      return fail(E_OUT_OF_ARENA, i, 2);
    const at = opExtraAt(op);
    if (at >= 0) {
      const off = at == 0 ? p0 : at == 1 ? p1 : p2;
      if (!inside(off, opExtent(op, 3, p0, p1, p2), prog.tempStart, size)) return fail(E_OUT_OF_ARENA, i, 3);
    }
  }
  if (!planValid(prog, prog.plan, prog.nPlan)) return -lastError;
  prog.valid = 1;
  return 0;
}

/**
 * A finite-difference plan (triples start, end, firstInstr) fits the program: coordinates inside
 * the parameters, firstInstr inside the code and not increasing (the order that keeps suffix
 * reuse correct, see src/trace/compile.ts).
 */
export function planValid(prog: Program, plan: usize, nPlan: i32): bool {
  let last = prog.nInstr;
  for (let k = 0; k < nPlan; k++) {
    const t = plan + <usize>k * 12;
    const start = load<i32>(t), end = load<i32>(t, 4), first = load<i32>(t, 8);
    if (start < 0 || end < start || end > prog.nParams || first < 0 || first > last) {
      fail(E_BAD_PLAN, k);
      return false;
    }
    last = first;
  }
  return true;
}
