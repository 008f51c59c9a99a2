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
// CPython #146007: clear() + extend() in some threads, indexing in others
// ---------------------------------------------------------------------------------------------

/// Writers in the clear/extend tests.
const CE_WRITERS: usize = 4;

/// The value at position `index` of a batch extended by `writer`.
fn tag(index: usize, writer: usize) -> u64 {
    ((writer as u64 + 1) << 24) | index as u64
}

/// `(index within its batch, writer)` of a value made by [`tag`].
fn untag<T: Num>(v: T) -> (usize, usize) {
    let x = d(v);
    let w = (x >> 24) as usize;
    assert!(
        (1..=CE_WRITERS).contains(&w),
        "{}: read {v:?}, which carries no valid writer id",
        ty::<T>()
    );
    ((x & 0xff_ffff) as usize, w - 1)
}

/// A value read at `index` must be element `index % batch` of some writer's batch.
fn check_tagged<T: Num>(v: T, index: usize, batch: usize, what: &str) {
    let (i, w) = untag(v);
    assert_eq!(
        i,
        index % batch,
        "{what}: {}: index {index} holds {v:?}, written by writer {w} for index {i} of a batch",
        ty::<T>()
    );
}

/// The only operations are `clear`/`truncate(batch)` (which leave whole batches) and
/// `extend_from_slice(batch of one writer)`; so every state is 0..=CE_WRITERS complete batches,
/// each made of elements `0..batch` of one writer. (At most CE_WRITERS: two extends with no clear
/// between them come from different writers, since each writer clears before it extends again.)
fn check_batches<T: Num>(snap: &[T], batch: usize, what: &str) {
    assert!(
        snap.len() % batch == 0 && snap.len() <= batch * CE_WRITERS,
        "{what}: {}: length {} is not 0..={CE_WRITERS} whole batches of {batch}",
        ty::<T>(),
        snap.len()
    );
    for (k, chunk) in snap.chunks(batch).enumerate() {
        let (_, first_writer) = untag(chunk[0]);
        for (i, &v) in chunk.iter().enumerate() {
            let (idx, w) = untag(v);
            assert!(
                idx == i && w == first_writer,
                "{what}: {}: batch {k} mixes extends: its element {i} is index {idx} of writer \
                 {w}'s batch, its first element came from writer {first_writer}",
                ty::<T>()
            );
        }
    }
}

fn clear_and_extend_vs_indexing<T: Num>() {
    const B: usize = 97; // odd, so batches straddle the capacity doublings
    let iters = scaled(8_000);
    let a = FtArray::<T>::new();
    let crew = Crew::new(CE_WRITERS, 4);
    let hits = AtomicUsize::new(0);
    thread::scope(|s| {
        for w in 0..CE_WRITERS {
            let (a, crew) = (&a, &crew);
            s.spawn(move || {
                let _running = crew.writer();
                let batch: Vec<T> = (0..B).map(|i| enc(tag(i, w))).collect();
                for it in 0..iters {
                    a.clear();
                    if it % 3 == w % 3 {
                        // With the array empty this publishes no buffer and retires the old
                        // one: readers that still hold it must be able to finish safely.
                        a.shrink_to_fit().unwrap();
                    }
                    a.extend_from_slice(&batch);
                }
            });
        }
        for r in 0..4 {
            let (a, crew, hits) = (&a, &crew, &hits);
            s.spawn(move || {
                let mut rng = Rng::new(r);
                crew.read_until_done(|_| {
                    if let Some(v) = a.get(0) {
                        check_tagged(v, 0, B, "get(0)");
                        hits.fetch_add(1, Relaxed);
                    }
                    let i = rng.below(B * CE_WRITERS + 3);
                    if let Some(v) = a.get(i) {
                        check_tagged(v, i, B, "get(i)");
                    }
                    let len = a.len();
                    assert!(len % B == 0 && len <= B * CE_WRITERS, "len() = {len}");
                    if rng.below(4) == 0 {
                        check_batches(&a.to_vec(), B, "to_vec");
                    }
                });
            });
        }
    });
    // Every writer's last operation was an extend: the final state is non-empty.
    let fin = a.to_vec();
    assert!(!fin.is_empty(), "{}: final array is empty", ty::<T>());
    check_batches(&fin, B, "final to_vec");
    assert!(hits.load(Relaxed) >= 4, "readers never saw an element");
}

per_type!(
    issue_146007_clear_and_extend_vs_indexing,
    clear_and_extend_vs_indexing
);

// ---------------------------------------------------------------------------------------------
// One writer sets 0..n in order, round after round
// ---------------------------------------------------------------------------------------------

/// The writer's states are totally ordered: state `s = r * n + k` has elements `0..k` equal to
/// `r + 1` and `k..n` equal to `r` (`0 <= k < n`). Returns the interval of states consistent with
/// `window` read at positions `start..start + window.len()`, failing if no state is: a window must
/// be non-increasing with max − min ≤ 1 (a prefix of `r + 1`, then a suffix of `r`).
fn set_round_states(window: &[u64], start: usize, n: usize, what: &str) -> (u64, u64) {
    let Some((&first, &last)) = window.first().zip(window.last()) else {
        return (0, u64::MAX);
    };
    assert!(
        window.windows(2).all(|p| p[0] >= p[1]) && first - last <= 1,
        "{what}: torn snapshot at {start}..{}: {window:?}",
        start + window.len()
    );
    let (n, start, end) = (n as u64, start as u64, (start + window.len()) as u64);
    if first == last {
        // Either round `v` with the boundary at or before `start`, or round `v - 1` with the
        // boundary at or after `end`.
        let lo = if first == 0 { 0 } else { (first - 1) * n + end };
        (lo, first * n + start)
    } else {
        let k = window.iter().take_while(|&&x| x == first).count() as u64;
        let s = last * n + start + k;
        (s, s)
    }
}

