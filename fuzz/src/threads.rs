//! The `threads` target: 2–3 threads run operation lists against one shared array.
//!
//! Every value is unique and says who wrote it: the initial element `i` is `(INIT_TAG, i)`, and
//! thread `t` writes `(t + 1, c)` for its own counter `c = 0, 1, 2, …` (in `u32`: tag in the top
//! byte, 16-bit counter, and a check byte hashed from both at the bottom; in `u64` the high half
//! is that and the low half a hash of the high half, so a torn read is caught). Before writing a
//! value, a thread publishes that its counter has passed it (`issued`), so a reader that sees a
//! value can check it was really written.
//!
//! Each operation's own result tells exactly what it added and removed (truncation is done as
//! `remove_range(k..)` and slice replacement as `update(|v| v.splice(..))`, which return what
//! they removed; `clear`, `truncate` and `retain` are left out because they do not). Checks:
//!
//! * no invented or torn values: everything read, removed or left at the end was initial or
//!   written (and already issued when it was seen); so is every element copied out of a live
//!   export (`CopyExport`: the raw-copy path of `DynArray::extend_from_raw`, the C ABI and
//!   Python's `frombytes`, with element-wide or whole-unit loads) while other threads write;
//! * no duplicates: every `to_vec` snapshot holds each value at most once;
//! * nothing comes back: a value that a thread removed, or saw in one snapshot and not in a
//!   later one, is never seen again by that thread (no value is ever written twice);
//! * conservation: final length = initial + added − removed, and the final contents are exactly
//!   the initial and written values minus the removed ones; nothing is removed twice.

use arbitrary::{Arbitrary, Unstructured};
use ftarray::dynamic::{Source, read_shared};
use ftarray::{Element, Error, FtArray};
use std::collections::HashSet;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Barrier;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

/// At most this many operations per input, over all threads.
const MAX_OPS: usize = 256;
/// At most this many initial elements.
const MAX_INIT: usize = 64;
/// At most this many values per `extend`.
const MAX_EXTEND: u32 = 8;
/// Copies per `CopyExport` operation.
const COPIES: usize = 8;
/// The tag of the initial elements (thread `t` uses `t + 1`).
const INIT_TAG: u8 = 0x80;

/// An element type that carries `(tag, counter)`.
trait Tagged: Element + Eq + Hash + Debug {
    fn make(tag: u8, counter: u32) -> Self;
    /// `(tag, counter)`, or `None` if the value is not well formed (torn).
    fn split(self) -> Option<(u8, u32)>;
}

/// The check byte of a `u32` value's tag and counter.
fn check(high: u32) -> u32 {
    high.wrapping_mul(0x9e37_79b9) >> 24
}

impl Tagged for u32 {
    fn make(tag: u8, counter: u32) -> Self {
        debug_assert!(counter < 1 << 16);
        let high = u32::from(tag) << 24 | counter << 8;
        high | check(high)
    }
    fn split(self) -> Option<(u8, u32)> {
        let high = self & !0xff;
        (self & 0xff == check(high)).then_some(((self >> 24) as u8, (self >> 8) & 0xffff))
    }
}

fn mix(high: u32) -> u32 {
    high.wrapping_mul(0x9e37_79b9) ^ 0x5bd1_e995
}

impl Tagged for u64 {
    fn make(tag: u8, counter: u32) -> Self {
        let high = u32::make(tag, counter);
        u64::from(high) << 32 | u64::from(mix(high))
    }
    fn split(self) -> Option<(u8, u32)> {
        let (high, low) = ((self >> 32) as u32, self as u32);
        (low == mix(high)).then(|| high.split()).flatten()
    }
}

/// A position, resolved against the length when the operation runs.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Pos(u16);

