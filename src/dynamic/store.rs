//! The typed array behind a [`DynArray`](crate::DynArray): one `FtArray<T>` per storage type,
//! and the map from type codes to storage types.

use super::value::Scalar;
use crate::array::FtArray;
use crate::typecode::TypeCode;

/// The storage types, one row each: `(Store variant, element type)`.
/// `storage_types!((args) => path::to::m)` expands to `m! { args ; rows }`; the `Store` enum, `Stored` and the dispatch macros below
/// are generated from it. (Several type codes share a storage type: `l` and `q` are both `i64`
/// on 64-bit Unix, `u` and `w` are `u32` there; see `typecode::type_codes!`.)
macro_rules! storage_types {
    (($($args:tt)*) => $($m:tt)+) => {
        $($m)+! { $($args)* ;
            (I8, i8), (U8, u8), (I16, i16), (U16, u16), (I32, i32), (U32, u32),
            (I64, i64), (U64, u64), (F32, f32), (F64, f64)
        }
    };
}

macro_rules! define_store {
    (; $(($v:ident, $t:ty)),*) => {
        /// One typed array, of one of the ten storage types.
        pub(crate) enum Store {
            $($v(FtArray<$t>),)*
        }

        $(
            impl Stored for $t {
                #[inline]
                fn wrap(array: FtArray<$t>) -> Store {
                    Store::$v(array)
                }
            }
        )*
    };
}
storage_types!(() => define_store);

/// A storage type: wraps its `FtArray` into a [`Store`].
pub(crate) trait Stored: Scalar {
    fn wrap(array: FtArray<Self>) -> Store;
}

/// The `match` of [`with_store!`], one arm per storage type.
macro_rules! with_store_arms {
    ($store:expr, $a:ident, $body:expr ; $(($v:ident, $t:ty)),*) => {
        match $store {
            $($crate::dynamic::store::Store::$v($a) => $body,)*
        }
    };
}
pub(crate) use with_store_arms;

/// Runs `$body` with `$a` bound to the typed array inside `$store`, whatever its type.
macro_rules! with_store {
    ($store:expr, $a:ident => $body:expr) => {
        $crate::dynamic::store::storage_types!(($store, $a, $body) => $crate::dynamic::store::with_store_arms)
    };
}
pub(crate) use {storage_types, with_store};

/// The `match` of [`with_pair!`], one arm per storage type.
macro_rules! with_pair_arms {
    ($x:expr, $y:expr, $a:ident, $b:ident, $body:expr, $mismatch:expr ; $(($v:ident, $t:ty)),*) => {
        match ($x, $y) {
            $((
                $crate::dynamic::store::Store::$v($a),
                $crate::dynamic::store::Store::$v($b),
            ) => $body,)*
            _ => $mismatch,
        }
    };
}
pub(crate) use with_pair_arms;

/// Runs `$body` with `$a` and `$b` bound to two stores of the same storage type; evaluates
/// `$mismatch` if their types differ.
macro_rules! with_pair {
    ($x:expr, $y:expr, $a:ident, $b:ident => $body:expr, _ => $mismatch:expr) => {
        $crate::dynamic::store::storage_types!(($x, $y, $a, $b, $body, $mismatch) => $crate::dynamic::store::with_pair_arms)
    };
}
pub(crate) use with_pair;

/// The `match` of [`with_type!`], one arm per type code of `typecode::type_codes!`.
macro_rules! with_type_arms {
    ($code:expr, $tn:ident, $body:expr ;
     $(($v:ident, $c:literal, $fmt:expr, $cfmt:expr, $t:ty, $k:ident, $cname:literal)),* $(,)?) => {
        match $code {
            $($crate::TypeCode::$v => {
                type $tn = $t;
                $body
            })*
        }
    };
}
pub(crate) use with_type_arms;

/// Runs `$body` with the storage type of `$code` as the type `$t`.
macro_rules! with_type {
    ($code:expr, $t:ident => $body:expr) => {
        $crate::typecode::type_codes!(($code, $t, $body) => $crate::dynamic::store::with_type_arms)
    };
}
pub(crate) use with_type;

impl Store {
    /// An empty store of `code`'s storage type.
    pub(crate) fn new(code: TypeCode) -> Store {
        with_type!(code, T => T::wrap(FtArray::<T>::new()))
    }
}
