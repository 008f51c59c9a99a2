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
//! above [`SOFT_LIMIT`], it helps after releasing its lock: it flushes its garbage (which tries
//! to advance the epoch and frees what has expired) and, after retiring a large block, gives its
//! CPU to other threads so a preempted reader can finish and unpin, then flushes again.
//!
//! Helping must never turn into waiting for readers, so it is bounded three ways:
//!
//! * **In proportion to the write.** A writer that retired less than `FLUSH_BYTES` (64 KiB)
//!   flushes once and never yields: it pays about a microsecond beyond its own cost. A writer
//!   that retired more spends at most one more round per 64 KiB it retired (it just copied
//!   that much), up to [`HELP_ROUNDS`]; rounds yield, and from [`STOP_AFTER`] on sleep 50 µs.
//! * **Not when it cannot free anything.** A pinned thread does not help (its own guard holds
//!   the epoch back). A sleeping round that freed nothing ends the help: by then a reader that
//!   was merely preempted has had the CPU. A help that freed nothing at all stalls helping for
//!   small writes until something has been freed again, by anyone: a reader that stays pinned
//!   for good (an idle `Reader`) then costs small writes three relaxed loads each.
//! * **One helper at a time.** Another thread that is already helping makes the rest skip.

// Under loom the help policy is not run (it sleeps and pins the real collector), so its items
// are unused there; the unit tests exercise it without loom.
#![cfg_attr(loom, allow(dead_code))]

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicUsize};

/// Bytes a thread retires before it pushes its garbage to the global queue and lets the
/// collector run (`Guard::flush`). Blocks at least this large are flushed as soon as they are
/// retired, so large buffers never wait in a thread-local bag.
///
/// Under loom the threshold is tiny so that small models exercise the flush path.
pub(crate) const FLUSH_BYTES: usize = if cfg!(loom) { 64 } else { 64 * 1024 };

/// Retired-but-unfreed bytes above which a writer that retires more memory helps reclaim.
pub(crate) const SOFT_LIMIT: usize = 8 << 20;

/// The most flush rounds a writer that retired a large block spends helping.
const HELP_ROUNDS: u32 = 16;

/// The first round that sleeps instead of yielding; a round from here on that frees nothing
/// ends the help.
const STOP_AFTER: u32 = HELP_ROUNDS / 2;

/// The retirement accounting of the process. Plain statistics (std's atomics even under loom):
/// nothing synchronises through them, so every access is Relaxed except the `helping` flag,
/// whose Acquire/Release only keeps one helper's rounds apart from the next one's.
pub(crate) struct Reclaim {
    /// Bytes retired and not yet freed.
    pending: AtomicUsize,
    /// Bytes freed so far (wrapping): a change means something was freed.
    freed: AtomicUsize,
    /// The value of `freed` when a helper last found nothing to free, or `usize::MAX`.
    stalled_at: AtomicUsize,
    /// Whether some thread is helping right now.
    helping: AtomicBool,
}

/// What one call of [`Reclaim::help_with`] did (returned for the unit tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Helped {
    /// Nothing to do: the retired bytes are under the limit.
    NotNeeded,
    /// The calling thread is pinned, so flushing could not free what it waits for.
    SkippedPinned,
    /// The last help freed nothing and nothing has been freed since.
    SkippedStalled,
    /// Another thread is helping.
    SkippedBusy,
    /// Helped for this many rounds and got the retired bytes under the limit.
    Done(u32),
    /// Helped for this many rounds; the last one freed nothing (or the budget ran out).
    GaveUp(u32),
}

impl Reclaim {
    pub(crate) const fn new() -> Self {
        Reclaim {
            pending: AtomicUsize::new(0),
            freed: AtomicUsize::new(0),
            stalled_at: AtomicUsize::new(usize::MAX),
            helping: AtomicBool::new(false),
        }
    }

    /// Counts `bytes` as retired.
    pub(crate) fn retired(&self, bytes: usize) {
        self.pending.fetch_add(bytes, Relaxed);
    }

    /// Counts `bytes` as freed (called by the deferred destructor).
    pub(crate) fn freed(&self, bytes: usize) {
        self.pending.fetch_sub(bytes, Relaxed);
        self.freed.fetch_add(bytes, Relaxed);
    }