fn snapshots_never_torn<T: Num>() {
    const N: usize = 48;
    let rounds = scaled(5_000) as u64;
    let a = FtArray::from_slice(&[enc::<T>(0); N]);
    // The newest state any `set` may have produced: stored before each set begins.
    let announced = AtomicU64::new(0);
    let crew = Crew::new(1, 4);
    thread::scope(|s| {
        s.spawn(|| {
            let _running = crew.writer();
            for r in 0..rounds {
                for i in 0..N {
                    announced.store(r * N as u64 + i as u64 + 1, SeqCst);
                    let old = a.set(i, enc(r + 1)).unwrap();
                    assert_eq!(d(old), r, "set returned a stale old value");
                }
            }
        });
        // Reader 0: whole-array snapshots through the array.
        s.spawn(|| {
            let mut m = Monotone::new("to_vec/to_bytes");
            crew.read_until_done(|_| {
                let snap = decode_all(&a.to_vec());
                assert_eq!(snap.len(), N);
                let (lo, hi) = set_round_states(&snap, 0, N, "to_vec");
                m.observe(lo, hi, announced.load(SeqCst), || format!("{snap:?}"));
                let bytes = a.to_bytes();
                let snap: Vec<u64> = bytes
                    .chunks_exact(size_of::<T>())
                    .map(|b| d(T::from_ne(b)))
                    .collect();
                assert_eq!(snap.len(), N);
                let (lo, hi) = set_round_states(&snap, 0, N, "to_bytes");
                m.observe(lo, hi, announced.load(SeqCst), || format!("{snap:?}"));
            });
        });
        // Reader 1: a long-lived `Reader`, whole snapshots and windows.
        s.spawn(|| {
            let mut m = Monotone::new("Reader");
            let mut rng = Rng::new(1);
            let mut r = a.reader();
            let mut count = 0u32;
            crew.read_until_done(|_| {
                let snap = decode_all(&r.to_vec());
                let (lo, hi) = set_round_states(&snap, 0, N, "Reader::to_vec");
                m.observe(lo, hi, announced.load(SeqCst), || format!("{snap:?}"));
                let start = rng.below(N);
                let end = start + rng.below(N - start + 1);
                let win = decode_all(&r.get_range(start..end).unwrap());
                let (lo, hi) = set_round_states(&win, start, N, "Reader::get_range");
                m.observe(lo, hi, announced.load(SeqCst), || {
                    format!("{start}..: {win:?}")
                });
                let mut buf = vec![enc::<T>(0); rng.below(N - start + 1)];
                r.copy_to_slice(start, &mut buf).unwrap();
                let win = decode_all(&buf);
                let (lo, hi) = set_round_states(&win, start, N, "Reader::copy_to_slice");
                m.observe(lo, hi, announced.load(SeqCst), || {
                    format!("{start}..: {win:?}")
                });
                count += 1;
                if count % 8 == 0 {
                    r.repin();
                }
            });
        });
        // Reader 2: windows through the array.
        s.spawn(|| {
            let mut m = Monotone::new("windows");
            let mut rng = Rng::new(2);
            crew.read_until_done(|_| {
                let start = rng.below(N + 1);
                let end = start + rng.below(N - start + 1);
                let win = decode_all(&a.get_range(start..end).unwrap());
                let (lo, hi) = set_round_states(&win, start, N, "get_range");
                m.observe(lo, hi, announced.load(SeqCst), || {
                    format!("{start}..: {win:?}")
                });
                let mut buf = vec![enc::<T>(0); rng.below(N - start + 1)];
                a.copy_to_slice(start, &mut buf).unwrap();
                let win = decode_all(&buf);
                let (lo, hi) = set_round_states(&win, start, N, "copy_to_slice");
                m.observe(lo, hi, announced.load(SeqCst), || {
                    format!("{start}..: {win:?}")
                });
                assert!(a.get_range(start..N + 1).is_err());
            });
        });
        // Reader 3: single elements and the live iterator (each `next` its own instant).
        s.spawn(|| {
            let mut m = Monotone::new("get/iter");
            let mut rng = Rng::new(3);
            crew.read_until_done(|_| {
                let i = rng.below(N);
                let v = d(a.get(i).expect("the length never changes"));
                let (lo, hi) = set_round_states(&[v], i, N, "get");
                m.observe(lo, hi, announced.load(SeqCst), || format!("get({i}) = {v}"));
                assert_eq!(a.get(N), None);
                let mut seen = 0;
                for (p, v) in a.iter().enumerate() {
                    let v = d(v);
                    let (lo, hi) = set_round_states(&[v], p, N, "iter");
                    m.observe(lo, hi, announced.load(SeqCst), || {
                        format!("iter[{p}] = {v}")
                    });
                    seen += 1;
                }
                assert_eq!(seen, N);
            });
        });
    });
    assert_eq!(decode_all(&a.to_vec()), vec![rounds; N]);
}

per_type!(snapshots_are_never_torn, snapshots_never_torn);

// ---------------------------------------------------------------------------------------------
// extend: all or nothing
// ---------------------------------------------------------------------------------------------

/// Batches per epoch of the extend test: the writer clears the array after every `EPOCH` batches.
const EPOCH: u64 = 50;

/// The writer's operations, numbered from 1: epoch `e` is `EPOCH` extends (batch `k` filled with
/// the value `k`, for `k = e * EPOCH + 1 ..= (e + 1) * EPOCH`) followed by one `clear`. This is
/// the number of the extend that appends batch `k`; the clear ending epoch `e` is number
/// `(e + 1) * (EPOCH + 1)`, and the state after operation `s` is called state `s`.
fn extend_op(k: u64) -> u64 {
    k + (k - 1) / EPOCH
}

/// A non-empty state holds complete batches `f, f + 1, …` with `f` the first batch of an epoch;
/// returns the last batch (or `None` when empty).
fn complete_batches(snap: &[u64], b: usize, what: &str) -> Option<u64> {
    assert!(
        snap.len() % b == 0 && snap.len() <= b * EPOCH as usize,
        "{what}: length {} is not a whole number of batches of {b}",
        snap.len()
    );
    let first = *snap.first()?;
    assert!(
        first % EPOCH == 1,
        "{what}: starts with batch {first}, not the first of an epoch"
    );
    for (j, chunk) in snap.chunks(b).enumerate() {
        assert!(
            chunk.iter().all(|&x| x == first + j as u64),
            "{what}: batch {j} is not complete and in order: {chunk:?}"
        );
    }
    Some(first + (snap.len() / b) as u64 - 1)
}

fn extend_all_or_nothing<T: Num>() {
    const B: usize = 37;
    let batches = scaled(20_000) as u64;
    let a = FtArray::<T>::new();
    // The number of the newest operation that may have taken effect: stored before it begins.
    let announced = AtomicU64::new(0);
    let crew = Crew::new(1, 3);
    thread::scope(|s| {
        s.spawn(|| {
            let _running = crew.writer();
            for k in 1..=batches {
                announced.store(extend_op(k), SeqCst);
                let batch = vec![enc::<T>(k); B];
                // Three ways to append one batch, each a single step.
                match k % 3 {
                    0 => a.extend_from_slice(&batch),
                    1 => a.extend_from_array(&FtArray::from_slice(&batch)),
                    _ => a.resize(((k - 1) % EPOCH + 1) as usize * B, enc(k)),
                }
                if k % EPOCH == 0 && k < batches {
                    announced.store(extend_op(k) + 1, SeqCst);
                    a.clear();
                }
            }
        });
        for r in 0..3u64 {
            let (a, announced, crew) = (&a, &announced, &crew);
            s.spawn(move || {
                let mut m = Monotone::new("extend");
                let mut rng = Rng::new(r);
                let mut reader = a.reader();
                crew.read_until_done(|_| {
                    let len = a.len();
                    assert!(len % B == 0, "len() = {len} splits a batch");

                    let snap = decode_all(&a.to_vec());
                    if let Some(k) = complete_batches(&snap, B, "to_vec") {
                        let s = extend_op(k);
                        m.observe(s, s, announced.load(SeqCst), || format!("to_vec {snap:?}"));
                    }
                    if let Some(v) = a.last() {
                        let s = extend_op(d(v));
                        m.observe(s, s, announced.load(SeqCst), || format!("last() = {v:?}"));
                    }

                    // Some(v) at i: v is batch i / B of its epoch, and that epoch has not been
                    // cleared yet.
                    let i = rng.below(EPOCH as usize * B + 1);
                    if let Some(v) = a.get(i) {
                        let k = d(v);
                        assert_eq!((k - 1) % EPOCH, (i / B) as u64, "get({i}) = {k}");
                        let epoch_end = extend_op(k.div_ceil(EPOCH) * EPOCH);
                        m.observe(extend_op(k), epoch_end, announced.load(SeqCst), || {
                            format!("get({i}) = {k}")
                        });
                    }

                    let start = rng.below(EPOCH as usize * B);
                    let end = start + rng.below(3 * B);
                    match reader.get_range(start..end) {
                        Ok(win) => {
                            let win = decode_all(&win);
                            // All from one epoch, whose first batch is `first`.
                            let first = win.first().map(|&v| v - (start / B) as u64);
                            for (p, &v) in (start..).zip(&win) {
                                assert_eq!(
                                    Some(v - (p / B) as u64),
                                    first,
                                    "Reader::get_range({start}..{end}) = {win:?}"
                                );
                            }
                            assert!(first.is_none_or(|f| f % EPOCH == 1), "{win:?}");
                        }
                        Err(Error::RangeOutOfBounds { len, .. }) => {
                            assert!(len % B == 0 && len < end, "error reports length {len}");
                        }
                        Err(e) => panic!("unexpected error {e}"),
                    }
                    reader.repin();
                });
            });
        }
    });
    let fin = decode_all(&a.to_vec());
    assert_eq!(complete_batches(&fin, B, "final"), Some(batches));
    assert_eq!(fin.len(), ((batches - 1) % EPOCH + 1) as usize * B);
}

