//! Element types under test, and bit-level helpers.

use ftarray::{Arith, Element};
use std::fmt::Debug;

/// An element type the fuzzers drive: made from arbitrary bits, compared by its bits.
pub trait FuzzElem: Arith + PartialEq + Debug + 'static {
    /// The element whose bits are the low `size_of::<Self>()` bytes of `bits`.
    fn from_u64(bits: u64) -> Self;

    /// Whether this value is a NaN (never, for integers).
    fn is_nan(self) -> bool {
        false
    }
}

macro_rules! int_elem {
    ($($t:ty),*) => {$(
        impl FuzzElem for $t {
            #[allow(clippy::unnecessary_cast)]
            fn from_u64(bits: u64) -> Self {
                bits as $t
            }
        }
    )*};
}
int_elem!(u8, i8, u16, i16, u32, i32, u64, i64);

impl FuzzElem for f32 {
    fn from_u64(bits: u64) -> Self {
        f32::from_bits(bits as u32)
    }
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
}

impl FuzzElem for f64 {
    fn from_u64(bits: u64) -> Self {
        f64::from_bits(bits)
    }
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
}

/// The bytes of `values` (native order): equal bytes means equal bits, NaN payloads included.
pub fn bytes_of<T: Element>(values: &[T]) -> Vec<u8> {
    bytemuck::cast_slice::<T, u8>(values).to_vec()
}

/// Whether `a` and `b` have the same bits.
pub fn same<T: Element>(a: T, b: T) -> bool {
    bytemuck::bytes_of(&a) == bytemuck::bytes_of(&b)
}

/// The native-order decoding of `bytes` (a whole number of elements).
pub fn decode<T: Element>(bytes: &[u8]) -> Vec<T> {
    bytes
        .chunks_exact(size_of::<T>())
        .map(bytemuck::pod_read_unaligned)
        .collect()
}

/// `x` with its bytes reversed, computed on the unsigned word of its size (`u16::swap_bytes`, …).
pub fn swap_bytes<T: Element>(x: T) -> T {
    let b = bytemuck::bytes_of(&x);
    let swapped: Vec<u8> = match size_of::<T>() {
        1 => b.to_vec(),
        2 => bytemuck::pod_read_unaligned::<u16>(b)
            .swap_bytes()
            .to_ne_bytes()
            .to_vec(),
        4 => bytemuck::pod_read_unaligned::<u32>(b)
            .swap_bytes()
            .to_ne_bytes()
            .to_vec(),
        8 => bytemuck::pod_read_unaligned::<u64>(b)
            .swap_bytes()
            .to_ne_bytes()
            .to_vec(),
        n => unreachable!("no element type has size {n}"),
    };
    bytemuck::pod_read_unaligned(&swapped)
}

/// A 64-bit hash of the bits of `x` (FNV-1a), for predicates and sort keys.
pub fn key<T: Element>(x: &T) -> u64 {
    bytemuck::bytes_of(x)
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}
