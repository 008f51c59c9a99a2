//! Detached bulk work and the process edges: interpreter exit and `fork()`.
//!
//! Bulk operations (at least [`DETACH_BYTES`]) run detached from the interpreter
//! (`Python::detach`), and hold the array's writer lock while they do. Two process edges must
//! not meet a thread in that state:
//!
//! - **Exit.** On CPython 3.11–3.13, a thread that re-attaches after finalization began
//!   (`PyEval_RestoreThread` → `take_gil` → `_PyThreadState_MustExit`) is ended with
//!   `pthread_exit()` (gh-87135). Its forced unwind runs into the Rust frames of the detached
//!   call, which cannot let it pass: the process aborts ("FATAL: exception not rethrown").
//!   `Py_FinalizeEx` joins the non-daemon threads, then runs the `atexit` callbacks, and only
//!   then stops the world (3.13t) and marks the runtime as finalizing. So an `atexit` callback
//!   registered at import ([`at_exit`]) sets [`EXITING`] and waits, detached, until every
//!   detached operation has re-attached; from then on no operation detaches (they run
//!   attached, as the standard type's do). When finalization starts, no thread is detached
//!   inside a call of this module, so none re-attaches through its frames.
//! - **Fork.** A child has only the forking thread; a lock that another thread held at the
//!   fork stays held in the child for ever. Threads attached to the interpreter cannot hold an
//!   ftarray lock at a fork: on GIL builds the forking thread holds the GIL, and on 3.13t
//!   `PyOS_BeforeFork` stops the world, which waits for every attached thread to reach a safe
//!   point (the eval loop or a detach), and no lock is held at one (no Python code runs while
//!   an array is locked). Detached threads are not waited for, by either. So the
//!   `os.register_at_fork` *before* handler ([`before_fork`]; CPython runs those before it
//!   stops the world) counts a fork in progress in [`FORKING`] and waits until no operation is
//!   detached; operations that start meanwhile run attached. The *after* handlers end the
//!   fork in the parent and reset the counts in the child, where no other thread exists.
//!
//! Both use one protocol: an operation increments [`IN_FLIGHT`], *then* reads the flags, and
//! detaches only if neither is set; a waiter sets its flag, *then* waits for [`IN_FLIGHT`] to
//! reach zero. All four accesses are sequentially consistent, so either the operation sees the
//! flag (and runs attached) or the waiter sees the count (and waits for it): no operation can
//! slip in detached between a waiter's check and the exit or fork. The count drops only after
//! the operation has re-attached, so a waiter that returns leaves no thread about to call
//! `PyEval_RestoreThread` from here.
//!
//! What stays outside this module's reach is listed in `python/README.md` (a daemon thread
//! running Python code called from a method, such as an iterator given to `extend`, can still
//! be ended by CPython inside that method at exit).

use crate::class::DETACH_BYTES;
use pyo3::marker::Ungil;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

/// Operations that decided to detach and have not re-attached yet.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
/// Set by the `atexit` callback: the interpreter is on its way out; nothing detaches any more.
static EXITING: AtomicBool = AtomicBool::new(false);
/// Forks between their *before* and *after* handlers (several threads may fork at once).
static FORKING: AtomicUsize = AtomicUsize::new(0);
/// Threads waiting for [`IN_FLIGHT`] to reach zero (so a finishing operation knows to wake
/// them).
static WAITERS: AtomicUsize = AtomicUsize::new(0);
/// The waiters sleep on this pair; the last operation to re-attach notifies it.
static IDLE: Mutex<()> = Mutex::new(());
static IDLE_CV: Condvar = Condvar::new();

/// Ends one detached operation's count (after it re-attached, or when it did not detach).
struct InFlight;

