//! Read-side benchmarks of `FtArray` against unsynchronised, atomic, lock-based and
//! `ArcSwap` baselines: `get_pinned`, `get_reader`, `read_1k`, `readers_scaling` and
//! `read_under_churn`.
//!
//! Every group runs FtArray and its baselines side by side, so ratios come from one run. Ids are
//! `<group>/<impl>/<type>` (see `common`); `scripts/bench_summary.py` reads them.

mod common;

use common::names::{
    ARCSWAP, ATOMIC, FT_GET, FT_READER, PIN_VEC, PL_MUTEX, PL_RWLOCK, STD_RWLOCK, VEC,
};
use common::{Atomics, Fixtures, FtGet, LEN, Num, PinnedVec, ReadOne, next_index, values};
use criterion::criterion_main;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use ftarray::FtArray;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

type Group<'a> = BenchmarkGroup<'a, WallTime>;

// ---------------------------------------------------------------------------------------------
// Single-threaded reads: one read per criterion iteration
// ---------------------------------------------------------------------------------------------

/// Benchmarks one read per iteration, at an index that changes every iteration.
fn bench_one<T: Num, R: ReadOne<T>>(g: &mut Group<'_>, name: &str, r: &R) {
    g.bench_function(BenchmarkId::new(name, T::NAME), |b| {
        let mut i = 0;
        b.iter(|| {
            i = next_index(i);
            r.read(black_box(i))
        })
    });
}

/// Every baseline's single read: plain index, relaxed atomic load, read lock + index (both
/// RwLocks), lock + index (Mutex), `ArcSwap` load + index.
fn bench_baselines<T: Num>(g: &mut Group<'_>, f: &Fixtures<T>) {
    bench_one(g, VEC, &f.vec);
    bench_one(g, ATOMIC, &Atomics::<T>(&f.atomic));
    bench_one(g, PL_RWLOCK, &f.pl_rwlock);
    bench_one(g, STD_RWLOCK, &f.std_rwlock);
    bench_one(g, PL_MUTEX, &f.pl_mutex);
    bench_one(g, ARCSWAP, &f.arcswap);
}

fn get_pinned_for<T: Num>(g: &mut Group<'_>) {
    let f = Fixtures::<T>::new();
    bench_one(g, FT_GET, &FtGet(&f.ft));
    bench_baselines(g, &f);
}

/// `FtArray::get`, which pins the epoch on every call, against each baseline's single read.
fn get_pinned(c: &mut Criterion) {
    let mut g = c.benchmark_group("get_pinned");
    g.throughput(Throughput::Elements(1));
    get_pinned_for::<u32>(&mut g);
    get_pinned_for::<f64>(&mut g);
    g.finish();
}

fn get_reader_for<T: Num>(g: &mut Group<'_>) {
    let f = Fixtures::<T>::new();
    // One pin for the whole benchmark: nothing is retired meanwhile, so no repin is needed.
    let reader = f.ft.reader();
    bench_one(g, FT_READER, &reader);
    drop(reader);
    bench_baselines(g, &f);
}

