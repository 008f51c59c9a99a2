//! Process-wide counters for hosts' leak checks.

use crate::boundary::{Status, ffi, init_runs};
use crate::handle;

/// Process-wide counters, filled by `ftarray_get_stats`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// The size of this struct as the caller was compiled with it: set it to
    /// `sizeof(ftarray_stats)` before the call (`ftarray_stats_init()` returns one so set). A
    /// later version may add counters at the end; the library writes only those that fit.
    pub size: usize,
    /// How many times the global initialisation ran: 1 once any call has been made.
    pub inits: u64,
    /// Handles created and not yet freed.
    pub live_handles: usize,
    /// Exports acquired and not yet released, over all handles.
    pub live_exports: usize,
    /// Bytes of replaced storage that readers might still use and that are not yet freed
    /// (they are freed once every thread has passed a quiescent point; see sessions).
    pub retired_bytes: usize,
    /// Of `retired_bytes`, those that a `fork()` left with the parent's threads: never freed in
    /// this child process (0 in a process that has not forked; see `ftarray_after_fork_child`).
    pub stranded_bytes: usize,
    /// Handles freed whose memory is not reclaimed yet (it is once every thread that might
    /// still be inside a call on them has passed a quiescent point).
    pub retired_handles: usize,
}

impl Stats {
    /// Counters whose `size` is this version's, all zero: what C's `ftarray_stats_init()`
    /// returns, for Rust callers.
    pub fn init() -> Stats {
        Stats {
            size: size_of::<Stats>(),
            ..Stats::default()
        }
    }
}

/// The size of the first version of `ftarray_stats` (0.1), up to its last field.
const STATS_V1: usize = std::mem::offset_of!(Stats, retired_handles) + size_of::<usize>();

/// Fills `*out` with the process-wide counters (a leak check for hosts and tests).
///
/// Each counter is read separately: with other threads running, they are not one snapshot.
///
/// Threads: any thread.
///
/// Versioning: set `out->size` first (`ftarray_stats st = ftarray_stats_init();`). Errors:
/// `FTARRAY_STATUS_INVALID_ARGUMENT` for a size this library does not know.
///
/// # Safety
///
/// `out` must be NULL or valid for reads and writes of `out->size` bytes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_get_stats(out: *mut Stats) -> Status {
    ffi!(=> {
        // SAFETY: the contract: `out` is NULL or valid for its `size` bytes.
        let size = unsafe { handle::versioned_size("out", out, STATS_V1) }?;
        let stats = Stats {
            size,
            inits: init_runs(),
            live_handles: handle::live_handles(),
            live_exports: crate::registry::live_exports(),
            retired_bytes: ftarray::retired_bytes(),
            stranded_bytes: ftarray::stranded_bytes(),
            retired_handles: handle::retired_handles(),
        };
        // SAFETY: `size` bytes, checked above.
        unsafe { handle::write_versioned(out, &stats, size) };
        Ok(())
    })
}
