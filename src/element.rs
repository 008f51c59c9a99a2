//! Element types: a [`bytemuck::Pod`] value `T` and the unsigned word of the same size.
//!
//! `Pod` forbids interior mutability, so an atomic is never `Pod`; we keep `T: Pod` as the type
//! users see, store its bits in 64-bit atomic units (see [`Word`]) and convert by value with
//! `bytemuck`. A concurrent `get`/`set` on one element is therefore an atomic load racing an
//! atomic store of the same size, never a data race, and a reader can never observe a torn
//! element.

use bytemuck::Pod;
use std::marker::PhantomData;

mod sealed {
    pub trait Sealed {}
}

/// An unsigned integer word (`u8`, `u16`, `u32` or `u64`): the bits of one element.
///
/// This trait is sealed: the four implementations are the only ones. Pick one as
/// [`Element::Bits`] for an element type of the same size.
///
/// Storage does not use one atomic per element: every block is an array of 64-bit atomic
/// units, and a word of `N` bytes is byte `N * i .. N * (i + 1)` of that memory, as in a plain
/// array. Every load and store goes through a whole unit, so readers and writers never mix
/// access sizes on the same memory, and bulk writes store eight bytes at a time whatever the
/// element size. The hidden items below convert between a word and its slot in a unit.
pub trait Word: Pod + Eq + Send + Sync + sealed::Sealed {
    /// How many words fill one 64-bit unit (8, 4, 2 or 1).
    #[doc(hidden)]
    const PER_UNIT: usize;

    /// The word in slot `slot` (`< PER_UNIT`) of `unit`, in memory order.
    #[doc(hidden)]
    fn from_unit(unit: u64, slot: usize) -> Self;

    /// `unit` with slot `slot` (`< PER_UNIT`) replaced by `self`.
    #[doc(hidden)]
    fn into_unit(self, unit: u64, slot: usize) -> u64;

    /// A unit whose every slot holds `self`.
    #[doc(hidden)]
    fn splat(self) -> u64;

    /// The same value with its bytes in reverse order.
    #[doc(hidden)]
    fn swap_bytes(self) -> Self;
}

macro_rules! word {
    ($($w:ty),* $(,)?) => {$(
        impl sealed::Sealed for $w {}
        impl Word for $w {
            const PER_UNIT: usize = 8 / size_of::<$w>();

            #[inline(always)]
            fn from_unit(unit: u64, slot: usize) -> $w {
                // Truncation keeps the low bits: the slot, once shifted down.
                (unit >> unit_shift(slot, <$w>::BITS, Self::PER_UNIT)) as $w
            }
            #[inline(always)]
            fn into_unit(self, unit: u64, slot: usize) -> u64 {
                let shift = unit_shift(slot, <$w>::BITS, Self::PER_UNIT);
                let mask = u64::from(<$w>::MAX) << shift;
                (unit & !mask) | (u64::from(self) << shift)
            }
            #[inline(always)]
            fn splat(self) -> u64 {
                // u64::MAX / MAX is 0x0101.., 0x00010001.., 0x0000000100000001 or 1.
                u64::from(self) * (u64::MAX / u64::from(<$w>::MAX))
            }
            #[inline(always)]
            fn swap_bytes(self) -> $w {
                <$w>::swap_bytes(self)
            }
        }
    )*};
}

/// The bit position of slot `slot` of a unit holding `per` words of `bits` bits: the slot at
/// the lowest address is the least significant on a little-endian target, the most
/// significant on a big-endian one.
#[inline(always)]
const fn unit_shift(slot: usize, bits: u32, per: usize) -> u32 {
    if cfg!(target_endian = "little") {
        slot as u32 * bits
    } else {
        (per - 1 - slot) as u32 * bits
    }
}

word!(u8, u16, u32, u64);