    /// Bytes retired and not yet freed.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Relaxed)
    }

    /// The back-pressure policy (see the module docs). `retired_now` is what the calling
    /// writer has just retired, `pinned` whether the calling thread is pinned, and `round(r)`
    /// runs round `r`: for `r > 0` it first gives the CPU away, then it flushes.
    pub(crate) fn help_with(
        &self,
        retired_now: usize,
        pinned: bool,
        large: usize,
        mut round: impl FnMut(u32),
    ) -> Helped {
        if self.pending() <= SOFT_LIMIT {
            return Helped::NotNeeded;
        }
        if pinned {
            return Helped::SkippedPinned;
        }
        // Rounds after the first flush, in proportion to what this writer retired (and so to
        // the work it just did copying it): none for a small block.
        let extra = u32::try_from(retired_now / large)
            .unwrap_or(u32::MAX)
            .min(HELP_ROUNDS - 1);
        let freed = self.freed.load(Relaxed);
        if extra == 0 && self.stalled_at.load(Relaxed) == freed {
            return Helped::SkippedStalled;
        }
        // Acquire/Release: one helper's rounds happen before the next helper's.
        if self.helping.swap(true, Acquire) {
            return Helped::SkippedBusy;
        }
        let mut result = Helped::GaveUp(extra + 1);
        for r in 0..=extra {
            let before = self.freed.load(Relaxed);
            round(r);
            if self.pending() <= SOFT_LIMIT {
                result = Helped::Done(r + 1);
                break;
            }
            // A round that freed nothing ends the help once the helper has given the CPU away
            // long enough for a preempted reader to run (the rounds from STOP_AFTER on sleep);
            // before that, a reader that was merely preempted is the likely cause.
            if self.freed.load(Relaxed) == before && r >= STOP_AFTER {
                result = Helped::GaveUp(r + 1);
                break;
            }
        }
        if self.freed.load(Relaxed) == freed {
            // Nothing at all was freed: small writes skip helping until something is.
            self.stalled_at.store(freed, Relaxed);
        }
        self.helping.store(false, Release);
        result
    }
}

/// The process's accounting.
static GLOBAL: Reclaim = Reclaim::new();

/// Unpins and pins `guard` again: a quiescent point for a long-lived guard (`Reader`,
/// `Session`).
///
/// Not `Guard::repin`. crossbeam-epoch's `repin` moves the thread to the global epoch it loads
/// with `Relaxed` and stores with `Release`, with no fence after, on the argument that later
/// accesses running early only delay reclamation. But a later load of an array's block
/// pointer can then return a pointer older than the epoch the thread now advertises (nothing
/// orders it after the epoch advance the thread observed): the collector, seeing the new
/// epoch, frees that block while the reader dereferences it. The loom model
/// `retired_buffers_outlive_their_readers` finds exactly that (a `Reader::get` after `repin`
/// returned a freed block's poison) once blocks are large enough to be flushed at once. On x86
/// loads are not reordered with loads, which hides it; weaker CPUs do not. `repin_after` unpins
/// and goes through the full `pin`, whose `SeqCst` fence is what crossbeam's proof relies on.
pub(crate) fn repin(guard: &mut crossbeam_epoch::Guard) {
    guard.repin_after(|| ());
}

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
    GLOBAL.pending()
}

/// Counts `bytes` as retired.
pub(crate) fn retired(bytes: usize) {
    GLOBAL.retired(bytes);
}

/// Counts `bytes` as freed (called by the deferred destructor).
pub(crate) fn freed(bytes: usize) {
    GLOBAL.freed(bytes);
}

