//! loom models of `FtArray`: every interleaving of two or three threads (up to the preemption
//! bound in `LOOM_MAX_PREEMPTIONS`) of the real ftarray code, with loom's atomics, mutex and
//! fences swapped in through ftarray's `sync` shim and crossbeam-epoch itself under loom.
//!
//! Each model returns an outcome; `explore` asserts that every execution's outcome is in the
//! set a linearizable array allows, and that every allowed outcome was reached (so the set is
//! exact, and a model that stopped exploring would fail).
//!
//! Run with `scripts/loom.sh` (sets `--cfg loom --cfg crossbeam_loom` and the bound).
#![cfg(loom)]

use ftarray::{Error, FtArray};
use loom::sync::Arc;
use loom::thread;
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::Mutex;

/// Checks a two-thread model: `writer` and `reader` run concurrently on the state built by
/// `setup`; after both have joined, `finish` turns the reader's result (and the final state)
/// into the execution's outcome. Every execution's outcome must be in `allowed`, and the
/// outcomes reached must be exactly `allowed`.
///
/// The model runs twice, once with the writer on the main thread and once with the reader
/// there. loom's DPOR keeps only the last access to each atomic, so a writer that loads a word
/// before storing it can hide an earlier load by another thread and the race goes unexplored
/// (loom issues #166 and #392); running both orientations covers the interleavings one alone
/// would miss.
fn race<S, R, O>(
    name: &str,
    allowed: &[O],
    setup: fn() -> S,
    writer: fn(&S),
    reader: fn(&S) -> R,
    finish: fn(&S, R) -> O,
) where
    S: Send + Sync + 'static,
    R: Send + 'static,
    O: Debug + Ord + Clone + Send + Sync + 'static,
{
    let allowed: BTreeSet<O> = allowed.iter().cloned().collect();
    let seen = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    for writer_on_main in [true, false] {
        let (seen, allowed, name) = (seen.clone(), allowed.clone(), name.to_string());
        loom::model(move || {
            let state = Arc::new(setup());
            let other = state.clone();
            let outcome = if writer_on_main {
                let r = thread::spawn(move || reader(&other));
                writer(&state);
                r.join().unwrap()
            } else {
                let w = thread::spawn(move || writer(&other));
                let o = reader(&state);
                w.join().unwrap();
                o
            };
            let outcome = finish(&state, outcome);
            assert!(
                allowed.contains(&outcome),
                "{name}: outcome {outcome:?} is not one a linearizable array allows ({allowed:?})"
            );
            seen.lock().unwrap().insert(outcome);
        });
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen, allowed,
        "{name}: reached outcomes differ from the allowed set"
    );
}

/// The reader's result is the outcome.
fn outcome<S, O>(_: &S, o: O) -> O {
    o
}

/// CPython #146007: `a[i]` racing `clear()`. Here `clear` is followed by `shrink_to_fit`, which
/// retires the buffer to the collector, so a reader that used freed memory would see poison.
#[test]
fn get_vs_clear_and_free() {
    race(
        "get_vs_clear_and_free",
        &[(Some(1), Some(2)), (Some(1), None), (None, None)],
        || FtArray::from_slice(&[1u32, 2]),
        |a| {
            a.clear();
            a.shrink_to_fit().unwrap();
        },
        |a| (a.get(0), a.get(1)),
        |a, o| {
            assert!(a.is_empty() && a.capacity() == 0);
            o
        },
    );
}

/// Publication order: a reader that sees the new length sees the element (in place).
#[test]
fn push_in_place_vs_len_and_get() {
    race(
        "push_in_place_vs_len_and_get",
        &[(0, None), (0, Some(7)), (1, Some(7))],
        || FtArray::<u64>::with_capacity(1),
        |a| a.push(7),
        |a| (a.len(), a.get(0)),
        outcome,
    );
}

