//! One scheme's read loop, for instruction counts, disassembly and CPU-time comparisons of the
//! read path (the `read_1k` group of `benches/reads.rs` is the timed benchmark).
//!
//! ```text
//! read_loop <scheme> <u8|u32|f64> <reads>
//!   scheme: reader (Reader::get), get (FtArray::get), atomic, vec, pl_mutex, std_rwlock,
//!           pl_rwlock, arcswap, pin (an epoch pin + a Vec read: the floor of any read that
//!           pins per call)
//! cargo build --release --example read_loop
//! valgrind --tool=callgrind target/release/examples/read_loop reader u32 1000000
//! perf stat -e task-clock target/release/examples/read_loop reader u32 100000000
//! objdump -d -C target/release/examples/read_loop   # read_loop::run::<..>
//! ```
//!
//! Every (scheme, type) pair is one monomorphized, non-inlined loop of the same shape as
//! `read_1k`'s: the index (every index of a 1,024-element array, scrambled) goes through
//! `black_box`, and so does every result, so no load can be hoisted, vectorised or dropped.

use arc_swap::ArcSwap;
use ftarray::{Element, FtArray};
use std::hint::black_box;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering::Relaxed};

const LEN: usize = 1024;

/// The loop: `n` reads through `read`, returning how many found an element.
#[inline(never)]
fn run<T>(n: usize, read: impl Fn(usize) -> Option<T>) -> usize {
    let mut found = 0;
    for k in 0..n {
        let v = black_box(read(black_box(k.wrapping_mul(617) & (LEN - 1))));
        found += usize::from(v.is_some());
    }
    found
}

/// An element type with its same-size atomic.
trait Num: Element + From<u8> {
    type Atomic: Sync;
    fn atomic(v: Self) -> Self::Atomic;
    fn load(a: &Self::Atomic) -> Self;
}

macro_rules! num {
    ($($t:ty, $a:ty, |$x:ident| $new:expr, |$y:ident| $load:expr;)*) => {$(
        impl Num for $t {
            type Atomic = $a;
            fn atomic($x: $t) -> $a {
                $new
            }
            #[inline(always)]
            fn load($y: &$a) -> $t {
                $load
            }
        }
    )*};
}

num! {
    u8, AtomicU8, |v| AtomicU8::new(v), |a| a.load(Relaxed);
    u32, AtomicU32, |v| AtomicU32::new(v), |a| a.load(Relaxed);
    f64, AtomicU64, |v| AtomicU64::new(v.to_bits()), |a| f64::from_bits(a.load(Relaxed));
}

fn scheme<T: Num>(name: &str, n: usize) -> usize {
    let v: Vec<T> = (0..LEN).map(|i| T::from(i as u8)).collect();
    match name {
        "reader" => {
            let a = FtArray::from_slice(&v);
            let r = a.reader();
            run(n, |i| r.get(i))
        }
        "get" => {
            let a = FtArray::from_slice(&v);
            run(n, |i| a.get(i))
        }
        "atomic" => {
            let a: Vec<T::Atomic> = v.iter().map(|&x| T::atomic(x)).collect();
            run(n, |i| a.get(i).map(T::load))
        }
        "vec" => run(n, |i| v.get(i).copied()),
        "pl_mutex" => {
            let m = parking_lot::Mutex::new(v);
            run(n, |i| m.lock().get(i).copied())
        }
        "std_rwlock" => {
            let l = std::sync::RwLock::new(v);
            run(n, |i| l.read().unwrap().get(i).copied())
        }
        "pl_rwlock" => {
            let l = parking_lot::RwLock::new(v);
            run(n, |i| l.read().get(i).copied())
        }
        "arcswap" => {
            let s = ArcSwap::from_pointee(v);
            run(n, |i| s.load().get(i).copied())
        }
        "pin" => run(n, |i| {
            let _guard = crossbeam_epoch::pin();
            v.get(i).copied()
        }),
        other => panic!("unknown scheme {other}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("reader", String::as_str);
    let ty = args.get(2).map_or("u32", String::as_str);
    let n: usize = args
        .get(3)
        .map_or(1_000_000, |s| s.parse().expect("a count"));
    let found = match ty {
        "u8" => scheme::<u8>(name, n),
        "u32" => scheme::<u32>(name, n),
        "f64" => scheme::<f64>(name, n),
        other => panic!("unknown type {other}"),
    };
    println!("{name} {ty}: {found} of {n} reads found an element");
}
