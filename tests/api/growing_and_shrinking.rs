//! Growing and shrinking

use super::*;

#[test]
fn push_appends_and_grows_the_capacity() {
    let a = FtArray::<i32>::new();
    for i in 0..100 {
        a.push(i);
        assert_eq!(a.len(), (i + 1) as usize);
        assert!(a.capacity() >= a.len());
    }
    assert_eq!(a.to_vec(), (0..100).collect::<Vec<_>>());
}

#[test]
fn try_push_appends_and_returns_ok() {
    let a = FtArray::<u16>::new();
    assert_eq!(a.try_push(7), Ok(()));
    assert_eq!(a.try_push(8), Ok(()));
    assert_eq!(a.to_vec(), [7, 8]);
}

#[test]
fn push_fills_a_slot_freed_by_pop_with_the_new_value() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    let cap = a.capacity();
    assert_eq!(a.pop(), Some(3));
    a.push(9);
    assert_eq!(a.to_vec(), [1, 2, 9]);
    assert_eq!(a.capacity(), cap);
}

#[test]
fn pop_removes_from_the_end_and_keeps_capacity() {
    let a = FtArray::from_slice(&[1u32, 2]);
    let cap = a.capacity();
    assert_eq!(a.pop(), Some(2));
    assert_eq!(a.pop(), Some(1));
    assert_eq!(a.pop(), None);
    assert_eq!(a.capacity(), cap);
    let e = FtArray::<u32>::new();
    assert_eq!(unchanged(&e, || e.pop()), None);
}

#[test]
fn insert_at_front_middle_and_end() {
    let a = FtArray::from_slice(&[2u32, 4]);
    a.insert(0, 1).unwrap();
    a.insert(2, 3).unwrap();
    a.insert(4, 5).unwrap();
    assert_eq!(a.to_vec(), [1, 2, 3, 4, 5]);
    let e = FtArray::<f32>::new();
    e.insert(0, 1.5).unwrap();
    assert_eq!(e.to_vec(), [1.5]);
}

#[test]
fn insert_past_the_length_fails_unchanged() {
    let a = FtArray::from_slice(&[1u32, 3]);
    fails_unchanged(&a, Error::IndexOutOfRange { index: 3, len: 2 }, || {
        a.insert(3, 0)
    });
    fails_unchanged(
        &a,
        Error::IndexOutOfRange {
            index: usize::MAX,
            len: 2,
        },
        || a.insert(usize::MAX, 0),
    );
    let e = FtArray::<u8>::new();
    fails_unchanged(&e, Error::IndexOutOfRange { index: 1, len: 0 }, || {
        e.insert(1, 0)
    });
}

#[test]
fn remove_shifts_later_elements_down() {
    let a = FtArray::from_slice(&[1u32, 2, 3, 4]);
    assert_eq!(a.remove(1), Ok(2));
    assert_eq!(a.to_vec(), [1, 3, 4]);
    assert_eq!(a.remove(2), Ok(4));
    assert_eq!(a.remove(0), Ok(1));
    assert_eq!(a.to_vec(), [3]);
    assert_eq!(a.remove(0), Ok(3));
    assert!(a.is_empty());
}

#[test]
fn remove_out_of_range_fails_unchanged() {
    let a = FtArray::from_slice(&[1u32, 2]);
    fails_unchanged(&a, Error::IndexOutOfRange { index: 2, len: 2 }, || {
        a.remove(2)
    });
    let e = FtArray::<u32>::new();
    fails_unchanged(&e, Error::IndexOutOfRange { index: 0, len: 0 }, || {
        e.remove(0)
    });
}

#[test]
fn remove_item_removes_the_first_match_and_returns_its_index() {
    let a = FtArray::from_slice(&[4u8, 5, 4]);
    assert_eq!(a.remove_item(&4), Ok(Some(0)));
    assert_eq!(a.to_vec(), [5, 4]);
    assert_eq!(a.remove_item(&4), Ok(Some(1)));
    assert_eq!(a.to_vec(), [5]);
    assert_eq!(unchanged(&a, || a.remove_item(&9)), Ok(None));
    let e = FtArray::<u8>::new();
    assert_eq!(unchanged(&e, || e.remove_item(&0)), Ok(None));
}

#[test]
fn remove_item_never_finds_nan() {
    let a = FtArray::from_slice(&[f64::NAN, 1.0]);
    let r = unchanged(&a, || a.remove_item(&f64::NAN));
    assert_eq!(r, Ok(None));
    assert_eq!(a.remove_item(&1.0), Ok(Some(1)));
}

#[test]
fn swap_remove_moves_the_last_element_into_the_hole() {
    let a = FtArray::from_slice(&[1u32, 2, 3, 4]);
    let cap = a.capacity();
    assert_eq!(a.swap_remove(0), Ok(1));
    assert_eq!(a.to_vec(), [4, 2, 3]);
    assert_eq!(a.swap_remove(2), Ok(3));
    assert_eq!(a.to_vec(), [4, 2]);
    assert_eq!(a.capacity(), cap);
}

#[test]
fn swap_remove_out_of_range_fails_unchanged() {
    let a = FtArray::from_slice(&[1u32]);
    fails_unchanged(&a, Error::IndexOutOfRange { index: 1, len: 1 }, || {
        a.swap_remove(1)
    });
    let e = FtArray::<u32>::new();
    fails_unchanged(&e, Error::IndexOutOfRange { index: 0, len: 0 }, || {
        e.swap_remove(0)
    });
}

#[test]
fn extend_from_slice_appends_all_values() {
    let a = FtArray::from_slice(&[1u32]);
    a.extend_from_slice(&[2, 3]);
    a.extend_from_slice(&[]);
    assert_eq!(a.to_vec(), [1, 2, 3]);
    let e = FtArray::<u32>::new();
    e.extend_from_slice(&[]);
    assert_eq!(e.capacity(), 0, "appending nothing must not allocate");
}

