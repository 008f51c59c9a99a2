//! [`Session`]: one epoch pin held across many reads on a thread, for hosts with safe points.

use crossbeam_epoch::Guard;
use std::fmt;

/// Keeps the current thread pinned so that reads on it (of any array, typed or
/// [`DynArray`](crate::DynArray)) skip the cost of pinning.
///
/// Every read pins the epoch; the outermost pin on a thread costs a full fence, a nested pin
/// only a counter increment. A host that runs many reads in a row (an interpreter loop) enters
/// a session once, marks a [`quiescent`](Self::quiescent) point at each of its own safe points
/// (CPython's eval breaker is the model: its QSBR does the same), and drops the session when
/// the thread leaves the runtime.
///
/// While a session is held, buffers retired by any array cannot be freed until the session
/// reaches a quiescent point, so a thread that idles must call `quiescent` or drop the
/// session. A session belongs to its thread (`!Send`).
///
/// ```
/// use ftarray::{FtArray, Session};
/// let a = FtArray::from_slice(&[1u32, 2, 3]);
/// let mut session = Session::enter();
/// let mut total = 0;
/// for round in 0..10 {
///     for i in 0..a.len() {
///         total += a.get(i).unwrap(); // nested pin: no fence
///     }
///     session.quiescent(); // a safe point: lets retired buffers go
/// }
/// assert_eq!(total, 60);
/// ```
///
/// A session cannot leave its thread:
///
/// ```compile_fail
/// let s = ftarray::Session::enter();
/// std::thread::spawn(move || drop(s));
/// ```
pub struct Session {
    guard: Guard,
}

impl Session {
    /// Pins the current thread until the session is dropped.
    pub fn enter() -> Session {
        Session {
            guard: crate::reclaim::pin(),
        }
    }

    /// A quiescent point: unpins and pins again, so buffers retired meanwhile can be freed.
    /// Call it where the host holds no borrowed element (every ftarray read returns copies, so
    /// any point between calls is one).
    pub fn quiescent(&mut self) {
        crate::reclaim::repin_current(&mut self.guard);
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}
