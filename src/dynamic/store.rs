//! The typed array behind a [`DynArray`](crate::DynArray): one `FtArray<T>` per storage type,
//! and the map from type codes to storage types.

use super::typecode::TypeCode;
use super::value::Scalar;
use crate::array::FtArray;

/// One typed array. Several type codes share a storage type (`l` and `q` are both `i64` on
/// 64-bit Unix; `u` and `w` are `u32` there), so there are ten variants for fourteen codes.
pub(crate) enum Store {
    I8(FtArray<i8>),
    U8(FtArray<u8>),
    I16(FtArray<i16>),
    U16(FtArray<u16>),
    I32(FtArray<i32>),
    U32(FtArray<u32>),
    I64(FtArray<i64>),
    U64(FtArray<u64>),
    F32(FtArray<f32>),
    F64(FtArray<f64>),
}

/// A storage type: wraps its `FtArray` into a [`Store`].
pub(crate) trait Stored: Scalar {
    fn wrap(array: FtArray<Self>) -> Store;
}

macro_rules! stored {
    ($($t:ty => $v:ident),*) => {$(
        impl Stored for $t {
            #[inline]
            fn wrap(array: FtArray<$t>) -> Store {
                Store::$v(array)
            }
        }
    )*};
}
stored!(i8 => I8, u8 => U8, i16 => I16, u16 => U16, i32 => I32, u32 => U32, i64 => I64,
        u64 => U64, f32 => F32, f64 => F64);

/// Runs `$body` with `$a` bound to the typed array inside `$store`, whatever its type.
macro_rules! with_store {
    ($store:expr, $a:ident => $body:expr) => {
        match $store {
            $crate::dynamic::store::Store::I8($a) => $body,
            $crate::dynamic::store::Store::U8($a) => $body,
            $crate::dynamic::store::Store::I16($a) => $body,
            $crate::dynamic::store::Store::U16($a) => $body,
            $crate::dynamic::store::Store::I32($a) => $body,
            $crate::dynamic::store::Store::U32($a) => $body,
            $crate::dynamic::store::Store::I64($a) => $body,
            $crate::dynamic::store::Store::U64($a) => $body,
            $crate::dynamic::store::Store::F32($a) => $body,
            $crate::dynamic::store::Store::F64($a) => $body,
        }
    };
}
pub(crate) use with_store;

/// Runs `$body` with `$a` and `$b` bound to two stores of the same storage type; evaluates
/// `$mismatch` if their types differ.
macro_rules! with_pair {
    ($x:expr, $y:expr, $a:ident, $b:ident => $body:expr, _ => $mismatch:expr) => {{
        use $crate::dynamic::store::Store as S;
        match ($x, $y) {
            (S::I8($a), S::I8($b)) => $body,
            (S::U8($a), S::U8($b)) => $body,
            (S::I16($a), S::I16($b)) => $body,
            (S::U16($a), S::U16($b)) => $body,
            (S::I32($a), S::I32($b)) => $body,
            (S::U32($a), S::U32($b)) => $body,
            (S::I64($a), S::I64($b)) => $body,
            (S::U64($a), S::U64($b)) => $body,
            (S::F32($a), S::F32($b)) => $body,
            (S::F64($a), S::F64($b)) => $body,
            _ => $mismatch,
        }
    }};
}
pub(crate) use with_pair;

/// Runs `$body` with the storage type of `$code` as the type `$t`.
macro_rules! with_type {
    ($code:expr, $t:ident => $body:expr) => {{
        use $crate::dynamic::typecode::TypeCode as C;
        match $code {
            C::I8 => {
                type $t = i8;
                $body
            }
            C::U8 => {
                type $t = u8;
                $body
            }
            C::I16 => {
                type $t = i16;
                $body
            }
            C::U16 => {
                type $t = u16;
                $body
            }
            C::Int => {
                type $t = i32;
                $body
            }
            C::UInt => {
                type $t = u32;
                $body
            }
            C::Long => {
                type $t = $crate::dynamic::store::CLong;
                $body
            }
            C::ULong => {
                type $t = $crate::dynamic::store::CULong;
                $body
            }
            C::I64 => {
                type $t = i64;
                $body
            }
            C::U64 => {
                type $t = u64;
                $body
            }
            C::F32 => {
                type $t = f32;
                $body
            }
            C::F64 => {
                type $t = f64;
                $body
            }
            C::WChar => {
                type $t = $crate::dynamic::store::WChar;
                $body
            }
            C::Ucs4 => {
                type $t = u32;
                $body
            }
        }
    }};
}
pub(crate) use with_type;

/// The storage type of `l`: the platform's C `long`, as a fixed-width integer.
#[cfg(any(windows, target_pointer_width = "32"))]
pub(crate) type CLong = i32;
#[cfg(not(any(windows, target_pointer_width = "32")))]
pub(crate) type CLong = i64;
/// The storage type of `L`.
#[cfg(any(windows, target_pointer_width = "32"))]
pub(crate) type CULong = u32;
#[cfg(not(any(windows, target_pointer_width = "32")))]
pub(crate) type CULong = u64;
/// The storage type of `u`: the platform's `wchar_t` as an unsigned integer.
#[cfg(windows)]
pub(crate) type WChar = u16;
#[cfg(not(windows))]
pub(crate) type WChar = u32;

const _: () = {
    assert!(size_of::<CLong>() == size_of::<std::ffi::c_long>());
    assert!(size_of::<CULong>() == size_of::<std::ffi::c_ulong>());
    assert!(size_of::<WChar>() == super::typecode::WCHAR_SIZE);
};

impl Store {
    /// An empty store of `code`'s storage type.
    pub(crate) fn new(code: TypeCode) -> Store {
        with_type!(code, T => T::wrap(FtArray::<T>::new()))
    }
}