impl Pos {
    fn at<T: Element>(self, a: &FtArray<T>) -> usize {
        if self.0 & 0x8000 != 0 {
            usize::from(self.0 & 0x7fff)
        } else {
            usize::from(self.0) % (a.len() + 1)
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum TOp {
    Push,
    Pop,
    Set(Pos),
    Insert(Pos),
    Remove(Pos),
    SwapRemove(Pos),
    Extend(u8),
    /// `remove_range(k..)`: a truncate that reports what it removed.
    Truncate(Pos),
    Swap(Pos, Pos),
    Reverse,
    /// Sorts by the bits, descending (a permutation).
    Sort,
    /// `update(|v| v.splice(i..i + k, fresh values))`, which returns what it removed: the
    /// copy-and-publish write path under contention.
    Splice(Pos, u8, u8),
    Get(Pos),
    Last,
    /// A `Reader`: reads a few elements, repinning in between.
    ReaderScan(Pos, u8),
    ToVec,
    Iter,
    Len,
    /// Exports the array for the duration of one copy of `n` elements from `Pos` out of the
    /// export's memory with `read_shared` (whole units if the flag is set, else element-wide
    /// loads) while other threads write; every element copied must be whole and real.
    CopyExport(Pos, u8, bool),
}

/// What one thread did, from its operations' results.
struct Log<V> {
    written: Vec<V>,
    removed: Vec<V>,
    added: usize,
    subtracted: usize,
}

struct Shared<'a, V: Element> {
    a: &'a FtArray<V>,
    /// Per thread: how many counter values it has issued (published before they are written).
    issued: &'a [AtomicU32],
    init_len: u32,
}

impl<V: Tagged> Shared<'_, V> {
    /// Whether `v` is an initial value or one that some thread has issued.
    fn valid(&self, v: V) -> bool {
        match v.split() {
            Some((INIT_TAG, c)) => c < self.init_len,
            Some((tag, c)) => {
                let t = usize::from(tag);
                (1..=self.issued.len()).contains(&t) && c < self.issued[t - 1].load(SeqCst)
            }
            None => false,
        }
    }
}

/// One thread's view: what it has seen disappear, and its last snapshot.
struct Observer<V> {
    gone: HashSet<V>,
    last: HashSet<V>,
}

impl<V: Tagged> Observer<V> {
    /// A value read from the array: real, and not one known to be gone.
    fn seen(&self, s: &Shared<'_, V>, v: V, what: &str) {
        assert!(s.valid(v), "{what}: invented or torn value {v:#x?}");
        assert!(
            !self.gone.contains(&v),
            "{what}: {v:#x?} came back after it was removed"
        );
    }

    /// A value this thread removed: real, not removed before; gone from now on.
    fn removed(&mut self, s: &Shared<'_, V>, v: V, log: &mut Log<V>, what: &str) {
        self.seen(s, v, what);
        self.gone.insert(v);
        log.removed.push(v);
    }

