//! Shared pieces of the criterion benches: the element types every scenario runs for, and the
//! containers compared with [`FtArray`].
//!
//! Benchmark ids follow one scheme so that `scripts/bench_summary.py` can find them:
//! `<group>/<impl>/<type>` (criterion's group / function / parameter), with the impl names of
//! [`names`]. Multi-threaded groups append a suffix to the parameter (`u32_2t`) or to the
//! function (`ftarray_reader/reads`).

// Each bench binary includes this module and uses a different part of it.
#![allow(dead_code)]

use arc_swap::ArcSwap;
use ftarray::{Element, FtArray};
use parking_lot::{Mutex, RwLock};
use std::fmt::Debug;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering::Relaxed};

/// Length of the arrays read by the small-array scenarios.
pub const LEN: usize = 1024;

/// Walks the indices `0..LEN` in a scrambled order (an odd step modulo a power of two visits
/// every index), so that a read's index is not a compile-time constant.
#[inline(always)]
pub fn next_index(i: usize) -> usize {
    (i + 617) & (LEN - 1)
}

/// Implementation names, used as criterion function ids.
pub mod names {
    /// `FtArray::get`: pins the epoch on every call.
    pub const FT_GET: &str = "ftarray_get";
    /// `Reader::get`: one pin held across reads.
    pub const FT_READER: &str = "ftarray_reader";
    /// An `FtArray` write method.
    pub const FT: &str = "ftarray";
    /// `Vec<T>`, no synchronisation at all: the single-threaded physical limit.
    pub const VEC: &str = "vec";
    /// `Vec<AtomicU8>` / `Vec<AtomicU32>` / `Vec<AtomicU64>` with relaxed loads and stores.
    pub const ATOMIC: &str = "atomic_relaxed";
    /// `parking_lot::RwLock<Vec<T>>`.
    pub const PL_RWLOCK: &str = "pl_rwlock";
    /// `std::sync::RwLock<Vec<T>>`.
    pub const STD_RWLOCK: &str = "std_rwlock";
    /// `parking_lot::Mutex<Vec<T>>`.
    pub const PL_MUTEX: &str = "pl_mutex";
    /// `arc_swap::ArcSwap<Vec<T>>`.
    pub const ARCSWAP: &str = "arcswap";
    /// `crossbeam_epoch::pin()` and a plain `Vec` read: the floor of any read that pins the
    /// epoch per call, as `FtArray::get` does.
    pub const PIN_VEC: &str = "epoch_pin_vec";
}

/// An element type the benches run for (`u8`, `u32` and `f64`), with its same-size atomic.
pub trait Num: Element + PartialEq + Debug + Default + 'static {
    /// `AtomicU8`, `AtomicU32` or `AtomicU64`.
    type Atomic: Send + Sync;
    /// The name used as the criterion parameter.
    const NAME: &'static str;
    /// A value derived from an index.
    fn from_usize(i: usize) -> Self;
    /// `self + 1` (wrapping for integers).
    fn inc(self) -> Self;
    /// A new atomic cell holding `v`.
    fn atomic(v: Self) -> Self::Atomic;
    /// A relaxed load.
    fn load(a: &Self::Atomic) -> Self;
    /// A relaxed store.
    fn store(a: &Self::Atomic, v: Self);
}

impl Num for u8 {
    type Atomic = AtomicU8;
    const NAME: &'static str = "u8";
    #[inline(always)]
    fn from_usize(i: usize) -> Self {
        i as u8
    }
    #[inline(always)]
    fn inc(self) -> Self {
        self.wrapping_add(1)
    }
    fn atomic(v: Self) -> AtomicU8 {
        AtomicU8::new(v)
    }
    #[inline(always)]
    fn load(a: &AtomicU8) -> Self {
        a.load(Relaxed)
    }
    #[inline(always)]
    fn store(a: &AtomicU8, v: Self) {
        a.store(v, Relaxed)
    }
}

impl Num for u32 {
    type Atomic = AtomicU32;
    const NAME: &'static str = "u32";
    #[inline(always)]
    fn from_usize(i: usize) -> Self {
        i as u32
    }
    #[inline(always)]
    fn inc(self) -> Self {
        self.wrapping_add(1)
    }
    fn atomic(v: Self) -> AtomicU32 {
        AtomicU32::new(v)
    }
    #[inline(always)]
    fn load(a: &AtomicU32) -> Self {
        a.load(Relaxed)
    }
    #[inline(always)]
    fn store(a: &AtomicU32, v: Self) {
        a.store(v, Relaxed)
    }
}

