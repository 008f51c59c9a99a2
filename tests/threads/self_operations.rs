//! a.extend_from_array(&a) and a == a are one step each

use super::*;

/// `a.extend_from_array(&a)` while another thread pushes 1, 2, 3, …: the appended copy is the
/// whole array at the instant of the append. Afterwards the array reads
/// `0..p, 0..p, p, p + 1, …`. (The copy used to be taken before locking, so pushes landed
/// between the copy and the append: `0..=2651` followed by a copy `0..=2650`.)
fn self_extend_atomic<T: Num>() {
    let epochs = scaled(300);
    for epoch in 0..epochs {
        let a = FtArray::<T>::from_slice(&[enc(0)]);
        let stop = AtomicBool::new(false);
        let started = Barrier::new(2);
        thread::scope(|s| {
            s.spawn(|| {
                started.wait();
                let mut next = 1;
                // Bounded, so a failing run cannot push values past what `enc` can encode.
                while !stop.load(Relaxed) && next < 1 << 20 {
                    a.push(enc(next));
                    next += 1;
                }
            });
            started.wait();
            while a.len() < 1 + epoch % 64 {
                std::hint::spin_loop();
            }
            a.extend_from_array(&a);
            stop.store(true, Relaxed);
        });
        let v = decode_all(&a.to_vec());
        let p = v[1..]
            .iter()
            .position(|&x| x == 0)
            .expect("the copy starts with 0")
            + 1;
        let copy_ok = v.len() >= 2 * p && v[..p] == v[p..2 * p];
        let prefix_ok = v[..p].iter().enumerate().all(|(i, &x)| x == i as u64);
        let tail_ok = v[2 * p.min(v.len() / 2)..]
            .iter()
            .enumerate()
            .all(|(i, &x)| x == (p + i) as u64);
        assert!(
            copy_ok && prefix_ok && tail_ok,
            "{}: epoch {epoch}: the appended copy is not the array at the append: the array \
             held 0..{p}, then a copy of length {} ending in {:?}, then {} more elements",
            ty::<T>(),
            v[p..].iter().take_while(|&&x| x < p as u64).count(),
            v[p..].iter().take_while(|&&x| x < p as u64).last(),
            v.len().saturating_sub(2 * p)
        );
    }
}

per_type!(
    self_extend_copies_the_whole_array_at_one_instant,
    self_extend_atomic
);

/// `a == a` (and `a.partial_cmp(&a)`) while another thread pushes and truncates: one snapshot
/// compared with itself, so always equal. (It used to compare two snapshots taken at different
/// times.)
// `a == a` is the behaviour under test.
#[allow(clippy::eq_op)]
fn self_equality<T: Num>() {
    let rounds = scaled(20_000);
    let a = FtArray::<T>::from_slice(&[enc(0), enc(1)]);
    let stop = AtomicBool::new(false);
    let started = Barrier::new(2);
    thread::scope(|s| {
        s.spawn(|| {
            started.wait();
            let mut next = 2;
            while !stop.load(Relaxed) {
                a.push(enc(next % 1000));
                next += 1;
                if next % 4 == 0 {
                    a.truncate(2);
                }
            }
        });
        started.wait();
        for i in 0..rounds {
            assert!(a == a, "{}: round {i}: a != a", ty::<T>());
            assert_eq!(
                a.partial_cmp(&a),
                Some(std::cmp::Ordering::Equal),
                "{}: round {i}",
                ty::<T>()
            );
        }
        stop.store(true, Relaxed);
    });
}

per_type!(
    an_array_equals_itself_under_concurrent_writes,
    self_equality
);