/// A plain number type that an [`FtArray`](crate::FtArray) can hold.
///
/// Implemented for `i8 u8 i16 u16 i32 u32 i64 u64 f32 f64`. Implement it for your own
/// [`Pod`] newtype by naming the unsigned word of the same size.
///
/// ```
/// use bytemuck::{Pod, Zeroable};
/// use ftarray::{Element, FtArray};
///
/// #[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
/// #[repr(transparent)]
/// struct Celsius(f32);
///
/// // SAFETY: `Celsius` is a `Pod` of 4 bytes and `u32` is 4 bytes.
/// unsafe impl Element for Celsius {
///     type Bits = u32;
/// }
///
/// let temps = FtArray::from_slice(&[Celsius(21.5), Celsius(19.0)]);
/// assert_eq!(temps.get(1), Some(Celsius(19.0)));
/// ```
///
/// # Safety
///
/// `size_of::<Self>()` must equal `size_of::<Self::Bits>()`. The array copies elements into
/// and out of its cells as raw bytes (whole buffers at a time), so a wrong size would read or
/// write past an allocation. (Every bit pattern of `Bits` is a valid `Self` because both are
/// [`Pod`]; the alignment of `Self` never exceeds its size, which is the alignment of the atomic
/// cell.)
///
/// The size is also checked at compile time: every constructor of
/// [`FtArray`](crate::FtArray) evaluates a constant that fails to compile for a wrong size (a
/// zero-sized type included), so even an implementation that breaks the contract is rejected
/// before it can run. The `unsafe` keyword states that the implementer checked it too.
///
/// A size mismatch does not compile:
///
/// ```compile_fail,E0080
/// use bytemuck::{Pod, Zeroable};
/// use ftarray::{Element, FtArray};
///
/// #[derive(Clone, Copy, Pod, Zeroable)]
/// #[repr(C)]
/// struct Pair(u32, u32); // 8 bytes
///
/// // Breaks the contract: `u32` is 4 bytes.
/// unsafe impl Element for Pair {
///     type Bits = u32;
/// }
///
/// let a: FtArray<Pair> = [Pair(1, 2), Pair(3, 4)].into_iter().collect();
/// let _ = a.into_vec();
/// ```
///
/// Nor does a zero-sized element:
///
/// ```compile_fail,E0080
/// use bytemuck::{Pod, Zeroable};
/// use ftarray::{Element, FtArray};
///
/// #[derive(Clone, Copy, Pod, Zeroable)]
/// #[repr(transparent)]
/// struct Nothing(());
///
/// unsafe impl Element for Nothing {
///     type Bits = u8;
/// }
///
/// let a = FtArray::<Nothing>::new();
/// a.push(Nothing(()));
/// ```
///
/// And the trait cannot be implemented without `unsafe`:
///
/// ```compile_fail,E0200
/// #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
/// #[repr(transparent)]
/// struct Celsius(f32);
///
/// impl ftarray::Element for Celsius {
///     type Bits = u32;
/// }
/// ```
pub unsafe trait Element: Pod + Send + Sync {
    /// The unsigned word with exactly the size of `Self`.
    type Bits: Word;
}

/// The compile-time half of [`Element`]'s contract.
///
/// `ElementLayout::<T>::CHECKED` is a constant whose evaluation fails (a compile error, E0080)
/// unless `T` has the size of `T::Bits`, is not zero-sized, and is no more aligned than its
/// size (the alignment its slot in a unit has). Every constructor of `FtArray` evaluates it, and so does every conversion to
/// and from bits, so no code path can copy elements of a wrong size.
pub(crate) struct ElementLayout<T>(PhantomData<T>);

impl<T: Element> ElementLayout<T> {
    pub(crate) const CHECKED: () = {
        assert!(
            size_of::<T>() == size_of::<T::Bits>(),
            "Element::Bits must have the same size as the element type"
        );
        assert!(size_of::<T>() != 0, "an element type cannot be zero-sized");
        assert!(
            align_of::<T>() <= size_of::<T::Bits>(),
            "an element type cannot be more aligned than its size"
        );
    };
}

macro_rules! element {
    ($($t:ty => $w:ty),* $(,)?) => {$(
        // SAFETY: `$t` and `$w` have the same size.
        unsafe impl Element for $t {
            type Bits = $w;
        }
    )*};
}

element!(
    i8 => u8, u8 => u8, i16 => u16, u16 => u16, i32 => u32, u32 => u32,
    i64 => u64, u64 => u64, f32 => u32, f64 => u64,
);

/// The bits of `value`.
#[inline(always)]
pub(crate) fn to_bits<T: Element>(value: T) -> T::Bits {
    let () = ElementLayout::<T>::CHECKED;
    bytemuck::cast(value)
}

