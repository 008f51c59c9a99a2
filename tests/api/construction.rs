//! Construction and conversions

use super::*;

#[test]
fn new_is_empty_and_does_not_allocate() {
    let a = FtArray::<u8>::new();
    assert!(a.is_empty());
    assert_eq!(a.len(), 0);
    assert_eq!(a.capacity(), 0);
    assert_eq!(a.to_vec(), Vec::<u8>::new());
    let b = FtArray::<f64>::new();
    assert!(b.is_empty());
    assert_eq!(b.capacity(), 0);
    let m = FtArray::<Meters>::new();
    assert_eq!(m.get(0), None);
}

#[test]
fn default_is_an_empty_unallocated_array() {
    let a: FtArray<i64> = FtArray::default();
    assert!(a.is_empty());
    assert_eq!(a.capacity(), 0);
}

#[test]
fn with_capacity_reserves_room_without_elements() {
    let a = FtArray::<u32>::with_capacity(100);
    assert_eq!(a.len(), 0);
    assert!(a.capacity() >= 100);
    let cap = a.capacity();
    for i in 0..100 {
        a.push(i);
    }
    assert_eq!(
        a.capacity(),
        cap,
        "pushing within capacity must not reallocate"
    );
}

#[test]
fn with_capacity_zero_does_not_allocate() {
    let a = FtArray::<i16>::with_capacity(0);
    assert_eq!(a.capacity(), 0);
    assert!(a.is_empty());
}

#[test]
#[should_panic(expected = "capacity overflow")]
fn with_capacity_panics_with_the_error_text_on_overflow() {
    let _ = FtArray::<u64>::with_capacity(usize::MAX);
}

#[test]
fn try_with_capacity_succeeds_for_small_requests() {
    let a = FtArray::<f32>::try_with_capacity(7).unwrap();
    assert!(a.capacity() >= 7);
    assert!(a.is_empty());
    let z = FtArray::<f32>::try_with_capacity(0).unwrap();
    assert_eq!(z.capacity(), 0);
}

#[test]
fn try_with_capacity_usize_max_is_capacity_overflow_for_every_width() {
    assert_eq!(
        FtArray::<u8>::try_with_capacity(usize::MAX).unwrap_err(),
        Error::CapacityOverflow
    );
    assert_eq!(
        FtArray::<i16>::try_with_capacity(usize::MAX).unwrap_err(),
        Error::CapacityOverflow
    );
    assert_eq!(
        FtArray::<Meters>::try_with_capacity(usize::MAX).unwrap_err(),
        Error::CapacityOverflow
    );
    assert_eq!(
        FtArray::<f64>::try_with_capacity(usize::MAX).unwrap_err(),
        Error::CapacityOverflow
    );
    // Just over isize::MAX bytes of cells.
    assert_eq!(
        FtArray::<u64>::try_with_capacity(isize::MAX as usize / 8 + 1).unwrap_err(),
        Error::CapacityOverflow
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri aborts on huge allocations instead of failing them"
)]
fn try_with_capacity_huge_but_representable_is_an_error_not_an_abort() {
    let r = FtArray::<u8>::try_with_capacity(isize::MAX as usize / 16);
    assert!(
        matches!(r, Err(Error::AllocFailed { .. } | Error::CapacityOverflow)),
        "{r:?}"
    );
}

#[test]
fn from_slice_copies_the_values_with_exact_capacity() {
    let src = [1i16, -2, 3];
    let a = FtArray::from_slice(&src);
    assert_eq!(a.to_vec(), src);
    assert_eq!(a.len(), 3);
    assert!(a.capacity() >= 3);
    let e = FtArray::<i16>::from_slice(&[]);
    assert!(e.is_empty());
    assert_eq!(e.capacity(), 0, "an empty slice must not allocate");
}

