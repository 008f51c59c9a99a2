//! Share one array between threads: writers push and clear, readers index, nobody locks.
//!
//! ```text
//! cargo run --example share
//! ```

use ftarray::FtArray;
use std::sync::Arc;
use std::thread;

fn main() {
    let samples = Arc::new(FtArray::<f64>::new());

    // Two writers append their own values; a third empties the array now and then.
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let samples = Arc::clone(&samples);
            thread::spawn(move || {
                for i in 0..10_000 {
                    samples.push(f64::from(w * 100_000 + i));
                }
            })
        })
        .collect();
    let clearer = {
        let samples = Arc::clone(&samples);
        thread::spawn(move || {
            for _ in 0..10 {
                samples.clear();
                thread::yield_now();
            }
        })
    };

    // Readers never block and never see freed memory: an index is either out of range or
    // holds a value some writer stored.
    let mut seen = 0;
    for i in 0..50_000 {
        if let Some(v) = samples.get(i % 1_000) {
            assert!(v >= 0.0);
            seen += 1;
        }
    }

    for w in writers {
        w.join().unwrap();
    }
    clearer.join().unwrap();
    println!(
        "{seen} reads found a value; {} samples are left (fewer if the clearer ran last)",
        samples.len()
    );
}
