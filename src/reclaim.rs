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
//!   flushes once and never gives the CPU away: it pays about a microsecond beyond its own
//!   cost. A writer that retired more yields once per 64 KiB it retired (up to
//!   [`YIELD_ROUNDS`]) and then sleeps, 50 µs at first and twice as long each round, for at
//!   most 1 ns per byte it retired ([`SLEEP_NS_PER_BYTE`]: 4 ms after retiring 4 MiB, about
//!   what copying them cost), flushing after each pause.
//!
//!   Yielding is not enough on its own: it only helps a reader that waits for the helper's
//!   CPU. One preempted while pinned may wait in the other CPU's queue behind a reader that
//!   spins through its whole time slice, a few milliseconds on a busy machine; only sleeping
//!   that long lets it run. Sleeps that stopped after 50 µs let a writer refilling a 4 MB
//!   array run up 30-57 MiB of retired buffers in one run out of six on this project's
//!   2-core machine (`tests/memory.rs`).
//! * **Not when it cannot free anything.** A pinned thread does not help (its own guard holds
//!   the epoch back). A help that freed nothing at all marks helping as stalled until something
//!   has been freed again, by anyone: meanwhile small writes skip helping (a reader that stays
//!   pinned for good, an idle `Reader`, then costs them three relaxed loads each) and large
//!   ones sleep once, 50 µs, instead of their whole allowance. Only a large write's help, which
//!   paused, sets that mark: a small write's single flush freeing nothing says little, and
//!   must not cost the next large write the sleeps a preempted reader needs.
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

/// The most rounds that yield, one per `FLUSH_BYTES` retired.
const YIELD_ROUNDS: u32 = 7;

/// The first sleep of a help, in microseconds; each later one is twice as long.
const FIRST_SLEEP_US: u64 = 50;

/// How long in all a writer may sleep while helping, per byte it retired.
const SLEEP_NS_PER_BYTE: u64 = 1;

/// The most any help sleeps in all, in microseconds, however much was retired.
const MAX_SLEEP_US: u64 = 20_000;

/// How one round of help gives other threads the CPU before it flushes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pause {
    /// Not at all (the first round).
    None,
    /// `yield_now`: lets a thread waiting for this CPU run.
    Yield,
    /// Sleeps this many microseconds: lets threads waiting for any CPU run.
    Sleep(u64),
}

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
    /// Helped for this many rounds, and the allowance ran out with the retired bytes still
    /// over the limit.
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

    /// Forgets a help that a thread of the parent was giving at a fork: the child does not have
    /// that thread, and a `helping` flag left set would turn helping off there for good.
    #[cfg(not(loom))]
    fn after_fork(&self) {
        self.helping.store(false, Relaxed);
        self.stalled_at.store(usize::MAX, Relaxed);
    }

    /// Bytes retired and not yet freed.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Relaxed)
    }

    /// The back-pressure policy (see the module docs). `retired_now` is what the calling
    /// writer has just retired, `pinned` whether the calling thread is pinned, `large` the size
    /// that makes a write large (`FLUSH_BYTES`), and `round(r, pause)` runs round `r`: it
    /// pauses as told, then flushes.
    pub(crate) fn help_with(
        &self,
        retired_now: usize,
        pinned: bool,
        large: usize,
        mut round: impl FnMut(u32, Pause),
    ) -> Helped {
        if self.pending() <= SOFT_LIMIT {
            return Helped::NotNeeded;
        }
        if pinned {
            return Helped::SkippedPinned;
        }
        let freed = self.freed.load(Relaxed);
        let stalled = self.stalled_at.load(Relaxed) == freed;
        let is_large = retired_now >= large;
        if !is_large && stalled {
            return Helped::SkippedStalled;
        }
        // Acquire/Release: one helper's rounds happen before the next helper's.
        if self.helping.swap(true, Acquire) {
            return Helped::SkippedBusy;
        }
        // Cleared on every way out, a panic in a round included (a flush runs other code's
        // deferred destructors): a flag left set would turn helping off for good.
        let _helping = Unflag(&self.helping);
        // The pauses this write pays for: none for a small one; for a large one a yield per
        // `large` bytes, then sleeps up to its allowance (one sleep while stalled).
        let yields = u32::try_from(retired_now / large)
            .unwrap_or(u32::MAX)
            .min(YIELD_ROUNDS);
        let allowance_us = match (is_large, stalled) {
            (false, _) => 0,
            (true, true) => FIRST_SLEEP_US,
            (true, false) => (retired_now as u64)
                .saturating_mul(SLEEP_NS_PER_BYTE)
                .div_ceil(1000)
                .clamp(FIRST_SLEEP_US, MAX_SLEEP_US),
        };
        let (mut slept_us, mut next_us) = (0, FIRST_SLEEP_US);
        let mut r = 0;
        let result = loop {
            let pause = if r == 0 {
                Pause::None
            } else if r <= yields {
                Pause::Yield
            } else if slept_us + next_us <= allowance_us {
                slept_us += next_us;
                next_us *= 2;
                Pause::Sleep(next_us / 2)
            } else {
                break Helped::GaveUp(r);
            };
            round(r, pause);
            r += 1;
            if self.pending() <= SOFT_LIMIT {
                break Helped::Done(r);
            }
        };
        if is_large && self.freed.load(Relaxed) == freed {
            // Nothing at all was freed, after pauses: helping is stalled until something is.
            // A small write's single flush with no pause is not evidence enough: it would
            // take the next large write's sleeps away while a preempted reader waits for
            // exactly those.
            self.stalled_at.store(freed, Relaxed);
        }
        result
    }
}

