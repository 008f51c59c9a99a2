//! An edit is never reported done and then dropped while exports come and go

use super::*;

/// `update` and `retain` against a thread that exports and drops in a loop: each call either
/// fails with `Exported` and changes nothing, or succeeds and its edit is in the array. (The
/// export count used to be loaded twice: if the last export was dropped between the loads, the
/// edit returned `Ok` without being published.)
fn edits_survive_export_churn<T: Num>() {
    let rounds = scaled(30_000);
    let a = FtArray::<T>::from_slice(&[enc(0)]);
    let stop = AtomicBool::new(false);
    let started = Barrier::new(2);
    let (mut grown, mut shrunk, mut refused) = (0usize, 0usize, 0usize);
    let mut i = 0;
    thread::scope(|s| {
        s.spawn(|| {
            let mut rng = Rng::new(11);
            started.wait();
            while !stop.load(Relaxed) {
                let e = a.export();
                // Hold it, and then stay away, for short random times, so that the drop lands
                // anywhere in a writer's critical section.
                for _ in 0..rng.below(1024) {
                    std::hint::spin_loop();
                }
                drop(e);
                // Sometimes long enough that a writer parked on the lock wakes up and gets it.
                let away = if rng.below(2) == 0 { 256 } else { 32_768 };
                for _ in 0..rng.below(away) {
                    std::hint::spin_loop();
                }
            }
        });
        started.wait();
        // At least `rounds` edits, and more until some have been refused (the exporter thread
        // may be scheduled late on a busy machine).
        while i < rounds || (refused < 100 && i < 100 * rounds) {
            i += 1;
            let before = a.len();
            let result = if i % 2 == 0 {
                a.update(|v| v.push(enc(1))).map(|()| grown += 1)
            } else {
                a.retain(|x| d(*x) == 0).map(|()| shrunk += before - 1)
            };
            match result {
                Ok(()) => {}
                Err(Error::Exported { .. }) => refused += 1,
                Err(e) => panic!("unexpected error {e}"),
            }
            assert_eq!(
                a.len(),
                1 + grown - shrunk,
                "{}: round {i}: an edit returned Ok but the array does not show it",
                ty::<T>()
            );
        }
        stop.store(true, Relaxed);
    });
    assert!(
        refused > 0 && grown > 0,
        "the exporter never overlapped an edit ({refused} refused, {grown} grown, {i} rounds)"
    );
}

per_type!(
    edits_are_never_dropped_while_exports_come_and_go,
    edits_survive_export_churn
);
