//! fetch_add loses no updates while other writers move the storage

use super::*;

fn fetch_add_exact<T: Num + Arith>() {
    const SLOTS: usize = 8;
    const ADDERS: usize = 3;
    let per = scaled(30_000);
    let a = FtArray::from_slice(&[enc::<T>(0); SLOTS]);
    let crew = Crew::new(ADDERS, 2);
    let (counts, tail) = thread::scope(|s| {
        let adders: Vec<_> = (0..ADDERS)
            .map(|t| {
                let (a, crew) = (&a, &crew);
                s.spawn(move || {
                    let _running = crew.writer();
                    let mut rng = Rng::new(t as u64);
                    let mut counts = [0u64; SLOTS];
                    for _ in 0..per {
                        let i = rng.below(SLOTS);
                        if rng.below(2) == 0 {
                            a.fetch_add(i, enc(1)).unwrap();
                        } else {
                            a.fetch_update(i, |x| enc(d(x) + 1)).unwrap();
                        }
                        counts[i] += 1;
                    }
                    counts
                })
            })
            .collect();
        // The churner owns everything past the counters and mirrors it in `tail`; most of its
        // operations publish a new buffer that must carry every increment made before it.
        let churner = s.spawn(|| {
            let mut rng = Rng::new(1000);
            let mut tail: Vec<u64> = Vec::new();
            let mut next = 500;
            crew.read_until_done(|_| {
                next += 1;
                let j = rng.below(tail.len() + 1);
                match rng.below(9) {
                    0 | 1 if tail.len() < 32 => {
                        a.push(enc(next));
                        tail.push(next);
                    }
                    2 if !tail.is_empty() => {
                        assert_eq!(a.pop().map(d), tail.pop());
                    }
                    3 if tail.len() < 32 => {
                        a.insert(SLOTS + j, enc(next)).unwrap();
                        tail.insert(j, next);
                    }
                    4 if j < tail.len() => {
                        assert_eq!(a.remove(SLOTS + j).map(d), Ok(tail.remove(j)));
                    }
                    5 if j < tail.len() => {
                        assert_eq!(a.set(SLOTS + j, enc(next)).map(d), Ok(tail[j]));
                        tail[j] = next;
                    }
                    6 => {
                        a.shrink_to_fit().unwrap();
                        a.reserve(rng.below(64));
                    }
                    7 => {
                        a.update(|v| v[SLOTS..].rotate_left(usize::from(!tail.is_empty())))
                            .unwrap();
                        if !tail.is_empty() {
                            tail.rotate_left(1);
                        }
                    }
                    _ => {
                        let fresh: Vec<u64> = (0..rng.below(40) as u64).map(|x| x + next).collect();
                        let encoded: Vec<T> = fresh.iter().map(|&x| enc(x)).collect();
                        a.replace_range(SLOTS.., &encoded).unwrap();
                        next += 40;
                        tail = fresh;
                    }
                }
            });
            tail
        });
        // A reader: counters only grow.
        s.spawn(|| {
            let mut last = [0u64; SLOTS];
            crew.read_until_done(|_| {
                let now = decode_all(&a.get_range(..SLOTS).unwrap());
                for (i, (&now, last)) in now.iter().zip(last.iter_mut()).enumerate() {
                    assert!(now >= *last, "slot {i} went back from {last} to {now}");
                    *last = now;
                }
            });
        });
        let counts: Vec<[u64; SLOTS]> = adders.into_iter().map(|h| h.join().unwrap()).collect();
        (counts, churner.join().unwrap())
    });
    let fin = decode_all(&a.to_vec());
    for i in 0..SLOTS {
        let want: u64 = counts.iter().map(|c| c[i]).sum();
        assert_eq!(fin[i], want, "{}: slot {i} lost increments", ty::<T>());
    }
    assert_eq!(fin[SLOTS..], tail[..]);
}

per_type!(fetch_add_loses_no_updates, fetch_add_exact);