per_type!(extend_is_all_or_nothing, extend_all_or_nothing);

// ---------------------------------------------------------------------------------------------
// insert/remove shift every later element: readers see before or after, never during
// ---------------------------------------------------------------------------------------------

fn insert_remove_atomic<T: Num>() {
    const N: usize = 100;
    const MID: usize = 37;
    const MARK: u64 = 1_000_000;
    let rounds = scaled(15_000);
    let base: Vec<u64> = (0..N as u64).collect();
    let mut at_front = vec![MARK];
    at_front.extend(&base);
    let mut in_middle = base[..MID].to_vec();
    in_middle.push(MARK);
    in_middle.extend(&base[MID..]);
    // The only states: the base, MARK inserted at 0, MARK inserted at MID.
    let states = [base.clone(), at_front, in_middle];

    let a = FtArray::from_slice(&base.iter().map(|&x| enc::<T>(x)).collect::<Vec<_>>());
    let crew = Crew::new(1, 3);
    thread::scope(|s| {
        s.spawn(|| {
            let _running = crew.writer();
            let mark = enc::<T>(MARK);
            for r in 0..rounds {
                a.insert(0, mark).unwrap();
                assert_eq!(d(a.remove(0).unwrap()), MARK);
                match r % 3 {
                    0 => {
                        a.insert(MID, mark).unwrap();
                        assert_eq!(d(a.remove(MID).unwrap()), MARK);
                    }
                    1 => {
                        a.replace_range(MID..MID, &[mark]).unwrap();
                        assert_eq!(a.remove_item(&mark), Ok(Some(MID)));
                    }
                    _ => {
                        a.insert(MID, mark).unwrap();
                        assert_eq!(decode_all(&a.remove_range(MID..=MID).unwrap()), [MARK]);
                    }
                }
            }
        });
        for r in 0..3u64 {
            let (a, crew, states) = (&a, &crew, &states);
            s.spawn(move || {
                let mut rng = Rng::new(r);
                let mut reader = a.reader();
                crew.read_until_done(|_| {
                    reader.repin();
                    let snap = decode_all(&a.to_vec());
                    assert!(
                        states.contains(&snap),
                        "to_vec is none of the valid states: {snap:?}"
                    );
                    let len = a.len();
                    assert!(len == N || len == N + 1, "len() = {len}");

                    let i = rng.below(N + 3);
                    match a.get(i) {
                        Some(v) => {
                            let v = d(v);
                            assert!(
                                states.iter().any(|st| st.get(i) == Some(&v)),
                                "get({i}) = {v}, which no valid state holds at {i}"
                            );
                        }
                        None => assert!(i >= N, "get({i}) = None below the minimum length"),
                    }

                    let p = a.position(&enc(MARK));
                    assert!(matches!(p, None | Some(0) | Some(MID)), "position = {p:?}");
                    assert!(a.count(&enc(MARK)) <= 1);

                    let start = rng.below(N + 1);
                    let end = start + rng.below(N + 2 - start);
                    if let Ok(win) = reader.get_range(start..end) {
                        let win = decode_all(&win);
                        assert!(
                            states.iter().any(|st| st.get(start..end) == Some(&win[..])),
                            "get_range({start}..{end}) = {win:?} fits no valid state"
                        );
                    } else {
                        assert!(end > N, "get_range({start}..{end}) failed below the length");
                    }
                });
            });
        }
    });
    assert_eq!(decode_all(&a.to_vec()), base);
}

per_type!(insert_remove_shifts_are_atomic, insert_remove_atomic);

// ---------------------------------------------------------------------------------------------
// reverse (and sort) rewrite everything in one step
// ---------------------------------------------------------------------------------------------

fn reverse_atomic<T: Num>() {
    const N: usize = 150; // above the crate's in-place threshold: a new buffer unless exported
    let rounds = scaled(20_000);
    let asc: Vec<u64> = (0..N as u64).collect();
    let desc: Vec<u64> = asc.iter().rev().copied().collect();
    let a = FtArray::from_slice(&asc.iter().map(|&x| enc::<T>(x)).collect::<Vec<_>>());
    let crew = Crew::new(1, 3);
    thread::scope(|s| {
        s.spawn(|| {
            let _running = crew.writer();
            for r in 0..rounds {
                // Odd rounds run under an export: the rewrite is then done in place, inside one
                // (O(n)) version step, and must still look like one step.
                let export = (r % 2 == 1).then(|| a.export());
                if r % 5 == 4 {
                    // Same effect as a reverse, through sort_by.
                    let descending = d(a.get(0).unwrap()) == 0;
                    a.sort_by(|x, y| {
                        let (x, y) = (d(*x), d(*y));
                        if descending { y.cmp(&x) } else { x.cmp(&y) }
                    });
                } else {
                    a.reverse();
                }
                drop(export);
                let want = if r % 2 == 0 { N - 1 } else { 0 };
                assert_eq!(d(a.get(0).unwrap()), want as u64, "after round {r}");
            }
        });
        for r in 0..3u64 {
            let (a, crew, asc, desc) = (&a, &crew, &asc, &desc);
            s.spawn(move || {
                let mut rng = Rng::new(r);
                let mut reader = a.reader();
                crew.read_until_done(|_| {
                    let snap = decode_all(&a.to_vec());
                    assert!(
                        snap == *asc || snap == *desc,
                        "to_vec is neither ascending nor descending: {snap:?}"
                    );
                    let i = rng.below(N);
                    let v = d(a.get(i).expect("the length never changes"));
                    assert!(v == i as u64 || v == (N - 1 - i) as u64, "get({i}) = {v}");
                    assert_eq!(a.get(N), None);

                    let start = rng.below(N);
                    let end = start + rng.below(N - start + 1);
                    let win = decode_all(&reader.get_range(start..end).unwrap());
                    assert!(
                        win[..] == asc[start..end] || win[..] == desc[start..end],
                        "get_range({start}..{end}) is torn: {win:?}"
                    );
                    for (p, v) in reader.iter().enumerate() {
                        let v = d(v);
                        assert!(v == p as u64 || v == (N - 1 - p) as u64, "iter[{p}] = {v}");
                    }
                    reader.repin();
                });
            });
        }
    });
    let fin = decode_all(&a.to_vec());
    let want = if rounds % 2 == 1 { &desc } else { &asc };
    assert_eq!(&fin, want);
}