/// Publication order when the push has to move to a bigger buffer.
#[test]
fn push_with_growth_vs_len_and_get() {
    race(
        "push_with_growth_vs_len_and_get",
        &[(0, None), (0, Some(7)), (1, Some(7))],
        FtArray::<u64>::new,
        |a| a.push(7),
        |a| (a.len(), a.get(0)),
        outcome,
    );
}

/// A slot that is popped and refilled never shows the new value before the push that stores
/// it has taken effect: reading 3 and then `None` would mean the 3 was seen early.
#[test]
fn pop_then_push_vs_get_same_slot() {
    race(
        "pop_then_push_vs_get_same_slot",
        &[
            (Some(2), Some(2)),
            (Some(2), None),
            (Some(2), Some(3)),
            (None, None),
            (None, Some(3)),
            (Some(3), Some(3)),
        ],
        || FtArray::from_slice(&[1u32, 2]),
        |a| {
            assert_eq!(a.pop(), Some(2));
            a.push(3);
        },
        |a| (a.get(1), a.get(1)),
        |a, o| {
            assert_eq!(a.to_vec(), [1, 3]);
            o
        },
    );
}

/// Growth moves the elements and retires the old buffer while a reader that pinned before the
/// move keeps reading from it.
#[test]
fn growth_vs_pinned_reader() {
    race(
        "growth_vs_pinned_reader",
        &[(Some(1), 1), (Some(1), 2)],
        || FtArray::from_slice(&[1u8]),
        |a| {
            a.push(2); // moves: the capacity was 1
            a.shrink_to_fit().unwrap(); // moves again, retiring the grown buffer
        },
        |a| {
            let reader = a.reader();
            (reader.get(0), reader.len())
        },
        outcome,
    );
}

/// No torn snapshot: a writer sets index 0 then index 1; `to_vec` never sees only the second.
#[test]
fn set_vs_to_vec() {
    race(
        "set_vs_to_vec",
        &[vec![0, 0], vec![1, 0], vec![1, 1]],
        || FtArray::from_slice(&[0i32, 0]),
        |a| {
            a.set(0, 1).unwrap();
            a.set(1, 1).unwrap();
        },
        |a| a.to_vec(),
        outcome,
    );
}

/// An insert (which shifts every element) is seen entirely or not at all.
#[test]
fn insert_vs_to_vec() {
    race(
        "insert_vs_to_vec",
        &[vec![1, 2], vec![0, 1, 2]],
        || FtArray::from_slice(&[1u16, 2]),
        |a| a.insert(0, 0).unwrap(),
        |a| a.to_vec(),
        outcome,
    );
}

/// An insert within the capacity is a bounded step on the same storage (the tail shifted in
/// place through 64-bit units, `u8` elements packed eight to a unit): seen entirely or not at
/// all, element by element too: after a read sees the shifted array, a later read cannot see
/// the old one.
#[test]
fn insert_in_place_vs_reads() {
    race(
        "insert_in_place_vs_reads",
        &[
            (Some(2), vec![1, 2]),
            (Some(2), vec![0, 1, 2]),
            (Some(1), vec![0, 1, 2]),
        ],
        || {
            let a = FtArray::<u8>::with_capacity(4);
            a.extend_from_slice(&[1, 2]);
            a
        },
        |a| a.insert(0, 0).unwrap(),
        |a| (a.get(1), a.to_vec()),
        outcome,
    );
}

/// A remove (which shifts every element) is seen entirely or not at all, element by element
/// too: after seeing the shifted array a later read cannot see the old one.
#[test]
fn remove_vs_get() {
    race(
        "remove_vs_get",
        &[(Some(1), Some(2)), (Some(1), Some(3)), (Some(2), Some(3))],
        || FtArray::from_slice(&[1u32, 2, 3]),
        |a| assert_eq!(a.remove(0), Ok(1)),
        |a| (a.get(0), a.get(1)),
        outcome,
    );
}