    /// A full snapshot: real values, each at most once, none known gone. Whatever was in the
    /// previous snapshot and is not in this one is gone for good.
    fn snapshot(&mut self, s: &Shared<'_, V>, snap: &[V]) {
        let mut set = HashSet::with_capacity(snap.len());
        for &v in snap {
            self.seen(s, v, "to_vec");
            assert!(set.insert(v), "to_vec: {v:#x?} twice in one snapshot");
        }
        for v in self.last.difference(&set) {
            self.gone.insert(*v);
        }
        self.last = set;
    }
}

fn worker<V: Tagged>(s: &Shared<'_, V>, t: usize, ops: &[TOp], start: &Barrier) -> Log<V> {
    let a = s.a;
    let tag = u8::try_from(t + 1).expect("few threads");
    let mut next = 0u32;
    // Issues `k` fresh values: published in `issued` before anyone can see them.
    let mut fresh = |k: u32| -> Vec<V> {
        let c = next;
        next += k;
        s.issued[t].store(next, SeqCst);
        (c..next).map(|c| V::make(tag, c)).collect()
    };
    let mut log = Log {
        written: Vec::new(),
        removed: Vec::new(),
        added: 0,
        subtracted: 0,
    };
    let mut obs = Observer {
        gone: HashSet::new(),
        last: HashSet::new(),
    };
    start.wait();
    for op in ops {
        match *op {
            // While another thread's `CopyExport` holds an export, a write that would move the
            // storage fails with `Exported` and changes nothing: those are not logged.
            TOp::Push => {
                let v = fresh(1)[0];
                if exported_ok(a.try_push(v)) {
                    log.written.push(v);
                    log.added += 1;
                }
            }
            TOp::Pop => {
                if let Some(v) = a.pop() {
                    obs.removed(s, v, &mut log, "pop");
                    log.subtracted += 1;
                }
            }
            TOp::Set(p) => {
                let v = fresh(1)[0];
                if let Ok(old) = a.set(p.at(a), v) {
                    obs.removed(s, old, &mut log, "set");
                    log.written.push(v);
                }
            }
            TOp::Insert(p) => {
                let v = fresh(1)[0];
                if a.insert(p.at(a), v).is_ok() {
                    log.written.push(v);
                    log.added += 1;
                }
            }
            TOp::Remove(p) => {
                if let Ok(v) = a.remove(p.at(a)) {
                    obs.removed(s, v, &mut log, "remove");
                    log.subtracted += 1;
                }
            }
            TOp::SwapRemove(p) => {
                if let Ok(v) = a.swap_remove(p.at(a)) {
                    obs.removed(s, v, &mut log, "swap_remove");
                    log.subtracted += 1;
                }
            }
            TOp::Extend(k) => {
                let vs = fresh(u32::from(k) % MAX_EXTEND + 1);
                if exported_ok(a.try_extend_from_slice(&vs)) {
                    log.added += vs.len();
                    log.written.extend(vs);
                }
            }
            TOp::Truncate(p) => {
                if let Ok(vs) = a.remove_range(p.at(a)..) {
                    log.subtracted += vs.len();
                    for v in vs {
                        obs.removed(s, v, &mut log, "remove_range");
                    }
                }
            }
            TOp::Swap(p, q) => {
                let _ = a.swap(p.at(a), q.at(a));
            }
            TOp::Reverse => {
                exported_ok(a.try_reverse());
            }
            TOp::Sort => {
                exported_ok(a.try_sort_by(|x, y| bytemuck::bytes_of(y).cmp(bytemuck::bytes_of(x))));
            }
            TOp::Splice(p, k, n) => {
                let vs = fresh(u32::from(n % 4));
                let k = usize::from(k % 6);
                let p = p.0;
                let out = a.update(|v| {
                    let i = usize::from(p) % (v.len() + 1);
                    let j = (i + k).min(v.len());
                    v.splice(i..j, vs.iter().copied()).collect::<Vec<V>>()
                });
                let Ok(out) = out else {
                    exported_ok(out.map(|_| ()));
                    continue;
                };
                log.added += vs.len();
                log.written.extend(vs);
                log.subtracted += out.len();
                for v in out {
                    obs.removed(s, v, &mut log, "update/splice");
                }
            }
            TOp::Last => {
                if let Some(v) = a.last() {
                    obs.seen(s, v, "last");
                }
            }
            TOp::ReaderScan(p, n) => {
                let mut r = a.reader();
                let start = p.at(a);
                for i in start..start + usize::from(n % 16) {
                    match r.get(i) {
                        Some(v) => obs.seen(s, v, "Reader::get"),
                        None => break,
                    }
                    if i % 4 == 3 {
                        r.repin();
                    }
                }
            }
            TOp::Get(p) => {
                if let Some(v) = a.get(p.at(a)) {
                    obs.seen(s, v, "get");
                }
            }
            TOp::ToVec => obs.snapshot(s, &a.to_vec()),
            TOp::Iter => {
                for v in a.iter() {
                    obs.seen(s, v, "iter");
                }
            }
            TOp::Len => {
                let _ = a.len();
            }
            TOp::CopyExport(p, n, units) => {
                let e = a.export_readonly();
                let start = usize::from(p.0) % (e.len() + 1);
                let n = usize::from(n % 24).min(e.len() - start);
                let size = size_of::<V>();
                let source = if units {
                    Source::Export
                } else {
                    Source::Elements { itemsize: size }
                };
                // A few copies in a row, to meet the other threads' writes more often.
                for _ in 0..COPIES {
                    // The array's writers store these elements only atomically, and nothing else
                    // writes them (nobody writes through exports here). For `Source::Export`
                    // the range lies in that live export.
                    let at = e.as_ptr();
                    // SAFETY: the export pins `e.len()` elements at `at` until it is dropped
                    // below, `start + n <= e.len()`, and the writes are atomic (above).
                    let bytes = unsafe { read_shared(at.add(start).cast(), n * size, source) };
                    for chunk in bytes.chunks_exact(size) {
                        // Slots past the current length hold stale (removed) values, so only
                        // "real and whole" is checked, not "not gone".
                        let v: V = bytemuck::pod_read_unaligned(chunk);
                        assert!(s.valid(v), "export copy: invented or torn value {v:#x?}");
                    }
                }
                drop(e);
            }
        }
    }
    log
}

/// Whether a write that may meet another thread's export succeeded: `Ok`, or `Exported` (which
/// changed nothing); any other error is a bug.
fn exported_ok(r: Result<(), Error>) -> bool {
    match r {
        Ok(()) => true,
        Err(Error::Exported { .. }) => false,
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn run<V: Tagged>(init_len: u32, lists: &[Vec<TOp>]) {
    let initial: Vec<V> = (0..init_len).map(|i| V::make(INIT_TAG, i)).collect();
    let a = FtArray::from_slice(&initial);
    let issued: Vec<AtomicU32> = lists.iter().map(|_| AtomicU32::new(0)).collect();
    let s = Shared {
        a: &a,
        issued: &issued,
        init_len,
    };
    let start = Barrier::new(lists.len());
    let logs: Vec<Log<V>> = std::thread::scope(|scope| {
        let handles: Vec<_> = lists
            .iter()
            .enumerate()
            .map(|(t, ops)| {
                let (s, start) = (&s, &start);
                scope.spawn(move || worker(s, t, ops, start))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });

    let fin = a.to_vec();
    assert_eq!(a.len(), fin.len());
    let mut fin_set = HashSet::with_capacity(fin.len());
    for &v in &fin {
        assert!(s.valid(v), "final: invented or torn value {v:#x?}");
        assert!(fin_set.insert(v), "final: {v:#x?} twice");
    }

    // Length: initial + added - removed, from the operations' own results.
    let added: usize = logs.iter().map(|l| l.added).sum();
    let subtracted: usize = logs.iter().map(|l| l.subtracted).sum();
    assert_eq!(
        fin.len() + subtracted,
        initial.len() + added,
        "final length {} != {} initial + {added} added - {subtracted} removed",
        fin.len(),
        initial.len()
    );

    // Contents: (initial ∪ written) \ removed, and nothing removed twice.
    let mut present: HashSet<V> = initial.iter().copied().collect();
    for l in &logs {
        for &v in &l.written {
            assert!(present.insert(v), "{v:#x?} written twice");
        }
    }
    let mut removed = HashSet::new();
    for l in &logs {
        for &v in &l.removed {
            assert!(removed.insert(v), "{v:#x?} removed twice");
            assert!(present.contains(&v), "{v:#x?} removed but never written");
        }
    }
    let expected: HashSet<V> = present.difference(&removed).copied().collect();
    if expected != fin_set {
        let lost: Vec<_> = expected.difference(&fin_set).collect();
        let extra: Vec<_> = fin_set.difference(&expected).collect();
        panic!("final contents: lost {lost:#x?}, unexpected {extra:#x?}");
    }
}

/// The `threads` target: a type byte, a thread count, an initial length, then
/// `(thread, operation)` pairs (at most 256).
pub fn run_threads(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let (Ok(ty), Ok(threads), Ok(init)) = (
        u.arbitrary::<u8>(),
        u.arbitrary::<u8>(),
        u.arbitrary::<u8>(),
    ) else {
        return;
    };
    let threads = 2 + usize::from(threads % 2);
    let init = u32::from(init) % (MAX_INIT as u32 + 1);
    let mut lists = vec![Vec::new(); threads];
    let mut n = 0;
    while !u.is_empty() && n < MAX_OPS {
        let Ok((t, op)) = u.arbitrary::<(u8, TOp)>() else {
            break;
        };
        lists[usize::from(t) % threads].push(op);
        n += 1;
    }
    if super::debug() {
        eprintln!(
            "threads: type {}, init {init}, ops per thread: {lists:?}",
            ty % 2
        );
    }
    if ty % 2 == 0 {
        run::<u32>(init, &lists);
    } else {
        run::<u64>(init, &lists);
    }
}
