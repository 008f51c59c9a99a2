//! Element types: a [`bytemuck::Pod`] value `T` and the atomic cell of the same size that stores it.
//!
//! `Pod` forbids interior mutability, so an atomic is never `Pod`; we keep `T: Pod` as the type
//! users see, store its bits in an atomic word ([`Word::Atomic`]) and convert by value with
//! `bytemuck`. A concurrent `get`/`set` on one element is therefore an atomic load racing an
//! atomic store, never a data race, and a reader can never observe a torn element.

use crate::sync::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering};
use bytemuck::Pod;
use std::marker::PhantomData;

mod sealed {
    pub trait Sealed {}
}

/// An unsigned integer word (`u8`, `u16`, `u32` or `u64`) that has a native atomic twin.
///
/// This trait is sealed: the four implementations are the only ones. Pick one as
/// [`Element::Bits`] for an element type of the same size.
pub trait Word: Pod + Eq + Send + Sync + sealed::Sealed {
    /// The atomic cell that stores one element (`AtomicU32` for `u32`, …).
    #[doc(hidden)]
    type Atomic: Send + Sync;

    /// A new cell holding `self`.
    #[doc(hidden)]
    fn new_atomic(self) -> Self::Atomic;

    /// Atomic load.
    #[doc(hidden)]
    fn load(cell: &Self::Atomic, order: Ordering) -> Self;

    /// Atomic store.
    #[doc(hidden)]
    fn store(cell: &Self::Atomic, value: Self, order: Ordering);

    /// The same value with its bytes in reverse order.
    #[doc(hidden)]
    fn swap_bytes(self) -> Self;
}

macro_rules! word {
    ($($w:ty => $atomic:ident),* $(,)?) => {$(
        impl sealed::Sealed for $w {}
        impl Word for $w {
            type Atomic = $atomic;

            #[inline(always)]
            fn new_atomic(self) -> $atomic {
                $atomic::new(self)
            }
            #[inline(always)]
            fn load(cell: &$atomic, order: Ordering) -> $w {
                cell.load(order)
            }
            #[inline(always)]
            fn store(cell: &$atomic, value: $w, order: Ordering) {
                cell.store(value, order)
            }
            #[inline(always)]
            fn swap_bytes(self) -> $w {
                <$w>::swap_bytes(self)
            }
        }
    )*};
}

word!(u8 => AtomicU8, u16 => AtomicU16, u32 => AtomicU32, u64 => AtomicU64);

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
/// unless `T` has the size of `T::Bits`, is not zero-sized, and is no more aligned than the
/// atomic cell. Every constructor of `FtArray` evaluates it, and so does every conversion to
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
            align_of::<T>() <= align_of::<<T::Bits as Word>::Atomic>(),
            "an element type cannot be more aligned than its atomic cell"
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

    #[test]
    fn swap_bytes_reverses_each_word() {
        assert_eq!(Word::swap_bytes(0x1234u16), 0x3412);
        assert_eq!(Word::swap_bytes(0x0102_0304u32), 0x0403_0201);
        assert_eq!(Word::swap_bytes(0xabu8), 0xab);
    }
}
