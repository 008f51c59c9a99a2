//! Long-lived Reader handles against clear/extend/shrink churn

use super::clear_and_extend::{CE_WRITERS, check_batches, check_tagged, tag};
use super::*;

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