#[test]
fn try_extend_from_slice_appends_and_reports_overflow() {
    let a = FtArray::<u16>::new();
    a.try_extend_from_slice(&[1, 2]).unwrap();
    assert_eq!(a.to_vec(), [1, 2]);
    a.try_extend_from_slice(&[]).unwrap();
    assert_eq!(a.len(), 2);
}

#[test]
fn extend_from_array_appends_a_snapshot_of_another_array() {
    let a = FtArray::from_slice(&[1i32, 2]);
    let b = FtArray::from_slice(&[3i32, 4]);
    a.extend_from_array(&b);
    assert_eq!(a.to_vec(), [1, 2, 3, 4]);
    assert_eq!(b.to_vec(), [3, 4]);
    a.extend_from_array(&FtArray::new());
    assert_eq!(a.len(), 4);
    a.try_extend_from_array(&b).unwrap();
    assert_eq!(a.to_vec(), [1, 2, 3, 4, 3, 4]);
}

#[test]
fn extend_from_array_with_itself_doubles_the_array() {
    let a = FtArray::from_slice(&[1u8, 2]);
    a.extend_from_array(&a);
    assert_eq!(a.to_vec(), [1, 2, 1, 2]);
    a.try_extend_from_array(&a).unwrap();
    assert_eq!(a.to_vec(), [1, 2, 1, 2, 1, 2, 1, 2]);
    let e = FtArray::<u8>::new();
    e.extend_from_array(&e);
    assert!(e.is_empty());
}

#[test]
fn extend_from_array_that_must_grow_while_exported_fails_unchanged() {
    let a = FtArray::from_slice(&[1u32]);
    let b = FtArray::from_slice(&[2u32, 3]);
    let e = a.export();
    exported_unchanged(&a, 1, || a.try_extend_from_array(&b));
    exported_unchanged(&a, 1, || a.try_extend_from_array(&a));
    drop(e);
    a.try_extend_from_array(&b).unwrap();
    assert_eq!(a.to_vec(), [1, 2, 3]);
}

#[test]
fn extend_from_bytes_decodes_native_order_elements() {
    let a = FtArray::<u16>::new();
    a.extend_from_bytes(&7u16.to_ne_bytes()).unwrap();
    let mut bytes = 0x0102_0304u32.to_ne_bytes().to_vec();
    bytes.extend_from_slice(&5u32.to_ne_bytes());
    let b = FtArray::<u32>::new();
    // An unaligned source slice must work too.
    let mut padded = vec![0u8];
    padded.extend_from_slice(&bytes);
    b.extend_from_bytes(&padded[1..]).unwrap();
    assert_eq!(b.to_vec(), [0x0102_0304, 5]);
    assert_eq!(a.to_vec(), [7]);
    let m = FtArray::<Meters>::new();
    m.extend_from_bytes(&2.5f32.to_ne_bytes()).unwrap();
    assert_eq!(m.to_vec(), [Meters(2.5)]);
    let nan = f64::from_bits(0x7ff0_0000_0000_00ff);
    let f = FtArray::<f64>::new();
    f.extend_from_bytes(&nan.to_bits().to_ne_bytes()).unwrap();
    assert_eq!(f.get(0).unwrap().to_bits(), nan.to_bits());
    f.extend_from_bytes(&[]).unwrap();
    assert_eq!(f.len(), 1);
}

#[test]
fn extend_from_bytes_with_a_bad_length_fails_unchanged() {
    let a = FtArray::from_slice(&[1u16]);
    fails_unchanged(
        &a,
        Error::BadByteLength {
            len: 3,
            item_size: 2,
        },
        || a.extend_from_bytes(&[1, 2, 3]),
    );
    let b = FtArray::from_slice(&[1.0f64]);
    fails_unchanged(
        &b,
        Error::BadByteLength {
            len: 12,
            item_size: 8,
        },
        || b.extend_from_bytes(&[0; 12]),
    );
    let m = FtArray::<Meters>::new();
    fails_unchanged(
        &m,
        Error::BadByteLength {
            len: 1,
            item_size: 4,
        },
        || m.extend_from_bytes(&[0]),
    );
}

#[test]
fn truncate_shortens_but_never_lengthens_and_keeps_capacity() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    let cap = a.capacity();
    a.truncate(5);
    assert_eq!(a.to_vec(), [1, 2, 3]);
    a.truncate(3);
    assert_eq!(a.to_vec(), [1, 2, 3]);
    a.truncate(1);
    assert_eq!(a.to_vec(), [1]);
    assert_eq!(a.capacity(), cap);
    a.truncate(0);
    assert!(a.is_empty());
    assert_eq!(a.capacity(), cap);
    let e = FtArray::<u32>::new();
    e.truncate(0);
    assert_eq!(e.capacity(), 0);
}

#[test]
fn clear_removes_everything_and_keeps_capacity() {
    let a = FtArray::from_slice(&[1u32, 2]);
    let cap = a.capacity();
    a.clear();
    assert!(a.is_empty());
    assert_eq!(a.get(0), None);
    assert_eq!(a.capacity(), cap);
    a.clear();
    assert!(a.is_empty());
    a.push(5);
    assert_eq!(a.to_vec(), [5]);
}

#[test]
fn resize_grows_with_the_fill_value_and_shrinks() {
    let a = FtArray::from_slice(&[1u8]);
    a.resize(3, 9);
    assert_eq!(a.to_vec(), [1, 9, 9]);
    a.resize(3, 0);
    assert_eq!(a.to_vec(), [1, 9, 9]);
    a.resize(1, 0);
    assert_eq!(a.to_vec(), [1]);
    // Regrowing within capacity writes the fill value, not the stale slots.
    a.resize(3, 4);
    assert_eq!(a.to_vec(), [1, 4, 4]);
    a.resize(0, 0);
    assert!(a.is_empty());
}

