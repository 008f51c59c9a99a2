//! Reader

use super::*;

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