/// `Reader::get` with one `Reader` held across all reads, against the same baselines.
fn get_reader(c: &mut Criterion) {
    let mut g = c.benchmark_group("get_reader");
    g.throughput(Throughput::Elements(1));
    get_reader_for::<u32>(&mut g);
    get_reader_for::<f64>(&mut g);
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// Single-threaded reads: 1,024 per criterion iteration
// ---------------------------------------------------------------------------------------------

/// Reads every index of a [`LEN`]-element container once, in a scrambled order (an odd step
/// modulo a power of two), with the index behind `black_box` (no load can be hoisted out of the
/// loop or vectorised) and every result given to `black_box` (none can be dropped). Not
/// inlined: one monomorphized loop per container and element type, all of the same shape.
#[inline(never)]
fn read_all<T: Num, R: ReadOne<T>>(r: &R) {
    for k in 0..LEN {
        black_box(r.read(black_box(k.wrapping_mul(617) & (LEN - 1))));
    }
}

fn bench_all<T: Num, R: ReadOne<T>>(g: &mut Group<'_>, name: &str, r: &R) {
    g.bench_function(BenchmarkId::new(name, T::NAME), |b| b.iter(|| read_all(r)));
}

fn read_1k_for<T: Num>(g: &mut Group<'_>) {
    let f = Fixtures::<T>::new();
    // No `Reader` is alive here, so every `get` pins from scratch (not a nested pin).
    bench_all(g, FT_GET, &FtGet(&f.ft));
    // One pin for the whole benchmark: nothing is retired meanwhile, so no repin is needed.
    let reader = f.ft.reader();
    bench_all(g, FT_READER, &reader);
    drop(reader);
    bench_all(g, ATOMIC, &Atomics::<T>(&f.atomic));
    bench_all(g, VEC, &f.vec);
    bench_all(g, PL_MUTEX, &f.pl_mutex);
    bench_all(g, STD_RWLOCK, &f.std_rwlock);
    bench_all(g, PL_RWLOCK, &f.pl_rwlock);
    bench_all(g, ARCSWAP, &f.arcswap);
    bench_all(g, PIN_VEC, &PinnedVec(&f.vec));
}

/// 1,024 reads per iteration, every index of a 1,024-element array once (criterion's
/// elements/s is reads/s): `Reader::get`, `get`, relaxed atomic loads, a plain `Vec`, and the
/// lock and `ArcSwap` peers, for `u8`, `u32` and `f64`; and an epoch pin around a `Vec` read,
/// the floor under `get`. With one read per iteration (the groups above) criterion's own
/// per-iteration cost is in every figure, about as large as a pinned read, and a 50% regression
/// of `Reader::get` went unnoticed; here it is spread over 1,024 reads.
/// `scripts/bench_summary.py` prints the ratios (`Reader::get` / atomic load and / best peer,
/// `get` / fastest lock).
fn read_1k(c: &mut Criterion) {
    let mut g = c.benchmark_group("read_1k");
    g.throughput(Throughput::Elements(LEN as u64));
    read_1k_for::<u8>(&mut g);
    read_1k_for::<u32>(&mut g);
    read_1k_for::<f64>(&mut g);
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// Multi-threaded reads
// ---------------------------------------------------------------------------------------------

/// Runs `body` `n` times, or fewer if `stop` is given and becomes true (checked every 16 runs,
/// so the check costs nothing next to a read). Returns how many runs were made.
#[inline(always)]
fn repeat(n: u64, stop: Option<&AtomicBool>, mut body: impl FnMut()) -> u64 {
    let mut done = 0;
    while done < n {
        let chunk = (n - done).min(16);
        for _ in 0..chunk {
            body();
        }
        done += chunk;
        if stop.is_some_and(|s| s.load(Relaxed)) {
            break;
        }
    }
    done
}

/// `n` reads (or until `stop`) at changing indices.
#[inline(always)]
fn read_loop<T: Num, R: ReadOne<T>>(r: &R, n: u64, stop: Option<&AtomicBool>) -> u64 {
    let mut i = 0;
    repeat(n, stop, || {
        i = next_index(i);
        black_box(r.read(black_box(i)));
    })
}

/// Reads between two repins of a `Reader` in the threaded groups.
const REPIN_EVERY: u64 = 1024;

/// `n` reads (or until `stop`) through one `Reader`, repinning every [`REPIN_EVERY`] reads: a
/// quiescent point, as a host runtime would make, so that buffers a writer retires meanwhile
/// can be freed. (A repin costs about one pinned `get`, so this adds well under 0.1 ns a read.)
fn reader_loop<T: Num>(a: &FtArray<T>, n: u64, stop: Option<&AtomicBool>) -> u64 {
    let mut r = a.reader();
    let mut done = 0;
    while done < n {
        let chunk = (n - done).min(REPIN_EVERY);
        let did = read_loop(&r, chunk, stop);
        done += did;
        if did < chunk {
            break; // stopped
        }
        r.repin();
    }
    done
}

/// A loop of work run on one thread: `(count, stop) -> runs made`.
type Work<'a> = &'a (dyn Fn(u64, Option<&AtomicBool>) -> u64 + Sync);
/// An owned [`Work`].
type BoxedWork<'a> = Box<dyn Fn(u64, Option<&AtomicBool>) -> u64 + Sync + 'a>;

/// Every read loop the threaded groups compare. `Reader::get` runs through [`reader_loop`]: one
/// `Reader` per thread per sample, repinned every [`REPIN_EVERY`] reads.
fn read_loops<T: Num>(
    f: &Fixtures<T>,
    with_atomic_and_vec: bool,
) -> Vec<(&'static str, BoxedWork<'_>)> {
    let mut loops: Vec<(&'static str, BoxedWork<'_>)> = vec![
        (
            FT_GET,
            Box::new(|n, stop| read_loop(&FtGet(&f.ft), n, stop)),
        ),
        (FT_READER, Box::new(|n, stop| reader_loop(&f.ft, n, stop))),
        (
            PL_RWLOCK,
            Box::new(|n, stop| read_loop(&f.pl_rwlock, n, stop)),
        ),
        (
            STD_RWLOCK,
            Box::new(|n, stop| read_loop(&f.std_rwlock, n, stop)),
        ),
        (
            PL_MUTEX,
            Box::new(|n, stop| read_loop(&f.pl_mutex, n, stop)),
        ),
        (ARCSWAP, Box::new(|n, stop| read_loop(&f.arcswap, n, stop))),
    ];
    if with_atomic_and_vec {
        loops.push((
            ATOMIC,
            Box::new(|n, stop| read_loop(&Atomics::<T>(&f.atomic), n, stop)),
        ));
        loops.push((VEC, Box::new(|n, stop| read_loop(&f.vec, n, stop))));
    }
    loops
}

/// Starts `threads` threads, lines them up on a barrier, then lets each run `work(iters)` and
/// time itself from the barrier; returns the slowest thread's time, i.e. the wall time of the
/// whole parallel run. Thread start-up is outside the timed region.
fn timed_threads(threads: usize, iters: u64, work: Work<'_>) -> Duration {
    let barrier = Barrier::new(threads);
    thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let start = Instant::now();
                    black_box(work(iters, None));
                    start.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("reader thread panicked"))
            .max()
            .unwrap_or_default()
    })
}

