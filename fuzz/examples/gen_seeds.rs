//! Regenerates the checked-in seed corpus, deterministically:
//! `cargo run --manifest-path fuzz/Cargo.toml --example gen_seeds`.
//!
//! Writes `corpus/<target>/seed-*` (small files; libFuzzer mutates from there). The bytes are
//! pseudo-random from a fixed xorshift seed; the leading bytes pick the element type (and for
//! `threads` the thread count and initial length), so every type is covered from the start.

use std::fs;
use std::path::Path;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u8 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 32) as u8
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next()).collect()
    }
}

fn write(target: &str, name: &str, data: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    fs::create_dir_all(&dir).expect("create the corpus directory");
    fs::write(dir.join(format!("seed-{name}")), data).expect("write a seed");
}

fn main() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    // ops: type byte (6 types), then a start and operations decoded by `arbitrary`.
    for ty in 0..6u8 {
        for (i, len) in [48usize, 400].into_iter().enumerate() {
            let mut data = vec![ty];
            data.extend(rng.bytes(len));
            write("ops", &format!("t{ty}-{i}"), &data);
        }
    }
    // ops: mostly small values, so that equal elements, searches and retain hit often.
    for ty in [0u8, 4] {
        let mut data = vec![ty];
        data.extend(rng.bytes(300).into_iter().map(|b| b & 0x1f));
        write("ops", &format!("t{ty}-small"), &data);
    }
    // bytes: type byte (10 types), split byte, then the bytes; lengths include non-multiples.
    for ty in 0..10u8 {
        let len = [0usize, 1, 7, 8, 16, 33, 64, 100, 128, 257][usize::from(ty)];
        let mut data = vec![ty, rng.next()];
        data.extend(rng.bytes(len));
        write("bytes", &format!("t{ty}"), &data);
    }
    // threads: type, thread count, initial length, then (thread, op) pairs.
    for (i, (ty, threads, init, len)) in [
        (0u8, 0u8, 16u8, 64usize),
        (1, 1, 40, 200),
        (0, 1, 0, 400),
        (1, 0, 64, 600),
        (0, 0, 8, 120),
        (1, 1, 32, 300),
    ]
    .into_iter()
    .enumerate()
    {
        let mut data = vec![ty, threads, init];
        data.extend(rng.bytes(len));
        write("threads", &format!("{i}"), &data);
    }
    // Longer inputs (generated last, so the ones above keep their bytes): libFuzzer's length
    // limit starts at the largest seed, and long sequences reach deeper states.
    for ty in [2u8, 4] {
        let mut data = vec![ty];
        data.extend(rng.bytes(1500));
        write("ops", &format!("t{ty}-long"), &data);
    }
    let mut data = vec![1u8, 1, 48];
    data.extend(rng.bytes(1200));
    write("threads", "long", &data);
    npy_seeds(&mut rng);
    // capi: call sequences decoded by `arbitrary`; short and long (generated last, so the
    // seeds above keep their bytes).
    for (i, len) in [64usize, 200, 400, 800, 1500, 3000].into_iter().enumerate() {
        write("capi", &format!("{i}"), &rng.bytes(len));
    }
}

/// A `.npy` file from dictionary text, padded as numpy pads it, in format `version`.
fn npy_file(version: u8, dict: &str, data: &[u8]) -> Vec<u8> {
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

/// npy: valid files of every type and byte order (the header as numpy writes it, and other
/// spellings numpy accepts), and one of each kind of bad file.
fn npy_seeds(rng: &mut XorShift) {
    use ftarray::npy::{Dtype, NpyHeader};
    let codes = ["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"];
    for (i, code) in codes.iter().enumerate() {
        for (order, tag) in [('<', "le"), ('>', "be")] {
            let d = Dtype::from_descr(&format!("{order}{code}")).expect("a supported type");
            if d.size() == 1 && order == '>' {
                continue;
            }
            let n = i % 5;
            let mut f = NpyHeader::encode(d, n);
            f.extend(rng.bytes(n * d.size()));
            write("npy", &format!("{code}-{tag}"), &f);
        }
    }
    let f8 =
        |shape: &str| format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    let data = rng.bytes(24);
    for (name, bytes) in [
        ("v2", npy_file(2, &f8("(3,)"), &data)),
        ("v3", npy_file(3, &f8("(3,)"), &data)),
        ("scalar", npy_file(1, &f8("()"), &data[..8])),
        ("empty", npy_file(1, &f8("(0,)"), &[])),
        (
            "spellings",
            npy_file(
                1,
                "{\"shape\":(3 ,),\"fortran_order\":False,\"descr\":\">u2\"}",
                &data[..6],
            ),
        ),
        ("truncated-data", npy_file(1, &f8("(3,)"), &data[..20])),
        ("trailing-data", npy_file(1, &f8("(2,)"), &data)),
        (
            "truncated-header",
            npy_file(1, &f8("(3,)"), &[])[..50].to_vec(),
        ),
        (
            "fortran",
            npy_file(
                1,
                "{'descr': '<f8', 'fortran_order': True, 'shape': (3,), }",
                &data,
            ),
        ),
        ("2d", npy_file(1, &f8("(1, 3)"), &data)),
        ("absurd", npy_file(1, &f8("(1152921504606846976,)"), &data)),
        (
            "absurd-u1",
            npy_file(
                1,
                "{'descr': '|u1', 'fortran_order': False, 'shape': (1152921504606846976,), }",
                &data,
            ),
        ),
        (
            "dtype",
            npy_file(
                1,
                "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }",
                &data[..16],
            ),
        ),
        (
            "duplicate",
            npy_file(
                1,
                "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                &data,
            ),
        ),
        (
            "oversized",
            b"\x93NUMPY\x02\x00\x60\xea\x00\x00{'descr'".to_vec(),
        ),
        ("magic", b"\x93NUMPZ\x01\x00".to_vec()),
    ] {
        write("npy", name, &bytes);
    }
}