impl Num for f64 {
    type Atomic = AtomicU64;
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn from_usize(i: usize) -> Self {
        i as f64
    }
    #[inline(always)]
    fn inc(self) -> Self {
        self + 1.0
    }
    fn atomic(v: Self) -> AtomicU64 {
        AtomicU64::new(v.to_bits())
    }
    #[inline(always)]
    fn load(a: &AtomicU64) -> Self {
        f64::from_bits(a.load(Relaxed))
    }
    #[inline(always)]
    fn store(a: &AtomicU64, v: Self) {
        a.store(v.to_bits(), Relaxed)
    }
}

/// `0, 1, …, n - 1` as `T`.
pub fn values<T: Num>(n: usize) -> Vec<T> {
    (0..n).map(T::from_usize).collect()
}

/// One instance of every container, each holding [`LEN`] elements.
pub struct Fixtures<T: Num> {
    pub ft: FtArray<T>,
    pub vec: Vec<T>,
    pub atomic: Vec<T::Atomic>,
    pub pl_rwlock: RwLock<Vec<T>>,
    pub std_rwlock: std::sync::RwLock<Vec<T>>,
    pub pl_mutex: Mutex<Vec<T>>,
    pub arcswap: ArcSwap<Vec<T>>,
}

impl<T: Num> Fixtures<T> {
    pub fn new() -> Self {
        let v = values::<T>(LEN);
        Fixtures {
            ft: FtArray::from_slice(&v),
            atomic: v.iter().map(|&x| T::atomic(x)).collect(),
            pl_rwlock: RwLock::new(v.clone()),
            std_rwlock: std::sync::RwLock::new(v.clone()),
            pl_mutex: Mutex::new(v.clone()),
            arcswap: ArcSwap::from_pointee(v.clone()),
            vec: v,
        }
    }
}

/// A read of one element by index, the same shape for every container: `None` past the end.
pub trait ReadOne<T: Num> {
    fn read(&self, i: usize) -> Option<T>;
}

/// `FtArray::get`, pinning per call.
pub struct FtGet<'a, T: Num>(pub &'a FtArray<T>);

impl<T: Num> ReadOne<T> for FtGet<'_, T> {
    #[inline(always)]
    fn read(&self, i: usize) -> Option<T> {
        self.0.get(i)
    }
}

impl<T: Num> ReadOne<T> for ftarray::Reader<'_, T> {
    #[inline(always)]
    fn read(&self, i: usize) -> Option<T> {
        self.get(i)
    }
}

/// A `Vec` read under an epoch pin taken for that read alone.
pub struct PinnedVec<'a, T: Num>(pub &'a [T]);

impl<T: Num> ReadOne<T> for PinnedVec<'_, T> {
    #[inline(always)]
    fn read(&self, i: usize) -> Option<T> {
        let _guard = crossbeam_epoch::pin();
        self.0.get(i).copied()
    }
}

impl<T: Num> ReadOne<T> for Vec<T> {
    #[inline(always)]
    fn read(&self, i: usize) -> Option<T> {
        self.get(i).copied()
    }
}

/// A slice of atomics read with relaxed loads.
pub struct Atomics<'a, T: Num>(pub &'a [T::Atomic]);

impl<T: Num> ReadOne<T> for Atomics<'_, T> {
    #[inline(always)]
    fn read(&self, i: usize) -> Option<T> {
        self.0.get(i).map(T::load)
    }
}

impl<T: Num> ReadOne<T> for RwLock<Vec<T>> {
    #[inline(always)]
    fn read(&self, i: usize) -> Option<T> {
        self.read().get(i).copied()
    }
}

impl<T: Num> ReadOne<T> for std::sync::RwLock<Vec<T>> {
    #[inline(always)]
    fn read(&self, i: usize) -> Option<T> {
        self.read().unwrap().get(i).copied()
    }
}

impl<T: Num> ReadOne<T> for Mutex<Vec<T>> {
    #[inline(always)]
    fn read(&self, i: usize) -> Option<T> {
        self.lock().get(i).copied()
    }
}

impl<T: Num> ReadOne<T> for ArcSwap<Vec<T>> {
    #[inline(always)]
    fn read(&self, i: usize) -> Option<T> {
        self.load().get(i).copied()
    }
}