#[test]
fn try_resize_grows_and_reports_capacity_overflow_unchanged() {
    let a = FtArray::from_slice(&[1.0f32]);
    a.try_resize(4, -1.0).unwrap();
    assert_eq!(a.to_vec(), [1.0, -1.0, -1.0, -1.0]);
    a.try_resize(2, 0.0).unwrap();
    assert_eq!(a.to_vec(), [1.0, -1.0]);
    fails_unchanged(&a, Error::CapacityOverflow, || {
        a.try_resize(usize::MAX, 0.0)
    });
}

#[test]
fn reserve_makes_room_for_additional_elements() {
    let a = FtArray::from_slice(&[1u32, 2]);
    a.reserve(10);
    assert!(a.capacity() >= 12);
    assert_eq!(a.to_vec(), [1, 2]);
    let cap = a.capacity();
    a.reserve(1);
    assert_eq!(
        a.capacity(),
        cap,
        "a satisfied reservation must not reallocate"
    );
    let e = FtArray::<u64>::new();
    e.reserve(0);
    assert_eq!(e.capacity(), 0);
}

#[test]
fn try_reserve_reports_overflow_and_leaves_the_array_unchanged() {
    let a = FtArray::<u32>::new();
    fails_unchanged(&a, Error::CapacityOverflow, || a.try_reserve(usize::MAX));
    assert_eq!(a.try_reserve(3), Ok(()));
    assert!(a.capacity() >= 3);
    let b = FtArray::from_slice(&[1u32, 2]);
    fails_unchanged(&b, Error::CapacityOverflow, || b.try_reserve(usize::MAX));
    fails_unchanged(&b, Error::CapacityOverflow, || {
        b.try_reserve(usize::MAX - 1)
    });
    fails_unchanged(&b, Error::CapacityOverflow, || {
        b.try_reserve(isize::MAX as usize)
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri aborts on huge allocations instead of failing them"
)]
fn try_reserve_huge_but_representable_is_an_error_and_changes_nothing() {
    for_each_huge_reserve::<u8>(&[1, 2, 3]);
    for_each_huge_reserve::<i16>(&[1, 2, 3]);
    for_each_huge_reserve::<u32>(&[1, 2, 3]);
    for_each_huge_reserve::<f64>(&[1.0, 2.0]);

    fn for_each_huge_reserve<T: Element>(values: &[T]) {
        let a = FtArray::from_slice(values);
        let r = unchanged(&a, || a.try_reserve(isize::MAX as usize / 16));
        assert!(
            matches!(r, Err(Error::AllocFailed { .. } | Error::CapacityOverflow)),
            "{r:?}"
        );
        let r = unchanged(&a, || a.try_reserve_exact(isize::MAX as usize / 16));
        assert!(
            matches!(r, Err(Error::AllocFailed { .. } | Error::CapacityOverflow)),
            "{r:?}"
        );
    }
}

#[test]
#[should_panic(expected = "capacity overflow")]
fn reserve_panics_with_the_error_text_on_overflow() {
    FtArray::<u8>::new().reserve(usize::MAX);
}

#[test]
fn try_reserve_exact_reserves_exactly() {
    let a = FtArray::<u32>::new();
    a.try_reserve_exact(5).unwrap();
    assert_eq!(a.capacity(), 5);
    let b = FtArray::from_slice(&[1u32, 2, 3]);
    b.try_reserve_exact(5).unwrap();
    assert_eq!(b.capacity(), 8);
    assert_eq!(b.to_vec(), [1, 2, 3]);
    b.try_reserve_exact(2).unwrap();
    assert_eq!(
        b.capacity(),
        8,
        "a satisfied reservation must not reallocate"
    );
    fails_unchanged(&b, Error::CapacityOverflow, || {
        b.try_reserve_exact(usize::MAX)
    });
}

#[test]
fn shrink_to_fit_reduces_capacity_to_the_length() {
    let a = FtArray::<u32>::with_capacity(100);
    a.extend_from_slice(&[1, 2, 3]);
    a.shrink_to_fit().unwrap();
    assert_eq!(a.capacity(), 3);
    assert_eq!(a.to_vec(), [1, 2, 3]);
    // Already tight: nothing to do.
    a.shrink_to_fit().unwrap();
    assert_eq!(a.capacity(), 3);
}

#[test]
fn shrink_to_fit_of_an_empty_array_releases_all_storage() {
    let a = FtArray::from_slice(&[1i16, 2]);
    a.clear();
    a.shrink_to_fit().unwrap();
    assert_eq!(a.capacity(), 0);
    assert!(a.is_empty());
    a.shrink_to_fit().unwrap();
    assert_eq!(a.capacity(), 0);
    a.push(3);
    assert_eq!(a.to_vec(), [3]);
    let n = FtArray::<i16>::new();
    n.shrink_to_fit().unwrap();
    assert_eq!(n.capacity(), 0);
}

#[test]
fn replace_range_grows_the_array() {
    let a = FtArray::from_slice(&[1u32, 2, 3, 4]);
    a.replace_range(1..3, &[9, 9, 9]).unwrap();
    assert_eq!(a.to_vec(), [1, 9, 9, 9, 4]);
}

#[test]
fn replace_range_shrinks_the_array() {
    let a = FtArray::from_slice(&[1u32, 2, 3, 4, 5]);
    a.replace_range(1..4, &[7]).unwrap();
    assert_eq!(a.to_vec(), [1, 7, 5]);
    a.replace_range(0..2, &[]).unwrap();
    assert_eq!(a.to_vec(), [5]);
}

#[test]
fn replace_range_with_equal_length_short_replacement() {
    let a = FtArray::from_slice(&[1i64, 2, 3, 4]);
    let cap = a.capacity();
    a.replace_range(1..3, &[-2, -3]).unwrap();
    assert_eq!(a.to_vec(), [1, -2, -3, 4]);
    assert_eq!(a.capacity(), cap);
}

#[test]
fn replace_range_with_equal_length_longer_than_64_elements() {
    let a: FtArray<u32> = (0..200).collect();
    let new: Vec<u32> = (1000..1100).collect();
    a.replace_range(50..150, &new).unwrap();
    let mut expected: Vec<u32> = (0..200).collect();
    expected.splice(50..150, new.iter().copied());
    assert_eq!(a.to_vec(), expected);
    assert_eq!(a.len(), 200);
}

#[test]
fn replace_range_with_an_empty_range_inserts() {
    let a = FtArray::from_slice(&[1u8, 4]);
    a.replace_range(1..1, &[2, 3]).unwrap();
    assert_eq!(a.to_vec(), [1, 2, 3, 4]);
    a.replace_range(2..2, &[]).unwrap();
    assert_eq!(a.to_vec(), [1, 2, 3, 4]);
}

#[test]
fn replace_range_of_the_whole_array_and_at_the_end() {
    let a = FtArray::from_slice(&[1u32, 2, 3, 4]);
    a.replace_range(.., &[7, 8]).unwrap();
    assert_eq!(a.to_vec(), [7, 8]);
    a.replace_range(2.., &[9]).unwrap();
    assert_eq!(a.to_vec(), [7, 8, 9]);
    a.replace_range(3..3, &[10, 11]).unwrap();
    assert_eq!(a.to_vec(), [7, 8, 9, 10, 11]);
    a.replace_range(3.., &[]).unwrap();
    assert_eq!(a.to_vec(), [7, 8, 9]);
    a.replace_range(.., &[]).unwrap();
    assert!(a.is_empty());
    let e = FtArray::<u32>::new();
    e.replace_range(.., &[1, 2]).unwrap();
    assert_eq!(e.to_vec(), [1, 2]);
    let z = FtArray::<u32>::new();
    z.replace_range(.., &[]).unwrap();
    assert!(z.is_empty());
}

#[test]
fn replace_range_with_a_bad_range_fails_unchanged() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    let (hi, lo) = (2usize, 1usize);
    fails_unchanged(
        &a,
        Error::RangeOutOfBounds {
            start: 2,
            end: 1,
            len: 3,
        },
        || a.replace_range(hi..lo, &[0]),
    );
    fails_unchanged(
        &a,
        Error::RangeOutOfBounds {
            start: 1,
            end: 5,
            len: 3,
        },
        || a.replace_range(1..5, &[0]),
    );
    fails_unchanged(
        &a,
        Error::RangeOutOfBounds {
            start: 4,
            end: 4,
            len: 3,
        },
        || a.replace_range(4..4, &[0]),
    );
}

