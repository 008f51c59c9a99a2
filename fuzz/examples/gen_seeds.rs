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
    // capi: call sequences decoded by `arbitrary`; short and long (generated last, so the
    // seeds above keep their bytes).
    for (i, len) in [64usize, 200, 400, 800, 1500, 3000].into_iter().enumerate() {
        write("capi", &format!("{i}"), &rng.bytes(len));
    }
}
