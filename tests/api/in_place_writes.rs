//! In-place writes

use super::*;

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
