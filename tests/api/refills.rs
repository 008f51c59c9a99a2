//! Refills within capacity

use super::*;

/// `clear` then `extend` of a full batch, appends that at least double the contents, and a
/// refill by `resize` keep the capacity and give exactly the elements appended, for every word
/// size and for small and large capacities.
#[test]
fn refills_within_capacity_keep_capacity_and_contents() {
    fn check<T: Element + PartialEq + Debug>(make: impl Fn(usize) -> T) {
        // Under Miri the 1,024 and 5,000 cases alone take minutes; the small ones cover every
        // unit alignment and both in-place paths.
        let caps: &[usize] = if cfg!(miri) {
            &[1, 7, 63, 64, 65, 300]
        } else {
            &[1, 7, 63, 64, 65, 300, 1024, 5000]
        };
        for &cap in caps {
            let a = FtArray::<T>::with_capacity(cap);
            let first: Vec<T> = (0..cap).map(&make).collect();
            a.extend_from_slice(&first);
            let cap0 = a.capacity();
            for round in 1..4 {
                a.clear();
                let values: Vec<T> = (0..cap).map(|i| make(i + round)).collect();
                a.extend_from_slice(&values);
                assert_eq!(a.to_vec(), values, "cap {cap}, round {round}");
                assert_eq!(a.capacity(), cap0, "cap {cap}, round {round}");
            }
            a.truncate(cap / 2);
            let more: Vec<T> = (0..cap - cap / 2).map(|i| make(i + 1000)).collect();
            let mut want = a.to_vec();
            want.extend(more.iter().copied());
            a.extend_from_slice(&more);
            assert_eq!(a.to_vec(), want, "cap {cap}, half then refill");
            assert_eq!(a.capacity(), cap0);
            a.clear();
            a.resize(cap, make(3));
            assert_eq!(a.to_vec(), vec![make(3); cap], "cap {cap}, repeat");
            assert_eq!(a.capacity(), cap0);
        }
    }
    check::<u8>(|i| i as u8);
    check::<i16>(|i| i as i16 - 7);
    check::<u32>(|i| i as u32 * 3);
    check::<f64>(|i| i as f64 * 0.5);
    check::<Meters>(|i| Meters(i as f32));
}

/// The storage address, through a momentary export.
fn storage<T: Element>(a: &FtArray<T>) -> *const T {
    a.export().as_ptr()
}

/// The most bytes one in-place step stores (8 KiB of tail plus 64 bytes of new elements).
const STEP_BOUND: usize = 8192 + 64;

/// A short insert, remove, splice or whole-contents rewrite within the capacity is one bounded
/// step on the same storage (at most 8 KiB + 64 bytes stored); past that bound it builds a new
/// block, as before. Both give the same contents as a `Vec`.
fn short_shifts_stay_in_place_for<T: Element + PartialEq + Debug + From<u8>>() {
    let size = size_of::<T>();
    // An 8 KiB array: inserting one element in front stores 8 KiB + one element, in the bound.
    let small = 8192 / size;
    let a = FtArray::<T>::with_capacity(small + 8);
    let mut model: Vec<T> = (0..small).map(|i| T::from(i as u8)).collect();
    a.extend_from_slice(&model);
    let p = storage(&a);
    a.insert(0, T::from(200)).unwrap();
    model.insert(0, T::from(200));
    assert_eq!(a.remove(3).unwrap(), model.remove(3));
    a.replace_range(5..9, &[T::from(201)]).unwrap();
    model.splice(5..9, [T::from(201)]);
    a.replace_range(2..2, &[T::from(202), T::from(203)])
        .unwrap();
    model.splice(2..2, [T::from(202), T::from(203)]);
    a.update(|v| {
        v.reverse();
        v.pop();
    })
    .unwrap();
    model.reverse();
    model.pop();
    a.retain(|x| *x != T::from(7)).unwrap();
    model.retain(|x| *x != T::from(7));
    assert_eq!(a.to_vec(), model);
    assert_eq!(storage(&a), p, "a short shift moved the storage");
    assert_eq!(a.capacity(), small + 8);

    // Over the bound: the tail to shift is more than the bound, so a new block is published.
    let big = STEP_BOUND / size + 1;
    let b = FtArray::<T>::with_capacity(big + 8);
    let mut model: Vec<T> = (0..big).map(|i| T::from(i as u8)).collect();
    b.extend_from_slice(&model);
    let p = storage(&b);
    b.insert(0, T::from(9)).unwrap();
    model.insert(0, T::from(9));
    assert_eq!(b.to_vec(), model);
    assert_ne!(storage(&b), p, "a shift over the bound was done in place");
}

#[test]
fn short_shifts_stay_in_place_and_long_ones_move() {
    short_shifts_stay_in_place_for::<u8>();
    short_shifts_stay_in_place_for::<u16>();
    short_shifts_stay_in_place_for::<u32>();
    short_shifts_stay_in_place_for::<u64>();
    short_shifts_stay_in_place_for::<f64>();
}

/// While exported, a length-changing insert still fails (it is only done in place as an
/// optimisation when nobody holds the storage), and nothing changes.
#[test]
fn short_inserts_still_refuse_while_exported() {
    let a = FtArray::<u32>::with_capacity(16);
    a.extend_from_slice(&[1, 2, 3]);
    let e = a.export();
    assert_eq!(a.insert(0, 9), Err(Error::Exported { exports: 1 }));
    assert_eq!(a.remove(0), Err(Error::Exported { exports: 1 }));
    assert_eq!(a.to_vec(), [1, 2, 3]);
    drop(e);
    a.insert(0, 9).unwrap();
    assert_eq!(a.to_vec(), [9, 1, 2, 3]);
}

/// `Export::load` and `Export::store` address the right element for every slot of a unit,
/// and a store keeps the neighbours that share its unit.
#[test]
fn export_load_and_store_address_every_slot() {
    let a = FtArray::from_slice(&(0u8..19).collect::<Vec<_>>());
    let e = a.export();
    for i in 0..19 {
        assert_eq!(e.load(i), Some(i as u8));
    }
    assert_eq!(e.load(19), None);
    assert!(e.store(9, 99));
    assert!(!e.store(19, 1));
    let r = a.export_readonly();
    assert_eq!(r.load(9), Some(99));
    drop((e, r));
    let mut want: Vec<u8> = (0..19).collect();
    want[9] = 99;
    assert_eq!(a.to_vec(), want);

    let w = FtArray::from_slice(&[1u16, 2, 3, 4, 5]);
    let e = w.export();
    assert!(e.store(4, 50));
    assert!(e.store(0, 10));
    assert_eq!(
        (0..5).map(|i| e.load(i).unwrap()).collect::<Vec<_>>(),
        [10, 2, 3, 4, 50]
    );
}
