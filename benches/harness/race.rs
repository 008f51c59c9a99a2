//! The CPython issue #146007 race, run against `FtArray` and against lock-based baselines.
//!
//! # What it shows
//!
//! In CPython's free-threaded build, `arr.clear()` in one thread and `arr[i]` in another could
//! segfault: `clear()` freed the item buffer while a reader was still dereferencing it. This demo
//! runs the same workload in Rust:
//!
//! * **W writer threads** loop `clear()` then `extend_from_slice(batch)`, where `batch[i]` is a
//!   value that encodes `i` (so the array always holds whole batches and the element at index `j`
//!   is `encode(j % batch)`). `clear` and `extend` are two separate operations, as in Python.
//! * **R reader threads** loop reading `a[0]` and `a[k]` for a random `k` in `0..2*batch`, and
//!   check every value: a read must return `None` (out of range at that instant) or exactly the
//!   value stored at that index, never a value from another index. Every `SNAPSHOT_EVERY`-th read
//!   they also take a full snapshot (`to_vec()`, or a clone of the `Vec` under the lock) and check
//!   it is a whole number of complete batches.
//!
//! It runs this for the same duration against each implementation:
//!
//! 1. `ftarray::FtArray<T>`, readers calling `a.get(i)` (one epoch pin per read);
//! 2. `ftarray::FtArray<T>`, readers using `a.reader()` (one pin, `repin()` every 64 reads);
//! 3. `std::sync::RwLock<Vec<T>>`;
//! 4. `std::sync::Mutex<Vec<T>>`;
//! 5. `parking_lot::RwLock<Vec<T>>`;
//! 6. `arc_swap::ArcSwap<Vec<T>>` (lock-free reads; every write publishes a new `Vec`).
//!
//! # Reading the table
//!
//! * `reads/s`: reads completed per second, summed over all readers (a read that returns `None`
//!   counts: it is a correct answer for an array that was empty at that instant).
//! * `found`: the share of reads that returned a value (the rest saw an index out of range).
//! * `writes/s`: `clear` + `extend` pairs per second, summed over all writers; `ops/s` counts
//!   each of the two operations separately.
//! * `writer CPU`: the writers' share of the CPU time that all of the row's threads used (from
//!   `/proc/thread-self/schedstat`; `n/a` off Linux). With more threads than cores this is how
//!   the scheduler split the machine: a lock-based reader sleeps while a writer holds the lock
//!   and leaves its core to the writers, while FtArray's readers never sleep and keep their
//!   share, so its writers run on less CPU.
//! * `violations`: reads or snapshots that saw a state that never existed. Any non-zero count is
//!   a bug (`FAIL`), and the demo exits with status 1.
//!
//! `found` is much lower for FtArray, and that is expected: its readers keep running while a
//! writer is between `clear()` and the end of its `extend` (the array is empty at those
//! instants), whereas a lock-based reader waits for the writer and so only ever sees the array
//! between two writer operations. Throughput swings a lot when there are more threads than
//! hardware threads (the header prints both): a lock holder that gets preempted stalls everyone
//! queued behind it.
//!
//! Below the table, the ratio of each FtArray row's reads/s and writes/s to each baseline's: how
//! much faster readers are when they never take a lock, and what the writers pay for it; and,
//! where the CPU time is known, the ratio of writes per second of the writers' own CPU time,
//! which takes the scheduler's split out of the comparison.
//!
//! ```text
//! cargo run --release --example race -- --help
//! cargo run --release --example race -- --readers 8 --writers 2 --seconds 2 --type f64
//! ```

use ftarray::{Element, FtArray};
use std::fmt;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Barrier, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

/// Every this many reads, a reader takes (and checks) a full snapshot.
const SNAPSHOT_EVERY: u64 = 1024;
/// Reads between `repin()` calls for the `reader()` row.
const REPIN_EVERY: u32 = 64;
/// Reads between checks of the stop flag (a multiple of 2: each loop turn does two reads).
const READS_PER_TURN: u64 = 64;
/// Violations described in detail per implementation (the rest are only counted).
const MAX_REPORTED: usize = 3;

