//! A soak test: several threads run random mixed operations on one `FtArray<u64>` for a long
//! time, checking invariants throughout, and the run reports operations per second and peak
//! memory.
//!
//! ```sh
//! cargo run --release --example soak -- --seconds 600 --threads 4
//! ```
//!
//! Every value ever stored is unique: thread `t` writes `t << 48 | n` with its own counter `n`.
//! No operation in the mix duplicates a value (set overwrites, moves only permute), so:
//!
//! * every snapshot has no duplicates, and every value in it was written (its counter is below
//!   what its thread has issued so far);
//! * at the end, the array holds exactly as many elements as were added minus those removed
//!   (each thread counts what its own operations returned), and the multiset of what remains
//!   is what was added minus what was removed (checked with an order-free hash sum, so the
//!   check needs O(1) memory and the memory figure is the array's own);
//! * `get(i)` returns `None` or a value that was written;
//! * while an export is held, the pointer and capacity do not change.
//!
//! The process exits with status 1 on the first violation.

use ftarray::{Error, FtArray};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Counts live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments, which satisfy
// `GlobalAlloc`'s contract because our callers do; the counters are only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// A small, fast, deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SHIFT: u32 = 48;
/// Keeps the array around this size so operations stay cheap and memory bounded.
const TARGET_LEN: usize = 4096;

struct Shared {
    array: FtArray<u64>,
    /// How many values each thread has issued (written or about to be written).
    issued: Vec<AtomicU64>,
    ops: AtomicU64,
    stop: AtomicBool,
    failed: AtomicBool,
}

impl Shared {
    fn fail(&self, what: String) {
        eprintln!("INVARIANT VIOLATED: {what}");
        self.failed.store(true, Relaxed);
        self.stop.store(true, Relaxed);
    }

    /// Whether `v` is a value some thread has issued.
    fn was_written(&self, v: u64) -> bool {
        let t = (v >> SHIFT) as usize;
        let n = v & ((1 << SHIFT) - 1);
        t < self.issued.len() && n < self.issued[t].load(Relaxed)
    }

    fn check_snapshot(&self, snapshot: &[u64], seen: &mut HashSet<u64>) {
        seen.clear();
        for &v in snapshot {
            if !seen.insert(v) {
                return self.fail(format!("value {v:#x} appears twice in one snapshot"));
            }
            if !self.was_written(v) {
                return self.fail(format!("snapshot holds {v:#x}, which was never written"));
            }
        }
    }
}

/// What one thread added to and removed from the array: counts and wrapping sums of a hash of
/// each value (an order-free fingerprint of the multiset).
#[derive(Default)]
struct Tally {
    added: u64,
    added_hash: u64,
    removed: u64,
    removed_hash: u64,
    ops: u64,
    refused: u64,
}

impl Tally {
    fn add(&mut self, v: u64) {
        self.added += 1;
        self.added_hash = self.added_hash.wrapping_add(mix(v));
    }
    fn remove(&mut self, v: u64) {
        self.removed += 1;
        self.removed_hash = self.removed_hash.wrapping_add(mix(v));
    }
}

/// A 64-bit finaliser (splitmix64), so that sums of distinct values rarely collide.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn worker(shared: &Shared, id: usize, seed: u64) -> Tally {
    let a = &shared.array;
    let mut rng = Rng(seed | 1);
    let mut tally = Tally::default();
    let mut seen = HashSet::new();
    let fresh = |n: usize| -> Vec<u64> {
        let start = shared.issued[id].fetch_add(n as u64, Relaxed);
        (start..start + n as u64)
            .map(|c| (id as u64) << SHIFT | c)
            .collect()
    };
    while !shared.stop.load(Relaxed) {
        let len = a.len();
        let grow = len < TARGET_LEN;
        let outcome: Result<(), Error> = match rng.below(20) {
            0 | 1 if grow => {
                let v = fresh(1);
                a.try_push(v[0]).map(|()| tally.add(v[0]))
            }
            2 if grow => {
                let v = fresh(1 + rng.below(64));
                a.try_extend_from_slice(&v)
                    .map(|()| v.iter().for_each(|&x| tally.add(x)))
            }
            3 if grow => {
                let v = fresh(1);
                a.insert(rng.below(len + 1), v[0]).map(|()| tally.add(v[0]))
            }
            4 => {
                if let Some(v) = a.pop() {
                    tally.remove(v);
                }
                Ok(())
            }
            5 => a.remove(rng.below(len.max(1))).map(|v| tally.remove(v)),
            6 => a
                .swap_remove(rng.below(len.max(1)))
                .map(|v| tally.remove(v)),
            7 => {
                let v = fresh(1);
                // `set` replaces a value: the old one counts as removed, the new as added.
                a.set(rng.below(len.max(1)), v[0]).map(|old| {
                    tally.remove(old);
                    tally.add(v[0]);
                })
            }
            8 => a.swap(rng.below(len.max(1)), rng.below(len.max(1))),
            9 => {
                a.reverse();
                Ok(())
            }
            10 => {
                a.sort_by(|x, y| (x & 0xff).cmp(&(y & 0xff)));
                Ok(())
            }
            11 => a.update(|v| {
                if !v.is_empty() {
                    let k = v.len() / 3;
                    v.rotate_left(k);
                }
            }),
            12 => {
                let s = rng.below(len + 1);
                let e = (s + rng.below(16)).min(len);
                a.remove_range(s..e)
                    .map(|r| r.iter().for_each(|&x| tally.remove(x)))
            }
            13 if rng.below(50) == 0 => {
                // Rarely: drop almost everything and give the memory back.
                a.remove_range(rng.below(64).min(len)..)
                    .map(|r| r.iter().for_each(|&x| tally.remove(x)))
                    .and_then(|()| a.shrink_to_fit())
            }
            14 => {
                let e = a.export();
                let before = (e.as_ptr(), a.capacity());
                for _ in 0..8 {
                    let _ = a.get(rng.below(len + 1));
                }
                if (e.as_ptr(), a.capacity()) != before {
                    shared.fail("exported storage moved".into());
                }
                Ok(())
            }
            15 | 16 => {
                let snapshot = a.to_vec();
                shared.check_snapshot(&snapshot, &mut seen);
                Ok(())
            }
            17 => {
                let r = a.reader();
                for _ in 0..32 {
                    if let Some(v) = r.get(rng.below(len + 1)) {
                        if !shared.was_written(v) {
                            shared.fail(format!("get returned {v:#x}, never written"));
                        }
                    }
                }
                Ok(())
            }
            _ => {
                if let Some(v) = a.get(rng.below(len + 1)) {
                    if !shared.was_written(v) {
                        shared.fail(format!("get returned {v:#x}, never written"));
                    }
                }
                Ok(())
            }
        };
        match outcome {
            Ok(()) | Err(Error::IndexOutOfRange { .. }) | Err(Error::RangeOutOfBounds { .. }) => {}
            Err(Error::Exported { .. }) => tally.refused += 1,
            Err(e) => shared.fail(format!("unexpected error: {e}")),
        }
        tally.ops += 1;
        if tally.ops % 1024 == 0 {
            shared.ops.fetch_add(1024, Relaxed);
        }
    }
    shared.ops.fetch_add(tally.ops % 1024, Relaxed);
    tally
}