/// `update` is one step: every element and the length change together.
#[test]
fn update_vs_to_vec() {
    race(
        "update_vs_to_vec",
        &[vec![1, 1], vec![2, 2, 2]],
        || FtArray::from_slice(&[1u64, 1]),
        |a| {
            a.update(|v| {
                v.iter_mut().for_each(|x| *x = 2);
                v.push(2);
            })
            .unwrap()
        },
        |a| a.to_vec(),
        outcome,
    );
}

/// While an export is alive the storage does not move: a push that needs to grow fails and
/// changes nothing; without the export it succeeds.
#[test]
fn export_vs_resizing_write() {
    race(
        "export_vs_resizing_write",
        &[true, false],
        || {
            (
                FtArray::from_slice(&[1u32]),
                loom::sync::atomic::AtomicBool::new(false),
            )
        },
        |(a, done)| {
            let e = a.export();
            let before = (e.as_ptr(), a.capacity());
            // (Under loom the cells are loom objects, not plain words, so the model checks the
            // pinned storage through the array rather than dereferencing the pointer.)
            assert_eq!(a.get(0), Some(1));
            assert_eq!(before, (e.as_ptr(), a.capacity()), "exported storage moved");
            drop(e);
            done.store(true, loom::sync::atomic::Ordering::Release);
        },
        |(a, _)| match a.try_push(2) {
            Ok(()) => true,
            Err(Error::Exported { exports: 1 }) => false,
            Err(e) => panic!("unexpected error {e}"),
        },
        |(a, _), pushed| {
            let expected: &[u32] = if pushed { &[1, 2] } else { &[1] };
            assert_eq!(a.to_vec(), expected);
            pushed
        },
    );
}

/// Two arrays extended from each other at once: one lock at a time, so no deadlock (loom
/// reports one if any interleaving blocks forever), and each extend takes effect at one instant
/// at which the other array held exactly the appended copy (issue 7, defect 4). Both extends
/// appending the other's *initial* contents (`a = [1, 2]`, `b = [2, 1]`) fits no order of the
/// two operations; it used to be reachable, as each copied the other before locking itself.
#[test]
fn cross_extend_from_array() {
    race(
        "cross_extend_from_array",
        &[(vec![1, 2], vec![2, 1, 2]), (vec![1, 2, 1], vec![2, 1])],
        || (FtArray::from_slice(&[1u8]), FtArray::from_slice(&[2u8])),
        |(a, b)| a.extend_from_array(b),
        |(a, b)| b.extend_from_array(a),
        |(a, b), ()| (a.to_vec(), b.to_vec()),
    );
}

/// The same with room in both arrays: each copies the other's cells into its own spare
/// capacity and publishes the new length only if the other is still as copied.
#[test]
fn cross_extend_from_array_in_place() {
    race(
        "cross_extend_from_array_in_place",
        &[(vec![1, 2], vec![2, 1, 2]), (vec![1, 2, 1], vec![2, 1])],
        || {
            let (a, b) = (FtArray::with_capacity(8), FtArray::with_capacity(8));
            a.push(1u16);
            b.push(2u16);
            (a, b)
        },
        |(a, b)| a.extend_from_array(b),
        |(a, b)| b.extend_from_array(a),
        |(a, b), ()| (a.to_vec(), b.to_vec()),
    );
}

/// The same when the extends have to move to a bigger buffer: the validated publication path.
#[test]
fn cross_extend_from_array_with_growth() {
    race(
        "cross_extend_from_array_with_growth",
        &[(vec![1, 2], vec![2, 1, 2]), (vec![1, 2, 1], vec![2, 1])],
        || {
            let (a, b) = (FtArray::new(), FtArray::new());
            a.push(1u64);
            b.push(2u64);
            a.shrink_to_fit().unwrap();
            b.shrink_to_fit().unwrap();
            (a, b)
        },
        |(a, b)| a.extend_from_array(b),
        |(a, b)| b.extend_from_array(a),
        |(a, b), ()| (a.to_vec(), b.to_vec()),
    );
}

