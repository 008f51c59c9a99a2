//! `.npy` persistence: round trips for every element type and both byte orders, every kind of
//! bad file (each with its exact message), no allocation sized by a lying header, failed saves
//! that change nothing, and saves that write one consistent snapshot while other threads write.
//!
//! `cargo test --test npy -- --nocapture` prints the round-trip matrix and the message for each
//! bad file.

// Miri isolates the file system, which these tests use throughout.
#![cfg(not(miri))]

use ftarray::FtArray;
use ftarray::npy::{
    ByteOrder, Dtype, ElementKind, MAX_HEADER_LEN, NpyElement, NpyError, NpyHeader, NpyReader,
    remove_stale_temp_files, stale_temp_files,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

// ---------------------------------------------------------------------------------------------
// The largest single allocation made by the current thread
// ---------------------------------------------------------------------------------------------

/// `System`, remembering the largest request each thread makes.
struct LargestRequest;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: the slot may already be gone while a thread's destructors run.
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and returns
// its result; the thread-local only records sizes and never touches the memory.
unsafe impl GlobalAlloc for LargestRequest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is; `ptr` came from `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: forwarded as is; the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: LargestRequest = LargestRequest;

/// Runs `f` and returns its result with the largest allocation this thread requested meanwhile.
fn largest_request<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LARGEST.with(|l| l.set(0));
    let r = f();
    (r, LARGEST.with(Cell::get))
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Deterministic pseudo-random bytes.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 24) as u8).collect()
    }
}

/// `n` elements of `T` from random bit patterns (every NaN payload, -0.0, subnormals, …),
/// preceded by all-zero, all-one and each single-high-bit pattern.
fn values<T: NpyElement>(n: usize, seed: u64) -> Vec<T> {
    let size = size_of::<T>();
    let mut bytes = vec![0u8; size];
    bytes.extend(vec![0xff; size]);
    bytes.extend((0..size).flat_map(|i| (0..size).map(move |j| if i == j { 0x80 } else { 0 })));
    bytes.extend(XorShift(seed | 1).bytes(n * size));
    bytes
        .chunks_exact(size)
        .map(bytemuck::pod_read_unaligned)
        .collect()
}

fn native_bytes<T: NpyElement>(v: &[T]) -> Vec<u8> {
    bytemuck::cast_slice(v).to_vec()
}

/// A complete `.npy` file for `v` with its data in byte order `order`.
fn file_in_order<T: NpyElement>(v: &[T], order: ByteOrder) -> Vec<u8> {
    let dtype = Dtype::new(T::KIND, size_of::<T>(), order).unwrap();
    let mut out = NpyHeader::encode(dtype, v.len());
    let mut data = native_bytes(v);
    if dtype.needs_swap() {
        for e in data.chunks_exact_mut(size_of::<T>()) {
            e.reverse();
        }
    }
    out.extend(data);
    out
}

/// A file from dictionary text, padded like numpy pads it, in format `version`.
fn file_with_dict(version: u8, dict: &str, data: &[u8]) -> Vec<u8> {
    let len_field = if version == 1 { 2 } else { 4 };
    let mut text = dict.as_bytes().to_vec();
    let unpadded = 8 + len_field + text.len() + 1;
    text.extend(std::iter::repeat_n(b' ', (64 - unpadded % 64) % 64));
    text.push(b'\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(&text);
    out.extend_from_slice(data);
    out
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).unwrap();
    p
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

/// Saves, loads, and loads files written in both byte orders, for one element type; returns
/// one row of the matrix.
fn round_trip<T: NpyElement + std::fmt::Debug>(seed: u64) -> String {
    let dir = scratch();
    let dtype = Dtype::of::<T>();
    let mut row = format!("{:<8}", dtype.name());
    for n in [0usize, 1, 1000] {
        let v = values::<T>(n, seed ^ n as u64);
        let a = FtArray::from_slice(&v);
        // save_npy → load_npy, bit for bit.
        let path = dir.path().join(format!("{}-{n}.npy", dtype.name()));
        a.save_npy(&path).unwrap();
        let file = fs::read(&path).unwrap();
        assert_eq!(file.len(), 128 + v.len() * size_of::<T>());
        assert_eq!(&file[..128], &NpyHeader::encode(dtype, v.len())[..]);
        let b = FtArray::<T>::load_npy(&path).unwrap();
        assert_eq!(b.to_bytes(), native_bytes(&v), "{} n={n}", dtype.name());
        // write_npy → read_npy gives the same bytes as the file.
        let mut stream = Vec::new();
        a.write_npy(&mut stream).unwrap();
        assert_eq!(stream, file);
        assert_eq!(
            FtArray::<T>::read_npy(&stream[..]).unwrap().to_bytes(),
            a.to_bytes()
        );
        // Files in each byte order load to the same values.
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let bytes = file_in_order(&v, order);
            let p = write(dir.path(), "order.npy", &bytes);
            let c = FtArray::<T>::load_npy(&p).unwrap();
            assert_eq!(c.to_bytes(), native_bytes(&v), "{} {order:?}", dtype.name());
            let d = FtArray::<T>::read_npy(&bytes[..]).unwrap();
            assert_eq!(d.to_bytes(), native_bytes(&v));
        }
    }
    let orders = if size_of::<T>() == 1 {
        "'|'"
    } else {
        "'<' and '>'"
    };
    row.push_str(&format!(
        " save+load ok, stream ok, {orders} files load, 0/1/1000+ elements"
    ));
    row
}

#[test]
fn round_trips_for_every_element_type_and_both_byte_orders() {
    let rows = [
        round_trip::<i8>(1),
        round_trip::<u8>(2),
        round_trip::<i16>(3),
        round_trip::<u16>(4),
        round_trip::<i32>(5),
        round_trip::<u32>(6),
        round_trip::<i64>(7),
        round_trip::<u64>(8),
        round_trip::<f32>(9),
        round_trip::<f64>(10),
    ];
    println!("round-trip matrix:");
    for r in rows {
        println!("  {r}");
    }
}

#[test]
fn float_special_values_keep_their_bits() {
    let v = [
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff0_0000_0000_0001), // signalling NaN payload
        -0.0,
        f64::INFINITY,
        f64::MIN_POSITIVE / 2.0,
    ];
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let a = FtArray::<f64>::read_npy(&file_in_order(&v, order)[..]).unwrap();
        let bits: Vec<u64> = a.to_vec().iter().map(|x| x.to_bits()).collect();
        let want: Vec<u64> = v.iter().map(|x| x.to_bits()).collect();
        assert_eq!(bits, want);
    }
}

#[test]
fn zero_d_arrays_are_one_element_and_versions_2_and_3_load() {
    let x = 0x0102_0304i32;
    let dict = "{'descr': '>i4', 'fortran_order': False, 'shape': (), }";
    for version in [1, 2, 3] {
        let f = file_with_dict(version, dict, &x.to_be_bytes());
        let r = NpyReader::with_len(&f[..], f.len() as u64).unwrap();
        assert_eq!(r.header().version(), (version, 0));
        assert_eq!(r.header().shape(), Vec::<u64>::new());
        assert_eq!(r.into_array::<i32>().unwrap().to_vec(), [x]);
    }
    // Saved back, a 0-d array becomes 1-D of length 1.
    let dir = scratch();
    let p = dir.path().join("s.npy");
    FtArray::from_slice(&[x]).save_npy(&p).unwrap();
    assert_eq!(NpyReader::open(&p).unwrap().header().shape(), [1]);
}

#[test]
fn a_user_newtype_saves_as_its_numpy_type() {
    #[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
    #[repr(transparent)]
    struct Meters(f32);
    // SAFETY: `Meters` is a transparent `f32`: four bytes, like `u32`.
    unsafe impl ftarray::Element for Meters {
        type Bits = u32;
    }
    impl NpyElement for Meters {
        const KIND: ElementKind = ElementKind::Float;
    }
    let dir = scratch();
    let p = dir.path().join("m.npy");
    FtArray::from_slice(&[Meters(1.5), Meters(-2.0)])
        .save_npy(&p)
        .unwrap();
    assert_eq!(FtArray::<f32>::load_npy(&p).unwrap().to_vec(), [1.5, -2.0]);
    assert_eq!(
        FtArray::<Meters>::load_npy(&p).unwrap().to_vec(),
        [Meters(1.5), Meters(-2.0)]
    );
}

#[test]
fn loading_picks_the_type_from_the_header() {
    // What a runtime-typed loader does: look at the dtype, then read as that type.
    let dir = scratch();
    let p = dir.path().join("t.npy");
    FtArray::from_slice(&[3u16, 4]).save_npy(&p).unwrap();
    let r = NpyReader::open(&p).unwrap();
    let d = r.header().dtype();
    assert_eq!(
        (d.kind(), d.size(), r.header().len()),
        (ElementKind::Uint, 2, 2)
    );
    assert_eq!(r.into_native_bytes().unwrap(), native_bytes(&[3u16, 4]));
}

// ---------------------------------------------------------------------------------------------
// Bad files
// ---------------------------------------------------------------------------------------------

/// Loads `bytes` from a file as `f64`, expecting an error; returns its message.
fn load_error(dir: &Path, bytes: &[u8]) -> (NpyError, String) {
    let p = write(dir, "bad.npy", bytes);
    let err = FtArray::<f64>::load_npy(&p).expect_err("a bad file loaded");
    let msg = err.to_string();
    (err, msg)
}

#[test]
fn every_kind_of_bad_file_is_a_clear_error() {
    let dir = scratch();
    let good = file_in_order(&[1.0f64, 2.0, 3.0], ByteOrder::Little);
    let dict = |descr: &str, fortran: &str, shape: &str| {
        format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}")
    };
    // Deterministic, so the message below is stable.
    let random = XorShift(0x2545_f491_4f6c_dd1d).bytes(4096);
    // Random bytes after a valid prefix reach the header parser instead.
    let mut random_header = b"\x93NUMPY\x01\x00\x40\x00".to_vec();
    random_header.extend(XorShift(77).bytes(0x40));

    type Check = fn(&NpyError) -> bool;
    let cases: Vec<(&str, Vec<u8>, Check, &str)> = vec![
        (
            "truncated data",
            good[..good.len() - 5].to_vec(),
            |e| {
                matches!(
                    e,
                    NpyError::TruncatedData {
                        expected: 24,
                        actual: 19
                    }
                )
            },
            "truncated data: the header claims 24 bytes of data but the file has 19",
        ),
        (
            "trailing data",
            [&good[..], b"junk"].concat(),
            |e| {
                matches!(
                    e,
                    NpyError::TrailingData {
                        expected: 24,
                        actual: 28
                    }
                )
            },
            "trailing bytes: the header claims 24 bytes of data but the file has 28",
        ),
        (
            "truncated header",
            good[..100].to_vec(),
            |e| {
                matches!(
                    e,
                    NpyError::TruncatedHeader {
                        expected: 128,
                        actual: 100
                    }
                )
            },
            "truncated header: the header needs 128 bytes but the file has only 100",
        ),
        (
            "truncated magic",
            good[..7].to_vec(),
            |e| {
                matches!(
                    e,
                    NpyError::TruncatedHeader {
                        expected: 10,
                        actual: 7
                    }
                )
            },
            "truncated header: the header needs 10 bytes but the file has only 7",
        ),
        (
            "empty file",
            Vec::new(),
            |e| matches!(e, NpyError::BadMagic { .. }),
            "not a .npy file: the file is empty",
        ),
        (
            "wrong magic",
            [b"\x93NUMPZ", &good[6..]].concat(),
            |e| matches!(e, NpyError::BadMagic { .. }),
            "not a .npy file: it starts with b\"\\x93NUMPZ\\x01\\x00\", not the magic string \
             b\"\\x93NUMPY\"",
        ),
        (
            "unsupported version",
            [&good[..6], &[4, 0], &good[8..]].concat(),
            |e| matches!(e, NpyError::UnsupportedVersion { major: 4, minor: 0 }),
            "unsupported .npy format version 4.0 (supported: 1.0, 2.0, 3.0)",
        ),
        (
            "unsupported dtype",
            file_with_dict(1, &dict("<c16", "False", "(1,)"), &[0; 16]),
            |e| matches!(e, NpyError::UnsupportedDtype { .. }),
            "unsupported dtype '<c16': ftarray loads '|i1' '|u1' and '<'/'>' i2 u2 i4 u4 i8 u8 \
             f4 f8",
        ),
        (
            "structured dtype",
            file_with_dict(
                1,
                "{'descr': [('x', '<f8')], 'fortran_order': False, 'shape': (1,), }",
                &[0; 8],
            ),
            |e| matches!(e, NpyError::BadHeader { offset: 20, .. }),
            "malformed .npy header at byte 20: 'descr' is a list: structured (record) dtypes \
             are not supported",
        ),
        (
            "wrong element type",
            file_in_order(&[1i32], ByteOrder::Big),
            |e| matches!(e, NpyError::DtypeMismatch { .. }),
            "dtype mismatch: the file holds '>i4' (int32) but the array's element type is \
             float64",
        ),
        (
            "Fortran order",
            file_with_dict(1, &dict("<f8", "True", "(3,)"), &good[128..]),
            |e| matches!(e, NpyError::FortranOrder),
            "Fortran-ordered data (fortran_order: True) is not supported; save in C order",
        ),
        (
            "2-D shape",
            file_with_dict(1, &dict("<f8", "False", "(3, 1)"), &good[128..]),
            |e| matches!(e, NpyError::NotOneDimensional { .. }),
            "expected a 1-D array, but the shape is (3, 1)",
        ),
        (
            "absurd shape (2^60 float64)",
            file_with_dict(1, &dict("<f8", "False", "(1152921504606846976,)"), &[0; 8]),
            |e| {
                matches!(
                    e,
                    NpyError::TooLarge {
                        len: 1_152_921_504_606_846_976,
                        ..
                    }
                )
            },
            "the header claims 1152921504606846976 elements of float64: more than memory can \
             hold",
        ),
        (
            "absurd shape (2^62 float64)",
            file_with_dict(1, &dict("<f8", "False", "(4611686018427387904,)"), &[]),
            |e| matches!(e, NpyError::TooLarge { .. }),
            "the header claims 4611686018427387904 elements of float64: more than memory can \
             hold",
        ),
        (
            "absurd shape (2^60 bytes in a small file)",
            file_with_dict(1, &dict("<f8", "False", "(144115188075855872,)"), &[0; 8]),
            |e| {
                matches!(
                    e,
                    NpyError::TruncatedData {
                        expected: 1_152_921_504_606_846_976,
                        actual: 8
                    }
                )
            },
            "truncated data: the header claims 1152921504606846976 bytes of data but the file \
             has 8",
        ),
        (
            "absurd 2-D shape",
            file_with_dict(
                1,
                &dict("<f8", "False", "(1099511627776, 1099511627776)"),
                &[],
            ),
            |e| matches!(e, NpyError::NotOneDimensional { .. }),
            "expected a 1-D array, but the shape is (1099511627776, 1099511627776)",
        ),
        (
            "oversized header (2.0, 60000 bytes)",
            file_with_dict(
                2,
                &format!(
                    "{{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'pad': '{}'}}",
                    "x".repeat(60_000)
                ),
                &good[128..],
            ),
            |e| matches!(e, NpyError::HeaderTooLarge { max: 10_000, .. }),
            "header length 60084 exceeds the limit of 10000 bytes (numpy's max_header_size)",
        ),
        (
            "oversized header (2.0 length field 0xffffffff)",
            b"\x93NUMPY\x02\x00\xff\xff\xff\xff".to_vec(),
            |e| {
                matches!(
                    e,
                    NpyError::HeaderTooLarge {
                        len: 0xffff_ffff,
                        ..
                    }
                )
            },
            "header length 4294967295 exceeds the limit of 10000 bytes (numpy's max_header_size)",
        ),
        (
            "header that is code, not a literal",
            file_with_dict(
                1,
                "{'descr': '<f8', 'fortran_order': False, 'shape': (__import__('os').getpid(),)}",
                &[],
            ),
            |e| matches!(e, NpyError::BadHeader { .. }),
            "malformed .npy header at byte 61: expected a non-negative integer in 'shape', found \
             '_'",
        ),
        (
            "random bytes",
            random,
            |e| matches!(e, NpyError::BadMagic { .. }),
            "not a .npy file: it starts with b\"\\xea\\x1cX\\xd8\\x97\\xbe\\x9dP\", not the \
             magic string b\"\\x93NUMPY\"",
        ),
        (
            "random header text",
            random_header,
            |e| matches!(e, NpyError::BadHeader { offset: 10, .. }),
            "",
        ),
    ];
    println!("bad files (loaded as f64 with load_npy):");
    for (kind, bytes, check, want) in cases {
        let (err, msg) = load_error(dir.path(), &bytes);
        println!("  {kind}: {msg}");
        assert!(check(&err), "{kind}: unexpected error {err:?}");
        assert!(!err.is_io(), "{kind}");
        if !want.is_empty() {
            assert_eq!(msg, want, "{kind}");
        }
        // The same bytes as a stream: an error too (trailing bytes excepted, by design).
        let streamed = FtArray::<f64>::read_npy(&bytes[..]);
        assert_eq!(streamed.is_ok(), kind == "trailing data", "{kind}");
    }
}

#[test]
fn a_missing_file_is_an_io_error_naming_the_path() {
    let dir = scratch();
    let p = dir.path().join("absent.npy");
    let err = FtArray::<u8>::load_npy(&p).unwrap_err();
    assert!(err.is_io());
    let msg = err.to_string();
    assert!(msg.starts_with("could not open "), "{msg}");
    assert!(msg.contains("absent.npy"), "{msg}");
}

#[test]
fn lying_headers_allocate_nothing_of_the_size_they_claim() {
    let dir = scratch();
    let dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (1152921504606846976,), }";
    let f = file_with_dict(1, dict, &[7; 100]);
    let p = write(dir.path(), "liar.npy", &f);
    // From a file: refused from the file's length, before reading any data.
    let (r, largest) = largest_request(|| FtArray::<u8>::load_npy(&p));
    assert!(matches!(
        r,
        Err(NpyError::TruncatedData { actual: 100, .. })
    ));
    assert!(
        largest <= MAX_HEADER_LEN as usize,
        "allocated {largest} bytes"
    );
    // From a stream: read in bounded chunks, so only what the stream holds is allocated.
    let (r, largest) = largest_request(|| FtArray::<u8>::read_npy(&f[..]));
    assert!(matches!(
        r,
        Err(NpyError::TruncatedData { actual: 100, .. })
    ));
    assert!(largest <= 64 * 1024, "allocated {largest} bytes");
    // A 2.0 header claiming a 4 GiB dictionary.
    let (r, largest) =
        largest_request(|| FtArray::<u8>::read_npy(&b"\x93NUMPY\x02\x00\xff\xff\xff\x7f"[..]));
    assert!(matches!(r, Err(NpyError::HeaderTooLarge { .. })));
    assert!(largest <= 1024, "allocated {largest} bytes");
    // An honest file is allocated once, at its size.
    let n = 1 << 20;
    let p = dir.path().join("honest.npy");
    FtArray::from_slice(&vec![1u32; n]).save_npy(&p).unwrap();
    let (a, largest) = largest_request(|| FtArray::<u32>::load_npy(&p).unwrap());
    assert_eq!(a.len(), n);
    assert!(
        largest < 2 * n * 4,
        "allocated {largest} bytes for {} bytes",
        n * 4
    );
}

#[test]
fn a_reader_that_fails_midway_reports_it() {
    struct Failing<'a>(&'a [u8]);
    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("device unplugged"));
            }
            let n = buf.len().min(self.0.len()).min(100);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let f = file_in_order(&vec![1u64; 1000], ByteOrder::native());
    let err = FtArray::<u64>::read_npy(Failing(&f[..4000])).unwrap_err();
    assert!(err.is_io());
    assert_eq!(err.to_string(), "could not read: device unplugged");
}

// ---------------------------------------------------------------------------------------------
// Saves
// ---------------------------------------------------------------------------------------------

#[test]
fn a_failed_save_changes_nothing_and_leaves_no_temporary_file() {
    let dir = scratch();
    // The target is a directory: the rename fails after the data is written and synced.
    let target = dir.path().join("t.npy");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("keep"), b"x").unwrap();
    let err = FtArray::from_slice(&[1u8]).save_npy(&target).unwrap_err();
    assert!(err.is_io(), "{err}");
    assert_eq!(entries(dir.path()), ["t.npy"]);
    assert_eq!(fs::read(target.join("keep")).unwrap(), b"x");
    // A missing directory: nothing is created.
    let err = FtArray::from_slice(&[1u8])
        .save_npy(dir.path().join("no/such/dir.npy"))
        .unwrap_err();
    assert!(err.is_io(), "{err}");
    assert_eq!(entries(dir.path()), ["t.npy"]);
}

#[test]
fn a_save_replaces_the_file_while_open_readers_keep_the_old_one() {
    let dir = scratch();
    let p = dir.path().join("r.npy");
    FtArray::from_slice(&[1u32; 1000]).save_npy(&p).unwrap();
    let mut old = fs::File::open(&p).unwrap();
    FtArray::from_slice(&[2u32; 10]).save_npy(&p).unwrap();
    // The open handle still reads the complete old file (a new inode replaced the name).
    let old_len = old.metadata().unwrap().len();
    let r = NpyReader::with_len(&mut old, old_len).unwrap();
    assert_eq!(r.into_array::<u32>().unwrap().to_vec(), vec![1; 1000]);
    assert_eq!(FtArray::<u32>::load_npy(&p).unwrap().to_vec(), vec![2; 10]);
    assert_eq!(entries(dir.path()), ["r.npy"]);
    assert!(stale_temp_files(&p).unwrap().is_empty());
    assert!(remove_stale_temp_files(&p).unwrap().is_empty());
}

#[test]
fn a_save_writes_one_snapshot_while_other_threads_write() {
    // Writers keep the array in the states "length 1000 + k % 97, every element k"; each
    // `update` is one atomic step. Every saved file must hold exactly one such state.
    let dir = scratch();
    let p = dir.path().join("s.npy");
    let a = FtArray::from_slice(&vec![0u64; 1000]);
    let stop = AtomicBool::new(false);
    let states_seen = thread::scope(|s| {
        for w in 0..2u64 {
            let (a, stop) = (&a, &stop);
            s.spawn(move || {
                let mut k = w + 1;
                while !stop.load(Ordering::Relaxed) {
                    a.update(|v| {
                        v.clear();
                        v.resize(1000 + (k % 97) as usize, k);
                    })
                    .unwrap();
                    k += 2;
                }
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            a.save_npy(&p).unwrap();
            let v = FtArray::<u64>::load_npy(&p).unwrap().to_vec();
            let k = v[0];
            assert_eq!(v.len(), 1000 + (k % 97) as usize, "length of state {k}");
            assert!(v.iter().all(|&x| x == k), "a save mixed two states");
            seen.insert(k);
        }
        stop.store(true, Ordering::Relaxed);
        seen.len()
    });
    println!("200 saves under 2 writer threads: {states_seen} distinct states, none mixed");
    assert!(states_seen > 1, "the writers never ran during the saves");
}
