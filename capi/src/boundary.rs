//! The panic boundary every entry point goes through: the `ffi!` macro, the thread-local
//! last-error message, and exactly-once global initialisation (the status codes are
//! `status.rs`'s).

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub(crate) use crate::status::{Fail, Status};

/// Stores `fail`'s message as this thread's last error, naming the entry point `call` that
/// failed, and returns its status.
fn record(fail: Fail, call: &str) -> Status {
    let status = fail.status;
    // `try_with`: during thread teardown the slot may be gone; the status still says what
    // happened.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            slot.clear();
            slot.push_str(call);
            slot.push_str(": ");
            slot.push_str(&fail.message);
        }
    });
    status
}

/// The name of the function `f` is defined in: the entry point a `fn here() {}` inside it names
/// (`type_name` gives `crate::module::ftarray_xxx::here`).
pub(crate) fn caller_name<F>(_f: F) -> &'static str {
    let path = std::any::type_name::<F>();
    let mut parts = path.rsplit("::");
    parts.next();
    parts.next().unwrap_or(path)
}

thread_local! {
    /// The message of the last failed call on this thread, after the name of that call and
    /// `": "` (empty before the first failure, and after `ftarray_clear_error`).
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Runs one entry point's body: initialises the library on first use, catches any panic, and
/// turns the result into a status (recording the message of a failure).
///
/// Use it through [`ffi!`], which also checks and converts the pointer arguments.
/// `here` is a function item defined inside the entry point, which names it in the message.
pub(crate) fn guard<F>(here: F, body: impl FnOnce() -> Result<(), Fail>) -> Status {
    let run = || {
        init();
        body()
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(())) => Status::Ok,
        Ok(Err(fail)) => record(fail, caller_name(here)),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-string payload".to_owned());
            // The payload is a `&str` or `String` (our code panics with messages only);
            // dropping it cannot panic.
            drop(payload);
            let fail = Fail::new(
                Status::Panic,
                format!("internal error: the library panicked ({what})"),
            );
            record(fail, caller_name(here))
        }
    }
}

/// Like [`guard`], for the few entry points that return a value instead of a status
/// (`ftarray_version`, `ftarray_status_str`): a panic yields `fallback`.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(|| {
        init();
        body()
    }))
    .unwrap_or(fallback)
}

/// The boundary of every entry point that returns a status.
///
/// ```text
/// ffi!(array a, out len => {
///     *len = a.len();
///     Ok(())
/// })
/// ```
///
/// Each `kind name` pair rebinds the raw pointer argument `name`, after checking it for NULL
/// (`FTARRAY_STATUS_NULL_ARGUMENT` names it), as:
///
/// * `array`: `*const Handle` → `&DynArray` (the handle's array, checked by its magic word:
///   a freed or foreign handle is `FTARRAY_STATUS_MISUSE`);
/// * `out`: `*mut T` → `&mut T` (an out-parameter the host lets us write);
/// * `input`: `*const T` → `&T`;
/// * `storage_guard g` (after the handles of a read-only call): binds `g` to the call's pin of
///   the storage collector, for the core's `_in` reads.
///
/// The body runs inside [`guard`]: first-use initialisation, `catch_unwind`, and
/// `Result<(), Fail>` → status with the last-error message recorded under the entry point's
/// name. The epoch is pinned for the whole body, so a handle freed by a racing call stays
/// valid memory until the body is done. Every entry point's
/// `# Safety` contract (each pointer valid, aligned, and not written by anyone else during
/// the call) is what makes the conversions sound.
macro_rules! ffi {
    ($($kind:ident $name:ident),* $(,)? => $body:expr) => {{
        fn here() {}
        $crate::boundary::guard(here, move || {
            // Pinned before the first handle is read (if any is) and until the body is done: a
            // handle freed by another thread meanwhile is reclaimed only after this unpins. A
            // call that may write (any handle argument is `ftarray *`) pins the handle
            // collector, a read-only one the storage collector (see `Pinned`).
            let writes = false $( || $crate::boundary::ffi!(@writes $kind $name) )*;
            let handles = false $( || $crate::boundary::ffi!(@handle $kind) )*;
            let pinned = $crate::boundary::Pinned::new(handles, writes);
            $( let $name = $crate::boundary::ffi!(@bind $kind $name pinned); )*
            let result = $body;
            pinned.release();
            result
        })
    }};
    (@writes array $p:ident) => { $crate::handle::HandlePtr::WRITES_THROUGH(&$p) };
    (@bind storage_guard $name:ident $g:ident) => { $g.storage_guard() };
    (@writes $other:ident $p:ident) => { false };
    (@handle array) => { true };
    (@handle $other:ident) => { false };
    (@bind array $p:ident $g:ident) => {
        // SAFETY: the entry point's contract: `$p` is NULL or a handle from a constructor of
        // this library (freed ones are refused by their magic word; `$g` keeps the memory of
        // one freed during the call).
        unsafe { $crate::handle::Handle::array($p, stringify!($p), $g.guard()) }?
    };
    (@bind out $p:ident $g:ident) => {
        // SAFETY: the entry point's contract: `$p` is NULL or valid and aligned for writes,
        // and nothing else reads or writes it during the call.
        match unsafe { $p.as_mut() } {
            Some(r) => r,
            None => return Err($crate::boundary::Fail::null(stringify!($p))),
        }
    };
    (@bind input $p:ident $g:ident) => {
        // SAFETY: the entry point's contract: `$p` is NULL or valid and aligned for reads,
        // and nothing writes it during the call.
        match unsafe { $p.as_ref() } {
            Some(r) => r,
            None => return Err($crate::boundary::Fail::null(stringify!($p))),
        }
    };
}
pub(crate) use ffi;