/// `a.extend_from_array(&b)` copies `b`'s cells straight into `a`'s spare capacity while
/// another thread sets `b`'s two elements one after the other: what `a` gains is one of `b`'s
/// three states, never the torn `[1, 4]` (the copy is made inside a validated read of `b`; an
/// attempt that overlapped a set is made again).
#[test]
fn extend_from_array_in_place_vs_sets_on_the_other() {
    race(
        "extend_from_array_in_place_vs_sets_on_the_other",
        &[vec![0, 1, 2], vec![0, 3, 2], vec![0, 3, 4]],
        || {
            let a = FtArray::<u8>::with_capacity(8);
            a.push(0);
            (a, FtArray::from_slice(&[1u8, 2]))
        },
        |(_, b)| {
            b.set(0, 3).unwrap();
            b.set(1, 4).unwrap();
        },
        |(a, b)| a.extend_from_array(b),
        |(a, _), ()| a.to_vec(),
    );
}

/// The same when `a` has to move to a bigger block: the words are loaded from `b` into the
/// block being built, which is published only if `b` is still as read.
#[test]
fn extend_from_array_with_growth_vs_sets_on_the_other() {
    race(
        "extend_from_array_with_growth_vs_sets_on_the_other",
        &[vec![0, 1, 2], vec![0, 3, 2], vec![0, 3, 4]],
        || {
            let a = FtArray::<u64>::new();
            a.push(0);
            a.shrink_to_fit().unwrap();
            (a, FtArray::from_slice(&[1u64, 2]))
        },
        |(_, b)| {
            b.set(0, 3).unwrap();
            b.set(1, 4).unwrap();
        },
        |(a, b)| a.extend_from_array(b),
        |(a, _), ()| a.to_vec(),
    );
}

/// b's length changes under the append: an in-place attempt that loses is followed by one that
/// finds b empty (nothing to do).
#[test]
fn extend_from_array_in_place_vs_clear_of_the_other() {
    race(
        "extend_from_array_in_place_vs_clear_of_the_other",
        &[vec![0u64], vec![0, 1, 2]],
        || {
            let a = FtArray::<u64>::with_capacity(4);
            a.push(0);
            (a, FtArray::from_slice(&[1u64, 2]))
        },
        |(_, b)| b.clear(),
        |(a, b)| a.extend_from_array(b),
        |(a, _), ()| a.to_vec(),
    );
}

/// b grows under the append: [1, 2] fits a's spare capacity, [1, 2, 3] does not, so a lost
/// in-place attempt is followed by a move (or a lost move by an in-place append).
#[test]
fn extend_from_array_in_place_or_moved_vs_push_on_the_other() {
    race(
        "extend_from_array_in_place_or_moved_vs_push_on_the_other",
        &[vec![0u64, 1, 2], vec![0, 1, 2, 3]],
        || {
            let a = FtArray::<u64>::with_capacity(3);
            a.push(0);
            (a, FtArray::from_slice(&[1u64, 2]))
        },
        |(_, b)| b.push(3),
        |(a, b)| a.extend_from_array(b),
        |(a, _), ()| a.to_vec(),
    );
}

/// The reverse: [1, 2, 3] needs a move, [1] after a truncate fits in place.
#[test]
fn extend_from_array_moved_or_in_place_vs_truncate_of_the_other() {
    race(
        "extend_from_array_moved_or_in_place_vs_truncate_of_the_other",
        &[vec![0u64, 1], vec![0, 1, 2, 3]],
        || {
            let a = FtArray::<u64>::with_capacity(3);
            a.push(0);
            (a, FtArray::from_slice(&[1u64, 2, 3]))
        },
        |(_, b)| b.truncate(1),
        |(a, b)| a.extend_from_array(b),
        |(a, _), ()| a.to_vec(),
    );
}

