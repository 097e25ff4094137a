// Pieces of one kernel call on several threads (kernels.h, Parallel). Included inside an
// instruction-set namespace, before the kernels that use it.
//
// A kernel calls par_pieces(par, n, piece, body): body(lo, hi) runs over [0, n) in pieces of
// `piece` (the last one shorter) on the pool when there is more than one piece and a pool of
// more than one thread, else once over [0, n) on this thread. The piece size comes from the
// shapes only, and the kernels cut only where the cut changes no operation, so one piece or
// many give the same bits.

// Multiply-adds in one piece of a product: large enough that a piece outweighs handing it to
// another thread (a few microseconds), small enough that a batch-64 MLP layer still splits.
constexpr int64_t kPieceWork = int64_t(1) << 17;

// An operand every piece reads whole (B in A B) larger than this does not stay in a core's L2
// cache: each piece streams it again from L3 or memory, so its pieces are at least
// kWideRows rows (2.5x as much memory traffic with 16-row pieces at 784-2048-10, batch 1,024).
constexpr int64_t kStreamedBytes = int64_t(1) << 20;
constexpr int64_t kWideRows = 128;

// The number of rows (or columns) of a product per piece: about kPieceWork multiply-adds, at
// least kWideRows when every piece reads `streamed` elements, a multiple of `align` (a register
// tile's rows, or the vectors of columns a tile covers).
TG_INLINE int64_t piece_rows(int64_t workPerRow, int64_t align, int64_t streamed) {
  int64_t r = workPerRow > 0 ? (kPieceWork + workPerRow - 1) / workPerRow : kPieceWork;
  if (streamed * 8 > kStreamedBytes && r < kWideRows) r = kWideRows;
  return (r + align - 1) / align * align;
}

template <class F>
TG_INLINE void par_pieces(const Parallel* par, int64_t n, int64_t piece, F&& body) {
  const int64_t pieces = n > 0 ? (n + piece - 1) / piece : 0;
  if (!par || par->width <= 1 || pieces <= 1) {  // one piece: the same operations, better locality
    if (n > 0) body(0, n);
    return;
  }
  struct Ctx {
    F* body;
    int64_t n, piece;
  } ctx{&body, n, piece};
  par->run(
      *par, pieces,
      [](void* c, int64_t i) {
        const Ctx& x = *static_cast<const Ctx*>(c);
        const int64_t lo = i * x.piece;
        (*x.body)(lo, lo + x.piece < x.n ? lo + x.piece : x.n);
      },
      &ctx);
}