#[test]
fn remove_range_returns_the_removed_elements() {
    let a = FtArray::from_slice(&[1u32, 2, 3, 4, 5, 6]);
    assert_eq!(a.remove_range(1..3).unwrap(), [2, 3]);
    assert_eq!(a.to_vec(), [1, 4, 5, 6]);
    assert_eq!(a.remove_range(2..).unwrap(), [5, 6]);
    assert_eq!(a.to_vec(), [1, 4]);
    assert_eq!(a.remove_range(1..1).unwrap(), Vec::<u32>::new());
    assert_eq!(a.remove_range(..).unwrap(), [1, 4]);
    assert!(a.is_empty());
    assert_eq!(a.remove_range(..).unwrap(), Vec::<u32>::new());
}

#[test]
fn remove_range_with_a_bad_range_fails_unchanged() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    fails_unchanged(
        &a,
        Error::RangeOutOfBounds {
            start: 2,
            end: 4,
            len: 3,
        },
        || a.remove_range(2..4),
    );
    fails_unchanged(
        &a,
        Error::RangeOutOfBounds {
            start: 2,
            end: 1,
            len: 3,
        },
        || a.remove_range((Bound::Included(2), Bound::Excluded(1))),
    );
}

#[test]
fn retain_keeps_only_matching_elements() {
    let a = FtArray::from_slice(&[1u32, 2, 3, 4]);
    a.retain(|x| x % 2 == 0).unwrap();
    assert_eq!(a.to_vec(), [2, 4]);
    let cap = a.capacity();
    unchanged(&a, || a.retain(|_| true)).unwrap();
    assert_eq!(a.capacity(), cap);
    a.retain(|_| false).unwrap();
    assert!(a.is_empty());
    let e = FtArray::<u32>::new();
    e.retain(|_| false).unwrap();
}

#[test]
fn retain_visits_elements_in_order() {
    let a = FtArray::from_slice(&[3u8, 1, 2]);
    let mut seen = Vec::new();
    a.retain(|&x| {
        seen.push(x);
        true
    })
    .unwrap();
    assert_eq!(seen, [3, 1, 2]);
}

#[test]
fn retain_with_a_panicking_predicate_leaves_the_array_unchanged() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    panics_unchanged(&a, || {
        a.retain(|&x| {
            assert!(x < 3, "boom");
            false
        })
    });
    a.push(4);
    assert_eq!(a.to_vec(), [1, 2, 3, 4]);
}

#[test]
fn update_passes_the_closures_return_value_through() {
    let a = FtArray::from_slice(&[3u32, 1, 2]);
    let removed = a
        .update(|v| {
            v.sort();
            v.pop()
        })
        .unwrap();
    assert_eq!(removed, Some(3));
    assert_eq!(a.to_vec(), [1, 2]);
    let len = a
        .update(|v| {
            v.extend_from_slice(&[5, 6, 7]);
            v.len()
        })
        .unwrap();
    assert_eq!(len, 5);
    assert_eq!(a.to_vec(), [1, 2, 5, 6, 7]);
    a.update(|v| v.clear()).unwrap();
    assert!(a.is_empty());
    let e = FtArray::<u32>::new();
    assert_eq!(e.update(|v| v.len()).unwrap(), 0);
}

#[test]
fn update_sees_the_current_elements() {
    let a = FtArray::from_slice(&[1.5f64, 2.5]);
    a.truncate(1);
    let seen = a.update(|v| v.clone()).unwrap();
    assert_eq!(seen, [1.5]);
}