/// `a.extend_from_array(&a)` is one step: the copy is the whole array at the instant of the
/// append, never a snapshot taken before a concurrent push (issue 7, defect 4).
#[test]
fn self_extend_vs_push() {
    race(
        "self_extend_vs_push",
        &[vec![1, 1, 2], vec![1, 2, 1, 2]],
        || {
            let a = FtArray::<u32>::with_capacity(8);
            a.push(1);
            a
        },
        |a| a.push(2),
        |a| a.extend_from_array(a),
        |a, ()| a.to_vec(),
    );
}

/// `a == a` compares one snapshot with itself, so it holds under concurrent writes (issue 7,
/// defect 5).
#[test]
fn self_equality_vs_push() {
    race(
        "self_equality_vs_push",
        &[true],
        || FtArray::from_slice(&[1u32]),
        |a| a.push(2),
        |a| a == a,
        outcome,
    );
}

/// Reclamation: a reader that pinned before buffers were retired keeps reading safely while
/// the writer retires three of them (and, past the 64-byte loom threshold, flushes them to
/// the collector); a block freed too early would show its poison. After `repin` the reader
/// sees the current buffer.
#[test]
fn retired_buffers_outlive_their_readers() {
    race(
        "retired_buffers_outlive_their_readers",
        &[(Some(5), Some(5))],
        || FtArray::from_slice(&[5u32]),
        |a| {
            a.reserve(8); // retires the first block
            a.shrink_to_fit().unwrap(); // retires the second; the retired total passes 64 B
            a.reserve(8); // retires the third
        },
        |a| {
            let mut reader = a.reader();
            let first = reader.get(0);
            reader.repin();
            (first, reader.get(0))
        },
        |a, o| {
            assert_eq!(a.to_vec(), [5]);
            o
        },
    );
}

/// Two writers on two threads (the lock orders them) and a reader: `clear` then an in-place
/// `extend` must not let a reader that started before the clear see the extended cells under
/// the old length (`[7, 2]` is a state that never existed). The cells past the length are
/// written outside a version step, so this needs the Release fence that precedes them.
#[test]
fn clear_and_extend_on_two_threads_vs_to_vec() {
    clear_and_extend_vs_to_vec(|a, _| a.extend_from_slice(&[7]));
}

/// The same with the extend copying from another array `b = [7]` (`RawWriter::append_array`'s
/// in-place path and its append fence). The extending thread sits in a `Session`: each
/// attempt's own pin would otherwise run a `SeqCst` fence right before the cell stores, which
/// hides a missing append fence (with the session, removing it fails with `[7, 2]`; without,
/// every model passes).
#[test]
fn clear_and_extend_from_array_on_two_threads_vs_to_vec() {
    clear_and_extend_vs_to_vec(|a, b| {
        let _session = ftarray::Session::enter();
        a.extend_from_array(b)
    });
}

/// The model of the two tests above: `a = [1, 2]` with room for 4, cleared on one thread while
/// `extend(a, b)` appends `[7]` on another and a third takes a snapshot.
fn clear_and_extend_vs_to_vec(extend: fn(&FtArray<u32>, &FtArray<u32>)) {
    let allowed: BTreeSet<Vec<u32>> = [vec![1, 2], vec![], vec![7], vec![1, 2, 7]]
        .into_iter()
        .collect();
    let seen = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    let (seen2, allowed2) = (seen.clone(), allowed.clone());
    loom::model(move || {
        let a = Arc::new(FtArray::<u32>::with_capacity(4));
        a.extend_from_slice(&[1, 2]);
        let b = Arc::new(FtArray::<u32>::from_slice(&[7]));
        let clearer = {
            let a = a.clone();
            thread::spawn(move || a.clear())
        };
        let extender = {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || extend(&a, &b))
        };
        // The snapshot is taken on a spawned thread. With the reader on the model's main thread,
        // loom's bounded exploration stopped preempting it after the storage moved to 64-bit
        // units (32 executions, all seeing the initial [1, 2]; the coverage check below caught
        // it; the cause inside loom's search is not understood). On its own thread the reader
        // is interleaved with both writers: ~7,800 executions reach all four states, and
        // removing the append fence fails with [7, 2].
        let reader = {
            let a = a.clone();
            thread::spawn(move || a.to_vec())
        };
        let snapshot = reader.join().unwrap();
        clearer.join().unwrap();
        extender.join().unwrap();
        assert!(
            allowed2.contains(&snapshot),
            "snapshot {snapshot:?} is a state that never existed"
        );
        seen2.lock().unwrap().insert(snapshot);
    });
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.is_subset(&allowed) && seen.len() >= 3,
        "reached {seen:?}"
    );
}