/// The pin an entry point holds while it uses handles (calls without one, such as sessions
/// and flushing, never pin).
///
/// A freed handle is reclaimed only after every thread pinned with either collector at its
/// free has unpinned (`Handle::free`), so either pin protects it. A read-only call pins the
/// storage collector: the core's own pins inside it are then nested, and a read costs what it
/// did before handles were checked. A call that may write pins the handle collector instead:
/// it may wait for the array's writer lock, and a thread waiting while pinned with the storage
/// collector would hold back the reclamation of every array's storage (the `sessions` test's
/// backlog doubled when every call did).
pub(crate) struct Pinned {
    writes: bool,
    guard: Option<crossbeam_epoch::Guard>,
}

impl Pinned {
    /// Pins now if the call has handle arguments (`handles`), with the collector `writes`
    /// picks.
    #[inline]
    pub(crate) fn new(handles: bool, writes: bool) -> Pinned {
        let guard = match (handles, writes) {
            (false, _) => None,
            (true, true) => Some(crate::handle::pin()),
            (true, false) => Some(ftarray::pin()),
        };
        Pinned { writes, guard }
    }

    #[inline]
    pub(crate) fn guard(&self) -> &crossbeam_epoch::Guard {
        self.guard
            .as_ref()
            .expect("ffi! pins whenever the call has a handle argument")
    }

    /// The guard, for a read-only call to hand to the core's `_in` reads (which then pin
    /// nothing themselves: each pin costs a thread-local lookup even when nested).
    pub(crate) fn storage_guard(&self) -> &crossbeam_epoch::Guard {
        debug_assert!(
            !self.writes,
            "only read-only calls pin the storage collector"
        );
        self.guard()
    }

    /// Unpins.
    pub(crate) fn release(self) {
        drop(self.guard);
    }
}

// ---------------------------------------------------------------------------------------------
// Global initialisation
// ---------------------------------------------------------------------------------------------

static INIT: Once = Once::new();
/// How many times the initialisation ran (1 after the first call, ever after).
static INIT_RUNS: AtomicU64 = AtomicU64::new(0);

/// Initialises the library's global state exactly once, however many threads get here first
/// at the same time; the others wait until it is done.
///
/// The global state is crossbeam-epoch's default collector (the epoch counter and the list
/// of participating threads, behind a lazily initialised static): entering and leaving a
/// session creates it, and registers the calling thread with it. Then the `pthread_atfork`
/// handlers are registered (see `fork.rs`).
pub(crate) fn init() {
    INIT.call_once(|| {
        // Relaxed: a statistic; `Once` orders the initialisation before every caller's
        // return from `call_once`.
        INIT_RUNS.fetch_add(1, Relaxed);
        drop(ftarray::Session::enter());
        crate::fork::register_handlers();
    });
}

