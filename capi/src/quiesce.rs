//! Quiet points: the after-fork call for forks that skip the library's handlers, and the calls
//! that flush or drain retired memory.

use crate::boundary::{Fail, Status, ffi};
use crate::fork::after_fork;
use crate::handle::{self, Handle};

/// Makes a child process's library state whole after `fork()`, for forks that skip the
/// library's `pthread_atfork` handlers (a raw `fork` or `clone` system call). After an ordinary
/// `fork()` the handlers have done it already and this call does nothing.
///
/// It moves reclamation to a new epoch collector (threads of the parent that were pinned at
/// the fork would otherwise stop it for ever), and marks every array whose lock was held at
/// the fork: those return `FTARRAY_STATUS_FORKED` from every call but `ftarray_free` (which
/// frees the handle and leaks its storage) instead of waiting for a thread the child does not
/// have. Arrays not being written at the fork work as before.
///
/// The fork contract, in short (docs/embedding.md has it whole): after `fork()`, the child may
/// use every array that existed at the fork, with the contents it had at that instant; exports
/// and sessions of the forking thread carry over; other threads' sessions do not (they are
/// not in the child); memory the child retires is reclaimed as usual.
///
/// Threads: call it in the child while it has one thread, before any other call (as CPython's
/// `PyOS_AfterFork_Child`). Returns `FTARRAY_STATUS_OK`.
#[unsafe(no_mangle)]
#[must_use]
pub extern "C" fn ftarray_after_fork_child() -> Status {
    ffi!(=> {
        if !after_fork() {
            return Ok(());
        }
        let handles = handle::registry();
        for &addr in handles.iter() {
            // SAFETY: registered, and we hold the registry lock.
            let array = unsafe { Handle::registered(addr) };
            match array.try_hold_for_fork() {
                Some(hold) => drop(hold),
                // SAFETY: as above.
                None => unsafe { Handle::mark_forked(addr) },
            }
        }
        Ok(())
    })
}

/// Moves the calling thread's retired storage (and freed handles) to the global queue and
/// frees what no thread can still be reading.
///
/// A thread's retired memory otherwise waits in its own bag until 64 KiB of it have piled up or
/// the thread exits. Call it where a thread goes idle after writing.
///
/// Threads: any thread. Returns `FTARRAY_STATUS_OK`.
#[unsafe(no_mangle)]
#[must_use]
pub extern "C" fn ftarray_flush() -> Status {
    // Not `ffi!`: it pins for the call, and a pinned thread's flush cannot advance the epoch.
    fn here() {}
    crate::boundary::guard(here, || {
        ftarray::flush();
        handle::flush();
        Ok(())
    })
}

/// Frees all retired memory (replaced storage and freed handles) that no thread can still be
/// reading, waiting up to about a second for other threads to pass quiescent points, and then
/// the freed storage the library keeps for reuse (large blocks, up to 16 MiB): for a quiet
/// point, such as a host about to exit, so that a leak checker finds nothing.
///
/// Memory retired by other threads reaches the collector when they flush (`ftarray_flush`),
/// write more, or exit; memory that a thread in a session without quiescent points could still
/// read is kept. In a child after `fork()`, memory the parent's threads might have been reading
/// at the fork stays allocated for good (`stranded_bytes` in `ftarray_stats`) and is not waited
/// for.
///
/// Errors: `FTARRAY_STATUS_ERROR` if retired memory is left after the wait (the message says how
/// much, and `ftarray_get_stats` tells it too).
///
/// Threads: any thread; call it outside a session (a session of the calling thread would keep
/// what it could read).
#[unsafe(no_mangle)]
#[must_use]
pub extern "C" fn ftarray_drain() -> Status {
    // Not `ffi!`: a pinned thread's flush cannot advance the epoch past its own pin.
    fn here() {}
    crate::boundary::guard(here, || {
        // In a forked child, what the fork stranded with the parent's collector never comes
        // back: the goal is that floor.
        let pending = || {
            let bytes = ftarray::retired_bytes().saturating_sub(ftarray::stranded_bytes());
            let handles = handle::retired_handles().saturating_sub(handle::stranded_handles());
            (bytes, handles)
        };
        let mut idle = 0u32;
        loop {
            let before = pending();
            if before == (0, 0) {
                // What the collector freed into the cache of large allocations goes back to
                // the allocator too, so that a leak checker sees it freed.
                ftarray::release_kept_blocks();
                return Ok(());
            }
            // Three flushes: each may advance the epoch once, and a bag is freed two epochs
            // after it was sealed.
            for _ in 0..3 {
                ftarray::flush();
                handle::flush();
            }
            let after = pending();
            if after.0 < before.0 || after.1 < before.1 {
                idle = 0;
                continue;
            }
            idle += 1;
            if idle > 14 {
                return Err(Fail::new(
                    Status::Error,
                    format!(
                        "{} retired bytes and {} freed handles are still held by pinned threads",
                        after.0, after.1
                    ),
                ));
            }
            // 0.1 ms doubling to 51 ms: about 1.2 s in all before giving up.
            std::thread::sleep(std::time::Duration::from_micros(100 << idle.min(9)));
        }
    })
}