/// Issue 7, defect 2: `update` racing an export that is dropped. The edit either fails with
/// `Exported` and changes nothing or succeeds and is published; it is never reported done and
/// then dropped (which happened when the export count was loaded twice and the export went
/// away between the loads).
#[test]
fn update_vs_export_dropped_midway() {
    race(
        "update_vs_export_dropped_midway",
        &[(true, 2), (false, 1)],
        || FtArray::from_slice(&[1u32]),
        |a| drop(a.export()),
        |a| match a.update(|v| v.push(2)) {
            Ok(()) => true,
            Err(Error::Exported { exports: 1 }) => false,
            Err(e) => panic!("unexpected error {e}"),
        },
        |a, ok| (ok, a.len()),
    );
}

/// Issue 20, defect 2: an export's holder writes element 1 while another thread's `update`
/// rewrites the array (in place whenever the export is alive, since the storage cannot move).
/// The holder's write must survive every interleaving: the rewrite either read it, or keeps it
/// when writing back (it counts as made just after the rewrite). The write-back used to store
/// the whole stale snapshot, so a snapshot taken before the write and written back after it
/// gave `[2, 0, 5]`. u16 elements: all three share one 64-bit unit.
#[test]
fn export_store_vs_update() {
    race(
        "export_store_vs_update",
        &[vec![2, 7, 5]],
        || FtArray::from_slice(&[1u16, 0, 5]),
        |a| {
            let e = a.export();
            assert!(e.store(1, 7));
            drop(e);
        },
        |a| a.update(|v| v[0] += 1).unwrap(),
        |a, ()| a.to_vec(),
    );
}

/// The same for a single-element read-modify-write: `fetch_update` returns the value it
/// applied its function to (0 or the holder's 7), and never stores over the holder's write.
#[test]
fn export_store_vs_fetch_update() {
    race(
        "export_store_vs_fetch_update",
        &[(0, vec![1, 7]), (7, vec![1, 7])],
        || FtArray::from_slice(&[1u64, 0]),
        |a| {
            let e = a.export();
            assert!(e.store(1, 7));
            drop(e);
        },
        |a| a.fetch_update(1, |x| x).unwrap(),
        |a, old| (old, a.to_vec()),
    );
}

/// Issue 23: a snapshot is one instant, and never changes afterwards. The reader takes a
/// snapshot and reads it twice around a yield; the writer's in-place `set` must copy a block a
/// snapshot shares instead of writing into it, so both reads agree, whichever state the
/// snapshot caught.
#[test]
fn snapshot_vs_in_place_set() {
    race(
        "snapshot_vs_in_place_set",
        &[(vec![1, 2], vec![1, 2]), (vec![5, 2], vec![5, 2])],
        || FtArray::from_slice(&[1u32, 2]),
        |a| {
            a.set(0, 5).unwrap();
        },
        |a| {
            let s = a.snapshot();
            let first = s.to_vec();
            thread::yield_now();
            (first, s.to_vec())
        },
        |a, o| {
            assert_eq!(a.to_vec(), [5, 2]);
            o
        },
    );
}