/// How many times the initialisation ran.
pub(crate) fn init_runs() -> u64 {
    INIT_RUNS.load(Relaxed)
}

// ---------------------------------------------------------------------------------------------
// Entry points: errors, version, initialisation
// ---------------------------------------------------------------------------------------------

/// Copies this thread's last error message into `buf`, as a NUL-terminated UTF-8 string.
///
/// The message is the one set by the most recent call on this thread that returned a status
/// other than `FTARRAY_STATUS_OK`, after the name of that function and `": "` (as in
/// `"ftarray_get_i64: index 5 out of range for array of length 2"`). Successful calls leave it
/// alone; it is empty before the first failure and after `ftarray_clear_error`. Reading it does
/// not clear or change it.
///
/// Buffer contract: if `cap > 0`, at most `cap - 1` bytes of the message are written to `buf`
/// followed by a NUL byte; a message that does not fit is cut at a UTF-8 character boundary.
/// If `needed` is not NULL, `*needed` receives the size of buffer the whole message needs,
/// NUL included (so 1 for an empty message). `buf` may be NULL only when `cap` is 0, which
/// asks for `*needed` alone.
///
/// Returns `FTARRAY_STATUS_OK` if the whole message was written (or `cap` was 0 and `needed`
/// was given), `FTARRAY_STATUS_BUFFER_TOO_SMALL` if it was cut (or `cap` was 0 with a
/// non-empty message), `FTARRAY_STATUS_NULL_ARGUMENT` if `buf` is NULL with `cap > 0`.
/// This function never sets the last error itself.
///
/// Threads: reads only the calling thread's message.
///
/// # Safety
///
/// `buf` must be NULL or valid for writes of `cap` bytes; `needed` must be NULL or valid for
/// writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ftarray_last_error(
    buf: *mut c_char,
    cap: usize,
    needed: *mut usize,
) -> Status {
    let run = || {
        if buf.is_null() && cap > 0 {
            return Status::NullArgument;
        }
        LAST_ERROR
            .try_with(|slot| {
                let Ok(message) = slot.try_borrow() else {
                    return Status::Error;
                };
                let message = message.as_str();
                if !needed.is_null() {
                    // SAFETY: `needed` is non-null and, by the contract, valid for writes.
                    unsafe { needed.write(message.len() + 1) };
                }
                if cap == 0 {
                    return if message.is_empty() {
                        Status::Ok
                    } else {
                        Status::BufferTooSmall
                    };
                }
                let mut n = message.len().min(cap - 1);
                while !message.is_char_boundary(n) {
                    n -= 1;
                }
                // SAFETY: `buf` is non-null (checked above, since `cap > 0`) and valid for
                // `cap >= n + 1` bytes of writes by the contract; `message` is our own string,
                // which cannot overlap the host's buffer.
                unsafe {
                    std::ptr::copy_nonoverlapping(message.as_ptr(), buf.cast::<u8>(), n);
                    buf.add(n).write(0);
                }
                if n == message.len() {
                    Status::Ok
                } else {
                    Status::BufferTooSmall
                }
            })
            .unwrap_or(Status::Error)
    };
    catch_unwind(AssertUnwindSafe(run)).unwrap_or(Status::Panic)
}

/// Clears this thread's last error message: `ftarray_last_error` then gives the empty string
/// until a call fails again.
///
/// Threads: affects only the calling thread.
#[unsafe(no_mangle)]
pub extern "C" fn ftarray_clear_error() {
    let _ = catch_unwind(|| {
        let _ = LAST_ERROR.try_with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut() {
                slot.clear();
            }
        });
    });
}

/// The name of a status code (`"FTARRAY_STATUS_INDEX_ERROR"` for 1), or `"unknown status"`
/// for a number that is none of them.
///
/// Ownership: the string is static; do not free it. Threads: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn ftarray_status_str(status: std::ffi::c_int) -> *const c_char {
    guard_value(c"unknown status".as_ptr(), || {
        usize::try_from(status)
            .ok()
            .and_then(|k| Status::ALL.get(k))
            .map_or(c"unknown status".as_ptr(), |s| s.name().as_ptr())
    })
}

/// The library's version, `"MAJOR.MINOR.PATCH"`.
///
/// Ownership: the string is static; do not free it. Threads: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn ftarray_version() -> *const c_char {
    const VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(v) => v,
        Err(_) => panic!("the package version contains a NUL byte"),
    };
    guard_value(VERSION.as_ptr(), || VERSION.as_ptr())
}

