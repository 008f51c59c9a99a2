//! `fork()`: the `pthread_atfork` handlers and the child's share of the work (the entry points,
//! `ftarray_after_fork_child` among them, are `quiesce.rs`'s).
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
        let exports = crate::registry::REGISTRY
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
pub(crate) fn after_fork() -> bool {
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
