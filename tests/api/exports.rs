//! Exports

use super::*;

#[test]
fn export_exposes_pointer_length_and_byte_length() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    let e = a.export();
    assert_eq!(e.len(), 3);
    assert!(!e.is_empty());
    assert_eq!(e.byte_len(), 12);
    assert_eq!(e.as_ptr(), e.as_mut_ptr().cast_const());
    assert!(std::ptr::eq(e.array(), &a));
    assert_eq!(view(&e), [1, 2, 3]);
    let dbg = format!("{e:?}");
    assert!(dbg.starts_with("Export {"), "{dbg}");
    assert!(dbg.contains("len: 3"), "{dbg}");
    let f = FtArray::from_slice(&[1.0f64, 2.0]);
    assert_eq!(f.export().byte_len(), 16);
}

#[test]
fn export_of_an_empty_array_is_empty_aligned_and_non_null() {
    let a = FtArray::<u64>::new();
    let e = a.export();
    assert_eq!(e.len(), 0);
    assert!(e.is_empty());
    assert_eq!(e.byte_len(), 0);
    assert!(!e.as_ptr().is_null());
    assert!(e.as_ptr().is_aligned());
    assert_eq!(view(&e), Vec::<u64>::new());
    // Nothing to move, but nothing can be allocated either.
    exported_unchanged(&a, 1, || a.try_push(1));
    a.truncate(0);
    a.clear();
    assert_eq!(a.pop(), None);
    a.reverse();
    a.shrink_to_fit().unwrap();
    a.try_reserve(0).unwrap();
    drop(e);
    a.push(1);
    assert_eq!(a.to_vec(), [1]);
}

#[test]
fn export_of_a_cleared_array_with_capacity_keeps_its_capacity_usable() {
    let a = FtArray::<u16>::with_capacity(4);
    let e = a.export();
    assert_eq!(e.len(), 0);
    a.push(1);
    a.extend_from_slice(&[2, 3, 4]);
    assert_eq!(a.to_vec(), [1, 2, 3, 4]);
    exported_unchanged(&a, 1, || a.try_push(5));
}

/// Under strict exports every change of the length fails while an export is alive (even
/// one that fits in the capacity), and changes nothing; same-length changes still work, in
/// place.
#[test]
fn strict_exports_refuse_every_length_change_while_exported() {
    let a = FtArray::<u32>::with_capacity(16);
    a.extend_from_slice(&[1, 2, 3, 4]);
    a.set_strict_exports(true);
    assert!(a.strict_exports());
    let e = a.export();
    let b = FtArray::from_slice(&[9u32]);
    exported_unchanged(&a, 1, || a.try_push(5));
    exported_unchanged(&a, 1, || a.try_pop());
    exported_unchanged(&a, 1, || a.try_truncate(2));
    exported_unchanged(&a, 1, || a.try_clear());
    exported_unchanged(&a, 1, || a.try_extend_from_slice(&[5]));
    exported_unchanged(&a, 1, || a.try_extend_from_array(&b));
    exported_unchanged(&a, 1, || a.try_extend_from_array(&a));
    exported_unchanged(&a, 1, || a.extend_from_bytes(&5u32.to_ne_bytes()));
    exported_unchanged(&a, 1, || a.try_resize(6, 0));
    exported_unchanged(&a, 1, || a.try_resize(2, 0));
    exported_unchanged(&a, 1, || a.insert(4, 5));
    exported_unchanged(&a, 1, || a.remove(3));
    exported_unchanged(&a, 1, || a.remove_item(&4));
    exported_unchanged(&a, 1, || a.swap_remove(0));
    exported_unchanged(&a, 1, || a.replace_range(1..2, &[7, 7]));
    exported_unchanged(&a, 1, || a.replace_range(2.., &[]));
    exported_unchanged(&a, 1, || a.remove_range(3..));
    exported_unchanged(&a, 1, || a.retain(|&x| x > 1));
    exported_unchanged(&a, 1, || a.update(|v| v.push(5)));
    panics_unchanged(&a, || a.pop());
    panics_unchanged(&a, || a.truncate(0));
    panics_unchanged(&a, || a.clear());
    panics_unchanged(&a, || a.push(5));
    // Same-length changes work, in place (the export sees them).
    assert_eq!(a.set(0, 10), Ok(1));
    a.swap(0, 1).unwrap();
    a.try_reverse().unwrap();
    a.replace_range(0..2, &[20, 21]).unwrap();
    a.replace_strided(.., NonZeroUsize::new(3).unwrap(), &[30, 31])
        .unwrap();
    a.update(|v| v.iter_mut().for_each(|x| *x += 1)).unwrap();
    assert_eq!(view(&e), [31, 22, 11, 32]);
    // Appending nothing, truncating to the length and popping nothing change no length.
    a.try_extend_from_slice(&[]).unwrap();
    a.try_truncate(4).unwrap();
    drop(e);
    // No export: everything works again; the rule stays on.
    a.try_push(5).unwrap();
    assert_eq!(a.try_pop(), Ok(Some(5)));
    assert!(a.strict_exports());
    let e = a.export_readonly();
    exported_unchanged(&a, 1, || a.try_push(5));
    drop(e);
    a.set_strict_exports(false);
    let e = a.export();
    a.try_push(5).unwrap(); // fits: allowed under the default rule
    assert_eq!(a.try_pop(), Ok(Some(5)));
    exported_unchanged(&a, 1, || a.insert(0, 0)); // moves: refused under either rule
    drop(e);
}

