//! extend: all or nothing

use super::*;

/// Batches per epoch of the extend test: the writer clears the array after every `EPOCH` batches.
const EPOCH: u64 = 50;

/// The writer's operations, numbered from 1: epoch `e` is `EPOCH` extends (batch `k` filled with
/// the value `k`, for `k = e * EPOCH + 1 ..= (e + 1) * EPOCH`) followed by one `clear`. This is
/// the number of the extend that appends batch `k`; the clear ending epoch `e` is number
/// `(e + 1) * (EPOCH + 1)`, and the state after operation `s` is called state `s`.
fn extend_op(k: u64) -> u64 {
    k + (k - 1) / EPOCH
}

/// A non-empty state holds complete batches `f, f + 1, …` with `f` the first batch of an epoch;
/// returns the last batch (or `None` when empty).
fn complete_batches(snap: &[u64], b: usize, what: &str) -> Option<u64> {
    assert!(
        snap.len() % b == 0 && snap.len() <= b * EPOCH as usize,
        "{what}: length {} is not a whole number of batches of {b}",
        snap.len()
    );
    let first = *snap.first()?;
    assert!(
        first % EPOCH == 1,
        "{what}: starts with batch {first}, not the first of an epoch"
    );
    for (j, chunk) in snap.chunks(b).enumerate() {
        assert!(
            chunk.iter().all(|&x| x == first + j as u64),
            "{what}: batch {j} is not complete and in order: {chunk:?}"
        );
    }
    Some(first + (snap.len() / b) as u64 - 1)
}

fn extend_all_or_nothing<T: Num>() {
    const B: usize = 37;
    let batches = scaled(20_000) as u64;
    let a = FtArray::<T>::new();
    // The number of the newest operation that may have taken effect: stored before it begins.
    let announced = AtomicU64::new(0);
    let crew = Crew::new(1, 3);
    thread::scope(|s| {
        s.spawn(|| {
            let _running = crew.writer();
            for k in 1..=batches {
                announced.store(extend_op(k), SeqCst);
                let batch = vec![enc::<T>(k); B];
                // Three ways to append one batch, each a single step.
                match k % 3 {
                    0 => a.extend_from_slice(&batch),
                    1 => a.extend_from_array(&FtArray::from_slice(&batch)),
                    _ => a.resize(((k - 1) % EPOCH + 1) as usize * B, enc(k)),
                }
                if k % EPOCH == 0 && k < batches {
                    announced.store(extend_op(k) + 1, SeqCst);
                    a.clear();
                }
            }
        });
        for r in 0..3u64 {
            let (a, announced, crew) = (&a, &announced, &crew);
            s.spawn(move || {
                let mut m = Monotone::new("extend");
                let mut rng = Rng::new(r);
                let mut reader = a.reader();
                crew.read_until_done(|_| {
                    let len = a.len();
                    assert!(len % B == 0, "len() = {len} splits a batch");

                    let snap = decode_all(&a.to_vec());
                    if let Some(k) = complete_batches(&snap, B, "to_vec") {
                        let s = extend_op(k);
                        m.observe(s, s, announced.load(SeqCst), || format!("to_vec {snap:?}"));
                    }
                    if let Some(v) = a.last() {
                        let s = extend_op(d(v));
                        m.observe(s, s, announced.load(SeqCst), || format!("last() = {v:?}"));
                    }

                    // Some(v) at i: v is batch i / B of its epoch, and that epoch has not been
                    // cleared yet.
                    let i = rng.below(EPOCH as usize * B + 1);
                    if let Some(v) = a.get(i) {
                        let k = d(v);
                        assert_eq!((k - 1) % EPOCH, (i / B) as u64, "get({i}) = {k}");
                        let epoch_end = extend_op(k.div_ceil(EPOCH) * EPOCH);
                        m.observe(extend_op(k), epoch_end, announced.load(SeqCst), || {
                            format!("get({i}) = {k}")
                        });
                    }

                    let start = rng.below(EPOCH as usize * B);
                    let end = start + rng.below(3 * B);
                    match reader.get_range(start..end) {
                        Ok(win) => {
                            let win = decode_all(&win);
                            // All from one epoch, whose first batch is `first`.
                            let first = win.first().map(|&v| v - (start / B) as u64);
                            for (p, &v) in (start..).zip(&win) {
                                assert_eq!(
                                    Some(v - (p / B) as u64),
                                    first,
                                    "Reader::get_range({start}..{end}) = {win:?}"
                                );
                            }
                            assert!(first.is_none_or(|f| f % EPOCH == 1), "{win:?}");
                        }
                        Err(Error::RangeOutOfBounds { len, .. }) => {
                            assert!(len % B == 0 && len < end, "error reports length {len}");
                        }
                        Err(e) => panic!("unexpected error {e}"),
                    }
                    reader.repin();
                });
            });
        }
    });
    let fin = decode_all(&a.to_vec());
    assert_eq!(complete_batches(&fin, B, "final"), Some(batches));
    assert_eq!(fin.len(), ((batches - 1) % EPOCH + 1) as usize * B);
}

per_type!(extend_is_all_or_nothing, extend_all_or_nothing);
