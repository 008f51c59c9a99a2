//! Writes through an export are never lost to the array's own read-modify-writes

use super::*;

/// An export's holder is the only one to write element 1, with increasing values, while
/// another thread runs every read-modify-write the array has that leaves element 1's value as
/// it is: `update` (of element 0), `reverse` (of three elements, which keeps index 1 in place),
/// `sort_by` with an all-equal comparison, `fetch_update`/`fetch_add` of element 1 by nothing,
/// `swap(1, 1)` and `swap(0, 2)`. Each reads element 1 and writes it back; none may write back
/// a stale value over the holder's later write, so the holder never sees its element go
/// backwards, and the updates of element 0 (moved between 0 and 2 by `reverse` and `swap`) all
/// count. (The write-back used to store the stale snapshot: 6,403 steps back in one run.)
fn export_writes_survive_rewrites<T: Num + Arith>() {
    let rounds = scaled(300_000) as u64;
    let a = FtArray::<T>::from_slice(&[enc(0), enc(0), enc(0)]);
    let e = a.export();
    let stop = AtomicBool::new(false);
    let started = Barrier::new(2);
    let mut updates = 0u64;
    thread::scope(|s| {
        let writer = s.spawn(|| {
            started.wait();
            let mut k = 0u64;
            while !stop.load(Relaxed) {
                k += 1;
                match k % 7 {
                    0 => {
                        a.update(|v| v[0] = enc(d(v[0]) + 1)).unwrap();
                        updates += 1;
                    }
                    1 => a.reverse(),
                    2 => a.sort_by(|_, _| std::cmp::Ordering::Equal),
                    3 => {
                        a.fetch_update(1, |x| x).unwrap();
                    }
                    4 => {
                        a.fetch_add(1, enc(0)).unwrap();
                    }
                    5 => a.swap(1, 1).unwrap(),
                    _ => a.swap(0, 2).unwrap(),
                }
            }
            k
        });
        started.wait();
        let mut backwards = 0usize;
        for i in 1..=rounds {
            assert!(e.store(1, enc(i)));
            let seen = d(e.load(1).unwrap());
            let read = d(a.get(1).unwrap());
            if seen < i || read < i {
                backwards += 1;
            }
        }
        stop.store(true, Relaxed);
        let ops = writer.join().unwrap();
        assert_eq!(
            backwards,
            0,
            "{}: the holder's element went backwards {backwards} times in {rounds} writes \
             against {ops} read-modify-writes",
            ty::<T>()
        );
    });
    assert_eq!(d(a.get(1).unwrap()), rounds, "{}", ty::<T>());
    assert_eq!(
        d(a.get(0).unwrap()) + d(a.get(2).unwrap()),
        updates,
        "{}: an update of element 0 was lost",
        ty::<T>()
    );
}

per_type!(
    writes_through_an_export_are_never_lost_to_rewrites,
    export_writes_survive_rewrites
);