per_type!(reverse_is_atomic, reverse_atomic);

// ---------------------------------------------------------------------------------------------
// update: an arbitrary edit, published in one step
// ---------------------------------------------------------------------------------------------

fn update_atomic<T: Num>() {
    const N0: usize = 40;
    const MAX_LEN: usize = 80;
    let rounds = scaled(20_000) as u64;
    let a = FtArray::from_slice(&[enc::<T>(0); N0]);
    // The number of the newest update that may have been published: stored before it begins.
    let announced = AtomicU64::new(0);
    let crew = Crew::new(1, 3);
    let refused = AtomicUsize::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            let _running = crew.writer();
            let mut rng = Rng::new(99);
            let (mut count, mut len) = (0u64, N0);
            for r in 0..rounds {
                // 0: same length, 1: push, 2: pop. Some updates run under an export: one that
                // changes the length must then fail and change nothing (every fifth round); one
                // that keeps it is written in place, in one O(n) step (every seventh).
                let (refuse, in_place) = (r % 5 == 4, r % 7 == 6);
                let change = if refuse {
                    if len > 1 { 2 } else { 1 }
                } else if in_place {
                    0
                } else {
                    rng.below(3)
                };
                let new_len = match change {
                    1 if len < MAX_LEN => len + 1,
                    2 if len > 1 => len - 1,
                    _ => len,
                };
                let export = (refuse || in_place).then(|| a.export());
                announced.store(count + 1, SeqCst);
                let result = a.update(|v| {
                    assert_eq!(v.len(), len, "update saw a stale copy");
                    for x in v.iter_mut() {
                        *x = enc(d(*x) + 1);
                    }
                    match change {
                        1 if v.len() < MAX_LEN => v.push(v[0]),
                        2 if v.len() > 1 => {
                            v.pop();
                        }
                        _ => {}
                    }
                    v.len()
                });
                if export.is_some() && new_len != len {
                    assert_eq!(result, Err(Error::Exported { exports: 1 }));
                    refused.fetch_add(1, Relaxed);
                } else {
                    assert_eq!(result, Ok(new_len));
                    count += 1;
                    len = new_len;
                }
                drop(export);
                assert_eq!(
                    decode_all(&a.to_vec()),
                    vec![count; len],
                    "after update {r}"
                );
            }
        });
        for r in 0..3u64 {
            let (a, announced, crew) = (&a, &announced, &crew);
            s.spawn(move || {
                let mut m = Monotone::new("update");
                let mut rng = Rng::new(r);
                crew.read_until_done(|_| {
                    let snap = decode_all(&a.to_vec());
                    assert!((1..=MAX_LEN).contains(&snap.len()), "length {}", snap.len());
                    assert!(
                        snap.iter().all(|&x| x == snap[0]),
                        "to_vec mixes two updates: {snap:?}"
                    );
                    let c = snap[0];
                    m.observe(c, c, announced.load(SeqCst), || format!("{snap:?}"));
                    let i = rng.below(MAX_LEN + 1);
                    if let Some(v) = a.get(i) {
                        let c = d(v);
                        m.observe(c, c, announced.load(SeqCst), || format!("get({i}) = {c}"));
                    }
                });
            });
        }
    });
    assert!(
        refused.load(Relaxed) > 0,
        "no update was refused under an export"
    );
    let fin = decode_all(&a.to_vec());
    assert!(fin.iter().all(|&x| x == fin[0]));
}

per_type!(update_is_all_or_nothing, update_atomic);

// ---------------------------------------------------------------------------------------------
// A popped and refilled slot never shows a value from the future (CPython #130744)
// ---------------------------------------------------------------------------------------------

fn pop_push_no_future_value<T: Num>() {
    const N: usize = 16;
    let rounds = scaled(80_000) as u64;
    let a = FtArray::from_slice(&[enc::<T>(0); N]);
    // `r` is stored (SeqCst) before `push(r)` begins.
    let announced = AtomicU64::new(0);
    let crew = Crew::new(1, 3);
    thread::scope(|s| {
        s.spawn(|| {
            let _running = crew.writer();
            for r in 1..=rounds {
                assert_eq!(a.pop().map(d), Some(r - 1));
                announced.store(r, SeqCst);
                a.push(enc(r));
            }
        });
        for r in 0..3u64 {
            let (a, announced, crew) = (&a, &announced, &crew);
            s.spawn(move || {
                let mut reader = a.reader();
                let mut last = 0;
                let mut n = 0u32;
                crew.read_until_done(|_| {
                    let v = if r == 0 {
                        reader.get(N - 1)
                    } else {
                        a.get(N - 1)
                    };
                    // SeqCst, after the read: a value `x` needs push(x) to have begun.
                    let now = announced.load(SeqCst);
                    if let Some(v) = v {
                        let x = d(v);
                        assert!(
                            x <= now,
                            "get({}) = {x}, but push({x}) had not begun",
                            N - 1
                        );
                        assert!(x >= last, "get({}) went back from {last} to {x}", N - 1);
                        last = x;
                    }
                    assert_eq!(a.get(N - 2).map(d), Some(0));
                    n += 1;
                    if n % 64 == 0 {
                        reader.repin();
                    }
                });
                assert_eq!(last, rounds, "the final read must see the last push");
            });
        }
    });
}