#[test]
fn strict_exports_with_an_empty_array_refuse_the_first_push() {
    let a = FtArray::<u8>::new();
    a.set_strict_exports(true);
    let e = a.export();
    exported_unchanged(&a, 1, || a.try_push(1));
    assert_eq!(a.try_pop(), Ok(None)); // nothing to remove: no length change
    a.try_clear().unwrap();
    drop(e);
    a.try_push(1).unwrap();
}

#[test]
fn export_readonly_pins_like_export_and_reads_the_elements() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    let e = a.export_readonly();
    assert_eq!((e.len(), e.byte_len(), e.is_empty()), (3, 12, false));
    assert!(std::ptr::eq(e.array(), &a));
    assert_eq!(a.export_count(), 1);
    // SAFETY: the export keeps 3 elements alive and in place; no other thread writes.
    let seen = unsafe { std::slice::from_raw_parts(e.as_ptr(), 3) };
    assert_eq!(seen, [1, 2, 3]);
    exported_unchanged(&a, 1, || a.insert(0, 0));
    let with_both = a.export();
    assert_eq!(with_both.as_ptr(), e.as_ptr());
    assert_eq!(a.export_count(), 2);
    drop(with_both);
    drop(e);
    assert_eq!(a.export_count(), 0);
    a.insert(0, 0).unwrap();
}

#[test]
fn export_count_counts_guards_and_raw_exports() {
    let a = FtArray::from_slice(&[1u8]);
    assert_eq!(a.export_count(), 0);
    let e1 = a.export();
    assert_eq!(a.export_count(), 1);
    let e2 = a.export();
    assert_eq!(a.export_count(), 2);
    let (_ptr, len) = a.export_raw();
    assert_eq!(len, 1);
    assert_eq!(a.export_count(), 3);
    exported_unchanged(&a, 3, || a.insert(0, 0));
    drop(e1);
    assert_eq!(a.export_count(), 2);
    exported_unchanged(&a, 2, || a.insert(0, 0));
    // SAFETY: matches the `export_raw` above, whose pointer is not used again.
    unsafe { a.release_export() };
    assert_eq!(a.export_count(), 1);
    drop(e2);
    assert_eq!(a.export_count(), 0);
    a.insert(0, 0).unwrap();
    assert_eq!(a.to_vec(), [0, 1]);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's weak-memory emulation panics (an ICE, miri#5185's family) on a plain write into part of an atomic unit"
)]
fn export_raw_pins_until_release_export() {
    let a = FtArray::from_slice(&[1i16, 2, 3]);
    let (ptr, len) = a.export_raw();
    assert_eq!(len, 3);
    assert!(ptr.is_aligned());
    // SAFETY: the raw export keeps the storage valid for `len` elements until released, and no
    // other thread touches `a`.
    let seen = unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec();
    assert_eq!(seen, [1, 2, 3]);
    exported_unchanged(&a, 1, || a.remove(0));
    a.set(0, 10).unwrap();
    // SAFETY: as above.
    assert_eq!(unsafe { ptr.read() }, 10);
    // SAFETY: as above; writes through the pointer are synchronised by this single thread.
    unsafe { ptr.add(1).write(20) };
    assert_eq!(a.get(1), Some(20));
    // SAFETY: matches the `export_raw` above; `ptr` is not used again.
    unsafe { a.release_export() };
    assert_eq!(a.remove(0), Ok(10));
    assert_eq!(a.to_vec(), [20, 3]);
}