// ---------------------------------------------------------------------------------------------
// Element types: index -> value -> index
// ---------------------------------------------------------------------------------------------

/// An element type the demo can run with: a value that encodes an index, and back.
///
/// Indices wrap modulo [`RANGE`](Self::RANGE) (256 for `u8`, 65536 for `i16`, 2^24 for `f32`,
/// whose integers are exact only up to there, …), so with a large batch several indices share a
/// value; the checks compare against the encoding of the expected index, so they stay exact.
trait Sample: Element + PartialEq + fmt::Debug {
    /// The name used by `--type`.
    const NAME: &'static str;
    /// How many indices the type tells apart (a power of two).
    const RANGE: u64;

    /// The value stored at `index` (modulo `RANGE`).
    fn encode(index: usize) -> Self;

    /// The index (modulo `RANGE`) that `self` encodes, or `None` if no index encodes to it.
    fn decode(self) -> Option<u64>;
}

/// `index` reduced modulo `T::RANGE`.
fn wrap<T: Sample>(index: usize) -> u64 {
    index as u64 & (T::RANGE - 1)
}

impl Sample for u8 {
    const NAME: &'static str = "u8";
    const RANGE: u64 = 1 << 8;
    fn encode(index: usize) -> Self {
        wrap::<Self>(index) as u8
    }
    fn decode(self) -> Option<u64> {
        Some(self.into())
    }
}

impl Sample for i16 {
    const NAME: &'static str = "i16";
    const RANGE: u64 = 1 << 16;
    fn encode(index: usize) -> Self {
        // Two's complement: indices 32768..65535 become negative values.
        wrap::<Self>(index) as u16 as i16
    }
    fn decode(self) -> Option<u64> {
        Some((self as u16).into())
    }
}

impl Sample for u32 {
    const NAME: &'static str = "u32";
    const RANGE: u64 = 1 << 32;
    fn encode(index: usize) -> Self {
        wrap::<Self>(index) as u32
    }
    fn decode(self) -> Option<u64> {
        Some(self.into())
    }
}

impl Sample for i64 {
    const NAME: &'static str = "i64";
    const RANGE: u64 = 1 << 63;
    fn encode(index: usize) -> Self {
        wrap::<Self>(index) as i64
    }
    fn decode(self) -> Option<u64> {
        u64::try_from(self).ok()
    }
}

impl Sample for f32 {
    const NAME: &'static str = "f32";
    const RANGE: u64 = 1 << f32::MANTISSA_DIGITS;
    fn encode(index: usize) -> Self {
        wrap::<Self>(index) as f32
    }
    fn decode(self) -> Option<u64> {
        let ok = self >= 0.0 && self < Self::RANGE as f32 && self.fract() == 0.0;
        ok.then_some(self as u64)
    }
}

impl Sample for f64 {
    const NAME: &'static str = "f64";
    const RANGE: u64 = 1 << f64::MANTISSA_DIGITS;
    fn encode(index: usize) -> Self {
        wrap::<Self>(index) as f64
    }
    fn decode(self) -> Option<u64> {
        let ok = self >= 0.0 && self < Self::RANGE as f64 && self.fract() == 0.0;
        ok.then_some(self as u64)
    }
}

/// `value` for a violation report: the value and the index it encodes, if any.
fn describe<T: Sample>(value: T) -> String {
    match value.decode() {
        Some(i) => format!("{value:?} (encodes index {i} mod {})", T::RANGE),
        None => format!("{value:?} (encodes no index)"),
    }
}

// ---------------------------------------------------------------------------------------------
// The implementations under test
// ---------------------------------------------------------------------------------------------

