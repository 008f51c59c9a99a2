//! Writer rounds against lock-free readers: the scenario of the writer-throughput issue.
//!
//! One writer thread does `clear()` + `extend_from_slice` of 1,024 elements as fast as it can
//! while 1 or 2 reader threads call `get(i)` in a tight loop (indices walk the array). Both
//! sides are counted over the same wall-clock window, so the table shows what a reader and a
//! writer get *at the same time*, side by side with `parking_lot::RwLock<Vec>`,
//! `parking_lot::Mutex<Vec>` and `ArcSwap<Vec>` (a new `Vec` per write), for u8, u32 and f64.
//!
//! ```text
//! cargo run --release --example writer_rounds -- [--ms 500] [--runs 3] [--readers 1,2] [--types u8,u32,f64]
//! ```
//!
//! Every row is run `--runs` times in turn (schemes interleaved, so a burst of load on this
//! shared machine hits them all) and the median is printed, with the ratios the issue's
//! targets are stated in: writer rounds vs ArcSwap and vs RwLock, reads vs RwLock.
//!
//! The last column is the share of one core the writer thread ran on during the window (from
//! `/proc/thread-self/schedstat`, `n/a` off Linux): with 2 readers and 1 writer on a 2-core
//! machine the threads share the cores, and a lock-based reader sleeps while the writer holds
//! the lock, where an ftarray reader never does.
//!
//! Readers check what they read: a value is either `None` (the array was cleared) or the
//! element the writer stores at that index; anything else aborts the run.

use arc_swap::ArcSwap;
use ftarray::{Element, FtArray};
use parking_lot::{Mutex, RwLock};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

const LEN: usize = 1024;