/// Helps reclaim after a writer retired `retired_now` bytes, if the retired bytes are above
/// the soft limit and helping can free anything. Call without holding any array's lock.
pub(crate) fn help(retired_now: usize) {
    #[cfg(not(loom))]
    GLOBAL.help_with(
        retired_now,
        crossbeam_epoch::is_pinned(),
        FLUSH_BYTES,
        |r| {
            if r > 0 && r < STOP_AFTER {
                std::thread::yield_now();
            } else if r > 0 {
                // A preempted reader may need a real time slice, not just a yield.
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
            // Each flush may advance the epoch by one and frees the bags that have expired.
            crossbeam_epoch::pin().flush();
        },
    );
    #[cfg(loom)]
    let _ = retired_now;
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const LARGE: usize = 64 * 1024;

    /// An accounting with `SOFT_LIMIT + extra` bytes pending.
    fn over_limit(extra: usize) -> Reclaim {
        let r = Reclaim::new();
        r.retired(SOFT_LIMIT + extra);
        r
    }

    #[test]
    fn no_help_under_the_limit() {
        let r = Reclaim::new();
        r.retired(SOFT_LIMIT);
        assert_eq!(
            r.help_with(LARGE, false, LARGE, |_| panic!("helped")),
            Helped::NotNeeded
        );
    }

    #[test]
    fn a_pinned_thread_does_not_help() {
        let r = over_limit(1);
        assert_eq!(
            r.help_with(LARGE, true, LARGE, |_| panic!("helped")),
            Helped::SkippedPinned
        );
    }

    #[test]
    fn help_stops_once_the_pending_bytes_are_under_the_limit() {
        let r = over_limit(300);
        let mut rounds = Vec::new();
        let got = r.help_with(16 * LARGE, false, LARGE, |k| {
            rounds.push(k);
            r.freed(100);
        });
        assert_eq!(got, Helped::Done(3));
        assert_eq!(rounds, [0, 1, 2]);
    }

    #[test]
    fn a_small_write_flushes_once_and_never_yields() {
        let r = over_limit(1000);
        let mut rounds = Vec::new();
        assert_eq!(
            r.help_with(16, false, LARGE, |k| rounds.push(k)),
            Helped::GaveUp(1)
        );
        assert_eq!(
            rounds,
            [0],
            "only round 0, which does not give the CPU away"
        );
    }

    #[test]
    fn rounds_are_in_proportion_to_the_bytes_retired() {
        for (retired, rounds) in [(LARGE - 1, 1), (LARGE, 2), (3 * LARGE, 4), (usize::MAX, 16)] {
            let r = over_limit(1000);
            let mut n = 0;
            // Each round frees a little, so only the budget ends the help.
            r.help_with(retired, false, LARGE, |_| {
                n += 1;
                r.freed(1);
            });
            assert_eq!(n, rounds, "after retiring {retired} B");
        }
    }

    /// The defect this policy fixes: with a reader pinned for good, every retiring write used
    /// to spend all 16 rounds. Now a large write gives up at the first sleeping round that
    /// frees nothing, and small writes skip helping until something is freed again.
    #[test]
    fn rounds_that_free_nothing_stall_helping_until_something_is_freed() {
        let r = over_limit(1000);
        let mut rounds = 0;
        assert_eq!(
            r.help_with(16 * LARGE, false, LARGE, |_| rounds += 1),
            Helped::GaveUp(STOP_AFTER + 1)
        );
        assert_eq!(
            rounds,
            STOP_AFTER + 1,
            "the yields, then one sleep that freed nothing"
        );
        for _ in 0..100 {
            assert_eq!(
                r.help_with(16, false, LARGE, |_| panic!("helped while stalled")),
                Helped::SkippedStalled
            );
        }
        // Something was freed elsewhere: helping is worth trying again.
        r.freed(10);
        let mut again = 0;
        assert_eq!(
            r.help_with(16, false, LARGE, |_| again += 1),
            Helped::GaveUp(1)
        );
        assert_eq!(again, 1);
        // That flush freed nothing either: stalled again.
        assert_eq!(
            r.help_with(16, false, LARGE, |_| panic!("helped while stalled")),
            Helped::SkippedStalled
        );
    }

    #[test]
    fn only_one_thread_helps_at_a_time() {
        let r = over_limit(1000);
        let nested = r.help_with(LARGE, false, LARGE, |k| {
            if k == 0 {
                assert_eq!(
                    r.help_with(LARGE, false, LARGE, |_| panic!("two helpers")),
                    Helped::SkippedBusy
                );
            }
        });
        assert_eq!(nested, Helped::GaveUp(2));
        assert!(!r.helping.load(Relaxed), "the flag is released");
    }
}
