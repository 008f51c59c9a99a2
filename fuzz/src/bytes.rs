//! The `bytes` target: `extend_from_bytes`, `to_bytes` and `byteswap` against a byte model, for
//! every element type.
//!
//! * `extend_from_bytes` fails with `BadByteLength` exactly when the length is not a multiple of
//!   the element size (that error wins over `Exported`), and then changes nothing;
//! * `to_bytes` gives back exactly the bytes that went in, after the bytes already there;
//! * the elements are the native decoding of the bytes;
//! * `byteswap` reverses each element's bytes (equal to `swap_bytes` on the word of its size),
//!   and twice is the identity; while exported it works in place.

use ftarray::{Element, Error, FtArray};
use ftarray_model::elem::{bytes_of, decode, same, swap_bytes};

/// At most this many input bytes are used.
const MAX_BYTES: usize = 4096 * 8;

fn check<T: Element + std::fmt::Debug>(split: usize, data: &[u8]) {
    let size = size_of::<T>();
    let bad = |len: usize| Error::BadByteLength {
        len,
        item_size: size,
    };
    let whole = &data[..data.len() - data.len() % size];

    // Into an empty array.
    let a = FtArray::<T>::new();
    let r = a.extend_from_bytes(data);
    if data.len() % size == 0 {
        assert_eq!(r, Ok(()), "extend_from_bytes of {} bytes", data.len());
        assert_eq!(a.to_bytes(), data, "to_bytes round trip");
    } else {
        assert_eq!(
            r,
            Err(bad(data.len())),
            "extend_from_bytes of {} bytes",
            data.len()
        );
        assert!(a.is_empty(), "a failed extend_from_bytes changed the array");
        assert_eq!(a.capacity(), 0, "a failed extend_from_bytes allocated");
        assert!(a.to_bytes().is_empty());
    }

    // The whole elements: the native decoding, read back several ways.
    let b = FtArray::<T>::new();
    b.extend_from_bytes(whole)
        .expect("a whole number of elements");
    let expected: Vec<T> = decode(whole);
    assert_eq!(b.len(), whole.len() / size);
    assert_eq!(b.to_bytes(), whole, "to_bytes round trip");
    assert_eq!(
        bytes_of(&b.to_vec()),
        whole,
        "to_vec is the native decoding"
    );
    for (i, x) in expected.iter().enumerate() {
        let got = b.get(i).expect("in range");
        assert!(same(got, *x), "element {i}: {got:?}, expected {x:?}");
    }
    assert_eq!(FtArray::from_slice(&b.to_vec()).to_bytes(), whole);

    // byteswap: each element's bytes reversed, equal to `swap_bytes` of the native decoding.
    b.byteswap();
    let swapped = b.to_bytes();
    for (i, (got, orig)) in swapped.chunks(size).zip(whole.chunks(size)).enumerate() {
        let mut rev = orig.to_vec();
        rev.reverse();
        assert_eq!(got, rev, "byteswap of element {i}");
    }
    let want: Vec<T> = expected.iter().map(|&x| swap_bytes(x)).collect();
    assert_eq!(
        bytes_of(&b.to_vec()),
        bytes_of(&want),
        "byteswap vs swap_bytes"
    );
    b.byteswap();
    assert_eq!(b.to_bytes(), whole, "byteswap twice is the identity");

    // byteswap while exported: in place, same storage, visible through the pointer.
    {
        let cap = b.capacity();
        let e = b.export();
        b.byteswap();
        assert_eq!(b.capacity(), cap);
        assert_eq!(b.to_bytes(), bytes_of(&want), "byteswap while exported");
        // SAFETY: the export pins `e.len()` elements; no other thread touches `b`.
        let view = unsafe { std::slice::from_raw_parts(e.as_ptr(), e.len()) };
        assert_eq!(bytes_of(view), bytes_of(&want), "byteswap in place");
        b.byteswap();
        assert_eq!(bytes_of(view), whole, "byteswap twice in place");
    }

    // Appending to a non-empty array: the bytes already there come first.
    let split = split.min(whole.len()) / size * size;
    let prefix = &whole[..split];
    let c = FtArray::<T>::from_slice(&decode::<T>(prefix));
    let r = c.extend_from_bytes(data);
    if data.len() % size == 0 {
        assert_eq!(r, Ok(()));
        assert_eq!(c.to_bytes(), [prefix, data].concat(), "append to existing");
    } else {
        assert_eq!(r, Err(bad(data.len())));
        assert_eq!(
            c.to_bytes(),
            prefix,
            "a failed extend_from_bytes changed the array"
        );
    }

    // While exported: BadByteLength first; otherwise allowed within the capacity only.
    let d = FtArray::<T>::from_slice(&decode::<T>(prefix));
    let (cap, len) = (d.capacity(), d.len());
    let e = d.export();
    let r = d.extend_from_bytes(data);
    if data.len() % size != 0 {
        assert_eq!(r, Err(bad(data.len())), "BadByteLength wins over Exported");
        assert_eq!(d.to_bytes(), prefix);
    } else if len + data.len() / size <= cap {
        assert_eq!(r, Ok(()), "extend within the capacity while exported");
        assert_eq!(d.to_bytes(), [prefix, data].concat());
    } else {
        assert_eq!(r, Err(Error::Exported { exports: 1 }));
        assert_eq!(
            d.to_bytes(),
            prefix,
            "a failed extend_from_bytes changed the array"
        );
    }
    assert_eq!(d.capacity(), cap, "capacity changed while exported");
    drop(e);
}

/// The `bytes` target: the first byte picks the element type, the second where to split off a
/// prefix for the appending checks; the rest is the byte input.
pub fn run_bytes(data: &[u8]) {
    let [ty, split, rest @ ..] = data else {
        return;
    };
    let rest = &rest[..rest.len().min(MAX_BYTES)];
    let split = usize::from(*split) * 4;
    match ty % 10 {
        0 => check::<u8>(split, rest),
        1 => check::<i8>(split, rest),
        2 => check::<u16>(split, rest),
        3 => check::<i16>(split, rest),
        4 => check::<u32>(split, rest),
        5 => check::<i32>(split, rest),
        6 => check::<f32>(split, rest),
        7 => check::<u64>(split, rest),
        8 => check::<i64>(split, rest),
        _ => check::<f64>(split, rest),
    }
}
