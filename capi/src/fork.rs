//! `fork()` and reclamation at quiet points: the `pthread_atfork` handlers, the after-fork call
//! for forks that skip them, and the calls that flush or drain retired memory.
//!
//! The contract (CPython's `PyOS_BeforeFork` / `PyOS_AfterFork_Child` are the model, with
//! `pthread_atfork` doing the stopping that CPython's stop-the-world does):
//!
//! * **No array is inherited locked.** The prepare handler, registered at initialisation,
//!   takes the handle registry, the export registry, and every live array's locks (its export
//!   list's, then its writer lock), waiting for writes in progress to finish; the parent and
//!   child handlers release them. So the child's copy of every array is at rest: no write half
//!   done, no lock held by a thread the child does not have. Every array that existed at the
//!   fork works in the child, with the contents it had at that instant.
//! * **Reclamation goes on in the child.** Threads of the parent pinned at the fork (inside a
//!   read, or in a session) stay pinned for ever in the child's copy of crossbeam-epoch, which
//!   cannot be reset; the child handler moves the process to a new collector
//!   (`ftarray::after_fork_child`), so memory the child retires is freed as usual. What the
//!   parent had retired before the fork is freed in the child if no parent thread was pinned,
//!   and otherwise stays allocated there (never read, counted in `retired_bytes`).
//! * **Forks that skip the handlers** (a raw `fork`/`clone` system call) call
//!   `ftarray_after_fork_child` in the child: it does the collector move, and marks every array
//!   whose lock was held at the fork, which then returns `FTARRAY_STATUS_FORKED` instead of
//!   hanging.

use crate::boundary::{Fail, Status, ffi};
use crate::handle::{self, Handle};
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{MutexGuard, PoisonError, RwLockWriteGuard};

/// What the prepare handler holds until the parent or child handler: the registries, and every
/// live array's locks. Dropped in field order: the arrays' locks first.
struct Held {
    _arrays: Vec<ftarray::dynamic::ForkHold<'static>>,
    _exports: RwLockWriteGuard<'static, Vec<(u64, std::ops::Range<usize>)>>,
    _handles: MutexGuard<'static, std::collections::BTreeSet<usize>>,
}

thread_local! {
    /// The forking thread's holds between the prepare handler and the parent or child one (all
    /// three run on the thread that calls `fork()`, in the child on its copy).
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// The process id that the child handler (or `ftarray_after_fork_child`) last ran in: a second
/// call in the same child does nothing.
static AFTER_FORK_PID: AtomicU32 = AtomicU32::new(0);

extern "C" fn prepare() {
    // No panic may unwind into `fork()`: one here means the fork goes ahead without holds.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let handles = handle::registry();
        let exports = crate::exports::REGISTRY
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let arrays = handles
            .iter()
            // SAFETY: every address in the registry is a live handle while we hold its lock,
            // which `Held` keeps until after the holds are dropped (field order): the
            // `'static` borrow never outlives the handle.
            .map(|&addr| unsafe { Handle::registered(addr) }.hold_for_fork())
            .collect();
        let held = Held {
            _arrays: arrays,
            _exports: exports,
            _handles: handles,
        };
        HELD.with(|slot| *slot.borrow_mut() = Some(held));
    }));
}

extern "C" fn parent() {
    let _ = catch_unwind(|| HELD.with(|slot| drop(slot.borrow_mut().take())));
}

extern "C" fn child() {
    let _ = catch_unwind(|| {
        after_fork();
        HELD.with(|slot| drop(slot.borrow_mut().take()));
    });
}

/// The child's share of the work, once per child process.
fn after_fork() -> bool {
    let pid = std::process::id();
    // Relaxed: read and written in a child with one thread (or by one host thread's call).
    if AFTER_FORK_PID.swap(pid, Relaxed) == pid {
        return false;
    }
    ftarray::after_fork_child();
    handle::after_fork_child();
    true
}

#[cfg(unix)]
unsafe extern "C" {
    fn pthread_atfork(
        prepare: Option<extern "C" fn()>,
        parent: Option<extern "C" fn()>,
        child: Option<extern "C" fn()>,
    ) -> std::ffi::c_int;
}

/// Registers the fork handlers; called once, by the library's initialisation.
pub(crate) fn register_handlers() {
    #[cfg(unix)]
    // SAFETY: three `extern "C"` functions with no arguments, as `pthread_atfork` wants; they
    // stay valid as long as the library is loaded (a library that is unloaded while the process
    // can still fork must not register handlers, as for any `pthread_atfork` user).
    unsafe {
        pthread_atfork(Some(prepare), Some(parent), Some(child));
    }
}

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
/// reading, waiting up to about a second for other threads to pass quiescent points: for a
/// quiet point, such as a host about to exit, so that a leak checker finds nothing.
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