#[test]
fn update_with_a_panicking_closure_leaves_the_array_unchanged() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    panics_unchanged(&a, || {
        a.update(|v| {
            v.clear();
            v.push(99);
            panic!("boom")
        })
    });
    // Not poisoned: later writes work.
    a.push(4);
    assert_eq!(a.to_vec(), [1, 2, 3, 4]);
}

#[test]
fn reverse_reverses_in_one_step() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    a.reverse();
    assert_eq!(a.to_vec(), [3, 2, 1]);
    let e = FtArray::<u32>::new();
    e.reverse();
    assert!(e.is_empty());
    let one = FtArray::from_slice(&[Meters(1.0)]);
    one.reverse();
    assert_eq!(one.to_vec(), [Meters(1.0)]);
}

#[test]
fn sort_orders_integers() {
    let a = FtArray::from_slice(&[3i8, -1, 2, -128, 127]);
    a.sort();
    assert_eq!(a.to_vec(), [-128, -1, 2, 3, 127]);
    let b = FtArray::from_slice(&[5u64, 1, 5, 0]);
    b.sort();
    assert_eq!(b.to_vec(), [0, 1, 5, 5]);
}

#[test]
fn sort_by_orders_floats_with_total_cmp() {
    let a = FtArray::from_slice(&[2.5f64, -1.0, 0.0, -0.0, f64::INFINITY]);
    a.sort_by(f64::total_cmp);
    assert_eq!(
        bits_f64(&a.to_vec()),
        bits_f64(&[-1.0, -0.0, 0.0, 2.5, f64::INFINITY])
    );
    let m = FtArray::from_slice(&[Meters(3.0), Meters(1.0)]);
    m.sort_by(|x, y| x.0.total_cmp(&y.0));
    assert_eq!(m.to_vec(), [Meters(1.0), Meters(3.0)]);
}

#[test]
fn sort_by_is_stable() {
    // Sort by the high byte only; the low byte records the original order.
    let a = FtArray::from_slice(&[0x0200u16, 0x0101, 0x0202, 0x0103, 0x0004]);
    a.sort_by(|x, y| (x >> 8).cmp(&(y >> 8)));
    assert_eq!(a.to_vec(), [0x0004, 0x0101, 0x0103, 0x0200, 0x0202]);
}

#[test]
fn sort_by_with_a_panicking_comparator_leaves_the_array_unchanged() {
    let a = FtArray::from_slice(&[3u32, 1, 2, 9, 0]);
    panics_unchanged(&a, || a.sort_by(|_, _| panic!("boom")));
    a.sort();
    assert_eq!(a.to_vec(), [0, 1, 2, 3, 9]);
}

#[test]
fn byteswap_reverses_the_bytes_of_every_element() {
    let a = FtArray::from_slice(&[0x1122u16, 0x0001]);
    a.byteswap();
    assert_eq!(a.to_vec(), [0x2211, 0x0100]);
    let b = FtArray::from_slice(&[0xabu8]);
    b.byteswap();
    assert_eq!(b.to_vec(), [0xab]);
    let c = FtArray::from_slice(&[0x0102_0304u32]);
    c.byteswap();
    assert_eq!(c.to_vec(), [0x0403_0201]);
    let d = FtArray::from_slice(&[-2i16]);
    d.byteswap();
    assert_eq!(d.to_vec(), [(-2i16).swap_bytes()]);
    let f = FtArray::from_slice(&[1.0f64]);
    f.byteswap();
    assert_eq!(f.get(0).unwrap().to_bits(), 1.0f64.to_bits().swap_bytes());
    f.byteswap();
    assert_eq!(f.get(0), Some(1.0));
    let m = FtArray::from_slice(&[Meters(1.0)]);
    m.byteswap();
    assert_eq!(m.get(0).unwrap().0.to_bits(), 1.0f32.to_bits().swap_bytes());
    let e = FtArray::<u64>::new();
    e.byteswap();
    assert!(e.is_empty());
}

#[test]
fn try_forms_of_rewrites_do_what_the_panicking_forms_do() {
    let a = FtArray::from_slice(&[3i32, 1, 2]);
    a.try_reverse().unwrap();
    assert_eq!(a.to_vec(), [2, 1, 3]);
    a.try_sort().unwrap();
    assert_eq!(a.to_vec(), [1, 2, 3]);
    a.try_sort_by(|x, y| y.cmp(x)).unwrap();
    assert_eq!(a.to_vec(), [3, 2, 1]);
    a.try_byteswap().unwrap();
    assert_eq!(
        a.to_vec(),
        [3i32.swap_bytes(), 2i32.swap_bytes(), 1i32.swap_bytes()]
    );
    let b = a.try_clone().unwrap();
    assert_eq!(b, a);
    a.push(0);
    assert_eq!(b.len(), 3, "a clone is independent");
    let c = FtArray::try_from_slice(&[1u8, 2]).unwrap();
    assert_eq!((c.to_vec(), c.capacity()), (vec![1, 2], 2));
    assert!(FtArray::<u8>::try_from_slice(&[]).unwrap().is_empty());
}

#[test]
fn try_rewrites_while_exported_work_in_place() {
    let a = FtArray::from_slice(&[1u16, 2, 3]);
    let e = a.export();
    a.try_reverse().unwrap();
    a.try_sort().unwrap();
    a.try_byteswap().unwrap();
    assert_eq!(view(&e), [0x0100, 0x0200, 0x0300]);
}

/// A write through an export that lands between a rewrite's snapshot and its write-back (here
/// from inside the rewrite's own closure, which runs between the two) is kept: it counts as made
/// just after the rewrite. The other elements get the rewrite's values. (The write-back used to
/// store the whole stale snapshot over it.)
#[test]
fn export_writes_during_a_rewrite_are_kept() {
    // u16: all three elements share one 64-bit unit; u64: one unit each.
    let a = FtArray::from_slice(&[1u16, 2, 3]);
    let e = a.export();
    a.update(|v| {
        assert!(e.store(1, 99));
        v[0] = 10;
        v[1] = 20;
    })
    .unwrap();
    assert_eq!(a.to_vec(), [10, 99, 3]);
    let b = FtArray::from_slice(&[1u64, 2, 3]);
    let f = b.export();
    b.sort_by(|x, y| {
        f.store(0, 7);
        y.cmp(x)
    });
    assert_eq!(
        b.to_vec(),
        [7, 2, 1],
        "element 0 written during the sort is kept"
    );
}