#[test]
fn export_raw_of_an_empty_array_is_dangling_but_aligned() {
    let a = FtArray::<f64>::new();
    let (ptr, len) = a.export_raw();
    assert_eq!(len, 0);
    assert!(!ptr.is_null());
    assert!(ptr.is_aligned());
    assert_eq!(a.export_count(), 1);
    // SAFETY: matches the `export_raw` above; `ptr` is not used.
    unsafe { a.release_export() };
    assert_eq!(a.export_count(), 0);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's weak-memory emulation panics (an ICE, miri#5185's family) on a plain write into part of an atomic unit"
)]
fn writes_through_the_export_pointer_are_visible_to_readers() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    let e = a.export();
    // SAFETY: the export pins 3 elements; no other thread touches `a`.
    unsafe { e.as_mut_ptr().add(2).write(30) };
    assert_eq!(a.get(2), Some(30));
    assert_eq!(a.to_vec(), [1, 2, 30]);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the leak is deliberate; Miri's leak checker would report it"
)]
fn dropping_an_array_with_an_unreleased_raw_export_leaks_instead_of_freeing() {
    let (ptr, len) = {
        let a = FtArray::from_slice(&[7u64, 8, 9]);
        a.export_raw()
    };
    // The array is gone, but the raw export was never released: the storage must still be
    // valid (leaked), not freed under the holder.
    assert_eq!(len, 3);
    // SAFETY: the export was never released, so the storage was leaked and stays valid.
    let seen = unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec();
    assert_eq!(seen, [7, 8, 9]);
    let b = FtArray::<u8>::new();
    let _ = b.export_raw();
    drop(b);
}

#[test]
fn moving_operations_fail_while_exported_and_change_nothing() {
    let a = FtArray::<u32>::with_capacity(8);
    a.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
    let e = a.export();
    let ptr = e.as_ptr();
    let n = 1;
    // Growth past the capacity.
    exported_unchanged(&a, n, || a.try_extend_from_slice(&[7, 8, 9]));
    a.try_extend_from_slice(&[7, 8]).unwrap(); // fills the capacity in place
    assert_eq!(a.capacity(), 8);
    exported_unchanged(&a, n, || a.try_push(9));
    exported_unchanged(&a, n, || a.try_extend_from_slice(&[9]));
    exported_unchanged(&a, n, || {
        a.try_extend_from_array(&FtArray::from_slice(&[9]))
    });
    exported_unchanged(&a, n, || a.try_extend_from_array(&a));
    exported_unchanged(&a, n, || a.extend_from_bytes(&9u32.to_ne_bytes()));
    exported_unchanged(&a, n, || a.try_resize(9, 0));
    exported_unchanged(&a, n, || a.try_reserve(1));
    exported_unchanged(&a, n, || a.try_reserve_exact(1));
    exported_unchanged(&a, n, || a.insert(8, 9));
    exported_unchanged(&a, n, || a.replace_range(8.., &[9]));
    // Shifts.
    exported_unchanged(&a, n, || a.insert(0, 0));
    exported_unchanged(&a, n, || a.insert(3, 0));
    exported_unchanged(&a, n, || a.remove(0));
    exported_unchanged(&a, n, || a.remove(6));
    exported_unchanged(&a, n, || a.remove_item(&1));
    exported_unchanged(&a, n, || a.remove_range(0..2));
    exported_unchanged(&a, n, || a.remove_range(2..3));
    exported_unchanged(&a, n, || a.replace_range(1..3, &[0]));
    exported_unchanged(&a, n, || a.replace_range(1..3, &[0, 0, 0]));
    exported_unchanged(&a, n, || a.replace_range(1..1, &[0]));
    exported_unchanged(&a, n, || a.replace_range(..7, &[]));
    exported_unchanged(&a, n, || a.retain(|&x| x != 4));
    exported_unchanged(&a, n, || a.update(|v| v.remove(0)));
    exported_unchanged(&a, n, || a.update(|v| v.push(0)));
    exported_unchanged(&a, n, || a.update(|v| v.clear()));
    exported_unchanged(&a, n, || a.update(|v| v.truncate(7)));
    assert_eq!(e.as_ptr(), ptr);
    assert_eq!(a.to_vec(), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(view(&e), [1, 2, 3, 4, 5, 6]);
    // Shrinking (the storage has spare capacity once truncated).
    a.truncate(4);
    exported_unchanged(&a, n, || a.shrink_to_fit());
    a.clear();
    exported_unchanged(&a, n, || a.shrink_to_fit());
    // With two exports, the error reports both.
    let e2 = a.export();
    exported_unchanged(&a, 2, || a.shrink_to_fit());
    drop(e2);
    drop(e);
    // Released: the same operations work again.
    a.shrink_to_fit().unwrap();
    assert_eq!(a.capacity(), 0);
    a.extend_from_slice(&[1, 2, 3]);
    a.insert(0, 0).unwrap();
    assert_eq!(a.to_vec(), [0, 1, 2, 3]);
}

#[test]
fn remove_item_while_exported_succeeds_for_the_last_element() {
    let a = FtArray::from_slice(&[1u8, 2, 3]);
    let e = a.export();
    assert_eq!(a.remove_item(&3), Ok(Some(2)));
    assert_eq!(a.remove_item(&9), Ok(None));
    exported_unchanged(&a, 1, || a.remove_item(&1));
    assert_eq!(a.to_vec(), [1, 2]);
    drop(e);
}

#[test]
#[should_panic(
    expected = "the storage is pinned by 1 export(s) and this operation would move or free it"
)]
fn push_panics_when_it_must_grow_while_exported() {
    let a = FtArray::from_slice(&[1u8]);
    let _e = a.export();
    a.push(2);
}

