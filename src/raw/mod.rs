//! The concurrent core, keyed by the element's word size.
//!
//! [`RawArray<W>`] holds what every array has, whatever its element type: the current block,
//! the export count, the strict-exports flag and the writer lock. Everything here works on
//! words (`u8`, `u16`, `u32`, `u64`) and bytes, never on element types, so the protocol is
//! compiled once per word size; `FtArray<T>` is a typed face over `RawArray<T::Bits>`.
//!
//! | file | owns |
//! |---|---|
//! | `block.rs` | one allocation (header + cells), building, copying and freeing it; the growth policy |
//! | `pool.rs` | a small process-wide cache of freed large allocations, reused by blocks of exactly their size |
//! | `cells.rs` | [`Cells`](cells::Cells): words packed into 64-bit atomic units, their loads and (partial, bulk) stores |
//! | `wide.rs` | bulk whole-unit stores and loads, two units per instruction where the CPU makes that atomic |
//! | `seqlock.rs` | the read protocol and the write step, the append fence, publication: every ordering that pairs a reader with a writer |
//! | `hold.rs` | [`RawHold`]: a reader's hold on the block it last read, so its next reads need no pin |
//! | `snapshot.rs` | [`RawSnapshot`]: an immutable view of one instant that shares the block |
//! | `writer.rs` | [`RawWriter`]: the locked writer; every change to an array goes through it |
//! | `array.rs` | [`RawArray`]: the fields, construction, the export count, drop |
//! | `unit.rs` | the 64-bit atomic storage unit |
//! | `mod.rs` | this front: the files, and what the typed layer uses from them |

mod array;
mod block;
mod cells;
mod hold;
mod pool;
mod seqlock;
mod snapshot;
mod unit;
mod wide;
mod writer;

pub(crate) use array::RawArray;
pub(crate) use block::RawBlock;
pub(crate) use hold::RawHold;
#[cfg(not(loom))] // the fork handling is not modelled under loom
pub(crate) use pool::after_fork_child as pool_after_fork_child;
pub use pool::{kept_block_bytes, mapped_block_bytes, release_kept_blocks};
pub(crate) use seqlock::{RawView, backoff};
pub(crate) use snapshot::RawSnapshot;
pub(crate) use writer::RawWriter;
