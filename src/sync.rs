//! The loom shim: the only place the crate takes atomics, fences, the mutex and spin hints from.
//!
//! Under `cfg(loom)` every primitive comes from [loom](https://docs.rs/loom), so the loom models
//! run the real array code with every interleaving explored; otherwise they come from `std`.
//! Nothing else in the crate names `std::sync` (or `parking_lot`, which the library does not
//! use) directly, except the few files `tests/layering.rs` lists with their reasons
//! (process-wide statics, which loom's atomics cannot be, and copies from host memory behind a
//! raw pointer, which no loom model reaches); clippy's `disallowed_types`/`disallowed_methods`
//! (clippy.toml) refuse std's and parking_lot's locks, spins and yields anywhere else in the
//! library.

// The one place the crate takes locks, spins and yields from std.
#![allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "this is the shim the sync rule points everyone else to"
)]

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering, fence};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering, fence};

/// The writer lock: std's mutex normally, loom's mutex under `cfg(loom)`.
///
/// Not parking_lot's, for `fork()`: parking_lot parks waiting threads in a process-wide table
/// of queues, each behind its own lock, so a child process inherits the queue entries (and
/// possibly a held queue lock) of threads it does not have, and unlocking a mutex there may
/// hand it to one of them or wait for that queue lock forever. std's mutex on Linux is one
/// futex word with the waiters in the kernel, which a child does not inherit: a lock the
/// forking thread held (see `DynArray::hold_for_fork`) is unlocked in the child with one store
/// and wakes nobody. Neither implementation poisons here: a panic under the lock aborts inside a
/// step (see `seqlock::step`) and leaves nothing half-done outside one, so a poisoned std lock
/// is taken as it is.
pub(crate) struct Mutex<T> {
    #[cfg(not(loom))]
    inner: std::sync::Mutex<T>,
    #[cfg(loom)]
    inner: loom::sync::Mutex<T>,
}

#[cfg(not(loom))]
pub(crate) type MutexGuard<'a, T> = std::sync::MutexGuard<'a, T>;
#[cfg(loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex {
            #[cfg(not(loom))]
            inner: std::sync::Mutex::new(value),
            #[cfg(loom)]
            inner: loom::sync::Mutex::new(value),
        }
    }

    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(not(loom))]
        {
            self.inner
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
        #[cfg(loom)]
        {
            // loom's mutex poisons like std's; a panic inside a model fails the model anyway.
            self.inner.lock().unwrap()
        }
    }
}

impl<T> Mutex<T> {
    /// Takes the lock if it is free right now; never waits.
    #[inline]
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        #[cfg(not(loom))]
        {
            match self.inner.try_lock() {
                Ok(guard) => Some(guard),
                Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
        }
        #[cfg(loom)]
        {
            self.inner.try_lock().ok()
        }
    }
}

/// Gives the CPU to another thread (a reader that has spun for long enough lets a writer that
/// the operating system preempted mid-step finish).
#[inline]
pub(crate) fn yield_now() {
    #[cfg(not(loom))]
    std::thread::yield_now();
    #[cfg(loom)]
    loom::thread::yield_now();
}

#[cfg(not(loom))]
std::thread_local! {
    /// Bytes this thread has retired since it last flushed its epoch garbage.
    static UNFLUSHED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(loom)]
loom::thread_local! {
    static UNFLUSHED: std::cell::Cell<usize> = std::cell::Cell::new(0);
}

/// Adds `bytes` to this thread's count of retired-but-unflushed bytes. Returns `true`, and
/// starts the count again, once it reaches `threshold`: the caller should flush now.
///
/// Per thread, because that is where the garbage waits: crossbeam-epoch keeps a thread's
/// deferred frees in that thread's own bag until the thread flushes, so a count per array would
/// let a thread that touched many arrays strand all of them in its bag. Also `true` when the
/// thread-local is gone (the thread is exiting), which flushes conservatively.
#[inline]
pub(crate) fn count_unflushed(bytes: usize, threshold: usize) -> bool {
    UNFLUSHED
        .try_with(|unflushed| {
            let total = unflushed.get().saturating_add(bytes);
            let flush = total >= threshold;
            unflushed.set(if flush { 0 } else { total });
            flush
        })
        .unwrap_or(true)
}

/// This thread's count of retired-but-unflushed bytes (for tests).
#[cfg(all(test, not(loom)))]
pub(crate) fn unflushed() -> usize {
    UNFLUSHED.with(std::cell::Cell::get)
}

/// One step of a reader's wait for a writer's O(1) step to finish.
///
/// Under loom this yields, so the model checker schedules the writer instead of exploring an
/// unbounded spin.
#[inline]
pub(crate) fn spin_loop() {
    #[cfg(not(loom))]
    core::hint::spin_loop();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// A value written once before its owner is published and only read afterwards (a block's
/// capacity).
///
/// Plain memory normally. Under loom it is a `loom::cell::UnsafeCell`, so loom checks that
/// every read happens after the write: a block published without Release (or loaded without
/// Acquire) makes the model fail with a causality violation instead of passing silently.
pub(crate) struct InitCell<T: Copy> {
    #[cfg(not(loom))]
    value: T,
    #[cfg(loom)]
    value: loom::cell::UnsafeCell<T>,
}

impl<T: Copy> InitCell<T> {
    pub(crate) fn new(value: T) -> Self {
        InitCell {
            #[cfg(not(loom))]
            value,
            #[cfg(loom)]
            value: loom::cell::UnsafeCell::new(value),
        }
    }

    #[inline(always)]
    pub(crate) fn get(&self) -> T {
        #[cfg(not(loom))]
        {
            self.value
        }
        #[cfg(loom)]
        {
            // SAFETY: the cell is never written after `new`.
            self.value.with(|p| unsafe { *p })
        }
    }
}

// SAFETY: the cell is immutable after construction; sharing it shares a `T: Sync` value.
unsafe impl<T: Copy + Sync> Sync for InitCell<T> {}