/// A shared array implementation: what writers call, and how readers get a read handle.
trait Contender<T: Sample>: Sync + Sized {
    /// A per-thread read handle.
    type Reader<'a>: ReadHandle<T>
    where
        Self: 'a;

    /// An instance holding `values`.
    fn with_contents(values: &[T]) -> Self;
    /// A read handle for the calling thread.
    fn reader(&self) -> Self::Reader<'_>;
    /// Removes every element (one operation).
    fn clear(&self);
    /// Appends `values` (one operation).
    fn extend(&self, values: &[T]);
}

/// How a reader thread reads.
trait ReadHandle<T> {
    /// The element at `index`, or `None` if out of range.
    fn get(&mut self, index: usize) -> Option<T>;
    /// A copy of the whole array, taken at one instant.
    fn snapshot(&mut self) -> Vec<T>;
}

/// Row 1: `FtArray`, readers call `FtArray::get` (each call pins the epoch).
impl<T: Sample> Contender<T> for FtArray<T> {
    type Reader<'a> = &'a FtArray<T>;

    fn with_contents(values: &[T]) -> Self {
        FtArray::from_slice(values)
    }
    fn reader(&self) -> &FtArray<T> {
        self
    }
    fn clear(&self) {
        FtArray::clear(self);
    }
    fn extend(&self, values: &[T]) {
        self.extend_from_slice(values);
    }
}

impl<T: Sample> ReadHandle<T> for &FtArray<T> {
    #[inline]
    fn get(&mut self, index: usize) -> Option<T> {
        FtArray::get(self, index)
    }
    fn snapshot(&mut self) -> Vec<T> {
        self.to_vec()
    }
}

/// Row 2: `FtArray`, readers hold a [`ftarray::Reader`] (one pin for many reads).
struct PinnedFtArray<T: Element>(FtArray<T>);

/// A [`ftarray::Reader`] that repins every [`REPIN_EVERY`] reads, as a runtime would at its
/// safe points.
struct Pinned<'a, T: Element> {
    reader: ftarray::Reader<'a, T>,
    since_repin: u32,
}

impl<T: Sample> Contender<T> for PinnedFtArray<T> {
    type Reader<'a> = Pinned<'a, T>;

    fn with_contents(values: &[T]) -> Self {
        PinnedFtArray(FtArray::from_slice(values))
    }
    fn reader(&self) -> Pinned<'_, T> {
        Pinned {
            reader: self.0.reader(),
            since_repin: 0,
        }
    }
    fn clear(&self) {
        self.0.clear();
    }
    fn extend(&self, values: &[T]) {
        self.0.extend_from_slice(values);
    }
}

impl<T: Sample> ReadHandle<T> for Pinned<'_, T> {
    #[inline]
    fn get(&mut self, index: usize) -> Option<T> {
        let value = self.reader.get(index);
        self.since_repin += 1;
        if self.since_repin == REPIN_EVERY {
            self.since_repin = 0;
            self.reader.repin();
        }
        value
    }
    fn snapshot(&mut self) -> Vec<T> {
        self.reader.to_vec()
    }
}

/// Implements [`Contender`] for a lock around a `Vec`: `$read`/`$write` take the lock (the
/// std locks return a poisoning `Result`, which `$unwrap` handles).
macro_rules! locked_vec {
    ($lock:ty, $read:ident, $write:ident $(, $unwrap:ident)?) => {
        impl<T: Sample> Contender<T> for $lock {
            type Reader<'a> = &'a $lock;

            fn with_contents(values: &[T]) -> Self {
                <$lock>::new(values.to_vec())
            }
            fn reader(&self) -> &$lock {
                self
            }
            fn clear(&self) {
                self.$write()$(.$unwrap())?.clear();
            }
            fn extend(&self, values: &[T]) {
                self.$write()$(.$unwrap())?.extend_from_slice(values);
            }
        }

        impl<T: Sample> ReadHandle<T> for &$lock {
            #[inline]
            fn get(&mut self, index: usize) -> Option<T> {
                self.$read()$(.$unwrap())?.get(index).copied()
            }
            fn snapshot(&mut self) -> Vec<T> {
                self.$read()$(.$unwrap())?.clone()
            }
        }
    };
}

