//! What a reader that stays pinned costs the writers: the time of a small `insert` (which
//! retires a block) with and without another thread holding a pinned [`Reader`], once more
//! than the back-pressure limit of retired memory is waiting on that reader.
//!
//! A measurement, not a test: run it in release on a quiet machine and compare the figures of
//! one run.
//!
//! ```text
//! cargo run --release --example pinned_reader
//! ```
//!
//! It prints, per phase, the median over several batches of the time of one small
//! `insert` + `remove` pair (each retires a 3-element block), and the retired bytes.

use ftarray::{FtArray, retired_bytes};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

/// Pairs per batch, and batches per phase.
const PAIRS: usize = 2_000;
const BATCHES: usize = 15;

/// Median time of one `insert` + `remove` pair on a 3-element array, in nanoseconds.
fn small_edit_ns(a: &FtArray<u32>) -> f64 {
    let mut batches: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for i in 0..PAIRS {
                a.insert(1, i as u32).unwrap();
                a.remove(1).unwrap();
            }
            start.elapsed().as_nanos() as f64 / PAIRS as f64
        })
        .collect();
    batches.sort_by(f64::total_cmp);
    batches[BATCHES / 2]
}

fn main() {
    let small = FtArray::from_slice(&[1u32, 2, 3]);
    let big = FtArray::from_slice(&vec![0u64; 128 * 1024]); // 1 MiB

    let baseline = small_edit_ns(&small);
    println!(
        "no pinned reader:            {baseline:>10.0} ns per insert+remove   (retired {} KiB)",
        retired_bytes() / 1024
    );

    // Another thread pins a reader and idles until told to stop.
    let (pinned_tx, pinned_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let idle = {
        let other = FtArray::from_slice(&[0u8]);
        thread::spawn(move || {
            let reader = other.reader();
            pinned_tx.send(()).unwrap();
            let _ = stop_rx.recv();
            drop(reader);
        })
    };
    pinned_rx.recv().unwrap();

    // Retire more than the 8 MiB soft limit behind that reader: twelve 1 MiB buffers.
    for _ in 0..12 {
        big.insert(0, 1).unwrap();
    }
    let stalled = retired_bytes();
    let pinned = small_edit_ns(&small);
    println!(
        "reader pinned on a thread:   {pinned:>10.0} ns per insert+remove   (retired {} KiB)",
        stalled / 1024
    );

    // And with this thread pinned too (the writer's own `Reader`).
    let own = small.reader();
    let self_pinned = small_edit_ns(&small);
    drop(own);
    println!("and this thread pinned too:  {self_pinned:>10.0} ns per insert+remove");

    stop_tx.send(()).unwrap();
    idle.join().unwrap();
    println!(
        "ratio pinned / baseline:     {:>10.1}x (same run)",
        pinned / baseline
    );
}