/// A snapshot against growth and a shrink to nothing: both retire the block the snapshot may
/// share. The block must stay alive (a freed block is poisoned under loom) and unchanged for as
/// long as the snapshot holds it.
#[test]
fn snapshot_vs_growth_and_free() {
    race(
        "snapshot_vs_growth_and_free",
        &[
            (vec![1, 2], vec![1, 2]),
            (vec![1, 2, 3], vec![1, 2, 3]),
            (vec![], vec![]),
        ],
        || FtArray::from_slice(&[1u64, 2]),
        |a| {
            a.push(3); // full: moves to a new block, retiring the old one
            a.clear();
            a.shrink_to_fit().unwrap(); // retires that one too
        },
        |a| {
            let s = a.snapshot();
            let first = s.to_vec();
            thread::yield_now();
            (first, s.to_vec())
        },
        |a, o| {
            assert!(a.is_empty());
            o
        },
    );
}

/// A snapshot against `clear` and an in-place refill of the same cells: the refill must copy
/// the shared block, so a snapshot of `[1, 2]` never turns into `[7, 2]`.
#[test]
fn snapshot_vs_clear_and_refill() {
    race(
        "snapshot_vs_clear_and_refill",
        &[
            (vec![1, 2], vec![1, 2]),
            (vec![], vec![]),
            (vec![7], vec![7]),
        ],
        || FtArray::from_slice(&[1u16, 2]),
        |a| {
            a.clear();
            a.extend_from_slice(&[7]);
        },
        |a| {
            let s = a.snapshot();
            let first = s.to_vec();
            thread::yield_now();
            (first, s.to_vec())
        },
        |a, o| {
            assert_eq!(a.to_vec(), [7]);
            o
        },
    );
}

/// The two owners of a retired block let go on two threads: the collector's deferred release
/// (after the writer's growth retired it) and the snapshot's drop. Whichever comes last frees
/// it, once; the snapshot reads it intact before letting go.
#[test]
fn snapshot_drop_vs_retirement() {
    race(
        "snapshot_drop_vs_retirement",
        &[vec![1], vec![1, 2]],
        || FtArray::from_slice(&[1u32]),
        |a| {
            a.push(2); // full: a new block; the old one goes to the collector
            crossbeam_epoch::pin().flush();
        },
        |a| {
            let s = a.snapshot();
            let seen = s.to_vec();
            drop(s);
            seen
        },
        |a, o| {
            assert_eq!(a.to_vec(), [1, 2]);
            o
        },
    );
}

/// Issue 7, defect 6: a reader whose optimistic attempt failed must not wait for the writer
/// lock, which a writer may hold for O(n) work (here an `update` closure that waits until the
/// reader has finished, standing in for a long sort or rewrite). The old fallback locked after
/// its optimistic attempts failed, and this model then deadlocks.
#[test]
fn read_never_waits_for_a_long_critical_section() {
    race(
        "read_never_waits_for_a_long_critical_section",
        &[vec![0], vec![1]],
        || {
            (
                FtArray::from_slice(&[0u32]),
                loom::sync::atomic::AtomicBool::new(false),
            )
        },
        |(a, reader_done)| {
            a.set(0, 1).unwrap(); // an in-place step: can make the reader's attempt fail
            a.update(|v| {
                while !reader_done.load(loom::sync::atomic::Ordering::Acquire) {
                    thread::yield_now();
                }
                v[0] = 2;
            })
            .unwrap();
        },
        |(a, reader_done)| {
            let seen = a.to_vec();
            reader_done.store(true, loom::sync::atomic::Ordering::Release);
            seen
        },
        |(a, _), seen| {
            assert_eq!(a.to_vec(), [2]);
            seen
        },
    );
}

/// `a == b` compares the two arrays at one instant (issue 7, defect 5): the writer never makes
/// them equal (`[1] [0]`, then `[5] [0]`, then `[5] [1]`), so a comparison that paired `a`'s
/// first state with `b`'s last would wrongly report them equal.
#[test]
fn cross_equality_vs_sets() {
    race(
        "cross_equality_vs_sets",
        &[false],
        || (FtArray::from_slice(&[1u32]), FtArray::from_slice(&[0u32])),
        |(a, b)| {
            a.set(0, 5).unwrap();
            b.set(0, 1).unwrap();
        },
        |(a, b)| a == b,
        outcome,
    );
}