fn readers_scaling_for<T: Num>(g: &mut Group<'_>) {
    let f = Fixtures::<T>::new();
    let loops = read_loops(&f, true);
    for threads in [1usize, 2] {
        // One criterion iteration = one read on every thread at once, so criterion's
        // elements/s is the aggregate reads/s of all threads.
        g.throughput(Throughput::Elements(threads as u64));
        for (name, work) in &loops {
            let work: Work<'_> = work.as_ref();
            let id = BenchmarkId::new(*name, format!("{}_{threads}t", T::NAME));
            g.bench_function(id, |b| {
                b.iter_custom(|iters| timed_threads(threads, iters, work))
            });
        }
    }
}

/// Aggregate reads/s with 1 and 2 reader threads and no writer.
///
/// Each thread does a fixed number of reads (criterion's `iters`) in a loop; the threads are
/// started before timing and released together by a barrier, and the time reported is the wall
/// time of the slowest thread, so time per iteration = time for one read on every thread.
fn readers_scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("readers_scaling");
    readers_scaling_for::<u32>(&mut g);
    readers_scaling_for::<f64>(&mut g);
    g.finish();
}

/// Which side of a churn run is timed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Reads,
    Writes,
}

/// One reader thread and one writer thread run at once; the `timed` side does exactly `iters`
/// operations and times itself from the common start (a barrier), while the other side runs
/// freely until the timed side is done. Returns the timed side's time.
fn churn(timed: Side, iters: u64, read: Work<'_>, write: Work<'_>) -> Duration {
    let barrier = Barrier::new(2);
    let stop = AtomicBool::new(false);
    let run = |side: Side, work: Work<'_>| {
        barrier.wait();
        if side == timed {
            let start = Instant::now();
            black_box(work(iters, None));
            let elapsed = start.elapsed();
            stop.store(true, Relaxed);
            elapsed
        } else {
            black_box(work(u64::MAX, Some(&stop)));
            Duration::ZERO
        }
    };
    thread::scope(|s| {
        let r = s.spawn(|| run(Side::Reads, read));
        let w = s.spawn(|| run(Side::Writes, write));
        r.join().expect("reader panicked") + w.join().expect("writer panicked")
    })
}

