//! Error

use super::*;

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