/// The same for the single-element read-modify-writes: `fetch_update` keeps a write through
/// an export made after it read the element (the write comes just after it), and returns the
/// value it read.
#[test]
fn export_writes_during_fetch_update_are_kept() {
    let a = FtArray::from_slice(&[1u8, 2, 3]);
    let e = a.export();
    let old = a.fetch_update(1, |x| {
        assert!(e.store(1, 50));
        assert!(e.store(2, 60));
        x + 1
    });
    assert_eq!(old, Ok(2));
    assert_eq!(a.to_vec(), [1, 50, 60]);
    // With nothing written meanwhile, the update applies.
    assert_eq!(a.fetch_update(1, |x| x + 1), Ok(50));
    assert_eq!(a.to_vec(), [1, 51, 60]);
}

/// An export's holder storing atomically while the array rewrites its whole contents in place
/// (the storage is exported, so rewrites cannot publish a new block): the rewrite's snapshot
/// and write-back must use atomics too. With a plain copy for the snapshot, Miri reports a data
/// race between that non-atomic read and `Export::store`'s read-modify-write.
#[test]
fn export_stores_racing_rewrites_are_not_a_data_race() {
    let rounds = if cfg!(miri) { 3 } else { 200 };
    let a = FtArray::from_slice(&[0u32, 0, 0, 0, 0]);
    let e = a.export();
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 1..=rounds * 6 {
                e.store(2, i);
            }
        });
        for _ in 0..rounds {
            a.reverse();
            a.update(|v| v[0] += 1).unwrap();
            a.sort_by(|_, _| std::cmp::Ordering::Equal);
            a.byteswap();
            a.byteswap();
            assert!(matches!(
                a.remove_range(0..1),
                Err(Error::Exported { exports: 1 })
            ));
            a.retain(|_| true).unwrap();
        }
    });
    let v = a.to_vec();
    // The last write survives, byteswapped once if it landed between a round's two byteswaps.
    let last = rounds * 6;
    assert!(
        v[2] == last || v[2] == last.swap_bytes(),
        "the last write through the export was lost: {v:?}"
    );
    assert_eq!(v[0] + v[4], rounds, "every update applied, none lost");
}

#[test]
fn replace_strided_sets_every_step_th_element_of_the_range() {
    let two = NonZeroUsize::new(2).unwrap();
    let a = FtArray::from_slice(&[0u32, 1, 2, 3, 4, 5]);
    a.replace_strided(1..6, two, &[10, 30, 50]).unwrap();
    assert_eq!(a.to_vec(), [0, 10, 2, 30, 4, 50]);
    a.replace_strided(.., NonZeroUsize::new(4).unwrap(), &[7, 8])
        .unwrap();
    assert_eq!(a.to_vec(), [7, 10, 2, 30, 8, 50]);
    a.replace_strided(3..3, two, &[]).unwrap();
    a.replace_strided(.., NonZeroUsize::MIN, &[1, 1, 1, 1, 1, 1])
        .unwrap();
    assert_eq!(a.to_vec(), [1; 6]);
    // More values than the in-place limit: published as a new buffer.
    let big = FtArray::from_slice(&vec![0u8; 300]);
    let ones = vec![1u8; 150];
    big.replace_strided(.., two, &ones).unwrap();
    let v = big.to_vec();
    assert!(v.iter().step_by(2).all(|&x| x == 1) && v.iter().skip(1).step_by(2).all(|&x| x == 0));
}

#[test]
fn replace_strided_with_the_wrong_number_of_values_or_range_fails_unchanged() {
    let two = NonZeroUsize::new(2).unwrap();
    let a = FtArray::from_slice(&[0u32, 1, 2, 3, 4]);
    fails_unchanged(
        &a,
        Error::LengthMismatch {
            expected: 3,
            actual: 2,
        },
        || a.replace_strided(.., two, &[9, 9]),
    );
    fails_unchanged(
        &a,
        Error::LengthMismatch {
            expected: 0,
            actual: 1,
        },
        || a.replace_strided(2..2, two, &[9]),
    );
    fails_unchanged(
        &a,
        Error::RangeOutOfBounds {
            start: 0,
            end: 6,
            len: 5,
        },
        || a.replace_strided(0..6, two, &[9, 9, 9]),
    );
}

#[test]
fn replace_strided_while_exported_works_in_place_at_any_size() {
    let a = FtArray::from_slice(&vec![0u8; 300]);
    let e = a.export();
    a.replace_strided(.., NonZeroUsize::new(3).unwrap(), &[5u8; 100])
        .unwrap();
    let v = view(&e);
    assert!(v.iter().step_by(3).all(|&x| x == 5));
    assert_eq!(v.iter().filter(|&&x| x == 5).count(), 100);
}

#[test]
fn extend_through_a_shared_reference() {
    let a = FtArray::from_slice(&[1u64]);
    let mut r = &a;
    r.extend(vec![2, 3]);
    r.extend([4u64, 5].iter());
    assert_eq!(a.to_vec(), [1, 2, 3, 4, 5]);
}

