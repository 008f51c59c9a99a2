//! Iter

use super::*;

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