#[test]
fn from_vec_array_and_slice_conversions_copy_the_elements() {
    let a: FtArray<u32> = FtArray::from(vec![1, 2, 3]);
    assert_eq!(a.to_vec(), [1, 2, 3]);
    let b: FtArray<u32> = FtArray::from([4, 5]);
    assert_eq!(b.to_vec(), [4, 5]);
    let s: &[u32] = &[6, 7, 8, 9];
    let c: FtArray<u32> = FtArray::from(s);
    assert_eq!(c.to_vec(), [6, 7, 8, 9]);
    let d: FtArray<Meters> = [Meters(1.0), Meters(2.5)].into();
    assert_eq!(d.to_vec(), [Meters(1.0), Meters(2.5)]);
    let empty: FtArray<u8> = FtArray::from(Vec::new());
    assert!(empty.is_empty());
}

#[test]
fn from_iterator_collects_in_order() {
    let a: FtArray<i64> = (0..5).map(|x| x * -3).collect();
    assert_eq!(a.to_vec(), [0, -3, -6, -9, -12]);
    let e: FtArray<i64> = std::iter::empty().collect();
    assert!(e.is_empty());
}

#[test]
fn extend_trait_appends_owned_and_borrowed_items() {
    let mut a = FtArray::from_slice(&[1u8]);
    a.extend([2u8, 3]);
    a.extend(&[4u8, 5]);
    a.extend(std::iter::empty::<u8>());
    assert_eq!(a.to_vec(), [1, 2, 3, 4, 5]);
}

#[test]
fn clone_is_an_independent_snapshot() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    let b = a.clone();
    assert_eq!(b.to_vec(), [1, 2, 3]);
    a.push(4);
    a.set(0, 100).unwrap();
    assert_eq!(b.to_vec(), [1, 2, 3], "the clone must not see later writes");
    b.clear();
    assert_eq!(
        a.to_vec(),
        [100, 2, 3, 4],
        "the original must not see the clone's writes"
    );
    let e = FtArray::<u8>::new().clone();
    assert!(e.is_empty());
}

#[test]
fn clone_preserves_nan_payload_bits() {
    let nan = f64::from_bits(0x7ff8_dead_beef_0001);
    let a = FtArray::from_slice(&[nan, -0.0]);
    assert_eq!(bits_f64(&a.clone().to_vec()), bits_f64(&[nan, -0.0]));
}

#[test]
fn debug_formats_a_snapshot_like_a_list() {
    assert_eq!(
        format!("{:?}", FtArray::from_slice(&[1u8, 2, 3])),
        "[1, 2, 3]"
    );
    assert_eq!(format!("{:?}", FtArray::<i32>::new()), "[]");
    assert_eq!(format!("{:?}", FtArray::from_slice(&[-1.5f64])), "[-1.5]");
    assert_eq!(
        format!("{:?}", FtArray::from_slice(&[Meters(2.0)])),
        "[Meters(2.0)]"
    );
}

#[test]
fn partial_eq_compares_with_arrays_slices_vecs_and_fixed_arrays() {
    let a = FtArray::from_slice(&[1u16, 2, 3]);
    let b = FtArray::from_slice(&[1u16, 2, 3]);
    let c = FtArray::from_slice(&[1u16, 2]);
    assert!(a == b);
    assert!(a != c);
    assert!(a == a);
    assert!(a == *[1u16, 2, 3].as_slice());
    assert!(a != *[1u16, 2].as_slice());
    assert!(a == vec![1u16, 2, 3]);
    assert!(a != vec![3u16, 2, 1]);
    assert!(a == [1u16, 2, 3]);
    assert!(a != [1u16, 2, 3, 4]);
    let no_elements: [u16; 0] = [];
    assert!(FtArray::<u16>::new() == no_elements);
    // Capacity does not take part in equality.
    let d = FtArray::<u16>::with_capacity(50);
    d.extend_from_slice(&[1, 2, 3]);
    assert!(a == d);
}

#[test]
fn partial_eq_on_floats_follows_ieee_so_nan_arrays_are_unequal() {
    let a = FtArray::from_slice(&[f64::NAN]);
    assert!(a != a.clone());
    assert!(a != [f64::NAN]);
    let z = FtArray::from_slice(&[0.0f32]);
    assert!(z == [-0.0f32]);
}