impl InFlight {
    /// Counts an operation in; `None` (and no count) if it must stay attached.
    fn enter() -> Option<InFlight> {
        IN_FLIGHT.fetch_add(1, SeqCst);
        if EXITING.load(SeqCst) || FORKING.load(SeqCst) != 0 {
            drop(InFlight);
            return None;
        }
        Some(InFlight)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if IN_FLIGHT.fetch_sub(1, SeqCst) == 1 && WAITERS.load(SeqCst) != 0 {
            // The lock orders this notification after a waiter's check of the count: the
            // waiter holds it from that check until it sleeps.
            let _held = IDLE.lock().unwrap_or_else(PoisonError::into_inner);
            IDLE_CV.notify_all();
        }
    }
}

/// Runs `f` (pure core work, no Python) detached from the interpreter when it handles at
/// least [`DETACH_BYTES`] and no exit or fork is under way; attached otherwise (detaching
/// costs more than small work).
pub(crate) fn bulk<T: Ungil>(py: Python<'_>, bytes: usize, f: impl FnOnce() -> T + Ungil) -> T {
    if bytes >= DETACH_BYTES {
        detached(py, f)
    } else {
        f()
    }
}

/// Runs `f` (no Python) detached from the interpreter unless an exit or a fork is under way.
pub(crate) fn detached<T: Ungil>(py: Python<'_>, f: impl FnOnce() -> T + Ungil) -> T {
    match InFlight::enter() {
        // Dropped after `detach` returned, that is after re-attaching (also when `f` panics:
        // PyO3 re-attaches before the unwind reaches this frame).
        Some(_count) => py.detach(f),
        None => f(),
    }
}

/// Waits, detached (so the operations being waited for can re-attach, on GIL builds too),
/// until no operation is detached.
fn wait_idle(py: Python<'_>) {
    if IN_FLIGHT.load(SeqCst) == 0 {
        return;
    }
    WAITERS.fetch_add(1, SeqCst);
    py.detach(|| {
        let mut held = IDLE.lock().unwrap_or_else(PoisonError::into_inner);
        while IN_FLIGHT.load(SeqCst) != 0 {
            // The timeout is a backstop only: the last operation out notifies.
            held = IDLE_CV
                .wait_timeout(held, Duration::from_millis(50))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    });
    WAITERS.fetch_sub(1, SeqCst);
}

/// The `atexit` callback: from now on nothing detaches; returns once nothing is detached.
#[pyfunction]
#[pyo3(name = "_at_exit")]
pub(crate) fn at_exit(py: Python<'_>) {
    EXITING.store(true, SeqCst);
    wait_idle(py);
}

/// `os.register_at_fork(before=...)`: keeps new work attached and waits for detached work.
#[pyfunction]
#[pyo3(name = "_before_fork")]
pub(crate) fn before_fork(py: Python<'_>) {
    FORKING.fetch_add(1, SeqCst);
    wait_idle(py);
}

/// `os.register_at_fork(after_in_parent=...)`: this fork is over.
#[pyfunction]
#[pyo3(name = "_after_fork_parent")]
pub(crate) fn after_fork_parent() {
    FORKING.fetch_sub(1, SeqCst);
}

/// `os.register_at_fork(after_in_child=...)`: the child has one thread, which is attached:
/// nothing is detached and no fork is under way.
#[pyfunction]
#[pyo3(name = "_after_fork_child")]
pub(crate) fn after_fork_child() {
    IN_FLIGHT.store(0, SeqCst);
    WAITERS.store(0, SeqCst);
    FORKING.store(0, SeqCst);
}

/// Registers the `atexit` callback and the fork handlers (once, from the module initialiser).
/// They are module-level functions of the extension, kept out of the module's namespace.
pub(crate) fn install(py: Python<'_>) -> PyResult<()> {
    py.import("atexit")?
        .call_method1("register", (wrap_pyfunction!(at_exit, py)?,))?;
    let os = py.import("os")?;
    if os.hasattr("register_at_fork")? {
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("before", wrap_pyfunction!(before_fork, py)?)?;
        kwargs.set_item("after_in_parent", wrap_pyfunction!(after_fork_parent, py)?)?;
        kwargs.set_item("after_in_child", wrap_pyfunction!(after_fork_child, py)?)?;
        os.call_method("register_at_fork", (), Some(&kwargs))?;
    }
    Ok(())
}