fn truncate_extend_no_future_value<T: Num>() {
    const N: usize = 16;
    const K: usize = 5;
    let rounds = scaled(60_000) as u64;
    let a = FtArray::from_slice(&[enc::<T>(0); N]);
    let announced = AtomicU64::new(0);
    let crew = Crew::new(1, 3);
    thread::scope(|s| {
        s.spawn(|| {
            let _running = crew.writer();
            for r in 1..=rounds {
                a.truncate(N - K);
                announced.store(r, SeqCst);
                a.extend_from_slice(&[enc(r); K]);
            }
        });
        for r in 0..3u64 {
            let (a, announced, crew) = (&a, &announced, &crew);
            s.spawn(move || {
                let mut rng = Rng::new(r);
                let mut last = 0;
                let mut check = |x: u64, now: u64, what: &dyn Fn() -> String| {
                    assert!(x <= now, "{}: {x} before extend({x}) began", what());
                    assert!(x >= last, "{}: went back from {last} to {x}", what());
                    last = x;
                };
                crew.read_until_done(|_| {
                    // States: the head of N - K zeros, then either nothing or K copies of one r.
                    let snap = decode_all(&a.to_vec());
                    let now = announced.load(SeqCst);
                    assert!(snap[..N - K].iter().all(|&x| x == 0), "{snap:?}");
                    match snap.len() {
                        len if len == N - K => {}
                        N => {
                            let tail = &snap[N - K..];
                            assert!(tail.iter().all(|&x| x == tail[0]), "torn tail {snap:?}");
                            check(tail[0], now, &|| format!("to_vec {snap:?}"));
                        }
                        len => panic!("length {len}: {snap:?}"),
                    }
                    let i = N - 1 - rng.below(K);
                    let v = a.get(i);
                    let now = announced.load(SeqCst);
                    if let Some(v) = v {
                        check(d(v), now, &|| format!("get({i})"));
                    }
                });
                assert_eq!(last, rounds);
            });
        }
    });
}

#[test]
fn popped_and_refilled_slot_never_shows_a_future_value() {
    pop_push_no_future_value::<u32>();
    pop_push_no_future_value::<u64>();
    pop_push_no_future_value::<f64>();
    truncate_extend_no_future_value::<u32>();
    truncate_extend_no_future_value::<u64>();
    truncate_extend_no_future_value::<f64>();
}

// ---------------------------------------------------------------------------------------------
// a.extend_from_array(&b) against b.extend_from_array(&a): no deadlock
// ---------------------------------------------------------------------------------------------

/// A reusable barrier (blocking, so waiting threads leave the CPU to the working ones) that
/// fails instead of hanging once another party has panicked.
struct Phaser {
    parties: usize,
    /// (arrived in this generation, generation, some party failed)
    state: Mutex<(usize, usize, bool)>,
    changed: Condvar,
}

impl Phaser {
    fn new(parties: usize) -> Self {
        Phaser {
            parties,
            state: Mutex::new((0, 0, false)),
            changed: Condvar::new(),
        }
    }

    fn wait(&self) {
        let mut st = self.state.lock().unwrap();
        let generation = st.1;
        st.0 += 1;
        if st.0 == self.parties {
            *st = (0, generation + 1, st.2);
            self.changed.notify_all();
        }
        while st.1 == generation && !st.2 {
            st = self.changed.wait(st).unwrap();
        }
        assert!(!st.2, "another thread failed");
    }

    fn failed(&self) -> bool {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).2
    }

    fn fail(&self) {
        // Poisoning is irrelevant here: the state is three plain values.
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.2 = true;
        self.changed.notify_all();
    }
}

/// Marks the phaser failed if the thread that owns it unwinds.
struct FailOnPanic<'a>(&'a Phaser);

impl Drop for FailOnPanic<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.fail();
        }
    }
}

const A0: [u64; 3] = [1, 2, 3];
const B0: [u64; 2] = [10, 20];

/// Every state of `a` or `b` is its initial prefix followed by whole copies of earlier states
/// (extend appends one snapshot; truncation only ever cuts back to the prefix), so it is a
/// sequence of whole `A0`/`B0` tokens. Returns (`A0` tokens, `B0` tokens).
fn tokens<T: Num>(snap: &[T], prefix: &[u64], what: &str) -> (usize, usize) {
    let v = decode_all(snap);
    assert!(v.starts_with(prefix), "{what}: lost its prefix: {v:?}");
    let (mut i, mut na, mut nb) = (0, 0, 0);
    while i < v.len() {
        if v[i..].starts_with(&A0) {
            na += 1;
            i += A0.len();
        } else if v[i..].starts_with(&B0) {
            nb += 1;
            i += B0.len();
        } else {
            panic!("{what}: not whole copies of the arrays at {i}: {v:?}");
        }
    }
    (na, nb)
}

fn cross_extend<T: Num>() {
    const OPS: usize = 4; // per thread and epoch: growth stays small
    let epochs = scaled(2_000);
    let (tx, rx) = mpsc::channel();
    // Set when the watchdog gives up, so the checker stops spinning beside deadlocked threads.
    let gave_up = Arc::new(AtomicBool::new(false));
    let gave_up_in_worker = Arc::clone(&gave_up);
    let worker = thread::spawn(move || {
        let to = |v: &[u64]| v.iter().map(|&x| enc::<T>(x)).collect::<Vec<_>>();
        let (a, b) = (FtArray::from_slice(&to(&A0)), FtArray::from_slice(&to(&B0)));
        let phaser = Phaser::new(4);
        let done = AtomicUsize::new(0);
        thread::scope(|s| {
            let extender = |dst: &'static str| {
                let (a, b, phaser, done) = (&a, &b, &phaser, &done);
                move || {
                    let _fail = FailOnPanic(phaser);
                    for _ in 0..epochs {
                        match dst {
                            "a+=b" => (0..OPS).for_each(|_| a.extend_from_array(b)),
                            "b+=a" => (0..OPS).for_each(|_| b.extend_from_array(a)),
                            _ => a.extend_from_array(a),
                        }
                        done.fetch_add(1, Release);
                        phaser.wait(); // all ops of this epoch are done
                        phaser.wait(); // the checker has reset the arrays
                    }
                }
            };
            s.spawn(extender("a+=b"));
            s.spawn(extender("b+=a"));
            s.spawn(extender("a+=a"));
            // The checker: reads both arrays during the epoch, checks and resets after it.
            s.spawn(|| {
                let _fail = FailOnPanic(&phaser);
                for e in 0..epochs {
                    let (mut la, mut lb) = (A0.len(), B0.len());
                    loop {
                        assert!(!phaser.failed(), "an extender failed");
                        assert!(!gave_up_in_worker.load(Relaxed), "the watchdog gave up");
                        let finished = done.load(Acquire) == 3 * (e + 1);
                        let (sa, sb) = (a.to_vec(), b.to_vec());
                        tokens(&sa, &A0, "a");
                        tokens(&sb, &B0, "b");
                        // Within an epoch nothing shrinks either array.
                        assert!(sa.len() >= la && sb.len() >= lb, "an array shrank");
                        (la, lb) = (sa.len(), sb.len());
                        if finished {
                            break;
                        }
                    }
                    phaser.wait();
                    let (ta, tb) = (tokens(&a.to_vec(), &A0, "a"), tokens(&b.to_vec(), &B0, "b"));
                    // Each a += b added at least one B0; each b += a at least one A0; a += a
                    // doubled `a`, which held at least its own A0.
                    assert!(tb.0 >= OPS, "b has {} A0 tokens after {OPS} b += a", tb.0);
                    assert!(ta.1 >= OPS, "a has {} B0 tokens after {OPS} a += b", ta.1);
                    assert!(ta.0 >= 2, "a has {} A0 tokens after a += a", ta.0);
                    a.truncate(A0.len());
                    b.truncate(B0.len());
                    phaser.wait();
                }
            });
        });
        let result = (a.to_vec(), b.to_vec());
        tx.send(()).unwrap();
        result
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => {
            let (a, b) = worker.join().unwrap();
            assert_eq!(decode_all(&a), A0);
            assert_eq!(decode_all(&b), B0);
        }
        Err(RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(_) => unreachable!("the worker finished without reporting"),
        },
        Err(RecvTimeoutError::Timeout) => {
            gave_up.store(true, Relaxed);
            panic!(
                "{}: cross extend_from_array did not finish in 60 s: deadlock",
                ty::<T>()
            )
        }
    }
}