// Rows 3–5.
locked_vec!(RwLock<Vec<T>>, read, write, unwrap);
locked_vec!(Mutex<Vec<T>>, lock, lock, unwrap);
locked_vec!(parking_lot::RwLock<Vec<T>>, read, write);

/// Row 6: `arc_swap::ArcSwap<Vec<T>>`, what a Rust user would pick for read-mostly data:
/// readers load the current `Arc` without a lock; every write builds a whole new `Vec`
/// (`clear` stores an empty one, `extend` copies the current one and appends, through `rcu` so
/// that concurrent writers do not lose each other's appends).
impl<T: Sample> Contender<T> for arc_swap::ArcSwap<Vec<T>> {
    type Reader<'a> = &'a arc_swap::ArcSwap<Vec<T>>;

    fn with_contents(values: &[T]) -> Self {
        arc_swap::ArcSwap::from_pointee(values.to_vec())
    }
    fn reader(&self) -> &arc_swap::ArcSwap<Vec<T>> {
        self
    }
    fn clear(&self) {
        self.store(std::sync::Arc::new(Vec::new()));
    }
    fn extend(&self, values: &[T]) {
        self.rcu(|old| {
            let mut new = Vec::with_capacity(old.len() + values.len());
            new.extend_from_slice(old);
            new.extend_from_slice(values);
            new
        });
    }
}

impl<T: Sample> ReadHandle<T> for &arc_swap::ArcSwap<Vec<T>> {
    #[inline]
    fn get(&mut self, index: usize) -> Option<T> {
        self.load().get(index).copied()
    }
    fn snapshot(&mut self) -> Vec<T> {
        self.load_full().to_vec()
    }
}

// ---------------------------------------------------------------------------------------------
// The workload
// ---------------------------------------------------------------------------------------------

/// The run's parameters (from the command line).
#[derive(Clone, Debug)]
struct Config {
    readers: usize,
    writers: usize,
    seconds: f64,
    elem: ElemType,
    batch: usize,
}

/// The element type chosen with `--type`.
#[derive(Clone, Copy, Debug)]
enum ElemType {
    U8,
    I16,
    U32,
    I64,
    F32,
    F64,
}

/// What one reader thread saw.
#[derive(Default)]
struct ReaderStats {
    reads: u64,
    found: u64,
    snapshots: u64,
    violations: u64,
    /// The first few distinct violations, described.
    examples: Vec<String>,
    /// CPU time this thread used while the row ran, where the OS tells it.
    cpu_ns: Option<u64>,
}

/// CPU time the calling thread has used so far, in nanoseconds, or `None` where the OS does not
/// report it (read from `/proc/thread-self/schedstat`, whose first field is the time on a CPU;
/// Linux only, no dependency).
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// CPU time used since `start` (a [`thread_cpu_ns`] reading), if both readings exist.
fn cpu_since(start: Option<u64>) -> Option<u64> {
    Some(thread_cpu_ns()?.saturating_sub(start?))
}

impl ReaderStats {
    fn violation(&mut self, what: impl FnOnce() -> String) {
        self.violations += 1;
        if self.examples.len() < MAX_REPORTED {
            let what = what();
            if !self.examples.contains(&what) {
                self.examples.push(what);
            }
        }
    }

    /// Checks one read of index `index`; `pos` is `index % batch`.
    #[inline]
    fn check_read<T: Sample>(&mut self, index: usize, pos: usize, got: Option<T>) {
        if let Some(value) = got {
            self.found += 1;
            let expected = T::encode(pos);
            if value != expected {
                self.violation(|| {
                    format!(
                        "a[{index}] returned {}, but only {} is ever stored there",
                        describe(value),
                        describe(expected)
                    )
                });
            }
        }
    }

