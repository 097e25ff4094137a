/**
 * Compiled tapes inside the module: one block of linear memory per tape holding its record, its
 * instructions, its finite-difference plan, its value arena and its adjoint arena; a table maps
 * the small integer ids that JS holds to blocks, so a stale or made-up id is refused, never
 * dereferenced. validate() checks every instruction against the validation contract (generated
 * from src/trace/tape-rules.ts and the op set) before the tape may run.
 */
import { alloc, free } from './heap';
import {
  F_A, F_B, F_C, F_FLAGS, F_OP, F_OUT, F_P0, FLAG_GRAD_A, FLAG_GRAD_B, FLAG_GRAD_C, FLAG_GRAD_OUT, INSTR_WIDTH, MAX_PARAMS,
  OP_COUNT, opArity, opExtent, opExtraAt, opLimitsOk, opParamCount, opSizeParams,
  RULE_A, RULE_B, RULE_C, RULE_EXTRA, RULE_EXTRA_OVERLAP, RULE_FLAGS, RULE_GRAD_OPERAND, RULE_LIMIT, RULE_OPCODE, RULE_OUT,
  RULE_OUT_OVERLAP, RULE_SIZE, E_BAD_ID, E_NOT_VALIDATED, E_OUT_OF_MEMORY, E_BAD_LAYOUT, E_BAD_PLAN, E_TOO_LARGE, E_RULE,
} from './opcodes';
export { E_BAD_ID, E_NOT_VALIDATED, E_OUT_OF_MEMORY, E_BAD_LAYOUT, E_BAD_PLAN, E_TOO_LARGE, E_RULE };

// the error codes E_* are generated from src/backends/wasm/error-codes.ts (assembly/opcodes.ts)

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
  /** forward mode: the tangent arena (arenaSize elements) then scratch for bilinear terms; 0 until first used */
  t: usize;
  scratch: usize;
  /** bytes of an arena element: 8 for a float64 program, 4 for a float32 one (the kernels' T) */
  elem: i32;
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
export function fail(code: i32, where: i32 = -1): i32 {
  lastError = code;
  errorWhere = where;
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
 * Reserves a program for a tape of nInstr instructions, nPlan plan triples and arenas of
 * arenaSize elements of elem bytes (8: float64, 4: float32; both arenas zeroed). Returns its id,
 * or -(error code).
 */
export function create(nInstr: i32, nPlan: i32, arenaSize: i32, nParams: i32, constStart: i32, tempStart: i32, output: i32, elem: i32): i32 {
  lastError = 0;
  if (nInstr < 0 || nPlan < 0 || arenaSize < 1 || nParams < 0 || constStart < nParams || tempStart < constStart ||
    tempStart > arenaSize || output < 0 || output >= arenaSize || (elem != 8 && elem != 4))
    return fail(E_BAD_LAYOUT);
  const head = align16(<f64>offsetof<Program>());
  const code = align16(<f64>nInstr * INSTR_WIDTH * 4);
  const plan = align16(<f64>nPlan * 12);
  const arena = align16(<f64>arenaSize * <f64>elem);
  const total = head + code + plan + 2 * arena;
  if (total > 3.5 * 1024 * 1024 * 1024) return fail(E_TOO_LARGE);
  const block = alloc(total, true); // zeroed: both arenas start at 0
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
  prog.t = 0;
  prog.scratch = 0;
  prog.elem = elem;
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
  if (prog.t != 0) free(prog.t);
  free(changetype<usize>(prog));
  return 0;
}

/** offset + extent inside [lo, arenaSize)? (in f64: a product of int32 sizes can exceed int64) */
// @ts-ignore: decorator
@inline function inside(offset: i32, extent: f64, lo: i32, size: i32): bool {
  return offset >= lo && <f64>offset + extent <= <f64>size;
}

/** do [x, x + lx) and [y, y + ly) share an element? (an absent operand has extent -1) */
// @ts-ignore: decorator
@inline function overlaps(x: i32, lx: f64, y: i32, ly: f64): bool {
  return lx > 0 && ly > 0 && <f64>x < <f64>y + ly && <f64>y < <f64>x + lx;
}

/**
 * Checks the instructions and the plan written into the program against the validation
 * contract (src/trace/tape-rules.ts, the generated RULE_* in the same order as the js and native
 * checkers); 0 when it may run, else -(E_RULE + rule) with the instruction in errorWhere.
 */
export function validate(id: i32): i32 {
  lastError = 0;
  const prog = lookup(id, false);
  if (prog == null) return -lastError;
  prog.valid = 0;
  const size = prog.arenaSize;
  for (let i = 0; i < prog.nInstr; i++) {
    const w = prog.code + (<usize>(i * INSTR_WIDTH) << 2);
    const op = load<i32>(w + (F_OP << 2));
    if (op < 0 || op >= OP_COUNT) return fail(E_RULE + RULE_OPCODE, i);
    const flags = load<i32>(w + (F_FLAGS << 2));
    if ((flags & ~(FLAG_GRAD_A | FLAG_GRAD_B | FLAG_GRAD_C | FLAG_GRAD_OUT)) != 0) return fail(E_RULE + RULE_FLAGS, i);
    const arity = opArity(op);
    if ((arity < 2 && (flags & FLAG_GRAD_B) != 0) || (arity < 3 && (flags & FLAG_GRAD_C) != 0))
      return fail(E_RULE + RULE_GRAD_OPERAND, i);
    const p = w + (F_P0 << 2);
    const sizes = opSizeParams(op), nParams = opParamCount(op);
    for (let q = 0; q < MAX_PARAMS; q++) {
      const pq = load<i32>(p + (<usize>q << 2));
      if (pq < ((sizes >> q) & 1) || (q >= nParams && pq != 0)) return fail(E_RULE + RULE_SIZE, i);
    }
    if (!opLimitsOk(op, p)) return fail(E_RULE + RULE_LIMIT, i);
    const out = load<i32>(w + (F_OUT << 2)), a = load<i32>(w + (F_A << 2));
    const b = load<i32>(w + (F_B << 2)), c = load<i32>(w + (F_C << 2));
    const eOut = opExtent(op, 0, p), eA = opExtent(op, 1, p), eB = opExtent(op, 2, p), eC = opExtent(op, 3, p);
    // outputs and scratch only in the temporaries: a tape cannot overwrite its parameters or inputs
    if (!inside(out, eOut, prog.tempStart, size)) return fail(E_RULE + RULE_OUT, i);
    if (!inside(a, eA, 0, size)) return fail(E_RULE + RULE_A, i);
    if (eB >= 0 && !inside(b, eB, 0, size)) return fail(E_RULE + RULE_B, i);
    if (eC >= 0 && !inside(c, eC, 0, size)) return fail(E_RULE + RULE_C, i);
    const at = opExtraAt(op);
    const x = at >= 0 ? load<i32>(p + (<usize>at << 2)) : 0, eX = at >= 0 ? opExtent(op, 4, p) : -1;
    if (at >= 0 && !inside(x, eX, prog.tempStart, size)) return fail(E_RULE + RULE_EXTRA, i);
    if (overlaps(out, eOut, a, eA) || overlaps(out, eOut, b, eB) || overlaps(out, eOut, c, eC))
      return fail(E_RULE + RULE_OUT_OVERLAP, i);
    if (overlaps(x, eX, out, eOut) || overlaps(x, eX, a, eA) || overlaps(x, eX, b, eB) || overlaps(x, eX, c, eC))
      return fail(E_RULE + RULE_EXTRA_OVERLAP, i);
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