/// The element whose bits are `bits`.
#[inline(always)]
pub(crate) fn from_bits<T: Element>(bits: T::Bits) -> T {
    let () = ElementLayout::<T>::CHECKED;
    bytemuck::cast(bits)
}

/// Element types with addition and subtraction, for [`FtArray::fetch_add`](crate::FtArray::fetch_add)
/// and [`FtArray::fetch_sub`](crate::FtArray::fetch_sub).
///
/// Integers wrap on overflow (as the `fetch_add` of std's atomics does); floats follow IEEE 754.
pub trait Arith: Element {
    /// `self + rhs`, wrapping for integers.
    fn add(self, rhs: Self) -> Self;
    /// `self - rhs`, wrapping for integers.
    fn sub(self, rhs: Self) -> Self;
}

macro_rules! arith_int {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline]
            fn add(self, rhs: Self) -> Self { self.wrapping_add(rhs) }
            #[inline]
            fn sub(self, rhs: Self) -> Self { self.wrapping_sub(rhs) }
        }
    )*};
}
macro_rules! arith_float {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            #[inline]
            fn add(self, rhs: Self) -> Self { self + rhs }
            #[inline]
            fn sub(self, rhs: Self) -> Self { self - rhs }
        }
    )*};
}
arith_int!(i8, u8, i16, u16, i32, u32, i64, u64);
arith_float!(f32, f64);

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_keeps_every_pattern() {
        let nan = f64::from_bits(0x7ff8_dead_beef_0001);
        assert_eq!(from_bits::<f64>(to_bits(nan)).to_bits(), nan.to_bits());
        assert_eq!(from_bits::<i8>(to_bits(-1i8)), -1);
        assert_eq!(to_bits(-2i16), 0xfffe_u16);
        assert_eq!(to_bits(1.0f32), 0x3f80_0000_u32);
    }

    #[test]
    fn arith_wraps_integers_and_follows_ieee_for_floats() {
        assert_eq!(Arith::add(u8::MAX, 1), 0);
        assert_eq!(Arith::sub(i32::MIN, 1), i32::MAX);
        assert_eq!(Arith::add(0.5f64, 0.25), 0.75);
        assert!(Arith::sub(f32::INFINITY, f32::INFINITY).is_nan());
    }

    /// A slot of a unit is the word at the same byte offset of the unit's memory, on either
    /// byte order, and replacing one slot leaves the others alone.
    fn slots_match_memory_order<W: Word + std::fmt::Debug>() {
        let bytes: [u8; 8] = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
        let unit = u64::from_ne_bytes(bytes);
        let size = size_of::<W>();
        for slot in 0..W::PER_UNIT {
            let expected: W = bytemuck::pod_read_unaligned(&bytes[slot * size..][..size]);
            assert_eq!(W::from_unit(unit, slot), expected, "slot {slot}");
            let mut patched = bytes;
            patched[slot * size..][..size].fill(0xEE);
            let value: W = bytemuck::pod_read_unaligned(&patched[slot * size..][..size]);
            assert_eq!(
                value.into_unit(unit, slot).to_ne_bytes(),
                patched,
                "slot {slot}"
            );
        }
        let one: W = bytemuck::pod_read_unaligned(&bytes[..size]);
        let splat = one.splat().to_ne_bytes();
        for chunk in splat.chunks_exact(size) {
            assert_eq!(chunk, &bytes[..size]);
        }
    }

    #[test]
    fn unit_slots_follow_memory_order() {
        assert_eq!(<u8 as Word>::PER_UNIT, 8);
        assert_eq!(<u16 as Word>::PER_UNIT, 4);
        assert_eq!(<u32 as Word>::PER_UNIT, 2);
        assert_eq!(<u64 as Word>::PER_UNIT, 1);
        slots_match_memory_order::<u8>();
        slots_match_memory_order::<u16>();
        slots_match_memory_order::<u32>();
        slots_match_memory_order::<u64>();
    }

    #[test]
    fn swap_bytes_reverses_each_word() {
        assert_eq!(Word::swap_bytes(0x1234u16), 0x3412);
        assert_eq!(Word::swap_bytes(0x0102_0304u32), 0x0403_0201);
        assert_eq!(Word::swap_bytes(0xabu8), 0xab);
    }
}