    /// Checks a snapshot: whole batches, each element the encoding of its index in its batch.
    fn check_snapshot<T: Sample>(&mut self, snap: &[T], batch: usize) {
        self.snapshots += 1;
        if snap.len() % batch != 0 {
            let len = snap.len();
            self.violation(|| {
                format!("snapshot of length {len} is not a whole number of {batch}-element batches")
            });
        }
        if let Some((j, &value)) = snap
            .iter()
            .enumerate()
            .find(|&(j, &v)| v != T::encode(j % batch))
        {
            self.violation(|| {
                format!(
                    "snapshot[{j}] = {}, expected {}",
                    describe(value),
                    describe(T::encode(j % batch))
                )
            });
        }
    }
}

/// A small fast PRNG (xorshift64*), so readers pick random indices without a dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // Any non-zero state works; spread the seed so neighbouring seeds diverge at once.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Uniform in `0..n` (multiply-shift: no division on the hot path).
    #[inline]
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((u128::from(x) * n as u128) >> 64) as usize
    }
}

/// One reader thread: `a[0]`, `a[random]`, …, checking each value, and a snapshot every
/// [`SNAPSHOT_EVERY`] reads.
fn reader_loop<T: Sample, C: Contender<T>>(
    shared: &C,
    batch: usize,
    seed: u64,
    start: &Barrier,
    stop: &AtomicBool,
) -> ReaderStats {
    let mut handle = shared.reader();
    let mut rng = Rng::new(seed);
    let mut stats = ReaderStats::default();
    start.wait();
    let cpu_start = thread_cpu_ns();
    while !stop.load(Relaxed) {
        for _ in 0..READS_PER_TURN / 2 {
            let first = handle.get(0);
            stats.check_read(0, 0, first);
            // Past the first batch: a second batch (two writers' extends between clears) or
            // out of range.
            let k = rng.below(2 * batch);
            let got = handle.get(k);
            stats.check_read(k, if k < batch { k } else { k - batch }, got);
        }
        stats.reads += READS_PER_TURN;
        if stats.reads % SNAPSHOT_EVERY == 0 {
            let snap = handle.snapshot();
            stats.check_snapshot(&snap, batch);
        }
    }
    stats.cpu_ns = cpu_since(cpu_start);
    stats
}

/// One writer thread: `clear()`, `extend(batch)`, …; returns the number of pairs done and the
/// CPU time the thread used doing them.
fn writer_loop<T: Sample, C: Contender<T>>(
    shared: &C,
    batch: &[T],
    start: &Barrier,
    stop: &AtomicBool,
) -> (u64, Option<u64>) {
    let mut pairs = 0;
    start.wait();
    let cpu_start = thread_cpu_ns();
    while !stop.load(Relaxed) {
        shared.clear();
        shared.extend(batch);
        pairs += 1;
    }
    (pairs, cpu_since(cpu_start))
}

/// One row of the result table.
struct RowResult {
    name: &'static str,
    reads_per_s: f64,
    found_share: f64,
    pairs_per_s: f64,
    /// The writers' share of the CPU time all of the row's threads used (`None` if unknown).
    writer_cpu_share: Option<f64>,
    /// Writer pairs per second of CPU time the writers used (`None` if unknown).
    pairs_per_writer_cpu_s: Option<f64>,
    snapshots: u64,
    violations: u64,
    examples: Vec<String>,
}

