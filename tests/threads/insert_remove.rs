//! insert/remove shift every later element: readers see before or after, never during

use super::*;

fn insert_remove_atomic<T: Num>() {
    const N: usize = 100;
    const MID: usize = 37;
    const MARK: u64 = 1_000_000;
    let rounds = scaled(15_000);
    let base: Vec<u64> = (0..N as u64).collect();
    let mut at_front = vec![MARK];
    at_front.extend(&base);
    let mut in_middle = base[..MID].to_vec();
    in_middle.push(MARK);
    in_middle.extend(&base[MID..]);
    // The only states: the base, MARK inserted at 0, MARK inserted at MID.
    let states = [base.clone(), at_front, in_middle];

    let a = FtArray::from_slice(&base.iter().map(|&x| enc::<T>(x)).collect::<Vec<_>>());
    let crew = Crew::new(1, 3);
    thread::scope(|s| {
        s.spawn(|| {
            let _running = crew.writer();
            let mark = enc::<T>(MARK);
            for r in 0..rounds {
                a.insert(0, mark).unwrap();
                assert_eq!(d(a.remove(0).unwrap()), MARK);
                match r % 3 {
                    0 => {
                        a.insert(MID, mark).unwrap();
                        assert_eq!(d(a.remove(MID).unwrap()), MARK);
                    }
                    1 => {
                        a.replace_range(MID..MID, &[mark]).unwrap();
                        assert_eq!(a.remove_item(&mark), Ok(Some(MID)));
                    }
                    _ => {
                        a.insert(MID, mark).unwrap();
                        assert_eq!(decode_all(&a.remove_range(MID..=MID).unwrap()), [MARK]);
                    }
                }
            }
        });
        for r in 0..3u64 {
            let (a, crew, states) = (&a, &crew, &states);
            s.spawn(move || {
                let mut rng = Rng::new(r);
                let mut reader = a.reader();
                crew.read_until_done(|_| {
                    reader.repin();
                    let snap = decode_all(&a.to_vec());
                    assert!(
                        states.contains(&snap),
                        "to_vec is none of the valid states: {snap:?}"
                    );
                    let len = a.len();
                    assert!(len == N || len == N + 1, "len() = {len}");

                    let i = rng.below(N + 3);
                    match a.get(i) {
                        Some(v) => {
                            let v = d(v);
                            assert!(
                                states.iter().any(|st| st.get(i) == Some(&v)),
                                "get({i}) = {v}, which no valid state holds at {i}"
                            );
                        }
                        None => assert!(i >= N, "get({i}) = None below the minimum length"),
                    }

                    let p = a.position(&enc(MARK));
                    assert!(matches!(p, None | Some(0) | Some(MID)), "position = {p:?}");
                    assert!(a.count(&enc(MARK)) <= 1);

                    let start = rng.below(N + 1);
                    let end = start + rng.below(N + 2 - start);
                    if let Ok(win) = reader.get_range(start..end) {
                        let win = decode_all(&win);
                        assert!(
                            states.iter().any(|st| st.get(start..end) == Some(&win[..])),
                            "get_range({start}..{end}) = {win:?} fits no valid state"
                        );
                    } else {
                        assert!(end > N, "get_range({start}..{end}) failed below the length");
                    }
                });
            });
        }
    });
    assert_eq!(decode_all(&a.to_vec()), base);
}

per_type!(insert_remove_shifts_are_atomic, insert_remove_atomic);