per_type!(cross_extend_from_array_never_deadlocks, cross_extend);

// ---------------------------------------------------------------------------------------------
// Exports pin the storage
// ---------------------------------------------------------------------------------------------

fn exports_block_moves<T: Num>() {
    const BASE: u64 = 64;
    const FRONT: u64 = 7777;
    const TAIL: u64 = 100_000;
    let rounds = scaled(1_000);
    let base: Vec<u64> = (0..BASE).collect();
    let a = FtArray::from_slice(&base.iter().map(|&x| enc::<T>(x)).collect::<Vec<_>>());
    let valid = |x: u64| x < BASE || x == FRONT || x >= TAIL;
    let refused = AtomicUsize::new(0);
    let moved = AtomicUsize::new(0);
    let crew = Crew::new(1, 2);
    let (front, tail) = thread::scope(|s| {
        // The exporter: while it holds an export, the storage must not move.
        s.spawn(|| {
            let _running = crew.writer();
            let mut rng = Rng::new(6);
            for _ in 0..rounds {
                let e = a.export();
                let (ptr, len, cap) = (e.as_ptr(), e.len(), a.capacity());
                assert!(len >= BASE as usize && cap >= len);
                // Until the first refusal, hold the export until a moving operation has been
                // refused; afterwards hold each export for a short random number of checks.
                let first = refused.load(SeqCst) == 0;
                let holds = if first { 100_000 } else { 1 + rng.below(24) };
                for spin in 0..holds {
                    assert_eq!(a.capacity(), cap, "capacity changed while exported");
                    assert_eq!(a.export_count(), 1);
                    if spin % 4 == 0 {
                        let again = a.export();
                        assert_eq!(again.as_ptr(), ptr, "storage moved while exported");
                        assert_eq!(a.export_count(), 2);
                    }
                    for i in 0..len {
                        // An atomic load of the element's whole unit: the export keeps the
                        // storage in place, and every other access to it is atomic too.
                        let v = e.load(i).expect("within the export's length");
                        assert!(valid(d(v)), "cell {i} holds {v:?} while exported");
                    }
                    if first && refused.load(SeqCst) > 0 {
                        break;
                    }
                    if spin % 64 == 63 {
                        thread::yield_now();
                    }
                }
                drop(e);
                assert_eq!(a.export_count(), 0);
                // A short gap (no yield: that can cost a whole time slice) for moves to succeed.
                for _ in 0..256 {
                    std::hint::spin_loop();
                }
            }
        });
        // The front: insert(0)/remove(0) always move the storage; shrink_to_fit sometimes.
        let front = s.spawn(|| {
            let mut rng = Rng::new(7);
            let mut pending = 0usize;
            let count = |r: Result<(), Error>, last: bool| match r {
                Ok(()) => {
                    moved.fetch_add(1, Relaxed);
                    true
                }
                Err(Error::Exported { exports }) => {
                    assert!(exports >= 1);
                    assert!(!last, "refused with no export alive");
                    refused.fetch_add(1, SeqCst);
                    false
                }
                Err(e) => panic!("unexpected error {e}"),
            };
            // After the exporter is done (`last`), one insert or remove that must succeed.
            crew.read_until_done(|last| {
                if !last && rng.below(8) == 0 {
                    let r = a.shrink_to_fit();
                    assert!(matches!(r, Ok(()) | Err(Error::Exported { .. })), "{r:?}");
                    if r.is_err() {
                        refused.fetch_add(1, SeqCst);
                    }
                } else if pending < 3 && (last || rng.below(2) == 0) {
                    if count(a.insert(0, enc(FRONT)), last) {
                        pending += 1;
                    }
                } else if pending > 0 {
                    let r = a.remove(0);
                    if count(r.as_ref().map(|_| ()).map_err(Clone::clone), last) {
                        assert_eq!(r.map(d), Ok(FRONT));
                        pending -= 1;
                    }
                }
            });
            pending
        });
        // The tail: push (which grows when full) and pop, checking what comes back.
        let tail = s.spawn(|| {
            let mut rng = Rng::new(8);
            let mut pushed = Vec::new();
            let mut next = TAIL;
            crew.read_until_done(|_| {
                if pushed.len() < 6 && rng.below(2) == 0 {
                    match a.try_push(enc(next)) {
                        Ok(()) => {
                            pushed.push(next);
                            next += 1;
                        }
                        Err(Error::Exported { exports }) => {
                            assert!(exports >= 1);
                            refused.fetch_add(1, SeqCst);
                        }
                        Err(e) => panic!("unexpected error {e}"),
                    }
                } else if let Some(want) = pushed.pop() {
                    assert_eq!(a.pop().map(d), Some(want), "pop lost or changed an element");
                }
            });
            pushed
        });
        (front.join().unwrap(), tail.join().unwrap())
    });
    assert!(
        refused.load(Relaxed) > 0,
        "no moving operation was ever refused"
    );
    assert!(
        moved.load(Relaxed) > 0,
        "no moving operation ever succeeded"
    );
    let mut want = vec![FRONT; front];
    want.extend(&base);
    want.extend(&tail);
    assert_eq!(decode_all(&a.to_vec()), want);
}

per_type!(
    exports_block_moves_while_threads_push_and_pop,
    exports_block_moves
);

// ---------------------------------------------------------------------------------------------
// fetch_add loses no updates while other writers move the storage
// ---------------------------------------------------------------------------------------------

