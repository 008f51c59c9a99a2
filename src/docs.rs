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
/// | growth / O(n) rewrites | new block + one pointer swap | readers never wait for O(n) work |
/// | pop / truncate / clear / push within capacity while exported | allowed | the storage neither moves nor frees; only moving operations fail |
/// | equal-length `replace_range` | in place up to 64 elements (or any length while exported) | a short step instead of an O(n) copy for `a[i:i+k] = …` |
/// | reclamation threshold | flush after 64 KiB retired per array, and at once for a larger block | large buffers never wait in a thread-local bag; small churn is batched |
/// | reader retry limit | 8 optimistic attempts with exponential spinning, then one read under the lock | bounds a reader's work under constant writes; the lock is the fallback the design allows |
/// | callbacks (`update`, `retain`, `sort_by`, `fetch_update`) | run under the writer lock on a private copy | atomic with respect to other writers; readers are never blocked by them; a panic changes nothing |
pub mod choices {}
