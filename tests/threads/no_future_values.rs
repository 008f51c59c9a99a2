//! A popped and refilled slot never shows a value from the future (CPython #130744)

use super::*;

fn pop_push_no_future_value<T: Num>() {
    const N: usize = 16;
    let rounds = scaled(80_000) as u64;
    let a = FtArray::from_slice(&[enc::<T>(0); N]);
    // `r` is stored (SeqCst) before `push(r)` begins.
    let announced = AtomicU64::new(0);
    let crew = Crew::new(1, 3);
    thread::scope(|s| {
        s.spawn(|| {
            let _running = crew.writer();
            for r in 1..=rounds {
                assert_eq!(a.pop().map(d), Some(r - 1));
                announced.store(r, SeqCst);
                a.push(enc(r));
            }
        });
        for r in 0..3u64 {
            let (a, announced, crew) = (&a, &announced, &crew);
            s.spawn(move || {
                let mut reader = a.reader();
                let mut last = 0;
                let mut n = 0u32;
                crew.read_until_done(|_| {
                    let v = if r == 0 {
                        reader.get(N - 1)
                    } else {
                        a.get(N - 1)
                    };
                    // SeqCst, after the read: a value `x` needs push(x) to have begun.
                    let now = announced.load(SeqCst);
                    if let Some(v) = v {
                        let x = d(v);
                        assert!(
                            x <= now,
                            "get({}) = {x}, but push({x}) had not begun",
                            N - 1
                        );
                        assert!(x >= last, "get({}) went back from {last} to {x}", N - 1);
                        last = x;
                    }
                    assert_eq!(a.get(N - 2).map(d), Some(0));
                    n += 1;
                    if n % 64 == 0 {
                        reader.repin();
                    }
                });
                assert_eq!(last, rounds, "the final read must see the last push");
            });
        }
    });
}

fn truncate_extend_no_future_value<T: Num>() {
    const N: usize = 16;
    const K: usize = 5;
    let rounds = scaled(60_000) as u64;
    let a = FtArray::from_slice(&[enc::<T>(0); N]);
    let announced = AtomicU64::new(0);
    let crew = Crew::new(1, 3);
    thread::scope(|s| {
        s.spawn(|| {
            let _running = crew.writer();
            for r in 1..=rounds {
                a.truncate(N - K);
                announced.store(r, SeqCst);
                a.extend_from_slice(&[enc(r); K]);
            }
        });
        for r in 0..3u64 {
            let (a, announced, crew) = (&a, &announced, &crew);
            s.spawn(move || {
                let mut rng = Rng::new(r);
                let mut last = 0;
                let mut check = |x: u64, now: u64, what: &dyn Fn() -> String| {
                    assert!(x <= now, "{}: {x} before extend({x}) began", what());
                    assert!(x >= last, "{}: went back from {last} to {x}", what());
                    last = x;
                };
                crew.read_until_done(|_| {
                    // States: the head of N - K zeros, then either nothing or K copies of one r.
                    let snap = decode_all(&a.to_vec());
                    let now = announced.load(SeqCst);
                    assert!(snap[..N - K].iter().all(|&x| x == 0), "{snap:?}");
                    match snap.len() {
                        len if len == N - K => {}
                        N => {
                            let tail = &snap[N - K..];
                            assert!(tail.iter().all(|&x| x == tail[0]), "torn tail {snap:?}");
                            check(tail[0], now, &|| format!("to_vec {snap:?}"));
                        }
                        len => panic!("length {len}: {snap:?}"),
                    }
                    let i = N - 1 - rng.below(K);
                    let v = a.get(i);
                    let now = announced.load(SeqCst);
                    if let Some(v) = v {
                        check(d(v), now, &|| format!("get({i})"));
                    }
                });
                assert_eq!(last, rounds);
            });
        }
    });
}

#[test]
fn popped_and_refilled_slot_never_shows_a_future_value() {
    pop_push_no_future_value::<u32>();
    pop_push_no_future_value::<u64>();
    pop_push_no_future_value::<f64>();
    truncate_extend_no_future_value::<u32>();
    truncate_extend_no_future_value::<u64>();
    truncate_extend_no_future_value::<f64>();
}