#[test]
fn panicking_growth_while_exported_changes_nothing() {
    let a = FtArray::from_slice(&[1u8, 2]);
    let _e = a.export();
    panics_unchanged(&a, || a.push(3));
    panics_unchanged(&a, || a.extend_from_slice(&[3]));
    panics_unchanged(&a, || a.extend_from_array(&a));
    panics_unchanged(&a, || a.resize(5, 0));
    panics_unchanged(&a, || a.reserve(10));
}

#[test]
fn in_place_operations_succeed_while_exported_and_are_visible_through_the_pointer() {
    let a = FtArray::<u32>::with_capacity(8);
    a.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
    let e = a.export();
    let ptr = e.as_ptr();
    let cap = a.capacity();
    let same_storage = |a: &FtArray<u32>| {
        let e2 = a.export();
        assert_eq!(e2.as_ptr(), ptr, "the storage moved while exported");
        assert_eq!(a.capacity(), cap);
    };

    assert_eq!(a.set(0, 10), Ok(1));
    assert_eq!(view(&e), [10, 2, 3, 4, 5, 6]);
    assert_eq!(a.fetch_add(1, 10), Ok(2));
    assert_eq!(a.fetch_sub(2, 1), Ok(3));
    assert_eq!(a.fetch_update(3, |x| x * 10), Ok(4));
    assert_eq!(view(&e), [10, 12, 2, 40, 5, 6]);
    a.swap(0, 5).unwrap();
    assert_eq!(view(&e), [6, 12, 2, 40, 5, 10]);
    a.reverse();
    assert_eq!(view(&e), [10, 5, 40, 2, 12, 6]);
    a.sort();
    assert_eq!(view(&e), [2, 5, 6, 10, 12, 40]);
    a.sort_by(|x, y| y.cmp(x));
    assert_eq!(view(&e), [40, 12, 10, 6, 5, 2]);
    a.byteswap();
    assert_eq!(
        view(&e),
        [40u32, 12, 10, 6, 5, 2].map(u32::swap_bytes).to_vec()
    );
    a.byteswap();
    a.replace_range(1..3, &[7, 8]).unwrap();
    assert_eq!(view(&e), [40, 7, 8, 6, 5, 2]);
    a.replace_range(.., &[1, 2, 3, 4, 5, 6]).unwrap();
    assert_eq!(view(&e), [1, 2, 3, 4, 5, 6]);
    a.replace_range(2..2, &[]).unwrap();
    let r = a
        .update(|v| {
            v.iter_mut().for_each(|x| *x += 100);
            v.len()
        })
        .unwrap();
    assert_eq!(r, 6);
    assert_eq!(view(&e), [101, 102, 103, 104, 105, 106]);
    a.retain(|_| true).unwrap();
    exported_unchanged(&a, 1, || a.shrink_to_fit()); // 6 of 8: it would have to move
    same_storage(&a);

    // Removals that keep the storage in place.
    assert_eq!(a.pop(), Some(106));
    assert_eq!(a.swap_remove(0), Ok(101));
    assert_eq!(a.to_vec(), [105, 102, 103, 104]);
    assert_eq!(view(&e)[..4], [105, 102, 103, 104]);
    assert_eq!(a.remove(3), Ok(104));
    assert_eq!(a.remove_range(2..).unwrap(), [103]);
    assert_eq!(a.to_vec(), [105, 102]);
    a.truncate(1);
    assert_eq!(a.to_vec(), [105]);
    a.try_resize(1, 0).unwrap();
    same_storage(&a);

    // Appends within the capacity write into the exported storage.
    a.push(7);
    a.try_push(8).unwrap();
    a.extend_from_slice(&[9]);
    a.extend_from_bytes(&10u32.to_ne_bytes()).unwrap();
    a.insert(5, 11).unwrap();
    a.push(12);
    assert_eq!(a.to_vec(), [105, 7, 8, 9, 10, 11, 12]);
    assert_eq!(view(&e), [105, 7, 8, 9, 10, 11]);
    a.try_reserve(1).unwrap();
    a.reserve(1);
    a.try_reserve_exact(1).unwrap();
    a.resize(8, 13);
    assert_eq!(a.len(), 8);
    assert_eq!(a.capacity(), cap);
    a.shrink_to_fit().unwrap(); // len == capacity: nothing to move
    same_storage(&a);

    a.clear();
    assert!(a.is_empty());
    a.extend_from_array(&FtArray::from_slice(&[20, 21]));
    assert_eq!(view(&e)[..2], [20, 21]);
    same_storage(&a);
    drop(e);
    assert_eq!(a.export_count(), 0);
}

