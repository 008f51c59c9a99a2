//! Memory bench (not criterion): how many bytes retired buffers hold while readers run.
//!
//! A counting global allocator tracks live and peak heap bytes. A 1M-element `u32` array is
//! cleared, shrunk to nothing (`shrink_to_fit`, which retires its 4 MiB buffer to the epoch
//! collector) and refilled, 300 times, while 2 reader threads call `get` (one epoch pin per
//! call) in a loop. The target: peak live bytes ≤ 3 × the array's live bytes + 16 MiB.
//!
//! Prints the figures, and writes them as JSON to `<criterion dir>/memory/result.json` for
//! `scripts/bench_summary.py` (the criterion dir is `$CRITERION_HOME`, else
//! `$CARGO_TARGET_DIR/criterion`, else `criterion/` in the target dir holding this binary).
//! Command-line arguments (those `cargo bench` passes to every bench) are ignored.

use ftarray::FtArray;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::thread;
use std::time::Instant;

/// Live heap bytes.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The highest value `LIVE` has reached since the last reset.
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting bytes.
struct Counting;

fn grew(bytes: usize) {
    let now = LIVE.fetch_add(bytes, Relaxed) + bytes;
    PEAK.fetch_max(now, Relaxed);
}

fn shrank(bytes: usize) {
    LIVE.fetch_sub(bytes, Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so it
// upholds `GlobalAlloc`'s contract exactly as `System` does; the counting touches only atomics
// and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` was allocated by `System` (through this allocator)
        // with `layout`, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            grew(new_size);
            shrank(layout.size());
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const N: usize = 1 << 20;
const ROUNDS: usize = 300;
const READERS: usize = 2;
const MIB: f64 = 1024.0 * 1024.0;

/// Where criterion writes its results; see the module docs.
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    // This binary is `<target>/<profile>/deps/memory-<hash>`.
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

fn main() {
    let src: Vec<u32> = (0..N as u32).collect();
    let base = LIVE.load(Relaxed);
    let array = FtArray::from_slice(&src);
    // The array's own live bytes: its one block, header included.
    let live = LIVE.load(Relaxed) - base;

    let stop = AtomicBool::new(false);
    let reads = AtomicU64::new(0);
    let started = AtomicUsize::new(0);
    let (elapsed, peak) = thread::scope(|s| {
        for t in 0..READERS {
            let (array, stop, reads, started) = (&array, &stop, &reads, &started);
            s.spawn(move || {
                // The first pin registers this thread with the collector (an allocation):
                // done before the measurement starts.
                black_box(array.get(0));
                started.fetch_add(1, Relaxed);
                let mut i = t * 7919;
                let mut n = 0u64;
                while !stop.load(Relaxed) {
                    i = (i + 7919) & (N - 1);
                    black_box(array.get(i));
                    n += 1;
                }
                reads.fetch_add(n, Relaxed);
            });
        }
        while started.load(Relaxed) < READERS {
            thread::yield_now();
        }
        PEAK.store(LIVE.load(Relaxed), Relaxed);
        let start = Instant::now();
        for _ in 0..ROUNDS {
            array.clear();
            array.shrink_to_fit().expect("not exported");
            array.extend_from_slice(&src);
        }
        let elapsed = start.elapsed();
        let peak = PEAK.load(Relaxed) - base;
        stop.store(true, Relaxed);
        (elapsed, peak)
    });
    assert_eq!(array.len(), N);
    let live_after = LIVE.load(Relaxed).saturating_sub(base);

    let bound = 3 * live + 16 * 1024 * 1024;
    let ratio = peak as f64 / live as f64;
    let met = peak <= bound;
    let reads = reads.load(Relaxed);

    println!("memory: {N}-element u32 array, {ROUNDS} rounds of clear + shrink_to_fit + refill,");
    println!("        {READERS} reader threads calling get (one pin per call) meanwhile");
    println!(
        "  live bytes (the array)      {live:>12}  ({:.2} MiB)",
        live as f64 / MIB
    );
    println!(
        "  peak live bytes             {peak:>12}  ({:.2} MiB)",
        peak as f64 / MIB
    );
    println!("  peak / live                 {ratio:>12.2}");
    println!(
        "  bound 3 x live + 16 MiB     {bound:>12}  ({:.2} MiB): {}",
        bound as f64 / MIB,
        if met { "within" } else { "EXCEEDED" }
    );
    println!(
        "  live bytes after the run    {live_after:>12}  ({:.2} MiB)",
        live_after as f64 / MIB
    );
    println!(
        "  time {:.3} s ({:.2} ms per round), {reads} reads by the readers",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / ROUNDS as f64
    );

    let dir = criterion_dir().join("memory");
    let json = format!(
        concat!(
            "{{\"elements\": {}, \"rounds\": {}, \"readers\": {}, \"live_bytes\": {}, ",
            "\"peak_bytes\": {}, \"bound_bytes\": {}, \"ratio\": {:.4}, \"met\": {}, ",
            "\"live_after_bytes\": {}, \"seconds\": {:.4}, \"reads\": {}}}\n"
        ),
        N,
        ROUNDS,
        READERS,
        live,
        peak,
        bound,
        ratio,
        met,
        live_after,
        elapsed.as_secs_f64(),
        reads
    );
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join("result.json"), json))
    {
        Ok(()) => println!("  written to {}", dir.join("result.json").display()),
        Err(e) => eprintln!("  could not write {}: {e}", dir.display()),
    }
}
