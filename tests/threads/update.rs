//! update: an arbitrary edit, published in one step

use super::*;

fn update_atomic<T: Num>() {
    const N0: usize = 40;
    const MAX_LEN: usize = 80;
    let rounds = scaled(20_000) as u64;
    let a = FtArray::from_slice(&[enc::<T>(0); N0]);
    // The number of the newest update that may have been published: stored before it begins.
    let announced = AtomicU64::new(0);
    let crew = Crew::new(1, 3);
    let refused = AtomicUsize::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            let _running = crew.writer();
            let mut rng = Rng::new(99);
            let (mut count, mut len) = (0u64, N0);
            for r in 0..rounds {
                // 0: same length, 1: push, 2: pop. Some updates run under an export: one that
                // changes the length must then fail and change nothing (every fifth round); one
                // that keeps it is written in place, in one O(n) step (every seventh).
                let (refuse, in_place) = (r % 5 == 4, r % 7 == 6);
                let change = if refuse {
                    if len > 1 { 2 } else { 1 }
                } else if in_place {
                    0
                } else {
                    rng.below(3)
                };
                let new_len = match change {
                    1 if len < MAX_LEN => len + 1,
                    2 if len > 1 => len - 1,
                    _ => len,
                };
                let export = (refuse || in_place).then(|| a.export());
                announced.store(count + 1, SeqCst);
                let result = a.update(|v| {
                    assert_eq!(v.len(), len, "update saw a stale copy");
                    for x in v.iter_mut() {
                        *x = enc(d(*x) + 1);
                    }
                    match change {
                        1 if v.len() < MAX_LEN => v.push(v[0]),
                        2 if v.len() > 1 => {
                            v.pop();
                        }
                        _ => {}
                    }
                    v.len()
                });
                if export.is_some() && new_len != len {
                    assert_eq!(result, Err(Error::Exported { exports: 1 }));
                    refused.fetch_add(1, Relaxed);
                } else {
                    assert_eq!(result, Ok(new_len));
                    count += 1;
                    len = new_len;
                }
                drop(export);
                assert_eq!(
                    decode_all(&a.to_vec()),
                    vec![count; len],
                    "after update {r}"
                );
            }
        });
        for r in 0..3u64 {
            let (a, announced, crew) = (&a, &announced, &crew);
            s.spawn(move || {
                let mut m = Monotone::new("update");
                let mut rng = Rng::new(r);
                crew.read_until_done(|_| {
                    let snap = decode_all(&a.to_vec());
                    assert!((1..=MAX_LEN).contains(&snap.len()), "length {}", snap.len());
                    assert!(
                        snap.iter().all(|&x| x == snap[0]),
                        "to_vec mixes two updates: {snap:?}"
                    );
                    let c = snap[0];
                    m.observe(c, c, announced.load(SeqCst), || format!("{snap:?}"));
                    let i = rng.below(MAX_LEN + 1);
                    if let Some(v) = a.get(i) {
                        let c = d(v);
                        m.observe(c, c, announced.load(SeqCst), || format!("get({i}) = {c}"));
                    }
                });
            });
        }
    });
    assert!(
        refused.load(Relaxed) > 0,
        "no update was refused under an export"
    );
    let fin = decode_all(&a.to_vec());
    assert!(fin.iter().all(|&x| x == fin[0]));
}

per_type!(update_is_all_or_nothing, update_atomic);
