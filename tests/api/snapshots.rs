//! Snapshots: an immutable view of one instant that shares the storage until a writer needs it

use super::*;

/// The storage address of `a` as an export sees it (the export is dropped at once).
fn storage<T: Element>(a: &FtArray<T>) -> *const T {
    a.export().as_ptr()
}

#[test]
fn a_snapshot_shares_the_storage_and_never_changes() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    let before = storage(&a);
    let s = a.snapshot();
    assert!(s.is_shared(), "taken with the lock free: no copy");
    assert_eq!(
        s.as_ptr(),
        before,
        "the snapshot is the array's own storage"
    );
    assert_eq!(*s, [1, 2, 3]);
    a.set(0, 10).unwrap(); // copies the storage first: the snapshot keeps the old one
    a.push(4);
    assert_eq!(*s, [1, 2, 3]);
    assert_eq!(s.get(2), Some(3));
    assert_eq!(s.get(3), None);
    assert_eq!(a.to_vec(), [10, 2, 3, 4]);
    assert_eq!(s.as_bytes(), bytemuck::cast_slice::<u32, u8>(&[1, 2, 3]));
    assert_eq!(s.to_vec(), [1, 2, 3]);
    assert_eq!(s, [1, 2, 3]);
    assert_eq!(format!("{s:?}"), "[1, 2, 3]");
    assert_eq!((&s).into_iter().copied().max(), Some(3));
}

/// The first write after a snapshot copies the storage, once; later writes are in place again
/// (the storage does not move any more).
#[test]
fn the_first_write_copies_once_and_later_writes_run_in_place() {
    let a = FtArray::<u64>::with_capacity(64);
    a.extend_from_slice(&[1, 2, 3]);
    let shared = storage(&a);
    let s = a.snapshot();
    a.set(1, 20).unwrap();
    let copy = storage(&a);
    assert_ne!(copy, shared, "the first write went to a copy");
    assert_eq!(a.capacity(), 64, "the copy keeps the capacity");
    for i in 0..10 {
        a.set(0, i).unwrap();
        a.push(i);
        a.pop().unwrap();
    }
    assert_eq!(storage(&a), copy, "later writes stayed in place");
    assert_eq!(*s, [1, 2, 3]);
}

/// Every write that stores into the cells in place leaves an earlier snapshot as it was.
#[test]
fn every_in_place_write_leaves_a_snapshot_unchanged() {
    type Op = fn(&FtArray<u16>);
    let ops: &[(&str, Op)] = &[
        ("set", |a| {
            let _ = a.set(1, 99).unwrap();
        }),
        ("fetch_add", |a| {
            let _ = a.fetch_add(1, 5).unwrap();
        }),
        ("fetch_update", |a| {
            let _ = a.fetch_update(0, |x| x + 1).unwrap();
        }),
        ("swap", |a| a.swap(0, 3).unwrap()),
        ("push", |a| a.push(7)),
        ("pop then push", |a| {
            a.pop();
            a.push(70);
        }),
        ("truncate then extend", |a| {
            a.truncate(1);
            a.extend_from_slice(&[8, 9]);
        }),
        ("swap_remove", |a| {
            let _ = a.swap_remove(0).unwrap();
        }),
        ("replace_range, same length", |a| {
            a.replace_range(1..3, &[5, 6]).unwrap()
        }),
        ("insert", |a| a.insert(1, 42).unwrap()),
        ("remove", |a| {
            let _ = a.remove(1).unwrap();
        }),
        ("replace_strided", |a| {
            a.replace_strided(.., NonZeroUsize::new(2).unwrap(), &[0, 0])
                .unwrap()
        }),
        ("update", |a| a.update(|v| v[2] = 1000).unwrap()),
        ("reverse", |a| a.reverse()),
        ("sort", |a| a.sort()),
        ("byteswap", |a| a.byteswap()),
        ("retain", |a| a.retain(|x| *x != 2).unwrap()),
        ("clear and extend", |a| {
            a.clear();
            a.extend_from_slice(&[11, 12, 13, 14]);
        }),
        ("fill by resize", |a| {
            a.truncate(2);
            a.resize(4, 3);
        }),
    ];
    for (name, op) in ops {
        let a = FtArray::<u16>::with_capacity(16);
        a.extend_from_slice(&[4, 2, 3, 1]);
        let s = a.snapshot();
        // The same operation on an array no snapshot ever shared.
        let expected_after = {
            let b = FtArray::<u16>::with_capacity(16);
            b.extend_from_slice(&[4, 2, 3, 1]);
            op(&b);
            b.to_vec()
        };
        op(&a);
        assert_eq!(*s, [4, 2, 3, 1], "{name} changed the snapshot");
        assert_eq!(a.to_vec(), expected_after, "{name}");
    }
}

#[test]
fn a_snapshot_outlives_its_array() {
    let s = {
        let a = FtArray::from_slice(&[1.5f64, 2.5]);
        let s = a.snapshot();
        a.push(3.5);
        let t = a.snapshot();
        assert_eq!(*t, [1.5, 2.5, 3.5]);
        s
    };
    assert_eq!(*s, [1.5, 2.5]);
    let c = s.clone();
    drop(s);
    assert_eq!(*c, [1.5, 2.5]);
}

/// An export's holder may write the storage, so an exported array's snapshot is a copy, and
/// an export of storage a snapshot shares copies it first: no write through an export ever
/// reaches a snapshot.
#[test]
fn exports_never_write_into_a_snapshot() {
    let a = FtArray::from_slice(&[1u8, 2, 3]);
    let e = a.export();
    let s = a.snapshot();
    assert!(!s.is_shared(), "an exported array's snapshot is a copy");
    e.store(0, 9);
    assert_eq!(*s, [1, 2, 3]);
    drop(e);

    let b = FtArray::from_slice(&[1u8, 2, 3]);
    let t = b.snapshot();
    let f = b.export();
    assert_ne!(f.as_ptr(), t.as_ptr(), "the export pins a copy");
    f.store(0, 9);
    drop(f);
    assert_eq!(*t, [1, 2, 3]);
    assert_eq!(b.to_vec(), [9, 2, 3]);
}

/// With the writer lock held (here by this very thread, inside `update`), a snapshot does not
/// wait: it copies what a validated read sees, the state before the edit.
#[test]
fn a_snapshot_never_waits_for_the_writer_lock() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    let s = a
        .update(|v| {
            let s = a.snapshot();
            v.push(4);
            s
        })
        .unwrap();
    assert!(!s.is_shared(), "the lock was busy: a copy");
    assert_eq!(*s, [1, 2, 3]);
    assert_eq!(a.to_vec(), [1, 2, 3, 4]);
}

#[test]
fn snapshots_of_empty_arrays_are_empty() {
    let a = FtArray::<i64>::new();
    let s = a.snapshot();
    assert!(s.is_empty() && s.as_slice().is_empty());
    a.push(1);
    assert!(s.is_empty());
    a.clear();
    let t = a.snapshot();
    assert_eq!(t.len(), 0);
    assert_eq!(a.try_snapshot().unwrap().len(), 0);
}

#[test]
fn snapshots_are_send_and_sync() {
    fn check<T: Send + Sync>(_: &T) {}
    let a = FtArray::from_slice(&[1u32]);
    let s = a.snapshot();
    check(&s);
    let t = std::thread::scope(|scope| scope.spawn(|| s.iter().sum::<u32>()).join().unwrap());
    assert_eq!(t, 1);
}
