//! Reader sessions: one epoch pin held across many reads on a thread, released at the host's
//! quiescent points.

use crate::boundary::{Fail, Status, ffi};
use ftarray::Session;
use std::cell::RefCell;

/// This thread's session: how many times it was entered, and the pins while that is above 0:
/// the storage collector's (`Session`) and the handle collector's, so that the calls inside
/// pay a nested pin of each.
struct Slot {
    depth: usize,
    session: Option<(Session, crossbeam_epoch::Guard)>,
}

thread_local! {
    static SESSION: RefCell<Slot> = const { RefCell::new(Slot { depth: 0, session: None }) };
}

fn not_in_session() -> Fail {
    Fail::new(
        Status::NotInSession,
        "this thread has not entered a session (call ftarray_session_enter first)",
    )
}

fn with_slot<R>(f: impl FnOnce(&mut Slot) -> Result<R, Fail>) -> Result<R, Fail> {
    SESSION
        .try_with(|slot| match slot.try_borrow_mut() {
            Ok(mut slot) => f(&mut slot),
            Err(_) => Err(Fail::new(
                Status::Error,
                "session state is busy on this thread",
            )),
        })
        .unwrap_or_else(|_| Err(Fail::new(Status::Error, "the thread is exiting")))
}

/// Enters a reader session on the calling thread (or nests one more level in the current
/// one).
///
/// Every read pins the epoch; the outermost pin on a thread costs a full memory fence, a
/// nested one only a counter increment. Inside a session the thread stays pinned, so its
/// reads (`ftarray_get_*`, `ftarray_len`, `ftarray_copy_bytes`, searches, … on any array)
/// pay no outer pin. The price: storage retired by any writer in the process cannot be freed
/// until this thread passes a quiescent point. So a host enters once per thread when it
/// starts running code, calls `ftarray_session_quiescent` at its own safe points (where it
/// holds no element pointer: every ftarray read returns copies, so any point between calls
/// is one; CPython's eval breaker is the model), and leaves before blocking for long or
/// exiting.
///
/// Sessions nest: each enter needs its own leave; the pin is released by the last leave.
/// A thread that exits inside a session leaves it at exit.
///
/// Threads: affects only the calling thread. Returns `FTARRAY_STATUS_OK`.
#[unsafe(no_mangle)]
#[must_use]
pub extern "C" fn ftarray_session_enter() -> Status {
    ffi!(=> with_slot(|slot| {
        if slot.depth == 0 {
            slot.session = Some((Session::enter(), crate::handle::pin()));
        }
        slot.depth += 1;
        Ok(())
    }))
}

/// A quiescent point of the calling thread's session: unpins and pins again, so storage
/// retired meanwhile can be freed.
///
/// Errors: `FTARRAY_STATUS_NOT_IN_SESSION` if the thread is in no session.
#[unsafe(no_mangle)]
#[must_use]
pub extern "C" fn ftarray_session_quiescent() -> Status {
    ffi!(=> with_slot(|slot| match slot.session.as_mut() {
        Some((session, handles)) => {
            session.quiescent();
            crate::handle::repin(handles);
            Ok(())
        }
        None => Err(not_in_session()),
    }))
}

/// Leaves one level of the calling thread's session; the last leave unpins the thread.
///
/// Errors: `FTARRAY_STATUS_NOT_IN_SESSION` if the thread is in no session (nothing changes).
#[unsafe(no_mangle)]
#[must_use]
pub extern "C" fn ftarray_session_leave() -> Status {
    ffi!(=> {
        // The session is dropped after the slot is released, outside the borrow.
        let ended = with_slot(|slot| {
            if slot.depth == 0 {
                return Err(not_in_session());
            }
            slot.depth -= 1;
            Ok(if slot.depth == 0 { slot.session.take() } else { None })
        })?;
        drop(ended);
        Ok(())
    })
}

/// Writes the calling thread's session depth to `*out`: 0 outside any session.
///
/// # Safety
///
/// `out` must be NULL or valid for writes.
#[unsafe(no_mangle)]
#[must_use]
pub unsafe extern "C" fn ftarray_session_depth(out: *mut usize) -> Status {
    ffi!(out out => {
        *out = with_slot(|slot| Ok(slot.depth))?;
        Ok(())
    })
}