trait Num: Element + PartialEq + std::fmt::Debug + Send + Sync + 'static {
    const NAME: &'static str;
    fn at(i: usize) -> Self;
}
impl Num for u8 {
    const NAME: &'static str = "u8";
    fn at(i: usize) -> Self {
        (i % 251) as u8
    }
}
impl Num for u32 {
    const NAME: &'static str = "u32";
    fn at(i: usize) -> Self {
        i as u32 * 3
    }
}
impl Num for f64 {
    const NAME: &'static str = "f64";
    fn at(i: usize) -> Self {
        i as f64 * 0.5
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scheme {
    FtGet,
    FtReader,
    RwLock,
    Mutex,
    ArcSwap,
}

impl Scheme {
    const ALL: [Scheme; 5] = [
        Scheme::FtGet,
        Scheme::FtReader,
        Scheme::RwLock,
        Scheme::ArcSwap,
        Scheme::Mutex,
    ];
    fn name(self) -> &'static str {
        match self {
            Scheme::FtGet => "ftarray get",
            Scheme::FtReader => "ftarray Reader::get",
            Scheme::RwLock => "parking_lot::RwLock<Vec>",
            Scheme::Mutex => "parking_lot::Mutex<Vec>",
            Scheme::ArcSwap => "ArcSwap<Vec>",
        }
    }
}

struct Shared<T: Num> {
    ft: FtArray<T>,
    rw: RwLock<Vec<T>>,
    mx: Mutex<Vec<T>>,
    arc: ArcSwap<Vec<T>>,
}

#[inline(always)]
fn check<T: Num>(i: usize, v: Option<T>) -> u64 {
    match v {
        None => 0,
        Some(v) if v == T::at(i) => 1,
        Some(v) => panic!("invented value {v:?} at {i}"),
    }
}

/// CPU time the calling thread has used so far, in nanoseconds (the first field of
/// `/proc/thread-self/schedstat`), or `None` where the OS does not report it.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Runs one scheme for `ms` with `readers` reader threads; returns reads/s, rounds/s and the
/// share of one core the writer ran on (NaN if unknown).
fn run<T: Num>(scheme: Scheme, readers: usize, ms: u64, src: &[T]) -> (f64, f64, f64) {
    let shared = Shared {
        ft: FtArray::from_slice(src),
        rw: RwLock::new(src.to_vec()),
        mx: Mutex::new(src.to_vec()),
        arc: ArcSwap::from_pointee(src.to_vec()),
    };
    let stop = AtomicBool::new(false);
    let reads = AtomicU64::new(0);
    let rounds = AtomicU64::new(0);
    let writer_cpu_ns = AtomicU64::new(u64::MAX);
    let barrier = Barrier::new(readers + 2);
    let elapsed = thread::scope(|s| {
        for _ in 0..readers {
            s.spawn(|| {
                barrier.wait();
                // `Reader::get` keeps one pin per thread and repins every 256 reads, as a
                // runtime would at its safe points.
                let mut reader = (scheme == Scheme::FtReader).then(|| shared.ft.reader());
                let (mut n, mut i, mut hits) = (0u64, 0usize, 0u64);
                while !stop.load(Relaxed) {
                    for _ in 0..256 {
                        i = (i + 617) & (LEN - 1);
                        let v = match scheme {
                            Scheme::FtGet => shared.ft.get(i),
                            Scheme::FtReader => reader.as_mut().and_then(|r| r.get(i)),
                            Scheme::RwLock => shared.rw.read().get(i).copied(),
                            Scheme::Mutex => shared.mx.lock().get(i).copied(),
                            Scheme::ArcSwap => shared.arc.load().get(i).copied(),
                        };
                        hits += check(i, v);
                    }
                    n += 256;
                    if let Some(r) = reader.as_mut() {
                        r.repin();
                    }
                }
                black_box(hits);
                reads.fetch_add(n, Relaxed);
            });
        }
        s.spawn(|| {
            barrier.wait();
            let cpu_start = thread_cpu_ns();
            let mut n = 0u64;
            while !stop.load(Relaxed) {
                for _ in 0..16 {
                    match scheme {
                        Scheme::FtGet | Scheme::FtReader => {
                            shared.ft.clear();
                            shared.ft.extend_from_slice(src);
                        }
                        Scheme::RwLock => {
                            let mut v = shared.rw.write();
                            v.clear();
                            v.extend_from_slice(src);
                        }
                        Scheme::Mutex => {
                            let mut v = shared.mx.lock();
                            v.clear();
                            v.extend_from_slice(src);
                        }
                        Scheme::ArcSwap => shared.arc.store(Arc::new(src.to_vec())),
                    }
                }
                n += 16;
            }
            rounds.fetch_add(n, Relaxed);
            if let (Some(start), Some(end)) = (cpu_start, thread_cpu_ns()) {
                writer_cpu_ns.store(end.saturating_sub(start), Relaxed);
            }
        });
        barrier.wait();
        let start = Instant::now();
        thread::sleep(Duration::from_millis(ms));
        stop.store(true, Relaxed);
        start.elapsed()
    });
    let secs = elapsed.as_secs_f64();
    let cpu = match writer_cpu_ns.load(Relaxed) {
        u64::MAX => f64::NAN,
        ns => ns as f64 / 1e9 / secs,
    };
    (
        reads.load(Relaxed) as f64 / secs,
        rounds.load(Relaxed) as f64 / secs,
        cpu,
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn table<T: Num>(readers: usize, ms: u64, runs: usize, only: Option<&str>) {
    let src: Vec<T> = (0..LEN).map(T::at).collect();
    let mut samples: Vec<[Vec<f64>; 3]> = vec![[vec![], vec![], vec![]]; Scheme::ALL.len()];
    for _ in 0..runs {
        for (k, &scheme) in Scheme::ALL.iter().enumerate() {
            if only.is_some_and(|o| !scheme.name().contains(o)) {
                samples[k].iter_mut().for_each(|v| v.push(f64::NAN));
                continue;
            }
            let (r, w, c) = run::<T>(scheme, readers, ms, &src);
            samples[k][0].push(r);
            samples[k][1].push(w);
            samples[k][2].push(c);
        }
    }
    let med: Vec<[f64; 3]> = samples.into_iter().map(|s| s.map(median)).collect();
    let find = |s: Scheme| med[Scheme::ALL.iter().position(|&x| x == s).unwrap()];
    let [rw_r, rw_w, _] = find(Scheme::RwLock);
    let [_, arc_w, _] = find(Scheme::ArcSwap);
    println!(
        "\n{} x {}, {readers} reader thread(s), 1 writer (clear + extend_from_slice), median of {runs} x {ms} ms",
        LEN,
        T::NAME
    );
    println!(
        "| scheme | reads/s | writer rounds/s | rounds vs ArcSwap | rounds vs RwLock | reads vs RwLock | writer CPU |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (k, &scheme) in Scheme::ALL.iter().enumerate() {
        let [r, w, c] = med[k];
        let cpu = if c.is_nan() {
            "n/a".to_string()
        } else {
            format!("{:.0}%", c * 100.0)
        };
        println!(
            "| {} | {:.2} M | {:.3} M | {:.2}x | {:.2}x | {:.1}x | {cpu} |",
            scheme.name(),
            r / 1e6,
            w / 1e6,
            w / arc_w,
            w / rw_w,
            r / rw_r
        );
    }
}

fn main() {
    let mut ms = 500u64;
    let mut runs = 3usize;
    let mut readers = vec![1usize, 2];
    let mut types = vec!["u8".to_string(), "u32".into(), "f64".into()];
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().expect("a value after the flag");
        match a.as_str() {
            "--ms" => ms = val().parse().expect("--ms N"),
            "--runs" => runs = val().parse().expect("--runs N"),
            "--readers" => {
                readers = val()
                    .split(',')
                    .map(|s| s.parse().expect("--readers 1,2"))
                    .collect()
            }
            "--types" => types = val().split(',').map(String::from).collect(),
            "--only" => only = Some(val()),
            "-h" | "--help" => {
                println!(
                    "usage: writer_rounds [--ms 500] [--runs 3] [--readers 1,2] [--types u8,u32,f64] [--only NAME]"
                );
                return;
            }
            other => panic!("unknown argument {other}"),
        }
    }
    for &r in &readers {
        for t in &types {
            match t.as_str() {
                "u8" => table::<u8>(r, ms, runs, only.as_deref()),
                "u32" => table::<u32>(r, ms, runs, only.as_deref()),
                "f64" => table::<f64>(r, ms, runs, only.as_deref()),
                other => panic!("unknown type {other}"),
            }
        }
    }
}