fn read_under_churn_for<T: Num>(g: &mut Group<'_>) {
    let f = Fixtures::<T>::new();
    let src = values::<T>(LEN);
    let ft_write = |n, stop: Option<&AtomicBool>| {
        repeat(n, stop, || {
            f.ft.clear();
            f.ft.extend_from_slice(&src);
        })
    };
    let pl_rwlock_write = |n, stop: Option<&AtomicBool>| {
        repeat(n, stop, || {
            let mut v = f.pl_rwlock.write();
            v.clear();
            v.extend_from_slice(&src);
        })
    };
    let std_rwlock_write = |n, stop: Option<&AtomicBool>| {
        repeat(n, stop, || {
            let mut v = f.std_rwlock.write().unwrap();
            v.clear();
            v.extend_from_slice(&src);
        })
    };
    let pl_mutex_write = |n, stop: Option<&AtomicBool>| {
        repeat(n, stop, || {
            let mut v = f.pl_mutex.lock();
            v.clear();
            v.extend_from_slice(&src);
        })
    };
    let arcswap_write =
        |n, stop: Option<&AtomicBool>| repeat(n, stop, || f.arcswap.store(Arc::new(src.clone())));
    let writers: [(&str, Work<'_>); 6] = [
        (FT_GET, &ft_write),
        (FT_READER, &ft_write),
        (PL_RWLOCK, &pl_rwlock_write),
        (STD_RWLOCK, &std_rwlock_write),
        (PL_MUTEX, &pl_mutex_write),
        (ARCSWAP, &arcswap_write),
    ];
    // The atomic Vec and the plain Vec cannot clear and refill as one operation: not compared.
    for (name, read) in &read_loops(&f, false) {
        let read: Work<'_> = read.as_ref();
        let write = writers
            .iter()
            .find(|w| w.0 == *name)
            .expect("a writer for every reader")
            .1;
        for side in [Side::Reads, Side::Writes] {
            let suffix = if side == Side::Reads {
                "reads"
            } else {
                "writes"
            };
            let id = BenchmarkId::new(format!("{name}/{suffix}"), T::NAME);
            g.bench_function(id, |b| {
                b.iter_custom(|iters| churn(side, iters, read, write))
            });
        }
    }
}

/// One reader thread while one writer thread churns the array (`clear` then
/// `extend_from_slice` of 1024 elements; locks: lock, clear, extend; ArcSwap: store a new
/// `Arc<Vec>`), reads at changing indices (a read of a cleared array returns `None`).
///
/// Criterion reports one number per benchmark, so each implementation has two ids run the same
/// way, differing only in which side is timed:
/// * `<impl>/reads`: the reader does exactly `iters` reads while the writer churns freely; time
///   per iteration = time per read under churn (criterion's elements/s = reads/s).
/// * `<impl>/writes`: the writer does exactly `iters` clear+extend ops while the reader reads
///   freely; time per iteration = time per writer op (elements/s = writer ops/s).
///
/// Both threads start together from a barrier; the free side stops when the timed side is done.
fn read_under_churn(c: &mut Criterion) {
    let mut g = c.benchmark_group("read_under_churn");
    g.throughput(Throughput::Elements(1));
    read_under_churn_for::<u32>(&mut g);
    read_under_churn_for::<f64>(&mut g);
    g.finish();
}

/// Private, so that the `pub fn` criterion generates needs no doc comment.
mod group {
    criterion::criterion_group!(
        benches,
        super::get_pinned,
        super::get_reader,
        super::read_1k,
        super::readers_scaling,
        super::read_under_churn
    );
}
criterion_main!(group::benches);
