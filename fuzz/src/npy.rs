//! The `npy` target: the `.npy` loader over arbitrary bytes.
//!
//! * it never panics and never allocates by the header's claims (libFuzzer's `-rss_limit_mb`
//!   and `-malloc_limit_mb` would report it);
//! * a known-length load (`NpyReader::with_len`, what `load_npy` does for a file) accepts the
//!   bytes only if they are exactly a header and the data it claims; the array then holds that
//!   data, converted from the file's byte order, and loads the same through every path
//!   (`into_array` from a known length and from a stream, `into_native_bytes`);
//! * a stream load agrees with it: the same header and array, or, when the known-length load
//!   failed, the same error, except that a stream accepts trailing bytes and reports a
//!   shortfall only when it reaches it;
//! * a loaded array written back has numpy's header for its type and length and reads back
//!   the same; loading as another element type is `DtypeMismatch`;
//! * every error has a message.

use ftarray::FtArray;
use ftarray::npy::{Dtype, ElementKind, NpyElement, NpyError, NpyHeader, NpyReader};

/// The data after the header, converted to native byte order.
fn native(data: &[u8], h: &NpyHeader) -> Vec<u8> {
    let start = h.data_offset() as usize;
    let end = start + h.data_len() as usize;
    let mut v = data[start..end.min(data.len())].to_vec();
    v.truncate(v.len() - v.len() % h.dtype().size());
    if h.dtype().needs_swap() {
        for e in v.chunks_exact_mut(h.dtype().size()) {
            e.reverse();
        }
    }
    v
}

/// A type that is never the same as `T`: for the mismatch check.
fn other_type<T: NpyElement>() -> Dtype {
    if Dtype::of::<T>().same_type(&Dtype::of::<u8>()) {
        Dtype::of::<f32>()
    } else {
        Dtype::of::<u8>()
    }
}

fn check_message(e: &NpyError) {
    assert!(!e.to_string().is_empty(), "{e:?} has no message");
}

/// The file is valid for `T`: every way of loading it gives `want`.
fn check_valid<T: NpyElement>(data: &[u8], h: &NpyHeader, want: &[u8]) {
    let len = data.len() as u64;
    let a = NpyReader::with_len(data, len)
        .expect("validated once")
        .into_array::<T>()
        .expect("a validated file loads");
    assert_eq!(a.len(), h.len());
    assert_eq!(a.to_bytes(), want, "known-length load");
    let b = FtArray::<T>::read_npy(data).expect("a stream loads a valid file");
    assert_eq!(b.to_bytes(), want, "stream load");
    let bytes = NpyReader::new(data).unwrap().into_native_bytes().unwrap();
    assert_eq!(bytes, want, "into_native_bytes");

    // Written back: numpy's header for this type and length, then the same data.
    let mut out = Vec::new();
    a.write_npy(&mut out).unwrap();
    let header = NpyHeader::encode(Dtype::of::<T>(), h.len());
    assert_eq!(&out[..header.len()], &header[..]);
    assert_eq!(&out[header.len()..], want);
    let c = FtArray::<T>::read_npy(&out[..]).unwrap();
    assert_eq!(c.to_bytes(), want);

    // Any other element type is refused, with nothing read.
    let wrong = other_type::<T>();
    let r = NpyReader::with_len(data, len).unwrap();
    let e = if wrong.same_type(&Dtype::of::<u8>()) {
        r.into_array::<u8>().map(drop).unwrap_err()
    } else {
        r.into_array::<f32>().map(drop).unwrap_err()
    };
    assert!(
        matches!(e, NpyError::DtypeMismatch { found, .. } if found == h.dtype()),
        "{e}"
    );
}

/// The header is valid but the length is not: a stream load of `T` keeps the data the header
/// claims if it is all there (ignoring what follows) and reports the shortfall otherwise.
fn check_stream<T: NpyElement>(data: &[u8], h: &NpyHeader, exact_error: &NpyError) {
    let available = data.len() as u64 - h.data_offset();
    let r = FtArray::<T>::read_npy(data);
    match exact_error {
        NpyError::TrailingData { expected, actual } => {
            assert_eq!((*expected, *actual), (h.data_len(), available));
            let a = r.expect("a stream ignores trailing bytes");
            assert_eq!(a.to_bytes(), native(data, h));
        }
        NpyError::TruncatedData { expected, actual } => {
            assert_eq!((*expected, *actual), (h.data_len(), available));
            let e = r.map(drop).unwrap_err();
            assert!(
                matches!(e, NpyError::TruncatedData { expected, actual }
                    if expected == h.data_len() && actual == available),
                "{e}"
            );
        }
        other => panic!("a header a stream accepts failed with a known length: {other}"),
    }
}

macro_rules! with_type {
    ($dtype:expr, $f:ident ( $($arg:expr),* )) => {
        match ($dtype.kind(), $dtype.size()) {
            (ElementKind::Int, 1) => $f::<i8>($($arg),*),
            (ElementKind::Uint, 1) => $f::<u8>($($arg),*),
            (ElementKind::Int, 2) => $f::<i16>($($arg),*),
            (ElementKind::Uint, 2) => $f::<u16>($($arg),*),
            (ElementKind::Int, 4) => $f::<i32>($($arg),*),
            (ElementKind::Uint, 4) => $f::<u32>($($arg),*),
            (ElementKind::Int, _) => $f::<i64>($($arg),*),
            (ElementKind::Uint, _) => $f::<u64>($($arg),*),
            (ElementKind::Float, 4) => $f::<f32>($($arg),*),
            (ElementKind::Float, _) => $f::<f64>($($arg),*),
        }
    };
}

/// Loads `data` as a `.npy` file every way there is and checks the results agree.
pub fn run_npy(data: &[u8]) {
    let exact = NpyReader::with_len(data, data.len() as u64);
    let streamed = NpyReader::new(data);
    if crate::debug() {
        eprintln!(
            "npy: {} bytes, known length: {:?}, stream: {:?}",
            data.len(),
            exact.as_ref().map(|r| r.header().to_string()),
            streamed.as_ref().map(|r| r.header().to_string())
        );
    }
    match (exact, streamed) {
        (Ok(r), Ok(s)) => {
            let h = r.header().clone();
            assert_eq!(s.header(), &h, "the two header readers disagree");
            assert_eq!(h.data_offset() + h.data_len(), data.len() as u64);
            assert!(h.data_offset() <= 12 + ftarray::npy::MAX_HEADER_LEN);
            let want = native(data, &h);
            with_type!(h.dtype(), check_valid(data, &h, &want));
        }
        (Ok(_), Err(e)) => panic!("a stream refused a valid file: {e}"),
        (Err(e), Ok(s)) => {
            check_message(&e);
            let h = s.header().clone();
            with_type!(h.dtype(), check_stream(data, &h, &e));
        }
        (Err(e), Err(s)) => {
            check_message(&e);
            assert_eq!(
                e.to_string(),
                s.to_string(),
                "the two header readers disagree"
            );
        }
    }
}