/// The element a `DynArray` read returned, as a number (for outcomes).
fn int(v: Result<ftarray::Value, Error>) -> i64 {
    match v {
        Ok(ftarray::Value::Int(x)) => x,
        other => panic!("not an int element: {other:?}"),
    }
}

/// A reader holding the block it read (`DynHold`, no pin on its next read) against a writer
/// that grows the array (a new block; the old one retired and handed to the collector, whose
/// release races the hold's). Reads through the hold are linearizable (never the new last
/// element and then the old one), and the held block stays intact until the hold moves on: a
/// block freed under the hold would be read poisoned.
#[test]
fn held_read_vs_growth_and_retirement() {
    use ftarray::{DynArray, DynHold, TypeCode, Value};
    race(
        "held_read_vs_growth_and_retirement",
        &[(1, 1), (1, 2), (2, 2)],
        || DynArray::from_values(TypeCode::UInt, &[Value::Int(1)]).unwrap(),
        |a| {
            a.push(Value::Int(2)).unwrap(); // full: a new block; the old one is retired
            crossbeam_epoch::pin().flush();
        },
        |a| {
            let mut hold = DynHold::new();
            let first = int(a.get_held(&mut hold, -1));
            let second = int(a.get_held(&mut hold, -1));
            drop(hold);
            (first, second)
        },
        |a, o| {
            assert_eq!(int(a.get(-1)), 2);
            o
        },
    );
}

/// A hold does not make the block shared: a writer's in-place `set` goes to the held block
/// (no copy), and the reader's held reads see the old value and then possibly the new one,
/// never the reverse.
#[test]
fn held_read_vs_in_place_set() {
    use ftarray::{DynArray, DynHold, TypeCode, Value};
    race(
        "held_read_vs_in_place_set",
        &[(1, 1), (1, 5), (5, 5)],
        || DynArray::from_values(TypeCode::UInt, &[Value::Int(1)]).unwrap(),
        |a| a.set(0, Value::Int(5)).unwrap(),
        |a| {
            let mut hold = DynHold::new();
            (int(a.get_held(&mut hold, 0)), int(a.get_held(&mut hold, 0)))
        },
        |a, o| {
            assert_eq!(int(a.get(0)), 5);
            o
        },
    );
}

/// An iterator's run (`read_run_held`, then `unchanged_held` before each step it serves)
/// against an in-place `set` that then raises a flag. Once the reader sees the flag, the set
/// happened before its check, so the check must fail unless the run already saw the new
/// value: never the old value with the flag up. With the check planted to always pass, the
/// outcome (1, true) is reached.
#[test]
fn run_check_vs_in_place_set() {
    use ftarray::{DynArray, DynHold, TypeCode, Value};
    use loom::sync::atomic::{AtomicBool, Ordering};
    struct State(DynArray, AtomicBool);
    race(
        "run_check_vs_in_place_set",
        &[(1, false), (5, false), (5, true)],
        || {
            State(
                DynArray::from_values(TypeCode::UInt, &[Value::Int(1)]).unwrap(),
                AtomicBool::new(false),
            )
        },
        |s| {
            s.0.set(0, Value::Int(5)).unwrap();
            s.1.store(true, Ordering::Release);
        },
        |s| {
            let mut hold = DynHold::new();
            let mut run = [Value::Int(0)];
            // The first run takes the hold (a pinned read: no stamp); the second may have one.
            s.0.read_run_held(&mut hold, 0, &mut run);
            let (_, stamp) = s.0.read_run_held(&mut hold, 0, &mut run);
            let done = s.1.load(Ordering::Acquire);
            let served = match stamp {
                Some(stamp) if s.0.unchanged_held(&hold, stamp) => Ok(run[0]),
                _ => s.0.get_held(&mut hold, 0),
            };
            (int(served), done)
        },
        outcome,
    );
}
