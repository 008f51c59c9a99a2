//! a.extend_from_array(&b) against b.extend_from_array(&a): no deadlock

use super::*;

/// A reusable barrier (blocking, so waiting threads leave the CPU to the working ones) that
/// fails instead of hanging once another party has panicked.
struct Phaser {
    parties: usize,
    /// (arrived in this generation, generation, some party failed)
    state: Mutex<(usize, usize, bool)>,
    changed: Condvar,
}

impl Phaser {
    fn new(parties: usize) -> Self {
        Phaser {
            parties,
            state: Mutex::new((0, 0, false)),
            changed: Condvar::new(),
        }
    }

    fn wait(&self) {
        let mut st = self.state.lock().unwrap();
        let generation = st.1;
        st.0 += 1;
        if st.0 == self.parties {
            *st = (0, generation + 1, st.2);
            self.changed.notify_all();
        }
        while st.1 == generation && !st.2 {
            st = self.changed.wait(st).unwrap();
        }
        assert!(!st.2, "another thread failed");
    }

    fn failed(&self) -> bool {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).2
    }

    fn fail(&self) {
        // Poisoning is irrelevant here: the state is three plain values.
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.2 = true;
        self.changed.notify_all();
    }
}

/// Marks the phaser failed if the thread that owns it unwinds.
struct FailOnPanic<'a>(&'a Phaser);

impl Drop for FailOnPanic<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.fail();
        }
    }
}

const A0: [u64; 3] = [1, 2, 3];
const B0: [u64; 2] = [10, 20];

/// Every state of `a` or `b` is its initial prefix followed by whole copies of earlier states
/// (extend appends one snapshot; truncation only ever cuts back to the prefix), so it is a
/// sequence of whole `A0`/`B0` tokens. Returns (`A0` tokens, `B0` tokens).
fn tokens<T: Num>(snap: &[T], prefix: &[u64], what: &str) -> (usize, usize) {
    let v = decode_all(snap);
    assert!(v.starts_with(prefix), "{what}: lost its prefix: {v:?}");
    let (mut i, mut na, mut nb) = (0, 0, 0);
    while i < v.len() {
        if v[i..].starts_with(&A0) {
            na += 1;
            i += A0.len();
        } else if v[i..].starts_with(&B0) {
            nb += 1;
            i += B0.len();
        } else {
            panic!("{what}: not whole copies of the arrays at {i}: {v:?}");
        }
    }
    (na, nb)
}

fn cross_extend<T: Num>() {
    const OPS: usize = 4; // per thread and epoch: growth stays small
    let epochs = scaled(2_000);
    let (tx, rx) = mpsc::channel();
    // Set when the watchdog gives up, so the checker stops spinning beside deadlocked threads.
    let gave_up = Arc::new(AtomicBool::new(false));
    let gave_up_in_worker = Arc::clone(&gave_up);
    let worker = thread::spawn(move || {
        let to = |v: &[u64]| v.iter().map(|&x| enc::<T>(x)).collect::<Vec<_>>();
        let (a, b) = (FtArray::from_slice(&to(&A0)), FtArray::from_slice(&to(&B0)));
        let phaser = Phaser::new(4);
        let done = AtomicUsize::new(0);
        thread::scope(|s| {
            let extender = |dst: &'static str| {
                let (a, b, phaser, done) = (&a, &b, &phaser, &done);
                move || {
                    let _fail = FailOnPanic(phaser);
                    for _ in 0..epochs {
                        match dst {
                            "a+=b" => (0..OPS).for_each(|_| a.extend_from_array(b)),
                            "b+=a" => (0..OPS).for_each(|_| b.extend_from_array(a)),
                            _ => a.extend_from_array(a),
                        }
                        done.fetch_add(1, Release);
                        phaser.wait(); // all ops of this epoch are done
                        phaser.wait(); // the checker has reset the arrays
                    }
                }
            };
            s.spawn(extender("a+=b"));
            s.spawn(extender("b+=a"));
            s.spawn(extender("a+=a"));
            // The checker: reads both arrays during the epoch, checks and resets after it.
            s.spawn(|| {
                let _fail = FailOnPanic(&phaser);
                for e in 0..epochs {
                    let (mut la, mut lb) = (A0.len(), B0.len());
                    loop {
                        assert!(!phaser.failed(), "an extender failed");
                        assert!(!gave_up_in_worker.load(Relaxed), "the watchdog gave up");
                        let finished = done.load(Acquire) == 3 * (e + 1);
                        let (sa, sb) = (a.to_vec(), b.to_vec());
                        tokens(&sa, &A0, "a");
                        tokens(&sb, &B0, "b");
                        // Within an epoch nothing shrinks either array.
                        assert!(sa.len() >= la && sb.len() >= lb, "an array shrank");
                        (la, lb) = (sa.len(), sb.len());
                        if finished {
                            break;
                        }
                    }
                    phaser.wait();
                    let (ta, tb) = (tokens(&a.to_vec(), &A0, "a"), tokens(&b.to_vec(), &B0, "b"));
                    // Each a += b added at least one B0; each b += a at least one A0; a += a
                    // doubled `a`, which held at least its own A0.
                    assert!(tb.0 >= OPS, "b has {} A0 tokens after {OPS} b += a", tb.0);
                    assert!(ta.1 >= OPS, "a has {} B0 tokens after {OPS} a += b", ta.1);
                    assert!(ta.0 >= 2, "a has {} A0 tokens after a += a", ta.0);
                    a.truncate(A0.len());
                    b.truncate(B0.len());
                    phaser.wait();
                }
            });
        });
        let result = (a.to_vec(), b.to_vec());
        tx.send(()).unwrap();
        result
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => {
            let (a, b) = worker.join().unwrap();
            assert_eq!(decode_all(&a), A0);
            assert_eq!(decode_all(&b), B0);
        }
        Err(RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(_) => unreachable!("the worker finished without reporting"),
        },
        Err(RecvTimeoutError::Timeout) => {
            gave_up.store(true, Relaxed);
            panic!(
                "{}: cross extend_from_array did not finish in 60 s: deadlock",
                ty::<T>()
            )
        }
    }
}

per_type!(cross_extend_from_array_never_deadlocks, cross_extend);
