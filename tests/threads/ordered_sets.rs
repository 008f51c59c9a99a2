//! One writer sets 0..n in order, round after round

use super::*;

/// The writer's states are totally ordered: state `s = r * n + k` has elements `0..k` equal to
/// `r + 1` and `k..n` equal to `r` (`0 <= k < n`). Returns the interval of states consistent with
/// `window` read at positions `start..start + window.len()`, failing if no state is: a window must
/// be non-increasing with max − min ≤ 1 (a prefix of `r + 1`, then a suffix of `r`).
fn set_round_states(window: &[u64], start: usize, n: usize, what: &str) -> (u64, u64) {
    let Some((&first, &last)) = window.first().zip(window.last()) else {
        return (0, u64::MAX);
    };
    assert!(
        window.windows(2).all(|p| p[0] >= p[1]) && first - last <= 1,
        "{what}: torn snapshot at {start}..{}: {window:?}",
        start + window.len()
    );
    let (n, start, end) = (n as u64, start as u64, (start + window.len()) as u64);
    if first == last {
        // Either round `v` with the boundary at or before `start`, or round `v - 1` with the
        // boundary at or after `end`.
        let lo = if first == 0 { 0 } else { (first - 1) * n + end };
        (lo, first * n + start)
    } else {
        let k = window.iter().take_while(|&&x| x == first).count() as u64;
        let s = last * n + start + k;
        (s, s)
    }
}

fn snapshots_never_torn<T: Num>() {
    const N: usize = 48;
    let rounds = scaled(5_000) as u64;
    let a = FtArray::from_slice(&[enc::<T>(0); N]);
    // The newest state any `set` may have produced: stored before each set begins.
    let announced = AtomicU64::new(0);
    let crew = Crew::new(1, 4);
    thread::scope(|s| {
        s.spawn(|| {
            let _running = crew.writer();
            for r in 0..rounds {
                for i in 0..N {
                    announced.store(r * N as u64 + i as u64 + 1, SeqCst);
                    let old = a.set(i, enc(r + 1)).unwrap();
                    assert_eq!(d(old), r, "set returned a stale old value");
                }
            }
        });
        // Reader 0: whole-array snapshots through the array.
        s.spawn(|| {
            let mut m = Monotone::new("to_vec/to_bytes");
            crew.read_until_done(|_| {
                let snap = decode_all(&a.to_vec());
                assert_eq!(snap.len(), N);
                let (lo, hi) = set_round_states(&snap, 0, N, "to_vec");
                m.observe(lo, hi, announced.load(SeqCst), || format!("{snap:?}"));
                let bytes = a.to_bytes();
                let snap: Vec<u64> = bytes
                    .chunks_exact(size_of::<T>())
                    .map(|b| d(T::from_ne(b)))
                    .collect();
                assert_eq!(snap.len(), N);
                let (lo, hi) = set_round_states(&snap, 0, N, "to_bytes");
                m.observe(lo, hi, announced.load(SeqCst), || format!("{snap:?}"));
            });
        });
        // Reader 1: a long-lived `Reader`, whole snapshots and windows.
        s.spawn(|| {
            let mut m = Monotone::new("Reader");
            let mut rng = Rng::new(1);
            let mut r = a.reader();
            let mut count = 0u32;
            crew.read_until_done(|_| {
                let snap = decode_all(&r.to_vec());
                let (lo, hi) = set_round_states(&snap, 0, N, "Reader::to_vec");
                m.observe(lo, hi, announced.load(SeqCst), || format!("{snap:?}"));
                let start = rng.below(N);
                let end = start + rng.below(N - start + 1);
                let win = decode_all(&r.get_range(start..end).unwrap());
                let (lo, hi) = set_round_states(&win, start, N, "Reader::get_range");
                m.observe(lo, hi, announced.load(SeqCst), || {
                    format!("{start}..: {win:?}")
                });
                let mut buf = vec![enc::<T>(0); rng.below(N - start + 1)];
                r.copy_to_slice(start, &mut buf).unwrap();
                let win = decode_all(&buf);
                let (lo, hi) = set_round_states(&win, start, N, "Reader::copy_to_slice");
                m.observe(lo, hi, announced.load(SeqCst), || {
                    format!("{start}..: {win:?}")
                });
                count += 1;
                if count % 8 == 0 {
                    r.repin();
                }
            });
        });
        // Reader 2: windows through the array.
        s.spawn(|| {
            let mut m = Monotone::new("windows");
            let mut rng = Rng::new(2);
            crew.read_until_done(|_| {
                let start = rng.below(N + 1);
                let end = start + rng.below(N - start + 1);
                let win = decode_all(&a.get_range(start..end).unwrap());
                let (lo, hi) = set_round_states(&win, start, N, "get_range");
                m.observe(lo, hi, announced.load(SeqCst), || {
                    format!("{start}..: {win:?}")
                });
                let mut buf = vec![enc::<T>(0); rng.below(N - start + 1)];
                a.copy_to_slice(start, &mut buf).unwrap();
                let win = decode_all(&buf);
                let (lo, hi) = set_round_states(&win, start, N, "copy_to_slice");
                m.observe(lo, hi, announced.load(SeqCst), || {
                    format!("{start}..: {win:?}")
                });
                assert!(a.get_range(start..N + 1).is_err());
            });
        });
        // Reader 3: single elements and the live iterator (each `next` its own instant).
        s.spawn(|| {
            let mut m = Monotone::new("get/iter");
            let mut rng = Rng::new(3);
            crew.read_until_done(|_| {
                let i = rng.below(N);
                let v = d(a.get(i).expect("the length never changes"));
                let (lo, hi) = set_round_states(&[v], i, N, "get");
                m.observe(lo, hi, announced.load(SeqCst), || format!("get({i}) = {v}"));
                assert_eq!(a.get(N), None);
                let mut seen = 0;
                for (p, v) in a.iter().enumerate() {
                    let v = d(v);
                    let (lo, hi) = set_round_states(&[v], p, N, "iter");
                    m.observe(lo, hi, announced.load(SeqCst), || {
                        format!("iter[{p}] = {v}")
                    });
                    seen += 1;
                }
                assert_eq!(seen, N);
            });
        });
    });
    assert_eq!(decode_all(&a.to_vec()), vec![rounds; N]);
}

per_type!(snapshots_are_never_torn, snapshots_never_torn);