/// A block may reuse an allocation freed by another array (the cache of large allocations,
/// `raw/pool.rs`), whose spare words hold that array's values: no operation may show one.
/// Every way an array grows into its spare capacity is checked against a model after the
/// same-sized block of an array full of a marker value was freed.
#[test]
#[cfg_attr(
    miri,
    ignore = "the cache of allocations is off under Miri (and the arrays are large)"
)]
fn a_reused_allocation_shows_none_of_its_old_values() {
    const N: usize = 20_000; // 160 KB: a size the cache keeps
    const MARK: f64 = -7.25;
    let churn = || {
        for _ in 0..4 {
            let old = FtArray::from_slice(&vec![MARK; N]);
            old.reserve(N); // a block of capacity 2N, then of N again below
            drop(old);
            drop(FtArray::from_slice(&vec![MARK; N]));
            ftarray::drain(100);
        }
    };
    type Grow = fn(&FtArray<f64>, &mut Vec<f64>);
    let ways: [(&str, Grow); 6] = [
        ("resize", |a, m| {
            // Zero: the fill an optimisation assuming zeroed spare capacity would skip.
            a.resize(N + 10, 0.0);
            m.resize(N + 10, 0.0);
        }),
        ("push", |a, m| {
            for k in 0..N {
                a.push(k as f64);
                m.push(k as f64);
            }
        }),
        ("extend_from_slice", |a, m| {
            let xs: Vec<f64> = (0..N).map(|k| k as f64).collect();
            a.extend_from_slice(&xs);
            m.extend_from_slice(&xs);
        }),
        ("insert", |a, m| {
            a.insert(0, 1.0).unwrap();
            m.insert(0, 1.0);
        }),
        ("truncate + resize", |a, m| {
            a.truncate(1);
            m.truncate(1);
            a.resize(N, 0.0);
            m.resize(N, 0.0);
        }),
        ("extend_from_array", |a, m| {
            let b = FtArray::from_slice(&vec![3.0; N]);
            a.extend_from_array(&b);
            m.extend(std::iter::repeat_n(3.0, N));
        }),
    ];
    for (name, grow) in ways {
        churn();
        let a = FtArray::with_capacity(N);
        let mut model = Vec::new();
        a.push(0.25);
        model.push(0.25);
        grow(&a, &mut model);
        let got = a.to_vec();
        let first = got.iter().zip(&model).position(|(x, y)| x != y);
        assert!(
            got.len() == model.len() && first.is_none(),
            "{name}: {} elements against {}, first difference at {first:?}",
            got.len(),
            model.len()
        );
        assert!(!a.contains(&MARK), "{name}: an old value showed");
    }
}

/// For elements narrower than a unit, the 8-byte unit holding the last element is exported
/// whole (`RawExport::storage`): built on an allocation another array freed, its bytes past the
/// length must not show that array's bytes.
#[test]
#[cfg_attr(
    miri,
    ignore = "the cache of allocations is off under Miri (and the arrays are large)"
)]
fn the_exported_last_unit_of_a_reused_allocation_shows_no_foreign_bytes() {
    // 100 KB of `u8`: a size the cache keeps, from the global allocator; 300 KB and 5 MB: kept
    // too, but mappings of their own on 64-bit Linux, whose room is zeroed page by page
    // (`pool::zero`: pages in memory written, the others dropped). The freed array filled only
    // the first half of its block (the rest never touched), so both kinds of pages are there.
    // Lengths reach past the first page and to the last.
    const MARK: u8 = 0xAB;
    for n in [100_000usize, 300_000, 5_000_000] {
        // The cache is shared with the tests running beside this one, which may take or evict
        // the block first: a few tries, one of which must reuse it.
        let mut reused = false;
        for _ in 0..20 {
            let old = FtArray::<u8>::with_capacity(n);
            old.extend_from_slice(&vec![MARK; n / 2]);
            let (old_ptr, _) = old.export_raw();
            // SAFETY: one release for the one export above; only its address is kept.
            unsafe { old.release_export() };
            drop(old);
            ftarray::drain(100);
            let a = FtArray::<u8>::with_capacity(n);
            for len in [1, 4096 + 3, n - 5] {
                a.clear();
                a.extend_from_slice(&vec![1; len]);
                let (ptr, exported) = a.export_raw();
                assert_eq!(exported, len);
                reused |= ptr == old_ptr;
                let last = (len - 1) / 8 * 8;
                // SAFETY: the export keeps the storage, whole 8-byte units, allocated and
                // unwritten by anyone else until released below; the unit holding the last
                // element starts at `ptr + last` (a block's units are 8-aligned and element 0
                // is the first byte of the first unit).
                let unit = unsafe { std::ptr::read_volatile(ptr.add(last).cast::<[u8; 8]>()) };
                // SAFETY: one release for the one export above; `ptr` is not used after it.
                unsafe { a.release_export() };
                let past = len - last;
                assert!(unit[..past].iter().all(|&b| b == 1), "{n}/{len}: {unit:?}");
                assert!(
                    !unit[past..].contains(&MARK),
                    "{n}/{len}: the exported unit shows another array's bytes: {unit:?}"
                );
            }
            // And nothing past the length either, read back by growing over it.
            a.truncate(1);
            a.reserve(n - 1);
            a.resize(n, 0);
            assert!(!a.contains(&MARK), "{n}: an old byte showed");
            if reused {
                break;
            }
        }
        assert!(
            reused,
            "{n}: no try reused the freed block; nothing was checked"
        );
    }
}

