//! CPython #146007: clear() + extend() in some threads, indexing in others

use super::*;

/// Writers in the clear/extend tests.
pub(super) const CE_WRITERS: usize = 4;

/// The value at position `index` of a batch extended by `writer`.
pub(super) fn tag(index: usize, writer: usize) -> u64 {
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
pub(super) fn check_tagged<T: Num>(v: T, index: usize, batch: usize, what: &str) {
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
pub(super) fn check_batches<T: Num>(snap: &[T], batch: usize, what: &str) {
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
