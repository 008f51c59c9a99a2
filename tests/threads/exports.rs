//! Exports pin the storage

use super::*;

fn exports_block_moves<T: Num>() {
    const BASE: u64 = 64;
    const FRONT: u64 = 7777;
    const TAIL: u64 = 100_000;
    let rounds = scaled(1_000);
    let base: Vec<u64> = (0..BASE).collect();
    let a = FtArray::from_slice(&base.iter().map(|&x| enc::<T>(x)).collect::<Vec<_>>());
    let valid = |x: u64| x < BASE || x == FRONT || x >= TAIL;
    let refused = AtomicUsize::new(0);
    let moved = AtomicUsize::new(0);
    let crew = Crew::new(1, 2);
    let (front, tail) = thread::scope(|s| {
        // The exporter: while it holds an export, the storage must not move.
        s.spawn(|| {
            let _running = crew.writer();
            let mut rng = Rng::new(6);
            for _ in 0..rounds {
                let e = a.export();
                let (ptr, len, cap) = (e.as_ptr(), e.len(), a.capacity());
                assert!(len >= BASE as usize && cap >= len);
                // Until the first refusal, hold the export until a moving operation has been
                // refused; afterwards hold each export for a short random number of checks.
                let first = refused.load(SeqCst) == 0;
                let holds = if first { 100_000 } else { 1 + rng.below(24) };
                for spin in 0..holds {
                    assert_eq!(a.capacity(), cap, "capacity changed while exported");
                    assert_eq!(a.export_count(), 1);
                    if spin % 4 == 0 {
                        let again = a.export();
                        assert_eq!(again.as_ptr(), ptr, "storage moved while exported");
                        assert_eq!(a.export_count(), 2);
                    }
                    for i in 0..len {
                        // An atomic load of the element's whole unit: the export keeps the
                        // storage in place, and every other access to it is atomic too.
                        let v = e.load(i).expect("within the export's length");
                        assert!(valid(d(v)), "cell {i} holds {v:?} while exported");
                    }
                    if first && refused.load(SeqCst) > 0 {
                        break;
                    }
                    if spin % 64 == 63 {
                        thread::yield_now();
                    }
                }
                drop(e);
                assert_eq!(a.export_count(), 0);
                // A short gap (no yield: that can cost a whole time slice) for moves to succeed.
                for _ in 0..256 {
                    std::hint::spin_loop();
                }
            }
        });
        // The front: insert(0)/remove(0) always move the storage; shrink_to_fit sometimes.
        let front = s.spawn(|| {
            let mut rng = Rng::new(7);
            let mut pending = 0usize;
            let count = |r: Result<(), Error>, last: bool| match r {
                Ok(()) => {
                    moved.fetch_add(1, Relaxed);
                    true
                }
                Err(Error::Exported { exports }) => {
                    assert!(exports >= 1);
                    assert!(!last, "refused with no export alive");
                    refused.fetch_add(1, SeqCst);
                    false
                }
                Err(e) => panic!("unexpected error {e}"),
            };
            // After the exporter is done (`last`), one insert or remove that must succeed.
            crew.read_until_done(|last| {
                if !last && rng.below(8) == 0 {
                    let r = a.shrink_to_fit();
                    assert!(matches!(r, Ok(()) | Err(Error::Exported { .. })), "{r:?}");
                    if r.is_err() {
                        refused.fetch_add(1, SeqCst);
                    }
                } else if pending < 3 && (last || rng.below(2) == 0) {
                    if count(a.insert(0, enc(FRONT)), last) {
                        pending += 1;
                    }
                } else if pending > 0 {
                    let r = a.remove(0);
                    if count(r.as_ref().map(|_| ()).map_err(Clone::clone), last) {
                        assert_eq!(r.map(d), Ok(FRONT));
                        pending -= 1;
                    }
                }
            });
            pending
        });
        // The tail: push (which grows when full) and pop, checking what comes back.
        let tail = s.spawn(|| {
            let mut rng = Rng::new(8);
            let mut pushed = Vec::new();
            let mut next = TAIL;
            crew.read_until_done(|_| {
                if pushed.len() < 6 && rng.below(2) == 0 {
                    match a.try_push(enc(next)) {
                        Ok(()) => {
                            pushed.push(next);
                            next += 1;
                        }
                        Err(Error::Exported { exports }) => {
                            assert!(exports >= 1);
                            refused.fetch_add(1, SeqCst);
                        }
                        Err(e) => panic!("unexpected error {e}"),
                    }
                } else if let Some(want) = pushed.pop() {
                    assert_eq!(a.pop().map(d), Some(want), "pop lost or changed an element");
                }
            });
            pushed
        });
        (front.join().unwrap(), tail.join().unwrap())
    });
    assert!(
        refused.load(Relaxed) > 0,
        "no moving operation was ever refused"
    );
    assert!(
        moved.load(Relaxed) > 0,
        "no moving operation ever succeeded"
    );
    let mut want = vec![FRONT; front];
    want.extend(&base);
    want.extend(&tail);
    assert_eq!(decode_all(&a.to_vec()), want);
}

per_type!(
    exports_block_moves_while_threads_push_and_pop,
    exports_block_moves
);