fn fetch_add_exact<T: Num + Arith>() {
    const SLOTS: usize = 8;
    const ADDERS: usize = 3;
    let per = scaled(30_000);
    let a = FtArray::from_slice(&[enc::<T>(0); SLOTS]);
    let crew = Crew::new(ADDERS, 2);
    let (counts, tail) = thread::scope(|s| {
        let adders: Vec<_> = (0..ADDERS)
            .map(|t| {
                let (a, crew) = (&a, &crew);
                s.spawn(move || {
                    let _running = crew.writer();
                    let mut rng = Rng::new(t as u64);
                    let mut counts = [0u64; SLOTS];
                    for _ in 0..per {
                        let i = rng.below(SLOTS);
                        if rng.below(2) == 0 {
                            a.fetch_add(i, enc(1)).unwrap();
                        } else {
                            a.fetch_update(i, |x| enc(d(x) + 1)).unwrap();
                        }
                        counts[i] += 1;
                    }
                    counts
                })
            })
            .collect();
        // The churner owns everything past the counters and mirrors it in `tail`; most of its
        // operations publish a new buffer that must carry every increment made before it.
        let churner = s.spawn(|| {
            let mut rng = Rng::new(1000);
            let mut tail: Vec<u64> = Vec::new();
            let mut next = 500;
            crew.read_until_done(|_| {
                next += 1;
                let j = rng.below(tail.len() + 1);
                match rng.below(9) {
                    0 | 1 if tail.len() < 32 => {
                        a.push(enc(next));
                        tail.push(next);
                    }
                    2 if !tail.is_empty() => {
                        assert_eq!(a.pop().map(d), tail.pop());
                    }
                    3 if tail.len() < 32 => {
                        a.insert(SLOTS + j, enc(next)).unwrap();
                        tail.insert(j, next);
                    }
                    4 if j < tail.len() => {
                        assert_eq!(a.remove(SLOTS + j).map(d), Ok(tail.remove(j)));
                    }
                    5 if j < tail.len() => {
                        assert_eq!(a.set(SLOTS + j, enc(next)).map(d), Ok(tail[j]));
                        tail[j] = next;
                    }
                    6 => {
                        a.shrink_to_fit().unwrap();
                        a.reserve(rng.below(64));
                    }
                    7 => {
                        a.update(|v| v[SLOTS..].rotate_left(usize::from(!tail.is_empty())))
                            .unwrap();
                        if !tail.is_empty() {
                            tail.rotate_left(1);
                        }
                    }
                    _ => {
                        let fresh: Vec<u64> = (0..rng.below(40) as u64).map(|x| x + next).collect();
                        let encoded: Vec<T> = fresh.iter().map(|&x| enc(x)).collect();
                        a.replace_range(SLOTS.., &encoded).unwrap();
                        next += 40;
                        tail = fresh;
                    }
                }
            });
            tail
        });
        // A reader: counters only grow.
        s.spawn(|| {
            let mut last = [0u64; SLOTS];
            crew.read_until_done(|_| {
                let now = decode_all(&a.get_range(..SLOTS).unwrap());
                for (i, (&now, last)) in now.iter().zip(last.iter_mut()).enumerate() {
                    assert!(now >= *last, "slot {i} went back from {last} to {now}");
                    *last = now;
                }
            });
        });
        let counts: Vec<[u64; SLOTS]> = adders.into_iter().map(|h| h.join().unwrap()).collect();
        (counts, churner.join().unwrap())
    });
    let fin = decode_all(&a.to_vec());
    for i in 0..SLOTS {
        let want: u64 = counts.iter().map(|c| c[i]).sum();
        assert_eq!(fin[i], want, "{}: slot {i} lost increments", ty::<T>());
    }
    assert_eq!(fin[SLOTS..], tail[..]);
}

per_type!(fetch_add_loses_no_updates, fetch_add_exact);

// ---------------------------------------------------------------------------------------------
// Long-lived Reader handles against clear/extend/shrink churn
// ---------------------------------------------------------------------------------------------

fn long_lived_readers<T: Num>() {
    const B: usize = 61;
    const WRITERS: usize = 2;
    let iters = scaled(15_000);
    let a = FtArray::<T>::new();
    let crew = Crew::new(WRITERS, 3);
    thread::scope(|s| {
        for w in 0..WRITERS {
            let (a, crew) = (&a, &crew);
            s.spawn(move || {
                let _running = crew.writer();
                let batch: Vec<T> = (0..B).map(|i| enc(tag(i, w))).collect();
                for it in 0..iters {
                    match it % 4 {
                        0 => {
                            a.clear();
                            a.shrink_to_fit().unwrap();
                        }
                        1 => a.truncate(B),
                        _ => a.clear(),
                    }
                    a.extend_from_slice(&batch);
                }
            });
        }
        for r in 0..3u64 {
            let (a, crew) = (&a, &crew);
            s.spawn(move || {
                let mut rng = Rng::new(r);
                let mut reader = a.reader();
                let mut reads = 0u32;
                crew.read_until_done(|_| {
                    if let Some(v) = reader.get(0) {
                        check_tagged(v, 0, B, "Reader::get(0)");
                    }
                    let i = rng.below(B * CE_WRITERS);
                    if let Some(v) = reader.get(i) {
                        check_tagged(v, i, B, "Reader::get(i)");
                    }
                    if let Some(v) = reader.last() {
                        check_tagged(v, B - 1, B, "Reader::last");
                    }
                    let len = reader.len();
                    // clear/truncate(B) leave at most one batch; then at most one extend per writer.
                    assert!(
                        len % B == 0 && len <= B * (WRITERS + 1),
                        "Reader::len = {len}"
                    );
                    check_batches(&reader.to_vec(), B, "Reader::to_vec");
                    if let Ok(win) = reader.get_range(B..2 * B) {
                        check_batches(&win, B, "Reader::get_range");
                    }
                    for (p, v) in reader.iter().enumerate() {
                        check_tagged(v, p, B, "ReaderIter");
                    }
                    let first_of = enc::<T>(tag(0, rng.below(WRITERS)));
                    if let Some(p) = reader.position(&first_of) {
                        assert_eq!(p % B, 0, "position of a batch start = {p}");
                    }
                    reads += 1;
                    if reads % 100 == 0 {
                        reader.repin();
                    }
                });
            });
        }
    });
    check_batches(&a.to_vec(), B, "final");
    assert!(!a.is_empty());
}

per_type!(readers_with_long_lived_reader_handles, long_lived_readers);

// ---------------------------------------------------------------------------------------------
// An edit is never reported done and then dropped while exports come and go
// ---------------------------------------------------------------------------------------------

/// `update` and `retain` against a thread that exports and drops in a loop: each call either
/// fails with `Exported` and changes nothing, or succeeds and its edit is in the array. (The
/// export count used to be loaded twice: if the last export was dropped between the loads, the
/// edit returned `Ok` without being published.)
fn edits_survive_export_churn<T: Num>() {
    let rounds = scaled(30_000);
    let a = FtArray::<T>::from_slice(&[enc(0)]);
    let stop = AtomicBool::new(false);
    let started = Barrier::new(2);
    let (mut grown, mut shrunk, mut refused) = (0usize, 0usize, 0usize);
    let mut i = 0;
    thread::scope(|s| {
        s.spawn(|| {
            let mut rng = Rng::new(11);
            started.wait();
            while !stop.load(Relaxed) {
                let e = a.export();
                // Hold it, and then stay away, for short random times, so that the drop lands
                // anywhere in a writer's critical section.
                for _ in 0..rng.below(1024) {
                    std::hint::spin_loop();
                }
                drop(e);
                // Sometimes long enough that a writer parked on the lock wakes up and gets it.
                let away = if rng.below(2) == 0 { 256 } else { 32_768 };
                for _ in 0..rng.below(away) {
                    std::hint::spin_loop();
                }
            }
        });
        started.wait();
        // At least `rounds` edits, and more until some have been refused (the exporter thread
        // may be scheduled late on a busy machine).
        while i < rounds || (refused < 100 && i < 100 * rounds) {
            i += 1;
            let before = a.len();
            let result = if i % 2 == 0 {
                a.update(|v| v.push(enc(1))).map(|()| grown += 1)
            } else {
                a.retain(|x| d(*x) == 0).map(|()| shrunk += before - 1)
            };
            match result {
                Ok(()) => {}
                Err(Error::Exported { .. }) => refused += 1,
                Err(e) => panic!("unexpected error {e}"),
            }
            assert_eq!(
                a.len(),
                1 + grown - shrunk,
                "{}: round {i}: an edit returned Ok but the array does not show it",
                ty::<T>()
            );
        }
        stop.store(true, Relaxed);
    });
    assert!(
        refused > 0 && grown > 0,
        "the exporter never overlapped an edit ({refused} refused, {grown} grown, {i} rounds)"
    );
}

