//! Process-wide counters for hosts' leak checks.

use crate::boundary::{Status, ffi, init_runs};

/// Process-wide counters, filled by `ftarray_get_stats`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// How many times the global initialisation ran: 1 once any call has been made.
    pub inits: u64,
    /// Handles created and not yet freed.
    pub live_handles: usize,
    /// Exports acquired and not yet released, over all handles.
    pub live_exports: usize,
    /// Bytes of replaced storage that readers might still use and that are not yet freed
    /// (they are freed once every thread has passed a quiescent point; see sessions).
    pub retired_bytes: usize,
}

/// Fills `*out` with the process-wide counters (a leak check for hosts and tests).
///
/// Each counter is read separately: with other threads running, they are not one snapshot.
///
/// Threads: any thread.
///
/// # Safety
///
/// `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ftarray_get_stats(out: *mut Stats) -> Status {
    ffi!(out out => {
        *out = Stats {
            inits: init_runs(),
            live_handles: crate::handle::live_handles(),
            live_exports: crate::exports::live_exports(),
            retired_bytes: ftarray::retired_bytes(),
        };
        Ok(())
    })
}
