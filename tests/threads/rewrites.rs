//! reverse (and sort) rewrite everything in one step

use super::*;

fn reverse_atomic<T: Num>() {
    const N: usize = 150; // above the crate's in-place threshold: a new buffer unless exported
    let rounds = scaled(20_000);
    let asc: Vec<u64> = (0..N as u64).collect();
    let desc: Vec<u64> = asc.iter().rev().copied().collect();
    let a = FtArray::from_slice(&asc.iter().map(|&x| enc::<T>(x)).collect::<Vec<_>>());
    let crew = Crew::new(1, 3);
    thread::scope(|s| {
        s.spawn(|| {
            let _running = crew.writer();
            for r in 0..rounds {
                // Odd rounds run under an export: the rewrite is then done in place, inside one
                // (O(n)) version step, and must still look like one step.
                let export = (r % 2 == 1).then(|| a.export());
                if r % 5 == 4 {
                    // Same effect as a reverse, through sort_by.
                    let descending = d(a.get(0).unwrap()) == 0;
                    a.sort_by(|x, y| {
                        let (x, y) = (d(*x), d(*y));
                        if descending { y.cmp(&x) } else { x.cmp(&y) }
                    });
                } else {
                    a.reverse();
                }
                drop(export);
                let want = if r % 2 == 0 { N - 1 } else { 0 };
                assert_eq!(d(a.get(0).unwrap()), want as u64, "after round {r}");
            }
        });
        for r in 0..3u64 {
            let (a, crew, asc, desc) = (&a, &crew, &asc, &desc);
            s.spawn(move || {
                let mut rng = Rng::new(r);
                let mut reader = a.reader();
                crew.read_until_done(|_| {
                    let snap = decode_all(&a.to_vec());
                    assert!(
                        snap == *asc || snap == *desc,
                        "to_vec is neither ascending nor descending: {snap:?}"
                    );
                    let i = rng.below(N);
                    let v = d(a.get(i).expect("the length never changes"));
                    assert!(v == i as u64 || v == (N - 1 - i) as u64, "get({i}) = {v}");
                    assert_eq!(a.get(N), None);

                    let start = rng.below(N);
                    let end = start + rng.below(N - start + 1);
                    let win = decode_all(&reader.get_range(start..end).unwrap());
                    assert!(
                        win[..] == asc[start..end] || win[..] == desc[start..end],
                        "get_range({start}..{end}) is torn: {win:?}"
                    );
                    for (p, v) in reader.iter().enumerate() {
                        let v = d(v);
                        assert!(v == p as u64 || v == (N - 1 - p) as u64, "iter[{p}] = {v}");
                    }
                    reader.repin();
                });
            });
        }
    });
    let fin = decode_all(&a.to_vec());
    let want = if rounds % 2 == 1 { &desc } else { &asc };
    assert_eq!(&fin, want);
}

per_type!(reverse_is_atomic, reverse_atomic);