struct Args {
    seconds: f64,
    threads: usize,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 10.0,
        threads: 4,
        seed: 0x5eed,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--seconds" => {
                args.seconds = value("--seconds")?
                    .parse()
                    .map_err(|e| format!("--seconds: {e}"))?;
                if !(args.seconds > 0.0 && args.seconds.is_finite()) {
                    return Err("--seconds must be a positive number".into());
                }
            }
            "--threads" => {
                args.threads = value("--threads")?
                    .parse()
                    .map_err(|e| format!("--threads: {e}"))?;
                if !(1..=64).contains(&args.threads) {
                    return Err("--threads must be between 1 and 64".into());
                }
            }
            "--seed" => {
                args.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--help" | "-h" => {
                println!(
                    "usage: soak [--seconds S (10)] [--threads N (4)] [--seed N]\n\
                     Random mixed operations on one FtArray<u64> from N threads, with \
                     invariant checks; prints operations/s and peak memory."
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown flag {other} (try --help)")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::from(2);
        }
    };
    let shared = Shared {
        array: FtArray::new(),
        issued: (0..args.threads).map(|_| AtomicU64::new(0)).collect(),
        ops: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        failed: AtomicBool::new(false),
    };
    let baseline = LIVE.load(Relaxed);
    PEAK.store(baseline, Relaxed);
    println!(
        "soak: {} threads, {} s, seed {:#x}",
        args.threads, args.seconds, args.seed
    );
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(args.seconds);
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..args.threads)
            .map(|id| {
                let shared = &shared;
                let seed = args.seed ^ (id as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                s.spawn(move || worker(shared, id, seed))
            })
            .collect();
        let mut last = (Instant::now(), 0);
        while Instant::now() < deadline && !shared.stop.load(Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            if last.0.elapsed() >= Duration::from_secs(10) {
                let ops = shared.ops.load(Relaxed);
                println!(
                    "  {:>5.0} s  {:>10.0} ops/s  len {:>5}  live {:>6} KiB  peak {:>6} KiB",
                    start.elapsed().as_secs_f64(),
                    (ops - last.1) as f64 / last.0.elapsed().as_secs_f64(),
                    shared.array.len(),
                    LIVE.load(Relaxed).saturating_sub(baseline) / 1024,
                    PEAK.load(Relaxed).saturating_sub(baseline) / 1024,
                );
                last = (Instant::now(), ops);
            }
        }
        shared.stop.store(true, Relaxed);
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();

    // Final accounting: exactly the added values minus the removed ones remain.
    let finale = shared.array.to_vec();
    let added: u64 = tallies.iter().map(|t| t.added).sum();
    let removed: u64 = tallies.iter().map(|t| t.removed).sum();
    if finale.len() as u64 != added - removed {
        shared.fail(format!(
            "final length {} != {added} added - {removed} removed",
            finale.len()
        ));
    }
    let expected_hash = tallies.iter().fold(0u64, |h, t| {
        h.wrapping_add(t.added_hash).wrapping_sub(t.removed_hash)
    });
    let final_hash = finale.iter().fold(0u64, |h, &v| h.wrapping_add(mix(v)));
    if final_hash != expected_hash {
        shared.fail("the remaining values are not the added ones minus the removed ones".into());
    }
    let mut seen = HashSet::new();
    shared.check_snapshot(&finale, &mut seen);

    let ops: u64 = tallies.iter().map(|t| t.ops).sum();
    let refused: u64 = tallies.iter().map(|t| t.refused).sum();
    let peak = PEAK.load(Relaxed).saturating_sub(baseline);
    println!("operations:      {ops} ({:.0} ops/s)", ops as f64 / elapsed);
    println!("refused (export): {refused}");
    println!("final length:    {}", finale.len());
    println!(
        "peak heap:       {:.1} MiB above the start (array of ~{} KiB live at most)",
        peak as f64 / (1 << 20) as f64,
        TARGET_LEN * 2 * 8 / 1024
    );
    if shared.failed.load(Relaxed) {
        println!("result:          FAIL");
        ExitCode::FAILURE
    } else {
        println!("result:          OK, every invariant held");
        ExitCode::SUCCESS
    }
}