#[test]
fn eq_is_implemented_for_integer_arrays() {
    fn assert_eq_trait<E: Eq>(_: &E) {}
    let a = FtArray::from_slice(&[1i8]);
    assert_eq_trait(&a);
}

#[test]
fn partial_ord_and_ord_compare_lexicographically_like_slices() {
    let a = FtArray::from_slice(&[1u8, 2, 3]);
    let b = FtArray::from_slice(&[1u8, 3]);
    let c = FtArray::from_slice(&[1u8, 2]);
    assert!(a < b && c < a && c < b);
    assert_eq!(a.cmp(&a), std::cmp::Ordering::Equal);
    assert_eq!(
        a.cmp(&FtArray::from_slice(&[1, 2, 3])),
        std::cmp::Ordering::Equal
    );
    let mut sorted = vec![b.clone(), a.clone(), c.clone()];
    sorted.sort();
    assert_eq!(sorted, [c, a, b]);
    let x = FtArray::from_slice(&[f64::NAN]);
    assert_eq!(x.partial_cmp(&x), None);
    assert_eq!(
        FtArray::from_slice(&[0.5f64]).partial_cmp(&FtArray::from_slice(&[1.0])),
        Some(std::cmp::Ordering::Less)
    );
}

#[test]
fn hash_matches_the_hash_of_the_elements_slice() {
    use std::hash::{BuildHasher, RandomState};
    let state = RandomState::new();
    let a = FtArray::from_slice(&[1i64, -2, 3]);
    assert_eq!(state.hash_one(&a), state.hash_one([1i64, -2, 3].as_slice()));
    assert_eq!(state.hash_one(&a), state.hash_one(a.clone()));
    assert_ne!(state.hash_one(&a), state.hash_one(FtArray::<i64>::new()));
}

#[test]
fn into_vec_and_vec_from_return_the_elements() {
    let a = FtArray::from_slice(&[1u64, 2]);
    a.reserve(100);
    assert_eq!(a.into_vec(), vec![1, 2]);
    let b = FtArray::from_slice(&[Meters(3.0)]);
    let v: Vec<Meters> = b.into();
    assert_eq!(v, [Meters(3.0)]);
    assert_eq!(FtArray::<u8>::new().into_vec(), Vec::<u8>::new());
}

#[test]
fn every_element_type_round_trips_through_the_basic_operations() {
    fn exercise<T: Element + PartialEq + Debug>(v: [T; 4]) {
        let a = FtArray::<T>::new();
        for x in v {
            a.push(x);
        }
        assert_eq!(a.to_vec(), v);
        assert_eq!(a.get(2), Some(v[2]));
        assert_eq!(a.to_bytes(), bytemuck::cast_slice::<T, u8>(&v));
        assert_eq!(a.remove(0), Ok(v[0]));
        a.insert(0, v[3]).unwrap();
        assert_eq!(a.to_vec(), [v[3], v[1], v[2], v[3]]);
        assert_eq!(a.pop(), Some(v[3]));
        a.reverse();
        assert_eq!(a.to_vec(), [v[2], v[1], v[3]]);
        assert_eq!(a.clone().into_vec(), [v[2], v[1], v[3]]);
        let b = FtArray::<T>::new();
        b.extend_from_bytes(&a.to_bytes()).unwrap();
        assert!(a == b);
    }
    exercise::<i8>([1, -2, 3, -4]);
    exercise::<u8>([1, 2, 250, 255]);
    exercise::<i16>([-300, 2, 3, i16::MIN]);
    exercise::<u16>([1, 2, 3, u16::MAX]);
    exercise::<i32>([1, -2, 3, i32::MAX]);
    exercise::<u32>([1, 2, 3, u32::MAX]);
    exercise::<i64>([1, -2, 3, i64::MIN]);
    exercise::<u64>([1, 2, 3, u64::MAX]);
    exercise::<f32>([1.5, -2.0, 3.25, f32::INFINITY]);
    exercise::<f64>([1.5, -2.0, 3.25, f64::MIN_POSITIVE]);
    exercise::<Meters>([Meters(1.0), Meters(-2.0), Meters(0.5), Meters(9.0)]);
}
