//! Documentation only: how ftarray works and why it is sound.
//!
//! * [`internals`]: the data layout, the read and write protocols, memory orderings, and
//!   reclamation.
//! * [`choices`]: the decisions the design left open and what we chose.

#[doc = include_str!("../ARCHITECTURE.md")]
pub mod internals {}

/// The choices the design left open, and what we picked.
///
/// | question | choice | why |
/// |---|---|---|
/// | `iter()`: snapshot or live? | live, own position, fused | Python's array iterator is live; a snapshot is one `to_vec()` away and costs O(n) memory up front |
/// | `clear()` keeps capacity? | yes (like `Vec::clear`) | O(1) in place; `shrink_to_fit` releases the buffer through the collector |
/// | growth / O(n) rewrites | new block + one pointer swap | readers never wait for O(n) work (except while exported: the storage cannot move, so a length-preserving rewrite is one O(n) step in place) |
/// | writes through an export during a read-modify-write (`update`, `reverse`, `sort_by`, `fetch_update`, `swap`, …) | the write-back compares each unit with what the operation read (compare-and-swap) and keeps an element the export's holder changed meanwhile | a host's write is never overwritten by a stale copy; it counts as made just after the operation |
/// | pop / truncate / clear / push within capacity while exported | allowed (default rule); refused under `set_strict_exports(true)` | the storage neither moves nor frees; CPython's stricter `BufferError` rule is one call away |
/// | cell storage | elements packed in 64-bit atomic units; every cell access is one whole unit | bulk writes store 8 bytes at a time for every element size (a `u8` append is 1/8 the stores), 16 where the CPU makes an aligned 16-byte store atomic (Intel/AMD with AVX); the memory model forbids mixing access sizes on the same bytes |
/// | in-place steps | an edit that stores at most 8 KiB + 64 bytes within the capacity (equal-length `replace_range`, short `insert`/`remove`, `update`/`sort` of a small array; 512 elements for `replace_strided`) is one version step; larger ones publish a new block | small edits skip an allocation, a cold copy and a retirement (`insert(0)` and `remove(0)` on 1,024 `f64` are steps, the insert storing 8,200 bytes); bulk stores go two units per instruction where the CPU makes 16-byte stores atomic, so a reader waits at most about what one 4 KiB step of single-unit stores took |
/// | reclamation threshold | flush after a thread has retired 64 KiB, and at once for a larger block | large buffers never wait in a thread-local bag; small churn is batched; counting per thread means an idle thread strands at most 64 KiB |
/// | reader retries | unbounded optimistic attempts (spinning, then yielding); after 8 failures each retry first tries the writer lock with `try_lock` | a reader never waits behind a lock holder's O(n) work (an attempt succeeds while one runs); a free lock bounds its work under a stream of small writes |
/// | callbacks (`update`, `retain`, `sort_by`, `fetch_update`) | run under the writer lock on a private copy | atomic with respect to other writers; readers are never blocked by them; a panic changes nothing |
/// | two arrays (`a.extend_from_array(&b)`, `a == b`) | one lock at most (`a`'s); `b` read optimistically and re-checked in `a`'s publishing step | no deadlock, and linearizable: the append appears at an instant when `b` held the copy; only a user closure that writes another array holds two locks |
/// | back-pressure on retired memory | a writer helps reclaim in proportion to what it retired, never while it cannot free anything | memory stays bounded under preempted readers; a reader pinned for good does not slow small writes down |
pub mod choices {}