/// Clears a flag when dropped.
struct Unflag<'a>(&'a AtomicBool);

impl Drop for Unflag<'_> {
    fn drop(&mut self) {
        // Release: pairs with the Acquire swap of the next helper.
        self.0.store(false, Release);
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

// ---------------------------------------------------------------------------------------------
// The collector of this process, and fork()
// ---------------------------------------------------------------------------------------------

/// How many times this process's line has forked since the library was loaded (as far as
/// [`after_fork_child`] was told): 0 in the original process.
///
/// Written only by `after_fork_child`, which runs in a child that has exactly one thread; every
/// other thread of the child is created after it, and thread creation orders the write before
/// everything the new thread does. So every access is Relaxed.
#[cfg(not(loom))]
static GENERATION: AtomicUsize = AtomicUsize::new(0);

/// The collector of generation `GENERATION` when that is above 0 (leaked on purpose: a child's
/// collector lives as long as the process). Written, like `GENERATION`, only in a
/// single-threaded child before the generation changes; Relaxed for the same reason.
#[cfg(not(loom))]
static FORKED_COLLECTOR: std::sync::atomic::AtomicPtr<crossbeam_epoch::Collector> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

#[cfg(not(loom))]
std::thread_local! {
    /// This thread's registration with the collector of a forked generation, and which
    /// generation that was.
    static FORKED_LOCAL: std::cell::RefCell<Option<(usize, crossbeam_epoch::LocalHandle)>> =
        const { std::cell::RefCell::new(None) };
}

/// The collector every array of this process retires its storage to: crossbeam-epoch's
/// default one, until a fork (then the child's own, see [`after_fork_child`]).
fn collector() -> &'static crossbeam_epoch::Collector {
    #[cfg(not(loom))]
    if GENERATION.load(Relaxed) != 0 {
        // SAFETY: set (non-null, leaked, never freed) before the generation left 0.
        return unsafe { &*FORKED_COLLECTOR.load(Relaxed) };
    }
    crossbeam_epoch::default_collector()
}

/// Pins the current thread with this process's collector. Every guard of the crate comes from
/// here (never from `crossbeam_epoch::pin` directly), so that after a fork the child's reads
/// and retirements use a collector that no thread of the parent is pinned in.
///
/// Costs one Relaxed load more than `crossbeam_epoch::pin` in a process that has not forked.
#[inline]
pub fn pin() -> crossbeam_epoch::Guard {
    #[cfg(not(loom))]
    if GENERATION.load(Relaxed) != 0 {
        return pin_forked();
    }
    crossbeam_epoch::pin()
}

#[cfg(not(loom))]
#[cold]
fn pin_forked() -> crossbeam_epoch::Guard {
    let generation = GENERATION.load(Relaxed);
    FORKED_LOCAL
        .try_with(|slot| {
            let mut slot = slot.borrow_mut();
            match &*slot {
                Some((g, local)) if *g == generation => local.pin(),
                _ => {
                    let local = collector().register();
                    let guard = local.pin();
                    *slot = Some((generation, local));
                    guard
                }
            }
        })
        // The thread is exiting and its registration is gone: a registration of its own. The
        // guard keeps it alive after the handle is dropped (crossbeam finalizes a thread's
        // entry only once both are gone).
        .unwrap_or_else(|_| collector().register().pin())
}

