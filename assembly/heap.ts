/**
 * The linear-memory allocator: first fit over an address-ordered free list, with coalescing.
 *
 * Why our own and not the AssemblyScript runtime's: a compiled tape owns a few large blocks for as
 * long as it lives, and dispose() must give them back; when memory cannot grow, alloc() returns 0
 * (the loader turns that into a JS Error) instead of trapping inside the runtime. Memory never
 * shrinks (wasm cannot), but freed blocks are reused, and a freed block at the top of the heap
 * lowers the top again, so compiling and disposing tapes in a loop does not grow memory.
 *
 * Block layout: a 16-byte header [size: u32 (bytes, header included, a multiple of 16), tag: u32]
 * then the payload, 16-byte aligned. A free block keeps the address of the next free block in its
 * payload's first word.
 */

const HDR: usize = 16;
const TAG_USED: u32 = 0xa110c8ed;
const TAG_FREE: u32 = 0xf4eeb10c;
/** the largest request we accept: keeps every size arithmetic inside u32 */
const MAX_BYTES: f64 = 3.5 * 1024 * 1024 * 1024;

let top: usize = 0; // end of the managed region (blocks live in [base, top))
let freeHead: usize = 0; // first free block (header address), 0 = none
// memory from here up has never been handed out: still zero, as memory.grow() gave it, so a
// zeroed block taken there is not written (a big tape's arenas cost no resident memory until used)
let clean: usize = 0;

function base(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

@inline function sizeOf(block: usize): usize {
  return <usize>load<u32>(block);
}
@inline function nextFree(block: usize): usize {
  return load<usize>(block + HDR);
}

/** Ensures linear memory reaches `end` bytes; false when it cannot grow that far. */
function reach(end: usize): bool {
  const have = <u64>memory.size() << 16; // u64: 65536 pages are 2^32 bytes
  if (<u64>end <= have) return true;
  const pages = <i32>((end - have + 0xffff) >> 16);
  return memory.grow(pages) >= 0;
}

/** A 16-byte aligned block of at least `bytes` bytes (zeroed if asked), or 0 when memory cannot provide it. */
export function alloc(bytes: f64, zero: bool = false): usize {
  if (top == 0) top = clean = base();
  if (!(bytes >= 0) || bytes > MAX_BYTES) return 0;
  const need = ((<usize>bytes + 15) & ~(<usize>15)) + HDR;
  // first fit
  let prev: usize = 0;
  let cur = freeHead;
  while (cur != 0) {
    const size = sizeOf(cur);
    if (size >= need) {
      let next = nextFree(cur);
      if (size - need >= 64) {
        // split: the tail stays free in cur's place in the list
        const rest = cur + need;
        store<u32>(rest, <u32>(size - need));
        store<u32>(rest, TAG_FREE, 4);
        store<usize>(rest + HDR, next);
        next = rest;
        store<u32>(cur, <u32>need);
      }
      if (prev == 0) freeHead = next;
      else store<usize>(prev + HDR, next);
      store<u32>(cur, TAG_USED, 4);
      if (zero) memory.fill(cur + HDR, 0, need - HDR);
      return cur + HDR;
    }
    prev = cur;
    cur = nextFree(cur);
  }
  // nothing fits: take fresh memory at the top (free blocks never touch the top, see free())
  if (<f64>top + <f64>need > 4294967296.0 - 65536.0) return 0;
  if (!reach(top + need)) return 0;
  const block = top;
  top += need;
  store<u32>(block, <u32>need);
  store<u32>(block, TAG_USED, 4);
  if (zero && block + HDR < clean) memory.fill(block + HDR, 0, (top < clean ? top : clean) - (block + HDR));
  if (top > clean) clean = top;
  return block + HDR;
}

/** Returns a block from alloc(); false (and no change) if `p` is not a live block. */
export function free(p: usize): bool {
  if (p < base() + HDR || p > top || (p & 15) != 0) return false;
  let block = p - HDR;
  if (load<u32>(block, 4) != TAG_USED) return false;
  let size = sizeOf(block);
  store<u32>(block, TAG_FREE, 4);
  // find the neighbours in address order
  let before: usize = 0; // the free block before prev
  let prev: usize = 0;
  let next = freeHead;
  while (next != 0 && next < block) {
    before = prev;
    prev = next;
    next = nextFree(next);
  }
  // merge with the following free block
  if (next != 0 && block + size == next) {
    size += sizeOf(next);
    next = nextFree(next);
  }
  // merge with the preceding free block
  if (prev != 0 && prev + sizeOf(prev) == block) {
    block = prev;
    size += sizeOf(prev);
    prev = before;
  }
  if (block + size == top) {
    // the top block goes back to the untouched region
    top = block;
    if (prev == 0) freeHead = next;
    else store<usize>(prev + HDR, next);
    return true;
  }
  store<u32>(block, <u32>size);
  store<usize>(block + HDR, next);
  if (prev == 0) freeHead = block;
  else store<usize>(prev + HDR, block);
  return true;
}

/** Bytes between the heap base and the top (for the memory tests). */
export function heapInUse(): usize {
  if (top == 0) top = clean = base();
  return top - base();
}