per_type!(
    edits_are_never_dropped_while_exports_come_and_go,
    edits_survive_export_churn
);

// ---------------------------------------------------------------------------------------------
// a.extend_from_array(&a) and a == a are one step each
// ---------------------------------------------------------------------------------------------

/// `a.extend_from_array(&a)` while another thread pushes 1, 2, 3, …: the appended copy is the
/// whole array at the instant of the append. Afterwards the array reads
/// `0..p, 0..p, p, p + 1, …`. (The copy used to be taken before locking, so pushes landed
/// between the copy and the append: `0..=2651` followed by a copy `0..=2650`.)
fn self_extend_atomic<T: Num>() {
    let epochs = scaled(300);
    for epoch in 0..epochs {
        let a = FtArray::<T>::from_slice(&[enc(0)]);
        let stop = AtomicBool::new(false);
        let started = Barrier::new(2);
        thread::scope(|s| {
            s.spawn(|| {
                started.wait();
                let mut next = 1;
                // Bounded, so a failing run cannot push values past what `enc` can encode.
                while !stop.load(Relaxed) && next < 1 << 20 {
                    a.push(enc(next));
                    next += 1;
                }
            });
            started.wait();
            while a.len() < 1 + epoch % 64 {
                std::hint::spin_loop();
            }
            a.extend_from_array(&a);
            stop.store(true, Relaxed);
        });
        let v = decode_all(&a.to_vec());
        let p = v[1..]
            .iter()
            .position(|&x| x == 0)
            .expect("the copy starts with 0")
            + 1;
        let copy_ok = v.len() >= 2 * p && v[..p] == v[p..2 * p];
        let prefix_ok = v[..p].iter().enumerate().all(|(i, &x)| x == i as u64);
        let tail_ok = v[2 * p.min(v.len() / 2)..]
            .iter()
            .enumerate()
            .all(|(i, &x)| x == (p + i) as u64);
        assert!(
            copy_ok && prefix_ok && tail_ok,
            "{}: epoch {epoch}: the appended copy is not the array at the append: the array \
             held 0..{p}, then a copy of length {} ending in {:?}, then {} more elements",
            ty::<T>(),
            v[p..].iter().take_while(|&&x| x < p as u64).count(),
            v[p..].iter().take_while(|&&x| x < p as u64).last(),
            v.len().saturating_sub(2 * p)
        );
    }
}

per_type!(
    self_extend_copies_the_whole_array_at_one_instant,
    self_extend_atomic
);

/// `a == a` (and `a.partial_cmp(&a)`) while another thread pushes and truncates: one snapshot
/// compared with itself, so always equal. (It used to compare two snapshots taken at different
/// times.)
// `a == a` is the behaviour under test.
#[allow(clippy::eq_op)]
fn self_equality<T: Num>() {
    let rounds = scaled(20_000);
    let a = FtArray::<T>::from_slice(&[enc(0), enc(1)]);
    let stop = AtomicBool::new(false);
    let started = Barrier::new(2);
    thread::scope(|s| {
        s.spawn(|| {
            started.wait();
            let mut next = 2;
            while !stop.load(Relaxed) {
                a.push(enc(next % 1000));
                next += 1;
                if next % 4 == 0 {
                    a.truncate(2);
                }
            }
        });
        started.wait();
        for i in 0..rounds {
            assert!(a == a, "{}: round {i}: a != a", ty::<T>());
            assert_eq!(
                a.partial_cmp(&a),
                Some(std::cmp::Ordering::Equal),
                "{}: round {i}",
                ty::<T>()
            );
        }
        stop.store(true, Relaxed);
    });
}

per_type!(
    an_array_equals_itself_under_concurrent_writes,
    self_equality
);

// ---------------------------------------------------------------------------------------------
// Writes through an export are never lost to the array's own read-modify-writes
// ---------------------------------------------------------------------------------------------

/// An export's holder is the only one to write element 1, with increasing values, while
/// another thread runs every read-modify-write the array has that leaves element 1's value as
/// it is: `update` (of element 0), `reverse` (of three elements, which keeps index 1 in place),
/// `sort_by` with an all-equal comparison, `fetch_update`/`fetch_add` of element 1 by nothing,
/// `swap(1, 1)` and `swap(0, 2)`. Each reads element 1 and writes it back; none may write back
/// a stale value over the holder's later write, so the holder never sees its element go
/// backwards, and the updates of element 0 (moved between 0 and 2 by `reverse` and `swap`) all
/// count. (The write-back used to store the stale snapshot: 6,403 steps back in one run.)
fn export_writes_survive_rewrites<T: Num + Arith>() {
    let rounds = scaled(300_000) as u64;
    let a = FtArray::<T>::from_slice(&[enc(0), enc(0), enc(0)]);
    let e = a.export();
    let stop = AtomicBool::new(false);
    let started = Barrier::new(2);
    let mut updates = 0u64;
    thread::scope(|s| {
        let writer = s.spawn(|| {
            started.wait();
            let mut k = 0u64;
            while !stop.load(Relaxed) {
                k += 1;
                match k % 7 {
                    0 => {
                        a.update(|v| v[0] = enc(d(v[0]) + 1)).unwrap();
                        updates += 1;
                    }
                    1 => a.reverse(),
                    2 => a.sort_by(|_, _| std::cmp::Ordering::Equal),
                    3 => {
                        a.fetch_update(1, |x| x).unwrap();
                    }
                    4 => {
                        a.fetch_add(1, enc(0)).unwrap();
                    }
                    5 => a.swap(1, 1).unwrap(),
                    _ => a.swap(0, 2).unwrap(),
                }
            }
            k
        });
        started.wait();
        let mut backwards = 0usize;
        for i in 1..=rounds {
            assert!(e.store(1, enc(i)));
            let seen = d(e.load(1).unwrap());
            let read = d(a.get(1).unwrap());
            if seen < i || read < i {
                backwards += 1;
            }
        }
        stop.store(true, Relaxed);
        let ops = writer.join().unwrap();
        assert_eq!(
            backwards,
            0,
            "{}: the holder's element went backwards {backwards} times in {rounds} writes \
             against {ops} read-modify-writes",
            ty::<T>()
        );
    });
    assert_eq!(d(a.get(1).unwrap()), rounds, "{}", ty::<T>());
    assert_eq!(
        d(a.get(0).unwrap()) + d(a.get(2).unwrap()),
        updates,
        "{}: an update of element 0 was lost",
        ty::<T>()
    );
}

per_type!(
    writes_through_an_export_are_never_lost_to_rewrites,
    export_writes_survive_rewrites
);