/// An array that grows step by step past 128 KiB takes, on 64-bit Linux, a block several
/// times larger than doubling would (a mapping whose untouched pages cost no memory;
/// `tests/memory.rs` checks that), so it moves far less often than one that doubles: pushing
/// a million `u64`s moves it at most 16 times (doubling from 4 moves it 19 times), and its
/// values are all there. Elsewhere, in the sanitizer builds and under strict overcommit, it
/// doubles.
#[test]
#[cfg_attr(miri, ignore = "large")]
fn a_large_array_growing_step_by_step_moves_less_often() {
    let a = FtArray::<u64>::new();
    let (mut moves, mut last) = (0, a.capacity());
    let mut caps = Vec::new();
    for k in 0..1_000_000u64 {
        a.push(k);
        if a.capacity() != last {
            moves += 1;
            last = a.capacity();
            caps.push(last);
        }
    }
    assert_eq!(a.len(), 1_000_000);
    assert_eq!(a.get(999_999), Some(999_999));
    assert_eq!(a.iter().sum::<u64>(), 999_999 * 1_000_000 / 2);
    // Reserving needs mappings, and is off under strict overcommit (which charges the room).
    let strict = std::fs::read_to_string("/proc/sys/vm/overcommit_memory")
        .is_ok_and(|mode| mode.trim() == "2");
    let mapped = cfg!(all(
        target_os = "linux",
        target_pointer_width = "64",
        not(ftarray_no_pool)
    )) && !strict;
    if mapped {
        assert!(moves <= 16, "{moves} moves: {caps:?}");
        // The room is reserved only once doubling reaches 128 KiB (16,384 `u64`s).
        assert!(
            caps.contains(&8_192) && caps.contains(&(16_384 * 8)),
            "{caps:?}"
        );
    } else {
        assert_eq!(moves, 19, "{caps:?}");
    }
    // A block rebuilt at the same capacity keeps it (and does not multiply it).
    a.insert(0, 7).unwrap();
    assert_eq!(a.remove(0), Ok(7));
    assert_eq!(a.capacity(), last);
}

/// `extend_from_array` from another array copies its cells straight into this one's: into
/// the spare capacity, into a grown block, or into a copy of a block a snapshot shares, for
/// every word size, from every start offset within a unit, and over more than one of the
/// stack chunks the in-place copy goes through. Each result is checked against a `Vec`, the
/// snapshot keeps what it saw, and `other` is unchanged.
#[test]
fn extend_from_array_copies_every_word_size_offset_and_length() {
    fn check<T: Element + From<u8> + PartialEq + Debug>() {
        let value = |k: usize| T::from((k % 251) as u8);
        // Under Miri (every access interpreted) a few short cases: the unit-to-unit and the
        // buffered copy, not the buffer's chunk boundary (plain index arithmetic, run natively).
        let (starts, lengths) = if cfg!(miri) {
            (vec![0usize, 1], vec![0usize, 7, 40])
        } else {
            (
                vec![0usize, 1, 2, 3, 5, 8],
                vec![0usize, 1, 7, 4096 / size_of::<T>() + 3, 3 * 4096 + 5],
            )
        };
        for &start in &starts {
            for &n in &lengths {
                for how in ["in place", "grows", "shared", "exported"] {
                    let mut model: Vec<T> = (0..start).map(value).collect();
                    let a = FtArray::from_slice(&model);
                    if how != "grows" {
                        a.reserve(n + 1);
                    } else {
                        a.shrink_to_fit().unwrap();
                    }
                    let other: Vec<T> = (0..n).map(|k| value(k * 7 + 3)).collect();
                    let b = FtArray::from_slice(&other);
                    let cap = a.capacity();
                    // The snapshot shares the block; the truncation (a step, no copy) puts
                    // the snapshot's last elements past the length, where the append writes.
                    let snap = (how == "shared").then(|| {
                        let s = a.snapshot();
                        assert!(s.is_shared() || start == 0, "the snapshot copied");
                        a.truncate(start / 2);
                        model.truncate(start / 2);
                        s
                    });
                    let export = (how == "exported").then(|| a.export());
                    a.try_extend_from_array(&b)
                        .unwrap_or_else(|e| panic!("{how}, start {start}, n {n}: {e}"));
                    model.extend_from_slice(&other);
                    let got = a.to_vec();
                    let wrong =
                        (0..got.len().max(model.len())).find(|&k| got.get(k) != model.get(k));
                    assert_eq!(
                        wrong, None,
                        "{how}, start {start}, n {n}: first wrong index"
                    );
                    assert!(
                        b.to_vec() == other,
                        "{how}, start {start}, n {n}: other changed"
                    );
                    if how == "in place" || how == "exported" {
                        assert_eq!(a.capacity(), cap, "{how}: the storage moved");
                    }
                    if how == "shared" && start > 0 {
                        assert_eq!(a.capacity(), cap, "shared: moved to another capacity");
                    }
                    if let Some(s) = snap {
                        let before: Vec<T> = (0..start).map(value).collect();
                        assert_eq!(*s, before, "the snapshot changed");
                    }
                    if let Some(e) = export {
                        assert_eq!(view(&e), model[..start], "the export's elements changed");
                    }
                }
            }
        }
    }
    check::<u8>();
    check::<u16>();
    check::<u32>();
    check::<u64>();
}

/// While exported, `extend_from_array` appends in place under the default rule, fails
/// unchanged under the strict rule, and fails unchanged when it would have to move.
#[test]
fn extend_from_array_while_exported_follows_the_export_rules() {
    let a = FtArray::<u16>::with_capacity(8);
    a.extend_from_slice(&[1, 2, 3]);
    let b = FtArray::from_slice(&[4u16, 5]);
    let e = a.export();
    a.set_strict_exports(true);
    exported_unchanged(&a, 1, || a.try_extend_from_array(&b));
    // Nothing to append changes no length: fine under the strict rule too.
    a.try_extend_from_array(&FtArray::new()).unwrap();
    a.set_strict_exports(false);
    a.try_extend_from_array(&b).unwrap();
    assert_eq!(a.to_vec(), [1, 2, 3, 4, 5]);
    let big = FtArray::from_slice(&[9u16; 10]);
    exported_unchanged(&a, 1, || a.try_extend_from_array(&big));
    assert_eq!(view(&e), [1, 2, 3]);
    drop(e);
    a.try_extend_from_array(&big).unwrap();
    assert_eq!(a.len(), 15);

    // An exported empty array without storage must move to take anything.
    let empty = FtArray::<u16>::new();
    let e = empty.export();
    exported_unchanged(&empty, 1, || empty.try_extend_from_array(&b));
    empty.try_extend_from_array(&FtArray::new()).unwrap();
    drop(e);
    empty.try_extend_from_array(&b).unwrap();
    assert_eq!(empty.to_vec(), [4, 5]);
}