/// Whether the current thread is pinned with this process's collector.
fn is_pinned() -> bool {
    #[cfg(not(loom))]
    if GENERATION.load(Relaxed) != 0 {
        return FORKED_LOCAL
            .try_with(|slot| {
                slot.try_borrow().is_ok_and(|slot| {
                    matches!(&*slot, Some((g, local)) if *g == GENERATION.load(Relaxed) && local.is_pinned())
                })
            })
            .unwrap_or(false);
    }
    crossbeam_epoch::is_pinned()
}

/// Moves this thread's retired storage to the collector's global queue and frees what has
/// expired: what `ftarray_flush` does at the C ABI. A thread's garbage otherwise waits in its
/// own bag until 64 KiB of it have piled up (`FLUSH_BYTES`) or the thread exits.
pub fn flush() {
    pin().flush();
}

/// Frees every retired buffer that no thread can still be reading: flushes and lets the epoch
/// advance, up to `rounds` times (sleeping a little between rounds so that pinned threads can
/// reach a quiescent point), until [`retired_bytes`] is 0 or a round frees nothing and the
/// count still is not 0 after a few more. Returns the retired bytes left. In a forked child
/// the floor is [`stranded_bytes`], not 0.
///
/// For a quiet point (a host about to exit, a leak check): storage retired by other threads
/// reaches the global queue only when they flush or exit, and a thread pinned for good (in a
/// session with no quiescent point) keeps everything retired since it pinned.
pub fn drain(rounds: u32) -> usize {
    let mut idle = 0;
    let floor = stranded_bytes();
    for r in 0..rounds {
        let before = retired_bytes();
        if before <= floor {
            return before;
        }
        // Three flushes: each may advance the epoch once, and a bag is freed two epochs after
        // it was sealed.
        for _ in 0..3 {
            flush();
        }
        if retired_bytes() >= before {
            idle += 1;
            if idle > 8 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_micros(100 << r.min(6)));
        } else {
            idle = 0;
        }
    }
    retired_bytes()
}

/// Re-establishes reclamation in a child process after `fork()`. Call it in the child, while it
/// still has only the thread that forked, before any other call (the C ABI's atfork handler
/// does).
///
/// A child has only the thread that called `fork()`. Threads of the parent that were pinned at
/// that instant (inside a read, or in a [`Session`](crate::Session)) are pinned in the child's
/// copy of crossbeam-epoch's global state for ever, which no API can undo: the epoch could
/// never advance again, and nothing retired in the child would be freed. So the child moves to
/// a collector of its own: every later pin and retirement uses it, and no parent thread is
/// registered there. What the parent had retired before the fork stays with the old collector:
/// flushed here, it is freed if no parent thread was pinned at the fork, and otherwise stays
/// allocated (never read) in the child, still counted by [`retired_bytes`]. Guards pinned with
/// the old collector by the forking thread (a session held across the fork) keep working; a
/// [`Session`](crate::Session) or [`Reader`](crate::Reader) moves to the new collector at its
/// next quiescent point.
///
/// Also clears the back-pressure state a parent thread may have left set mid-help.
pub fn after_fork_child() {
    #[cfg(not(loom))]
    {
        let old = collector();
        let new: &'static crossbeam_epoch::Collector =
            Box::leak(Box::new(crossbeam_epoch::Collector::new()));
        FORKED_COLLECTOR.store(std::ptr::from_ref(new).cast_mut(), Relaxed);
        GENERATION.fetch_add(1, Relaxed);
        GLOBAL.after_fork();
        crate::raw::pool_after_fork_child();
        // What the parent retired with no thread pinned is freed now (three flushes: the epoch
        // advances at most once per flush, and a bag is freed two epochs after it was sealed).
        let local = old.register();
        for _ in 0..3 {
            local.pin().flush();
        }
        // Relaxed: a statistic, written while the child has one thread.
        STRANDED.store(GLOBAL.pending(), Relaxed);
    }
}

/// The retired bytes left with the collector of the parent after the last fork (see
/// [`after_fork_child`]): memory a thread of the parent might have been reading at the fork,
/// which the child never reads and never frees. 0 in a process that has not forked.
#[cfg(not(loom))]
static STRANDED: AtomicUsize = AtomicUsize::new(0);