/// Runs the workload against a fresh `C` (holding one batch) for `cfg.seconds`.
fn run_row<T: Sample, C: Contender<T>>(name: &'static str, cfg: &Config) -> RowResult {
    let batch: Vec<T> = (0..cfg.batch).map(T::encode).collect();
    let shared = C::with_contents(&batch);
    let start = Barrier::new(cfg.readers + cfg.writers + 1);
    let stop = AtomicBool::new(false);

    let (readers, writers, elapsed) = thread::scope(|s| {
        let (shared, batch, start, stop) = (&shared, &batch[..], &start, &stop);
        let readers: Vec<_> = (0..cfg.readers)
            .map(|id| s.spawn(move || reader_loop(shared, batch.len(), id as u64 + 1, start, stop)))
            .collect();
        let writers: Vec<_> = (0..cfg.writers)
            .map(|_| s.spawn(move || writer_loop(shared, batch, start, stop)))
            .collect();
        start.wait();
        let t0 = Instant::now();
        thread::sleep(Duration::from_secs_f64(cfg.seconds));
        stop.store(true, Relaxed);
        let readers: Vec<ReaderStats> = readers.into_iter().map(|h| h.join().unwrap()).collect();
        let writers: Vec<(u64, Option<u64>)> =
            writers.into_iter().map(|h| h.join().unwrap()).collect();
        // Measured once every thread has stopped, so the counts and the time cover the same span.
        (readers, writers, t0.elapsed().as_secs_f64())
    });

    let pairs: u64 = writers.iter().map(|w| w.0).sum();
    let reader_cpu: Option<u64> = readers.iter().map(|r| r.cpu_ns).sum();
    let writer_cpu: Option<u64> = writers.iter().map(|w| w.1).sum();
    let writer_cpu_share = match (reader_cpu, writer_cpu) {
        (Some(r), Some(w)) if r + w > 0 => Some(w as f64 / (r + w) as f64),
        _ => None,
    };
    let pairs_per_writer_cpu_s = writer_cpu
        .filter(|&ns| ns > 0)
        .map(|ns| pairs as f64 / (ns as f64 / 1e9));

    let reads: u64 = readers.iter().map(|r| r.reads).sum();
    let found: u64 = readers.iter().map(|r| r.found).sum();
    RowResult {
        name,
        reads_per_s: reads as f64 / elapsed,
        found_share: if reads == 0 {
            0.0
        } else {
            found as f64 / reads as f64
        },
        pairs_per_s: pairs as f64 / elapsed,
        writer_cpu_share,
        pairs_per_writer_cpu_s,
        snapshots: readers.iter().map(|r| r.snapshots).sum(),
        violations: readers.iter().map(|r| r.violations).sum(),
        examples: readers
            .into_iter()
            .flat_map(|r| r.examples)
            .take(MAX_REPORTED)
            .collect(),
    }
}

/// The names of the two FtArray rows (the ratios compare them with the others).
const FT_GET: &str = "FtArray get()";
const FT_READER: &str = "FtArray reader()";

