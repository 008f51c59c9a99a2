//! Unit tests for every public operation of `FtArray`, `Reader`, `Iter`, `ReaderIter`, `Export`
//! and `Error`, including each error path. Every failing call is checked to leave the array
//! exactly as it was (elements by bits, length and capacity).

use ftarray::{Element, Error, Export, FtArray};
use std::fmt::Debug;
use std::num::NonZeroUsize;
use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// A user element type: a `Pod` newtype over `f32`.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(transparent)]
struct Meters(f32);

// SAFETY: `Meters` wraps an `f32`, which has the size of `u32`.
unsafe impl Element for Meters {
    type Bits = u32;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The observable state of an array: its elements' bytes (so NaN payloads compare exactly), its
/// length and its capacity.
fn state<T: Element>(a: &FtArray<T>) -> (Vec<u8>, usize, usize) {
    let v = a.to_vec();
    (
        bytemuck::cast_slice::<T, u8>(&v).to_vec(),
        a.len(),
        a.capacity(),
    )
}

/// Runs `op` and asserts it left `a` exactly as it was; returns what `op` returned.
fn unchanged<T: Element, R>(a: &FtArray<T>, op: impl FnOnce() -> R) -> R {
    let before = state(a);
    let r = op();
    assert_eq!(state(a), before, "a failing call changed the array");
    r
}

/// Asserts that `op` fails with `expected` and leaves `a` unchanged.
#[track_caller]
fn fails_unchanged<T: Element, R: Debug>(
    a: &FtArray<T>,
    expected: Error,
    op: impl FnOnce() -> Result<R, Error>,
) {
    let r = unchanged(a, op);
    match r {
        Err(e) => assert_eq!(e, expected),
        Ok(v) => panic!("expected Err({expected:?}), got Ok({v:?})"),
    }
}

/// Asserts that `op` fails with `Error::Exported { exports }` and leaves `a` unchanged.
#[track_caller]
fn exported_unchanged<T: Element, R: Debug>(
    a: &FtArray<T>,
    exports: usize,
    op: impl FnOnce() -> Result<R, Error>,
) {
    fails_unchanged(a, Error::Exported { exports }, op);
}

/// Asserts that `op` panics and leaves `a` unchanged.
#[track_caller]
fn panics_unchanged<T: Element, R>(a: &FtArray<T>, op: impl FnOnce() -> R) {
    let r = unchanged(a, || catch_unwind(AssertUnwindSafe(op)));
    assert!(r.is_err(), "expected a panic");
}

/// The elements visible through an export's pointer (its `len()` elements).
fn view<T: Element>(e: &Export<'_, T>) -> Vec<T> {
    // SAFETY: the export pins the storage for `e.len()` elements, and no other thread writes to
    // the array while the test reads through the pointer.
    unsafe { std::slice::from_raw_parts(e.as_ptr(), e.len()) }.to_vec()
}

fn bits_f64(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

// ---------------------------------------------------------------------------------------------
// Construction and conversions
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Lock-free reads
// ---------------------------------------------------------------------------------------------

#[test]
fn len_is_empty_and_capacity_track_the_contents() {
    let a = FtArray::<u32>::new();
    assert_eq!((a.len(), a.is_empty(), a.capacity()), (0, true, 0));
    a.push(1);
    assert_eq!((a.len(), a.is_empty()), (1, false));
    assert!(a.capacity() >= 1);
    a.extend_from_slice(&[2, 3, 4, 5]);
    assert_eq!(a.len(), 5);
    assert!(a.capacity() >= 5);
}

#[test]
fn get_first_and_last_return_none_out_of_range() {
    let a = FtArray::from_slice(&[10u64, 20, 30]);
    assert_eq!(a.get(0), Some(10));
    assert_eq!(a.get(2), Some(30));
    assert_eq!(a.get(3), None);
    assert_eq!(a.get(usize::MAX), None);
    assert_eq!(a.first(), Some(10));
    assert_eq!(a.last(), Some(30));
    let e = FtArray::<u64>::new();
    assert_eq!((e.get(0), e.first(), e.last()), (None, None, None));
}

#[test]
fn get_does_not_see_elements_past_the_length_within_capacity() {
    let a = FtArray::from_slice(&[1u8, 2, 3]);
    a.truncate(1);
    assert_eq!(a.get(1), None);
    assert_eq!(a.last(), Some(1));
    assert_eq!(a.to_vec(), [1]);
}

#[test]
fn to_vec_and_to_bytes_use_native_byte_order() {
    let a = FtArray::from_slice(&[0x0102_0304u32, 0xa0b0_c0d0]);
    let mut expected = 0x0102_0304u32.to_ne_bytes().to_vec();
    expected.extend_from_slice(&0xa0b0_c0d0u32.to_ne_bytes());
    assert_eq!(a.to_bytes(), expected);
    let i = FtArray::from_slice(&[-2i16]);
    assert_eq!(i.to_bytes(), (-2i16).to_ne_bytes());
    let nan = f64::from_bits(0x7ff4_0000_0000_0abc);
    let f = FtArray::from_slice(&[nan]);
    assert_eq!(f.to_bytes(), nan.to_bits().to_ne_bytes());
    assert_eq!(f.to_vec()[0].to_bits(), nan.to_bits());
    let m = FtArray::from_slice(&[Meters(1.0)]);
    assert_eq!(m.to_bytes(), 1.0f32.to_ne_bytes());
    assert!(FtArray::<u32>::new().to_bytes().is_empty());
}

#[test]
fn get_range_accepts_every_range_bounds_form() {
    let a = FtArray::from_slice(&[0u32, 1, 2, 3, 4]);
    assert_eq!(a.get_range(..).unwrap(), [0, 1, 2, 3, 4]);
    assert_eq!(a.get_range(2..).unwrap(), [2, 3, 4]);
    assert_eq!(a.get_range(..2).unwrap(), [0, 1]);
    assert_eq!(a.get_range(..=2).unwrap(), [0, 1, 2]);
    assert_eq!(a.get_range(1..3).unwrap(), [1, 2]);
    assert_eq!(a.get_range(1..=3).unwrap(), [1, 2, 3]);
    assert_eq!(
        a.get_range((Bound::Excluded(0), Bound::Excluded(3)))
            .unwrap(),
        [1, 2]
    );
    assert_eq!(
        a.get_range((Bound::Excluded(1), Bound::Included(4)))
            .unwrap(),
        [2, 3, 4]
    );
    assert_eq!(
        a.get_range((Bound::Excluded(1), Bound::Unbounded)).unwrap(),
        [2, 3, 4]
    );
    assert_eq!(a.get_range(5..).unwrap(), Vec::<u32>::new());
    assert_eq!(a.get_range(2..2).unwrap(), Vec::<u32>::new());
    assert_eq!(a.get_range(0..=4).unwrap(), [0, 1, 2, 3, 4]);
}

#[test]
fn get_range_reports_reversed_and_past_end_ranges() {
    let a = FtArray::from_slice(&[0i64, 1, 2]);
    let (hi, lo) = (3usize, 1usize);
    assert_eq!(
        a.get_range(hi..lo),
        Err(Error::RangeOutOfBounds {
            start: 3,
            end: 1,
            len: 3
        })
    );
    assert_eq!(
        a.get_range(1..4),
        Err(Error::RangeOutOfBounds {
            start: 1,
            end: 4,
            len: 3
        })
    );
    assert_eq!(
        a.get_range(..=3),
        Err(Error::RangeOutOfBounds {
            start: 0,
            end: 4,
            len: 3
        })
    );
    assert_eq!(
        a.get_range(4..),
        Err(Error::RangeOutOfBounds {
            start: 4,
            end: 4,
            len: 3
        })
    );
    assert_eq!(
        a.get_range(4..).unwrap_err().to_string(),
        "range 4..4 out of bounds for array of length 3"
    );
    assert!(matches!(
        a.get_range(..=usize::MAX),
        Err(Error::RangeOutOfBounds { len: 3, .. })
    ));
    assert!(matches!(
        a.get_range((Bound::Excluded(usize::MAX), Bound::Unbounded)),
        Err(Error::RangeOutOfBounds { len: 3, .. })
    ));
    let e = FtArray::<i64>::new();
    assert_eq!(e.get_range(..).unwrap(), Vec::<i64>::new());
    assert_eq!(
        e.get_range(0..1),
        Err(Error::RangeOutOfBounds {
            start: 0,
            end: 1,
            len: 0
        })
    );
}

#[test]
fn copy_to_slice_copies_a_window_or_reports_the_range() {
    let a = FtArray::from_slice(&[1i64, 2, 3]);
    let mut buf = [0i64; 2];
    a.copy_to_slice(1, &mut buf).unwrap();
    assert_eq!(buf, [2, 3]);
    let mut all = [0i64; 3];
    a.copy_to_slice(0, &mut all).unwrap();
    assert_eq!(all, [1, 2, 3]);
    let mut none: [i64; 0] = [];
    a.copy_to_slice(3, &mut none).unwrap();
    let mut two = [0i64; 2];
    assert_eq!(
        a.copy_to_slice(2, &mut two),
        Err(Error::RangeOutOfBounds {
            start: 2,
            end: 4,
            len: 3
        })
    );
    assert_eq!(
        a.copy_to_slice(4, &mut none),
        Err(Error::RangeOutOfBounds {
            start: 4,
            end: 4,
            len: 3
        })
    );
    let mut one = [0i64; 1];
    assert_eq!(
        a.copy_to_slice(usize::MAX, &mut one),
        Err(Error::RangeOutOfBounds {
            start: usize::MAX,
            end: usize::MAX,
            len: 3
        })
    );
    assert_eq!(a.to_vec(), [1, 2, 3]);
}

#[test]
fn contains_position_and_count_use_partial_eq() {
    let a = FtArray::from_slice(&[5u8, 6, 5, 7]);
    assert!(a.contains(&6));
    assert!(!a.contains(&9));
    assert_eq!(a.position(&5), Some(0));
    assert_eq!(a.position(&7), Some(3));
    assert_eq!(a.position(&9), None);
    assert_eq!(a.count(&5), 2);
    assert_eq!(a.count(&9), 0);
    let m = FtArray::from_slice(&[Meters(1.0), Meters(2.0), Meters(1.0)]);
    assert_eq!(m.count(&Meters(1.0)), 2);
    assert_eq!(m.position(&Meters(2.0)), Some(1));
    let e = FtArray::<u8>::new();
    assert!(!e.contains(&0));
    assert_eq!((e.position(&0), e.count(&0)), (None, 0));
}

#[test]
fn nan_is_never_found_and_signed_zeros_match() {
    let a = FtArray::from_slice(&[f64::NAN, 0.0, f64::NAN, 1.0]);
    assert!(!a.contains(&f64::NAN));
    assert_eq!(a.position(&f64::NAN), None);
    assert_eq!(a.count(&f64::NAN), 0);
    assert_eq!(a.position(&-0.0), Some(1));
    assert_eq!(a.count(&0.0), 1);
    let f = FtArray::from_slice(&[f32::NAN]);
    assert_eq!(f.count(&f32::NAN), 0);
    let m = FtArray::from_slice(&[Meters(f32::NAN)]);
    assert!(!m.contains(&Meters(f32::NAN)));
}

// ---------------------------------------------------------------------------------------------
// In-place writes
// ---------------------------------------------------------------------------------------------

#[test]
fn set_returns_the_old_value() {
    let a = FtArray::from_slice(&[1u32, 2]);
    assert_eq!(a.set(1, 5), Ok(2));
    assert_eq!(a.set(0, 9), Ok(1));
    assert_eq!(a.to_vec(), [9, 5]);
}

#[test]
fn set_out_of_range_fails_and_changes_nothing() {
    let a = FtArray::from_slice(&[1u32, 2]);
    fails_unchanged(&a, Error::IndexOutOfRange { index: 2, len: 2 }, || {
        a.set(2, 0)
    });
    let e = FtArray::<f32>::new();
    fails_unchanged(&e, Error::IndexOutOfRange { index: 0, len: 0 }, || {
        e.set(0, 1.0)
    });
    let t = FtArray::from_slice(&[1u8, 2, 3]);
    t.truncate(1);
    fails_unchanged(&t, Error::IndexOutOfRange { index: 1, len: 1 }, || {
        t.set(1, 0)
    });
}

#[test]
fn set_keeps_nan_payloads_bit_exact() {
    let nan = f64::from_bits(0xfff0_0000_0000_0001);
    let a = FtArray::from_slice(&[0.0f64]);
    a.set(0, nan).unwrap();
    assert_eq!(a.get(0).unwrap().to_bits(), nan.to_bits());
    assert_eq!(a.set(0, 1.0).unwrap().to_bits(), nan.to_bits());
}

#[test]
fn fetch_update_stores_f_of_old_and_returns_old() {
    let a = FtArray::from_slice(&[3u32, 4]);
    assert_eq!(a.fetch_update(0, |x| x * 10), Ok(3));
    assert_eq!(a.fetch_update(1, |x| x + 1), Ok(4));
    assert_eq!(a.to_vec(), [30, 5]);
}

#[test]
fn fetch_update_out_of_range_does_not_call_f() {
    let a = FtArray::from_slice(&[3u32]);
    let mut called = false;
    fails_unchanged(&a, Error::IndexOutOfRange { index: 1, len: 1 }, || {
        a.fetch_update(1, |x| {
            called = true;
            x
        })
    });
    assert!(!called);
}

#[test]
fn fetch_update_with_a_panicking_closure_leaves_the_array_unchanged_and_usable() {
    let a = FtArray::from_slice(&[3u32, 4]);
    panics_unchanged(&a, || a.fetch_update(0, |_| panic!("boom")));
    // The writer lock was released by the unwind.
    assert_eq!(a.set(0, 1), Ok(3));
    a.push(5);
    assert_eq!(a.to_vec(), [1, 4, 5]);
}

#[test]
fn fetch_add_and_fetch_sub_wrap_for_integers() {
    let a = FtArray::from_slice(&[u8::MAX, 0]);
    assert_eq!(a.fetch_add(0, 2), Ok(255));
    assert_eq!(a.fetch_sub(1, 1), Ok(0));
    assert_eq!(a.to_vec(), [1, 255]);

    let b = FtArray::from_slice(&[i16::MAX, i16::MIN]);
    assert_eq!(b.fetch_add(0, 1), Ok(i16::MAX));
    assert_eq!(b.fetch_sub(1, 1), Ok(i16::MIN));
    assert_eq!(b.to_vec(), [i16::MIN, i16::MAX]);

    let c = FtArray::from_slice(&[u32::MAX - 1]);
    assert_eq!(c.fetch_add(0, 3), Ok(u32::MAX - 1));
    assert_eq!(c.get(0), Some(1));

    let d = FtArray::from_slice(&[i64::MIN]);
    assert_eq!(d.fetch_sub(0, 1), Ok(i64::MIN));
    assert_eq!(d.get(0), Some(i64::MAX));
    assert_eq!(d.fetch_add(0, -5), Ok(i64::MAX));
    assert_eq!(d.get(0), Some(i64::MAX - 5));
}

#[test]
fn fetch_add_and_fetch_sub_follow_ieee_for_floats() {
    let a = FtArray::from_slice(&[1.5f64]);
    assert_eq!(a.fetch_sub(0, 0.5), Ok(1.5));
    assert_eq!(a.fetch_add(0, 0.25), Ok(1.0));
    assert_eq!(a.get(0), Some(1.25));
    let f = FtArray::from_slice(&[f32::INFINITY]);
    assert_eq!(f.fetch_sub(0, f32::INFINITY), Ok(f32::INFINITY));
    assert!(f.get(0).unwrap().is_nan());
    let g = FtArray::from_slice(&[f32::MAX]);
    g.fetch_add(0, f32::MAX).unwrap();
    assert_eq!(g.get(0), Some(f32::INFINITY));
}

#[test]
fn fetch_add_and_fetch_sub_out_of_range_fail_unchanged() {
    let a = FtArray::from_slice(&[1i16]);
    fails_unchanged(&a, Error::IndexOutOfRange { index: 1, len: 1 }, || {
        a.fetch_add(1, 1)
    });
    fails_unchanged(&a, Error::IndexOutOfRange { index: 7, len: 1 }, || {
        a.fetch_sub(7, 1)
    });
    let f = FtArray::<f64>::new();
    fails_unchanged(&f, Error::IndexOutOfRange { index: 0, len: 0 }, || {
        f.fetch_add(0, 1.0)
    });
}

#[test]
fn swap_exchanges_two_elements() {
    let a = FtArray::from_slice(&[1u8, 2, 3]);
    a.swap(0, 2).unwrap();
    assert_eq!(a.to_vec(), [3, 2, 1]);
    a.swap(1, 1).unwrap();
    assert_eq!(a.to_vec(), [3, 2, 1]);
    a.swap(2, 1).unwrap();
    assert_eq!(a.to_vec(), [3, 1, 2]);
}

#[test]
fn swap_reports_the_first_bad_index_and_changes_nothing() {
    let a = FtArray::from_slice(&[1u8, 2, 3]);
    fails_unchanged(&a, Error::IndexOutOfRange { index: 5, len: 3 }, || {
        a.swap(5, 9)
    });
    fails_unchanged(&a, Error::IndexOutOfRange { index: 9, len: 3 }, || {
        a.swap(0, 9)
    });
    fails_unchanged(&a, Error::IndexOutOfRange { index: 3, len: 3 }, || {
        a.swap(3, 0)
    });
}

// ---------------------------------------------------------------------------------------------
// Growing and shrinking
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Exports
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------

#[test]
fn reader_offers_every_read() {
    let a = FtArray::from_slice(&[5u64, 6, 5, 7]);
    let r = a.reader();
    assert!(std::ptr::eq(r.array(), &a));
    assert_eq!(r.len(), 4);
    assert!(!r.is_empty());
    assert_eq!(r.capacity(), a.capacity());
    assert_eq!(r.get(1), Some(6));
    assert_eq!(r.get(4), None);
    assert_eq!(r.first(), Some(5));
    assert_eq!(r.last(), Some(7));
    assert_eq!(r.to_vec(), [5, 6, 5, 7]);
    assert_eq!(r.to_bytes(), a.to_bytes());
    assert_eq!(r.get_range(1..3).unwrap(), [6, 5]);
    assert_eq!(r.get_range(..=0).unwrap(), [5]);
    assert_eq!(
        r.get_range(2..5),
        Err(Error::RangeOutOfBounds {
            start: 2,
            end: 5,
            len: 4
        })
    );
    let mut buf = [0u64; 2];
    r.copy_to_slice(2, &mut buf).unwrap();
    assert_eq!(buf, [5, 7]);
    assert_eq!(
        r.copy_to_slice(3, &mut buf),
        Err(Error::RangeOutOfBounds {
            start: 3,
            end: 5,
            len: 4
        })
    );
    assert!(r.contains(&7));
    assert!(!r.contains(&8));
    assert_eq!(r.position(&5), Some(0));
    assert_eq!(r.position(&8), None);
    assert_eq!(r.count(&5), 2);
    assert_eq!(r.iter().collect::<Vec<_>>(), [5, 6, 5, 7]);
}

#[test]
fn reader_of_an_empty_array() {
    let a = FtArray::<i16>::new();
    let r = a.reader();
    assert_eq!((r.len(), r.is_empty(), r.capacity()), (0, true, 0));
    assert_eq!((r.get(0), r.first(), r.last()), (None, None, None));
    assert!(r.to_vec().is_empty());
    assert!(r.to_bytes().is_empty());
    assert_eq!(r.get_range(..).unwrap(), Vec::<i16>::new());
    assert_eq!(r.iter().next(), None);
    assert_eq!(r.count(&0), 0);
}

#[test]
fn reader_reads_are_each_a_fresh_instant() {
    let a = FtArray::from_slice(&[1u32, 2]);
    let mut r = a.reader();
    assert_eq!(r.len(), 2);
    a.push(3);
    assert_eq!(r.len(), 3);
    a.insert(0, 0).unwrap(); // moves the storage
    assert_eq!(r.to_vec(), [0, 1, 2, 3]);
    r.repin();
    a.clear();
    a.shrink_to_fit().unwrap();
    assert!(r.is_empty());
    assert_eq!(r.capacity(), 0);
    r.repin();
    assert_eq!(r.get(0), None);
}

#[test]
fn reader_sees_nan_bits_exactly_and_never_finds_nan() {
    let nan = f32::from_bits(0x7fc0_0042);
    let a = FtArray::from_slice(&[nan]);
    let r = a.reader();
    assert_eq!(r.get(0).unwrap().to_bits(), nan.to_bits());
    assert!(!r.contains(&nan));
    assert_eq!(r.count(&nan), 0);
}

#[test]
fn reader_debug_shows_a_snapshot() {
    let a = FtArray::from_slice(&[1u8, 2]);
    assert_eq!(format!("{:?}", a.reader()), "Reader { array: [1, 2] }");
}

#[test]
fn reader_iter_is_live_and_fused() {
    let a = FtArray::from_slice(&[1u8, 2]);
    let r = a.reader();
    let mut it = r.iter();
    assert_eq!(it.next(), Some(1));
    a.push(3);
    assert_eq!(it.next(), Some(2));
    assert_eq!(it.next(), Some(3));
    assert_eq!(it.next(), None);
    a.push(4);
    assert_eq!(it.next(), None, "fused: stays ended after the first None");
    assert_eq!(r.iter().collect::<Vec<_>>(), [1, 2, 3, 4]);
}

#[test]
fn reader_iter_ends_early_when_the_array_shrinks() {
    let a = FtArray::from_slice(&[1u32, 2, 3, 4]);
    let r = a.reader();
    let mut it = r.iter();
    assert_eq!(it.next(), Some(1));
    a.truncate(1);
    assert_eq!(it.next(), None);
}

// ---------------------------------------------------------------------------------------------
// Iter
// ---------------------------------------------------------------------------------------------

#[test]
fn iter_yields_every_element_in_order() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    assert_eq!(a.iter().collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(a.iter().sum::<u32>(), 6);
    let mut total = 0;
    for x in &a {
        total += x;
    }
    assert_eq!(total, 6);
    assert_eq!(FtArray::<u32>::new().iter().next(), None);
}

#[test]
fn iter_is_live_and_sees_a_push_made_mid_iteration() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    let mut it = a.iter();
    assert_eq!(it.next(), Some(1));
    a.push(4);
    a.set(1, 20).unwrap();
    assert_eq!(it.collect::<Vec<_>>(), [20, 3, 4]);
}

#[test]
fn iter_ends_when_the_array_is_cleared_mid_iteration() {
    let a = FtArray::from_slice(&[1u32, 2, 3]);
    let mut it = a.iter();
    assert_eq!(it.next(), Some(1));
    a.clear();
    assert_eq!(it.next(), None);
}

#[test]
fn iter_is_fused_after_the_first_none() {
    let a = FtArray::from_slice(&[1i16]);
    let mut it = a.iter();
    assert_eq!(it.next(), Some(1));
    assert_eq!(it.next(), None);
    a.push(2);
    assert_eq!(it.next(), None);
    assert_eq!(it.next(), None);
    assert_eq!(a.iter().count(), 2);
}

#[test]
fn iter_position_is_the_index_read_next() {
    let a = FtArray::from_slice(&[1.0f32, 2.0]);
    let mut it = a.iter();
    assert_eq!(it.next_index(), 0);
    it.next();
    assert_eq!(it.next_index(), 1);
    it.next();
    assert_eq!(it.next_index(), 2);
    assert_eq!(it.next(), None);
    assert_eq!(it.next_index(), 2, "a failed read does not advance");
    assert_eq!(format!("{it:?}"), "Iter { position: 2 }");
}

#[test]
fn iterators_have_independent_positions() {
    let a = FtArray::from_slice(&[1u8, 2, 3]);
    let mut i1 = a.iter();
    let mut i2 = a.iter();
    assert_eq!(i1.next(), Some(1));
    assert_eq!(i1.next(), Some(2));
    assert_eq!(i2.next(), Some(1));
    assert_eq!((i1.next_index(), i2.next_index()), (2, 1));
}

// ---------------------------------------------------------------------------------------------
// Error
// ---------------------------------------------------------------------------------------------

#[test]
fn error_display_texts() {
    assert_eq!(
        Error::IndexOutOfRange { index: 5, len: 3 }.to_string(),
        "index 5 out of range for array of length 3"
    );
    assert_eq!(
        Error::RangeOutOfBounds {
            start: 1,
            end: 9,
            len: 4
        }
        .to_string(),
        "range 1..9 out of bounds for array of length 4"
    );
    assert_eq!(
        Error::RangeOutOfBounds {
            start: 3,
            end: 1,
            len: 4
        }
        .to_string(),
        "range 3..1 is reversed (array length 4)"
    );
    assert_eq!(
        Error::BadByteLength {
            len: 3,
            item_size: 2
        }
        .to_string(),
        "byte length 3 is not a multiple of the item size 2"
    );
    assert_eq!(
        Error::LengthMismatch {
            expected: 4,
            actual: 2
        }
        .to_string(),
        "wrong length: 2 given where 4 is needed"
    );
    assert_eq!(Error::CapacityOverflow.to_string(), "capacity overflow");
    assert_eq!(
        Error::AllocFailed { bytes: 1024 }.to_string(),
        "memory allocation of 1024 bytes failed"
    );
    assert_eq!(
        Error::Exported { exports: 2 }.to_string(),
        "the storage is pinned by 2 export(s) and this operation would move or free it"
    );
}

#[test]
fn errors_returned_by_operations_display_their_context() {
    let a = FtArray::from_slice(&[1u8, 2]);
    assert_eq!(
        a.set(7, 0).unwrap_err().to_string(),
        "index 7 out of range for array of length 2"
    );
    let (hi, lo) = (2usize, 0usize);
    assert_eq!(
        a.get_range(hi..lo).unwrap_err().to_string(),
        "range 2..0 is reversed (array length 2)"
    );
    let _e = a.export();
    assert_eq!(
        a.insert(0, 0).unwrap_err().to_string(),
        "the storage is pinned by 1 export(s) and this operation would move or free it"
    );
}

#[test]
fn error_is_a_std_error_and_clone_eq_debug() {
    let e = Error::IndexOutOfRange { index: 1, len: 0 };
    let dyn_err: &dyn std::error::Error = &e;
    assert!(dyn_err.source().is_none());
    assert_eq!(dyn_err.to_string(), e.to_string());
    assert_eq!(e.clone(), e);
    assert_ne!(e, Error::CapacityOverflow);
    assert_eq!(format!("{e:?}"), "IndexOutOfRange { index: 1, len: 0 }");
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(Error::CapacityOverflow);
    assert_eq!(boxed.to_string(), "capacity overflow");
}

// ---------------------------------------------------------------------------------------------
// Sharing
// ---------------------------------------------------------------------------------------------

#[test]
fn arrays_can_be_shared_across_threads_by_reference() {
    let a = FtArray::<u32>::new();
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let a = &a;
            s.spawn(move || {
                for i in 0..50 {
                    a.push(t * 1000 + i);
                }
            });
        }
    });
    assert_eq!(a.len(), 200);
    let mut v = a.to_vec();
    v.sort();
    let mut expected: Vec<u32> = (0..4u32)
        .flat_map(|t| (0..50).map(move |i| t * 1000 + i))
        .collect();
    expected.sort();
    assert_eq!(v, expected);
}

// ---------------------------------------------------------------------------------------------
// Refills within capacity
// ---------------------------------------------------------------------------------------------

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
