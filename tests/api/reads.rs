//! Lock-free reads

use super::*;

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