/// Runs every implementation with element type `T`, printing each row as it finishes.
fn run_all<T: Sample>(cfg: &Config) -> Vec<RowResult> {
    type Runner = fn(&'static str, &Config) -> RowResult;
    let rows: [(&'static str, Runner); 6] = [
        (FT_GET, run_row::<T, FtArray<T>>),
        (FT_READER, run_row::<T, PinnedFtArray<T>>),
        ("std RwLock<Vec>", run_row::<T, RwLock<Vec<T>>>),
        ("std Mutex<Vec>", run_row::<T, Mutex<Vec<T>>>),
        (
            "parking_lot RwLock<Vec>",
            run_row::<T, parking_lot::RwLock<Vec<T>>>,
        ),
        ("ArcSwap<Vec>", run_row::<T, arc_swap::ArcSwap<Vec<T>>>),
    ];
    print_table_header();
    rows.iter()
        .map(|(name, run)| {
            let row = run(name, cfg);
            print_row(&row);
            row
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

/// `x` with a k/M/G suffix.
fn si(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.2}G", x / 1e9),
        x if x >= 1e6 => format!("{:.2}M", x / 1e6),
        x if x >= 1e3 => format!("{:.1}k", x / 1e3),
        x => format!("{x:.0}"),
    }
}

const COLUMNS: [(&str, usize); 8] = [
    ("implementation", 23),
    ("reads/s", 9),
    ("found", 6),
    ("writes/s", 9),
    ("ops/s", 9),
    ("writer CPU", 10),
    ("violations", 10),
    ("result", 6),
];

fn print_cells(cells: [String; 8]) {
    let line: Vec<String> = cells
        .iter()
        .zip(COLUMNS)
        .enumerate()
        .map(|(i, (cell, (_, width)))| match i {
            0 => format!("{cell:<width$}"),
            _ => format!("{cell:>width$}"),
        })
        .collect();
    println!("| {} |", line.join(" | "));
}

fn print_table_header() {
    print_cells(COLUMNS.map(|(title, _)| title.to_string()));
    let rule: Vec<String> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, &(_, w))| match i {
            0 => "-".repeat(w),
            _ => format!("{}:", "-".repeat(w - 1)),
        })
        .collect();
    println!("| {} |", rule.join(" | "));
}

fn print_row(row: &RowResult) {
    print_cells([
        row.name.to_string(),
        si(row.reads_per_s),
        format!("{:.1}%", row.found_share * 100.0),
        si(row.pairs_per_s),
        si(row.pairs_per_s * 2.0),
        row.writer_cpu_share
            .map_or_else(|| "n/a".to_string(), |s| format!("{:.0}%", s * 100.0)),
        row.violations.to_string(),
        if row.violations == 0 { "OK" } else { "FAIL" }.to_string(),
    ]);
}

fn print_header(cfg: &Config) {
    let threads = thread::available_parallelism().map_or_else(|_| "?".into(), |n| n.to_string());
    println!("ftarray race demo: the CPython #146007 workload (clear/extend vs a[i])");
    println!(
        "machine:    {threads} hardware threads (std::thread::available_parallelism); {} worker threads",
        cfg.readers + cfg.writers
    );
    println!(
        "parameters: --readers {} --writers {} --seconds {} --type {} --batch {}",
        cfg.readers,
        cfg.writers,
        cfg.seconds,
        cfg.elem.name(),
        cfg.batch
    );
    println!(
        "workload:   writers loop {{ clear(); extend(batch) }} with batch[i] = encode(i); readers \
         loop {{ a[0]; a[random < 2*batch] }}, check each value is the one stored at that index, \
         and check a full snapshot every {SNAPSHOT_EVERY} reads is whole batches"
    );
    println!();
}

fn print_summary(rows: &[RowResult]) {
    let is_ft = |r: &&RowResult| r.name == FT_GET || r.name == FT_READER;
    let baselines: Vec<&RowResult> = rows.iter().filter(|r| !is_ft(r)).collect();
    println!();
    for ft in rows.iter().filter(is_ft) {
        let ratios: Vec<String> = baselines
            .iter()
            .map(|b| {
                let ratio = ft.reads_per_s / b.reads_per_s;
                format!("{ratio:.1}x {}", b.name)
            })
            .collect();
        println!("{:<17} reads/s vs {}", ft.name, ratios.join(", "));
        let ratios: Vec<String> = baselines
            .iter()
            .map(|b| {
                let ratio = ft.pairs_per_s / b.pairs_per_s;
                format!("{ratio:.2}x {}", b.name)
            })
            .collect();
        println!("{:<17} writes/s vs {}", ft.name, ratios.join(", "));
        let ratios: Vec<String> = baselines
            .iter()
            .filter_map(|b| {
                let ratio = ft.pairs_per_writer_cpu_s? / b.pairs_per_writer_cpu_s?;
                Some(format!("{ratio:.2}x {}", b.name))
            })
            .collect();
        if !ratios.is_empty() {
            println!(
                "{:<17} writes per writer CPU-second vs {}",
                ft.name,
                ratios.join(", ")
            );
        }
    }
    let snapshots: u64 = rows.iter().map(|r| r.snapshots).sum();
    println!("(snapshots checked: {snapshots})");
    for row in rows.iter().filter(|r| r.violations > 0) {
        println!();
        println!(
            "{}: {} violation(s), for example:",
            row.name, row.violations
        );
        for example in &row.examples {
            println!("  - {example}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

const USAGE: &str = "\
Usage: cargo run --release --example race -- [OPTIONS]

Runs the CPython #146007 workload (writers clear()+extend(), readers index the array) against
ftarray::FtArray and lock-based baselines, checks every value read, and prints a table.
Exits with status 1 if any invariant was violated, 2 on a bad command line.

Options:
  --readers N     reader threads (default 4)
  --writers N     writer threads (default 4)
  --seconds S     seconds per implementation, may be fractional (default 3)
  --type T        element type: u8, i16, u32, i64, f32 or f64 (default u32)
  --batch N       elements per extend (default 1024)
  -h, --help      print this help";

impl ElemType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "u8" => ElemType::U8,
            "i16" => ElemType::I16,
            "u32" => ElemType::U32,
            "i64" => ElemType::I64,
            "f32" => ElemType::F32,
            "f64" => ElemType::F64,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            ElemType::U8 => u8::NAME,
            ElemType::I16 => i16::NAME,
            ElemType::U32 => u32::NAME,
            ElemType::I64 => i64::NAME,
            ElemType::F32 => f32::NAME,
            ElemType::F64 => f64::NAME,
        }
    }
}

/// Parses the arguments (without the program name); `Ok(None)` means `--help`.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Config>, String> {
    let mut cfg = Config {
        readers: 4,
        writers: 4,
        seconds: 3.0,
        elem: ElemType::U32,
        batch: 1024,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if !matches!(
            flag.as_str(),
            "--readers" | "--writers" | "--seconds" | "--type" | "--batch"
        ) {
            return Err(format!("unknown argument '{arg}'"));
        }
        let value = match inline.or_else(|| args.next()) {
            Some(v) => v,
            None => return Err(format!("{flag} needs a value")),
        };
        let count = |min: usize| -> Result<usize, String> {
            match value.parse::<usize>() {
                Ok(n) if n >= min => Ok(n),
                _ => Err(format!("{flag} wants an integer >= {min}, got '{value}'")),
            }
        };
        match flag.as_str() {
            "--readers" => cfg.readers = count(1)?,
            "--writers" => cfg.writers = count(0)?,
            "--batch" => cfg.batch = count(1)?,
            "--seconds" => {
                cfg.seconds = match value.parse::<f64>() {
                    Ok(s) if s.is_finite() && s > 0.0 && s <= 1e6 => s,
                    _ => return Err(format!("--seconds wants a positive number, got '{value}'")),
                }
            }
            "--type" => {
                cfg.elem = ElemType::parse(&value).ok_or_else(|| {
                    format!("--type wants one of u8, i16, u32, i64, f32, f64; got '{value}'")
                })?
            }
            _ => unreachable!("checked above"),
        }
    }
    Ok(Some(cfg))
}

fn main() -> ExitCode {
    let cfg = match parse_args(std::env::args().skip(1)) {
        Ok(Some(cfg)) => cfg,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("race: {msg}\nTry '--help' for the options.");
            return ExitCode::from(2);
        }
    };

    print_header(&cfg);
    let t0 = Instant::now();
    let rows = match cfg.elem {
        ElemType::U8 => run_all::<u8>(&cfg),
        ElemType::I16 => run_all::<i16>(&cfg),
        ElemType::U32 => run_all::<u32>(&cfg),
        ElemType::I64 => run_all::<i64>(&cfg),
        ElemType::F32 => run_all::<f32>(&cfg),
        ElemType::F64 => run_all::<f64>(&cfg),
    };
    print_summary(&rows);
    println!("total time: {:.1} s", t0.elapsed().as_secs_f64());

    let violations: u64 = rows.iter().map(|r| r.violations).sum();
    if violations > 0 {
        eprintln!("FAIL: {violations} invariant violation(s)");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
