//! Accounting and back-pressure for retired buffers.
//!
//! Every block an array replaces is handed to crossbeam-epoch's collector, which frees it once
//! every thread that was pinned at the time has unpinned. That needs the global epoch to
//! advance twice, and a reader that the operating system preempts while pinned holds it back:
//! on an oversubscribed machine a writer that keeps replacing large buffers can retire several
//! of them before the collector may free the first.
//!
//! So retired bytes are counted, process-wide, from retirement to the moment the block is
//! actually freed ([`retired_bytes`]). When a writer has just retired memory and the count is
//! above [`SOFT_LIMIT`], it helps after releasing its lock: it flushes its garbage and gives
//! its CPU to other threads (so a preempted reader can finish and unpin), a bounded number of
//! times. It never waits for an unbounded time: a reader that stays pinned (a `Reader` that
//! never calls `repin`) keeps memory alive, as any RCU reader would, and the writer moves on.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Bytes retired and not yet freed, across all arrays. A plain statistic (std's atomic even
/// under loom): nothing synchronises through it.
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// Retired-but-unfreed bytes above which a writer that retires more memory helps reclaim.
pub(crate) const SOFT_LIMIT: usize = 8 << 20;

/// How many flush-and-yield rounds a writer spends helping before it gives up.
#[cfg(not(loom))]
const HELP_ROUNDS: u32 = 16;

/// Bytes of replaced buffers that have been handed to the epoch collector and not yet freed,
/// summed over every array in the process.
///
/// This is the memory that safe reclamation costs over a plain `Vec`: buffers a reader might
/// still be using. It stays small while readers unpin (every plain read does; a
/// [`Reader`](crate::Reader) does at [`repin`](crate::Reader::repin)).
///
/// ```
/// let a = ftarray::FtArray::from_slice(&[1u32; 1000]);
/// a.clear();
/// a.shrink_to_fit().unwrap(); // retires the 4 KB buffer
/// // It is freed once no thread is pinned in an epoch that could still see it.
/// let _ = ftarray::retired_bytes();
/// ```
pub fn retired_bytes() -> usize {
    PENDING.load(Relaxed)
}

/// Counts `bytes` as retired; returns whether the count is now above the soft limit.
pub(crate) fn retired(bytes: usize) -> bool {
    PENDING.fetch_add(bytes, Relaxed) + bytes > SOFT_LIMIT
}

/// Counts `bytes` as freed (called by the deferred destructor).
pub(crate) fn freed(bytes: usize) {
    PENDING.fetch_sub(bytes, Relaxed);
}

/// Flushes this thread's garbage and yields, until the retired bytes are back under the soft
/// limit or the rounds run out. Call without holding any array's lock.
pub(crate) fn help() {
    #[cfg(not(loom))]
    for round in 0..HELP_ROUNDS {
        // Each flush may advance the epoch by one and frees the bags that have expired.
        crossbeam_epoch::pin().flush();
        if PENDING.load(Relaxed) <= SOFT_LIMIT {
            return;
        }
        if round < HELP_ROUNDS / 2 {
            std::thread::yield_now();
        } else {
            // A preempted reader may need a real time slice, not just a yield.
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    }
}