/// The retired bytes the last fork left with the parent's collector, for ever allocated in this
/// child (see [`after_fork_child`]); 0 in a process that has not forked. Part of
/// [`retired_bytes`], and the floor [`drain`] stops at.
pub fn stranded_bytes() -> usize {
    #[cfg(not(loom))]
    return STRANDED.load(Relaxed);
    #[cfg(loom)]
    0
}

/// Unpins and pins `guard` again, moving it to the current collector if a fork changed it.
pub(crate) fn repin_current(guard: &mut crossbeam_epoch::Guard) {
    let current = guard.collector().is_none_or(|c| c == collector());
    if current {
        repin(guard);
    } else {
        *guard = pin();
    }
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
    // Not while unwinding (a writer dropped by a panic): a flush runs deferred destructors,
    // and a second panic there would abort the process.
    #[cfg(not(loom))]
    if std::thread::panicking() {
        return;
    }
    #[cfg(not(loom))]
    GLOBAL.help_with(retired_now, is_pinned(), FLUSH_BYTES, |_, pause| {
        match pause {
            Pause::None => {}
            Pause::Yield => crate::sync::yield_now(),
            Pause::Sleep(us) => std::thread::sleep(std::time::Duration::from_micros(us)),
        }
        // Each flush may advance the epoch by one and frees the bags that have expired.
        pin().flush();
    });
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
            r.help_with(LARGE, false, LARGE, |_, _| panic!("helped")),
            Helped::NotNeeded
        );
    }

    #[test]
    fn a_pinned_thread_does_not_help() {
        let r = over_limit(1);
        assert_eq!(
            r.help_with(LARGE, true, LARGE, |_, _| panic!("helped")),
            Helped::SkippedPinned
        );
    }

    #[test]
    fn help_stops_once_the_pending_bytes_are_under_the_limit() {
        let r = over_limit(300);
        let mut rounds = Vec::new();
        let got = r.help_with(16 * LARGE, false, LARGE, |k, pause| {
            rounds.push((k, pause));
            r.freed(100);
        });
        assert_eq!(got, Helped::Done(3));
        assert_eq!(
            rounds,
            [(0, Pause::None), (1, Pause::Yield), (2, Pause::Yield)]
        );
    }

    #[test]
    fn a_small_write_flushes_once_and_never_gives_the_cpu_away() {
        let r = over_limit(1000);
        let mut rounds = Vec::new();
        assert_eq!(
            r.help_with(16, false, LARGE, |k, pause| rounds.push((k, pause))),
            Helped::GaveUp(1)
        );
        assert_eq!(rounds, [(0, Pause::None)]);
    }

    /// The pauses of one help that never gets under the limit (each round frees a byte, so
    /// helping never stalls): (yields, sleeps in µs).
    fn pauses_after_retiring(retired: usize) -> (usize, Vec<u64>) {
        let r = over_limit(1000);
        let mut pauses = Vec::new();
        let got = r.help_with(retired, false, LARGE, |k, pause| {
            assert_eq!(k as usize, pauses.len(), "rounds in order");
            pauses.push(pause);
            r.freed(1);
        });
        assert_eq!(got, Helped::GaveUp(pauses.len() as u32));
        assert_eq!(pauses[0], Pause::None, "the first round flushes at once");
        let yields = pauses.iter().filter(|p| **p == Pause::Yield).count();
        let sleeps: Vec<u64> = pauses
            .iter()
            .filter_map(|p| match p {
                Pause::Sleep(us) => Some(*us),
                _ => None,
            })
            .collect();
        assert_eq!(1 + yields + sleeps.len(), pauses.len());
        assert!(
            pauses[1..1 + yields].iter().all(|p| *p == Pause::Yield),
            "yields come before sleeps"
        );
        (yields, sleeps)
    }

    /// A large write pays for pauses in proportion to what it retired: a yield per 64 KiB (at
    /// most 7), then sleeps doubling from 50 µs while their sum stays within 1 ns per byte
    /// retired (at most 20 ms).
    #[test]
    fn pauses_are_in_proportion_to_the_bytes_retired() {
        assert_eq!(pauses_after_retiring(LARGE - 1), (0, vec![]));
        // 64 KiB: 66 µs of sleep allowed.
        assert_eq!(pauses_after_retiring(LARGE), (1, vec![50]));
        // 4 MiB: 4,195 µs allowed; 50 + 100 + ... + 1,600 = 3,150 µs.
        assert_eq!(
            pauses_after_retiring(4 << 20),
            (7, vec![50, 100, 200, 400, 800, 1600])
        );
        // However much: 20 ms allowed; 50 + ... + 6,400 = 12,750 µs.
        assert_eq!(
            pauses_after_retiring(usize::MAX),
            (7, vec![50, 100, 200, 400, 800, 1600, 3200, 6400])
        );
    }

    /// With a reader pinned for good, a large write sleeps through its allowance once; after
    /// that help freed nothing, large writes sleep once (50 µs) and small writes skip helping,
    /// until something is freed again.
    #[test]
    fn helps_that_free_nothing_stall_helping_until_something_is_freed() {
        let r = over_limit(1000);
        let mut sleeps = Vec::new();
        // 1 MiB: 1,049 µs allowed; 50 + 100 + 200 + 400 = 750 µs.
        let first = r.help_with(16 * LARGE, false, LARGE, |_, pause| {
            if let Pause::Sleep(us) = pause {
                sleeps.push(us);
            }
        });
        assert_eq!(first, Helped::GaveUp(1 + 7 + 4));
        assert_eq!(sleeps, [50, 100, 200, 400]);
        for _ in 0..100 {
            assert_eq!(
                r.help_with(16, false, LARGE, |_, _| panic!("helped while stalled")),
                Helped::SkippedStalled
            );
        }
        let mut stalled_sleeps = Vec::new();
        let large = r.help_with(16 * LARGE, false, LARGE, |_, pause| {
            if let Pause::Sleep(us) = pause {
                stalled_sleeps.push(us);
            }
        });
        assert_eq!(large, Helped::GaveUp(1 + 7 + 1));
        assert_eq!(
            stalled_sleeps,
            [FIRST_SLEEP_US],
            "one short sleep while stalled"
        );
        // Something was freed elsewhere: helping is worth trying again.
        r.freed(10);
        let mut again = 0;
        assert_eq!(
            r.help_with(16, false, LARGE, |_, _| again += 1),
            Helped::GaveUp(1)
        );
        assert_eq!(again, 1);
        // That small flush freed nothing either, but it does not stall helping: the next
        // large write still gets its whole allowance.
        let mut sleeps = Vec::new();
        assert_eq!(
            r.help_with(16 * LARGE, false, LARGE, |_, pause| {
                if let Pause::Sleep(us) = pause {
                    sleeps.push(us);
                }
            }),
            Helped::GaveUp(1 + 7 + 4)
        );
        assert_eq!(sleeps, [50, 100, 200, 400]);
        // That one did: stalled again.
        assert_eq!(
            r.help_with(16, false, LARGE, |_, _| panic!("helped while stalled")),
            Helped::SkippedStalled
        );
    }

    /// A small write whose flush frees nothing leaves a large write its whole allowance.
    #[test]
    fn a_small_help_that_frees_nothing_does_not_stall_helping() {
        let r = over_limit(1000);
        assert_eq!(r.help_with(16, false, LARGE, |_, _| {}), Helped::GaveUp(1));
        let mut sleeps = Vec::new();
        r.help_with(16 * LARGE, false, LARGE, |_, pause| {
            if let Pause::Sleep(us) = pause {
                sleeps.push(us);
            }
        });
        assert_eq!(sleeps, [50, 100, 200, 400]);
    }

    /// A round that panics (a deferred destructor run by the flush) leaves helping on.
    #[test]
    fn a_panicking_round_releases_the_helping_flag() {
        let r = over_limit(1000);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            r.help_with(LARGE, false, LARGE, |_, _| panic!("a destructor panicked"))
        }));
        assert!(caught.is_err());
        assert!(!r.helping.load(Relaxed), "the flag is released");
        let mut rounds = 0;
        assert_eq!(
            r.help_with(16, false, LARGE, |_, _| rounds += 1),
            Helped::GaveUp(1)
        );
        assert_eq!(rounds, 1, "helping still works");
    }

    #[test]
    fn only_one_thread_helps_at_a_time() {
        let r = over_limit(1000);
        let nested = r.help_with(LARGE, false, LARGE, |k, _| {
            if k == 0 {
                assert_eq!(
                    r.help_with(LARGE, false, LARGE, |_, _| panic!("two helpers")),
                    Helped::SkippedBusy
                );
            }
        });
        assert_eq!(nested, Helped::GaveUp(3));
        assert!(!r.helping.load(Relaxed), "the flag is released");
    }
}
