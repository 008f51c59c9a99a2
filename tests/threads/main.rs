//! Threaded stress tests: many threads read and write one array at once, and every read is
//! checked against the set of states the writers' operations can produce.
//!
//! Each test states, next to its readers, exactly which observations are possible; a read that
//! falls outside that set is a linearizability (contract point 2) or memory-safety (point 1)
//! failure. Where the writers' states are totally ordered, readers also check that their own
//! successive reads never go back in that order, and never run ahead of a counter the writer
//! announces (SeqCst) *before* each operation starts ("no value from the future").
//!
//! Writers run for a fixed number of iterations; readers run until every writer has finished and
//! then take one more round of reads, so each reader checks at least one state, including the
//! final one. Every invariant runs for `u32`, `u64` and `f64` elements.

use ftarray::{Arith, Element, Error, FtArray};
use std::any::type_name;
use std::fmt::Debug;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::Duration;

/// Declares a `#[test]` that runs the generic check `$check` for u32, u64 and f64.
macro_rules! per_type {
    ($test:ident, $check:ident) => {
        #[test]
        fn $test() {
            $check::<u32>();
            $check::<u64>();
            $check::<f64>();
        }
    };
}

/// Divides every iteration count under Miri, which interprets every step of every thread.
const SCALE_DOWN: usize = if cfg!(miri) { 1000 } else { 1 };

/// An iteration count: `full` normally, a thousandth of it (at least 2) under Miri.
const fn scaled(full: usize) -> usize {
    let n = full / SCALE_DOWN;
    if n < 2 { 2 } else { n }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Element types the invariants run over: every value a test stores is `enc(x)` for a small
/// integer `x`, and `dec` recovers `x` (or `None` for a bit pattern no thread ever stored).
trait Num: Element + PartialOrd + Debug {
    fn enc(x: u64) -> Self;
    fn dec(self) -> Option<u64>;
    fn from_ne(bytes: &[u8]) -> Self;
}

impl Num for u32 {
    fn enc(x: u64) -> Self {
        u32::try_from(x).expect("test values fit in u32")
    }
    fn dec(self) -> Option<u64> {
        Some(self.into())
    }
    fn from_ne(bytes: &[u8]) -> Self {
        u32::from_ne_bytes(bytes.try_into().unwrap())
    }
}

impl Num for u64 {
    fn enc(x: u64) -> Self {
        x
    }
    fn dec(self) -> Option<u64> {
        Some(self)
    }
    fn from_ne(bytes: &[u8]) -> Self {
        u64::from_ne_bytes(bytes.try_into().unwrap())
    }
}

impl Num for f64 {
    fn enc(x: u64) -> Self {
        assert!(x < (1 << 53), "test values are exact in f64");
        x as f64
    }
    fn dec(self) -> Option<u64> {
        (self >= 0.0 && self < (1u64 << 53) as f64 && self.fract() == 0.0).then_some(self as u64)
    }
    fn from_ne(bytes: &[u8]) -> Self {
        f64::from_ne_bytes(bytes.try_into().unwrap())
    }
}

fn enc<T: Num>(x: u64) -> T {
    T::enc(x)
}

/// The integer a read value encodes; fails on a value that no thread ever stored.
fn d<T: Num>(v: T) -> u64 {
    v.dec()
        .unwrap_or_else(|| panic!("{}: read {v:?}, which no thread ever stored", ty::<T>()))
}

fn decode_all<T: Num>(values: &[T]) -> Vec<u64> {
    values.iter().map(|&v| d(v)).collect()
}

fn ty<T>() -> &'static str {
    type_name::<T>()
}

/// A tiny xorshift64 generator: deterministic per seed, no dependencies.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng((seed.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Counts a writer out when it finishes, even by panicking, so readers always stop.
struct Running<'a>(&'a AtomicUsize);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        // Release: the writer's operations happen before a reader sees the count drop.
        self.0.fetch_sub(1, Release);
    }
}

/// The threads of one test: all start together (so readers really overlap the writers, which
/// would otherwise finish before the readers are even spawned), and readers run until every
/// writer has finished.
struct Crew {
    writers: AtomicUsize,
    gate: Barrier,
}

impl Crew {
    fn new(writers: usize, readers: usize) -> Self {
        Crew {
            writers: AtomicUsize::new(writers),
            gate: Barrier::new(writers + readers),
        }
    }

    /// A writer's first call: waits for the whole crew; the guard counts the writer out.
    fn writer(&self) -> Running<'_> {
        self.gate.wait();
        Running(&self.writers)
    }

    /// A reader's body: waits for the whole crew, then runs `f` until every writer has finished,
    /// then once more (`f(true)`), so every reader checks at least one state and always the
    /// final one.
    fn read_until_done(&self, mut f: impl FnMut(bool)) {
        self.gate.wait();
        loop {
            // Acquire: pairs with `Running::drop`; the last call sees the writers' final state.
            let last = self.writers.load(Acquire) == 0;
            f(last);
            if last {
                return;
            }
        }
    }
}

/// Per-reader check that successive observations never go back in the writers' total order of
/// states. Each observation is the interval of state numbers it is consistent with.
struct Monotone {
    floor: u64,
    what: &'static str,
}

impl Monotone {
    fn new(what: &'static str) -> Self {
        Monotone { floor: 0, what }
    }

    /// Records an observation consistent with states `lo..=hi`, read no later than a moment when
    /// the writer had announced at most state `announced`.
    fn observe(&mut self, lo: u64, hi: u64, announced: u64, detail: impl Fn() -> String) {
        assert!(
            hi >= self.floor,
            "{}: went back in time: this read fits states {lo}..={hi}, an earlier read of the \
             same thread proved state >= {}: {}",
            self.what,
            self.floor,
            detail()
        );
        assert!(
            lo <= announced,
            "{}: value from the future: this read fits states {lo}..={hi}, but the writer had \
             only announced up to {announced}: {}",
            self.what,
            detail()
        );
        self.floor = self.floor.max(lo);
    }
}

// ---------------------------------------------------------------------------------------------
// The tests, one file per subject
// ---------------------------------------------------------------------------------------------

mod clear_and_extend;
mod cross_extend;
mod export_churn;
mod export_writes;
mod exports;
mod extend;
mod fetch_add;
mod insert_remove;
mod long_lived_readers;
mod no_future_values;
mod ordered_sets;
mod rewrites;
mod self_operations;
mod update;
