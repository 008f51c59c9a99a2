//! Threaded tests of `DynArray`'s rule that indices and slices are resolved against the length
//! at each operation's linearization point, never against a length read earlier (the
//! check-then-act bug of CPython issue #130744), and of copies from a live export racing the
//! exported array's writer (no torn element).

use ftarray::dynamic::{Source, read_shared};
use ftarray::{DynArray, Slice, TypeCode, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::thread;

/// Sets `flag` when dropped, so a failing assertion stops the helper thread instead of
/// leaving it running (a pusher left running would grow the array without bound).
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

const ROUNDS: usize = if cfg!(miri) { 50 } else { 20_000 };

/// The array alternates between `[0, 1, …, m-1]` and `[-1, 0, …, m-1]` (another thread
/// inserts and pops at the front), so the last element is always `m - 1`. Resolving `-1`
/// against a length read before the shift would read `m - 2` (a value that was never last) or
/// fail with an index error on an array that is never empty.
#[test]
fn negative_index_reads_the_last_element_at_one_instant() {
    const M: i64 = 8;
    for code in [TypeCode::I8, TypeCode::Int, TypeCode::F64, TypeCode::U64] {
        let a = Arc::new(
            DynArray::from_values(code, &(0..M).map(Value::from).collect::<Vec<_>>()).unwrap(),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let shifter = {
            let (a, stop) = (Arc::clone(&a), Arc::clone(&stop));
            thread::spawn(move || {
                let fill = if code.kind() == ftarray::Kind::Unsigned {
                    99
                } else {
                    -1
                };
                let mut shifts = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    a.insert(0, Value::from(fill)).unwrap();
                    a.pop(0).unwrap();
                    shifts += 1;
                }
                shifts
            })
        };
        for _ in 0..ROUNDS {
            assert_eq!(a.get(-1).unwrap(), Value::from(M - 1), "type code {code}");
            assert_eq!(
                a.get(-(M as isize))
                    .ok()
                    .map(|v| v == Value::from(0) || v == Value::from(-1) || v == Value::from(99)),
                Some(true)
            );
        }
        stop.store(true, Ordering::Relaxed);
        shifter.join().unwrap();
    }
}

/// `pop(-1)` and `insert(-1, x)` racing a thread that shifts the front: each removes or
/// inserts relative to the end at its own instant, so the tail stays exactly as built.
#[test]
fn negative_index_writes_resolve_under_the_lock() {
    const M: i64 = 6;
    let a = Arc::new(
        DynArray::from_values(TypeCode::Int, &(0..M).map(Value::from).collect::<Vec<_>>()).unwrap(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let shifter = {
        let (a, stop) = (Arc::clone(&a), Arc::clone(&stop));
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                a.insert(0, Value::from(-1)).unwrap();
                a.pop(0).unwrap();
            }
        })
    };
    let _stop_on_panic = StopOnDrop(Arc::clone(&stop));
    for k in 0..ROUNDS as i64 {
        // Put a marker just before the last element, then take it back out.
        a.insert(-1, Value::from(1000 + k)).unwrap();
        assert_eq!(a.pop(-2).unwrap(), Value::from(1000 + k));
        a.set(-1, Value::from(M - 1 + k % 2)).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    shifter.join().unwrap();
    let tail = a
        .get_slice(Slice::new(Some(-(M as isize)), None, None))
        .unwrap()
        .to_values();
    let last = ROUNDS as i64 - 1;
    let want: Vec<Value> = (0..M - 1)
        .chain([M - 1 + last % 2])
        .map(Value::from)
        .collect();
    assert_eq!(tail, want);
}

/// `del a[-2:]` (as `take_slice`, which reports what it removed) racing a thread that pushes
/// and one that shifts the front removes exactly two elements that were the last two at one
/// instant.
///
/// One thread pushes 0, 1, 2, … (counting them in `pushed` after each push returns); another
/// inserts a marker at the front and pops it again, over and over, which shifts every index. A
/// removal that starts after `before` pushes have returned and ends before `after + 1` can have
/// taken effect must, at its linearization point, see the pushed values `[0, P) -
/// removed_so_far` on top for some `P` in `before..=after + 1`, and take that state's last two.
/// A removal resolved against a length read before a front shift takes a pair one below the
/// end (the last element survives), which no such state explains.
#[test]
fn deleting_the_tail_takes_the_last_two_at_one_instant() {
    const PREFIX: i64 = 4;
    const DELETIONS: usize = if cfg!(miri) { 20 } else { 10_000 };
    let a = Arc::new(
        DynArray::from_values(
            TypeCode::I64,
            &(-PREFIX..0).map(Value::from).collect::<Vec<_>>(),
        )
        .unwrap(),
    );
    let pushed = Arc::new(AtomicI64::new(0));
    let taken_count = Arc::new(AtomicI64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let pusher = {
        let (a, pushed, taken_count, stop) = (
            Arc::clone(&a),
            Arc::clone(&pushed),
            Arc::clone(&taken_count),
            Arc::clone(&stop),
        );
        thread::spawn(move || {
            let mut v = 0;
            // Stays a little ahead of the deleter (which takes two per round), so the two
            // keep meeting at the end of the array, until told to stop.
            while !stop.load(Ordering::Relaxed) {
                if v - taken_count.load(Ordering::Relaxed) > 256 {
                    thread::yield_now();
                    continue;
                }
                a.push(Value::from(v)).unwrap();
                v += 1;
                pushed.store(v, Ordering::Release);
            }
            v
        })
    };
    let shifter = {
        let (a, stop) = (Arc::clone(&a), Arc::clone(&stop));
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                a.insert(0, Value::from(-100)).unwrap();
                assert_eq!(a.pop(0).unwrap(), Value::from(-100));
            }
        })
    };
    let _stop_on_panic = StopOnDrop(Arc::clone(&stop));
    let mut removed = std::collections::BTreeSet::new();
    let mut deletions = 0;
    let mut distinguishing = 0;
    loop {
        let before = pushed.load(Ordering::Acquire);
        if deletions == DELETIONS {
            break;
        }
        if (before - removed.len() as i64) < 2 {
            std::hint::spin_loop();
            continue; // the array must hold two pushed elements to remove
        }
        let taken = a
            .take_slice(Slice::new(Some(-2), None, None))
            .unwrap()
            .to_values();
        let after = pushed.load(Ordering::Acquire);
        let taken: Vec<i64> = taken
            .iter()
            .map(|v| match v {
                Value::Int(i) => *i,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(taken.len(), 2, "removed {taken:?}");
        // The last two of `prefix + [0, p) - removed` for some p in before..=after.
        let top2 = |p: i64| -> Vec<i64> {
            let mut top: Vec<i64> = (-PREFIX..p)
                .rev()
                .filter(|v| !removed.contains(v))
                .take(2)
                .collect();
            top.reverse();
            top
        };
        // A push whose counter update is still pending may already have taken effect: the
        // state at the removal has between `before` and `after + 1` pushes.
        assert!(
            (before..=after + 1).any(|p| top2(p) == taken),
            "took {taken:?}; pushes done before: {before}, after: {after}; the last two then \
             were {:?}..{:?}",
            top2(before),
            top2(after)
        );
        if before == after {
            distinguishing += 1;
        }
        removed.extend(taken.iter().copied());
        taken_count.fetch_add(2, Ordering::Relaxed);
        deletions += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let pushes = pusher.join().unwrap();
    shifter.join().unwrap();
    assert!(
        deletions > 0 && distinguishing > 0,
        "{deletions} deletions, {distinguishing} exact"
    );
    // Nothing else was lost: the survivors are everything pushed minus exactly what was taken.
    let survivors: Vec<i64> = a
        .to_values()
        .iter()
        .map(|v| match v {
            Value::Int(i) => *i,
            other => panic!("{other:?}"),
        })
        .collect();
    let expected: Vec<i64> = (-PREFIX..pushes).filter(|v| !removed.contains(v)).collect();
    assert_eq!(survivors, expected);
}

/// Copies from a live export racing a writer of the exported array: `b.extend_from_raw` on
/// `a`'s export memory while another thread flips `a[2]` between all-zero and all-one bits.
/// Every element copied is one of the two values, never assembled from parts of both (issue 20,
/// defect 3: the bytes outside whole 8-byte units were loaded one at a time, so a copy could
/// append `0x00ffffff`). The flipped element lies in the range's partial last unit (the whole
/// export of a 3-element array), or in its partial first unit too (the range from element 1);
/// with `u16` elements the whole range is one partial unit. Every third copy takes the path of
/// a host that knows the memory is an export (`Source::Export`, whole units).
#[test]
fn copies_from_a_live_export_never_tear_an_element() {
    const COPIES: usize = if cfg!(miri) {
        20
    } else if cfg!(debug_assertions) {
        200_000
    } else {
        6_000_000
    };
    for (code, ones) in [(TypeCode::UInt, 0xFFFF_FFFFi64), (TypeCode::U16, 0xFFFF)] {
        let a = Arc::new(DynArray::from_values(code, &[Value::from(0); 3]).unwrap());
        let e = a.export_raw().unwrap();
        let size = e.itemsize;
        let stop = Arc::new(AtomicBool::new(false));
        let flipper = {
            let (a, stop) = (Arc::clone(&a), Arc::clone(&stop));
            thread::spawn(move || {
                let mut flips = 0i64;
                while !stop.load(Ordering::Relaxed) {
                    a.set(2, Value::from(if flips % 2 == 0 { ones } else { 0 }))
                        .unwrap();
                    flips += 1;
                }
                flips
            })
        };
        let _stop_on_panic = StopOnDrop(Arc::clone(&stop));
        let b = DynArray::new(code);
        let (mut torn, mut copied, mut ones_seen) = (0usize, 0usize, 0usize);
        let mut check = |b: &DynArray| {
            for x in b.to_bytes().chunks_exact(size) {
                copied += 1;
                if x.iter().all(|&y| y == 0xff) {
                    ones_seen += 1;
                } else if x.iter().any(|&y| y != 0) {
                    torn += 1;
                }
            }
            b.clear().unwrap();
        };
        for round in 0..COPIES {
            let (from, n) = if round % 2 == 0 { (0, 3) } else { (1, 2) };
            // SAFETY: the export pins `a`'s three elements for the whole loop; `from + n` is at
            // most 3, and the flipper writes them only through the array's atomic stores.
            let p = unsafe { e.ptr.add(from * size) };
            if round % 3 == 2 {
                // What a host that knows the memory is `a`'s export does: whole-unit loads.
                assert!(a.exports_cover(p, n * size));
                // SAFETY: as above; the range lies in `a`'s live export.
                let bytes = unsafe { read_shared(p, n * size, Source::Export) };
                b.extend_bytes(&bytes).unwrap();
            } else {
                // Element-wide loads: `b` cannot tell whose memory this is.
                // SAFETY: as above.
                unsafe { b.extend_from_raw(p, n * size) }.unwrap();
            }
            if b.len() >= 3_000 {
                check(&b);
            }
        }
        check(&b);
        stop.store(true, Ordering::Relaxed);
        let flips = flipper.join().unwrap();
        a.release_export(e.token).unwrap();
        assert_eq!(
            torn, 0,
            "type code {code}: {torn} of {copied} copied elements were torn \
             ({flips} flips, {ones_seen} all-ones copies)"
        );
    }
}