/// `n` as a number (for the package version's parts, at compile time).
const fn parse(n: &str) -> u32 {
    let bytes = n.as_bytes();
    let mut value = 0;
    let mut k = 0;
    while k < bytes.len() {
        value = value * 10 + (bytes[k] - b'0') as u32;
        k += 1;
    }
    value
}

/// The library's version as a number, `MAJOR * 1000000 + MINOR * 1000 + PATCH` (SQLite's
/// scheme): compare it with the header's `FTARRAY_VERSION_NUMBER` to check that the library a
/// program runs with is the one it was compiled against (while the major version is 0, a
/// different minor version may have a different ABI; the soname, `libftarray.so.0.MINOR`,
/// keeps the loader from mixing them).
///
/// Threads: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn ftarray_version_number() -> u32 {
    const NUMBER: u32 = parse(env!("CARGO_PKG_VERSION_MAJOR")) * 1_000_000
        + parse(env!("CARGO_PKG_VERSION_MINOR")) * 1000
        + parse(env!("CARGO_PKG_VERSION_PATCH"));
    NUMBER
}

/// Initialises the library's global state (the epoch collector) if no call has yet.
///
/// Optional: every entry point does this on first use, exactly once however many threads
/// make their first call at the same instant (the others wait for it to finish). A host may
/// call it from its own module initialisation to take the cost up front.
///
/// Threads: any thread, any number at once. Returns `FTARRAY_STATUS_OK`.
#[unsafe(no_mangle)]
#[must_use]
pub extern "C" fn ftarray_init() -> Status {
    ffi!(=> Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> String {
        LAST_ERROR.with(|m| m.borrow().clone())
    }

    #[test]
    fn a_panic_becomes_a_status_with_a_message() {
        fn here() {}
        assert_eq!(caller_name(here), "a_panic_becomes_a_status_with_a_message");
        let st = guard(here, || panic!("boom {}", 42));
        assert_eq!(st, Status::Panic);
        assert!(message().contains("boom 42"), "{}", message());
        let st = guard(here, || std::panic::panic_any(7u8));
        assert_eq!(st, Status::Panic);
        assert!(message().contains("non-string"), "{}", message());
        assert_eq!(guard_value(1, || panic!("x")), 1);
    }

    #[test]
    fn failures_record_their_message_and_successes_keep_it() {
        fn here() {}
        assert_eq!(
            guard(here, || Err(Fail::new(Status::NotFound, "nope"))),
            Status::NotFound
        );
        let set = "failures_record_their_message_and_successes_keep_it: nope";
        assert_eq!(message(), set);
        assert_eq!(guard(here, || Ok(())), Status::Ok);
        assert_eq!(message(), set);
        ftarray_clear_error();
        assert_eq!(message(), "");
    }

    #[test]
    fn every_status_has_its_name_and_number() {
        for (k, s) in Status::ALL.iter().enumerate() {
            assert_eq!(*s as usize, k);
            let name = ftarray_status_str(k as std::ffi::c_int);
            // SAFETY: a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(name) };
            assert_eq!(name, s.name());
        }
    }

    #[test]
    fn errors_map_to_their_status() {
        use ftarray::Error as E;
        let cases = [
            (
                E::SignedIndexOutOfRange { index: -1, len: 0 },
                Status::IndexError,
            ),
            (
                E::BadByteLength {
                    len: 3,
                    item_size: 2,
                },
                Status::BadLength,
            ),
            (E::CapacityOverflow, Status::CapacityOverflow),
            (E::AllocFailed { bytes: 1 }, Status::OutOfMemory),
            (E::Exported { exports: 1 }, Status::Exported),
            (E::Empty, Status::Empty),
            (E::BadTypeCode { code: 'x' }, Status::BadTypecode),
            (E::ZeroStep, Status::ZeroStep),
            (E::NotFound, Status::NotFound),
            (E::Unordered, Status::Unordered),
            (E::UnknownExport { token: 9 }, Status::UnknownExport),
        ];
        for (e, s) in cases {
            let text = e.to_string();
            let f = Fail::from(e);
            assert_eq!(f.status, s);
            assert_eq!(f.message, text);
        }
    }
}