#[test]
fn replace_range_at_the_tail_works_in_place_while_exported_and_elsewhere_fails() {
    // Removing a tail is a truncate and appending within the capacity is an extend: neither
    // moves the storage, so both work while exported. Any other length change must move it.
    let a = FtArray::<u32>::with_capacity(8);
    a.extend_from_slice(&[1, 2, 3, 4]);
    let e = a.export();
    let ptr = e.as_ptr();
    a.replace_range(3.., &[]).unwrap();
    assert_eq!(a.to_vec(), [1, 2, 3]);
    a.replace_range(3.., &[5, 6]).unwrap();
    assert_eq!(a.to_vec(), [1, 2, 3, 5, 6]);
    assert_eq!((a.capacity(), e.as_ptr()), (8, ptr));
    exported_unchanged(&a, 1, || a.replace_range(3..4, &[9, 9]));
    exported_unchanged(&a, 1, || a.replace_range(0..1, &[]));
    exported_unchanged(&a, 1, || a.replace_range(5.., &[0; 4]));
}

#[test]
fn equal_length_replace_range_over_64_elements_is_done_in_place_while_exported() {
    let a: FtArray<i64> = (0..100).collect();
    let e = a.export();
    let new: Vec<i64> = (0..80).map(|x| -x).collect();
    a.replace_range(10..90, &new).unwrap();
    let mut expected: Vec<i64> = (0..100).collect();
    expected[10..90].copy_from_slice(&new);
    assert_eq!(view(&e), expected);
    assert_eq!(a.to_vec(), expected);
}

#[test]
fn length_preserving_rewrites_while_exported_work_for_floats() {
    let nan = f64::from_bits(0x7ff8_0000_0000_1234);
    let a = FtArray::from_slice(&[2.0f64, nan, -1.0]);
    let e = a.export();
    a.sort_by(f64::total_cmp);
    assert_eq!(bits_f64(&view(&e)), bits_f64(&[-1.0, 2.0, nan]));
    a.byteswap();
    assert_eq!(
        view(&e).iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        [(-1.0f64).to_bits(), 2.0f64.to_bits(), nan.to_bits()].map(u64::swap_bytes)
    );
}
