//! The loom shim: the only place the crate takes atomics, fences, the mutex and spin hints from.
//!
//! Under `cfg(loom)` every primitive comes from [loom](https://docs.rs/loom), so the loom models
//! run the real array code with every interleaving explored; otherwise they come from `std` and
//! `parking_lot`. Nothing else in the crate names `std::sync` or `parking_lot` directly.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicU8, AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
};

/// The writer lock: a `parking_lot` mutex normally, loom's mutex under `cfg(loom)`.
///
/// parking_lot has no loom support, so (as tokio does) we wrap loom's `Mutex` behind the same
/// infallible `lock()`; neither implementation poisons.
pub(crate) struct Mutex<T> {
    #[cfg(not(loom))]
    inner: parking_lot::Mutex<T>,
    #[cfg(loom)]
    inner: loom::sync::Mutex<T>,
}

#[cfg(not(loom))]
pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;
#[cfg(loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex {
            #[cfg(not(loom))]
            inner: parking_lot::Mutex::new(value),
            #[cfg(loom)]
            inner: loom::sync::Mutex::new(value),
        }
    }

    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(not(loom))]
        {
            self.inner.lock()
        }
        #[cfg(loom)]
        {
            // loom's mutex poisons like std's; a panic inside a model fails the model anyway.
            self.inner.lock().unwrap()
        }
    }
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
