//! [`TypeCode`]: which element type a [`DynArray`](crate::DynArray) holds, named by the
//! one-letter codes of Python's `array` module, and [`Kind`].
//!
//! Every fact about a type code (its letter, the buffer format it exports, the Rust type that
//! stores it, its kind, the C type's name) is written once, in the table of [`type_codes!`].
//! The enum, its methods, and the per-type dispatch of the runtime-typed layer
//! (`dynamic::store::with_type!`) are generated from that table, and the C ABI and the Python
//! binding take formats and names from the methods, so no second copy can disagree.

use std::ffi::CStr;
use std::fmt;

/// The table of type codes, one row per code, in the order of Python's `array.typecodes`
/// (`"bBuwhHiIlLqQfd"`): `(variant, letter, buffer format, the format as a C string, storage
/// type, kind, C type name)`.
///
/// `type_codes!((args...) => path::to::m)` expands to `m! { args... ; rows }`. The storage type is the
/// fixed-width Rust type with the C type's size on this platform (`CLong`, `CULong` and
/// `WChar` below). The buffer format is the letter, except that `u` exports `w` where
/// `wchar_t` is 4 bytes, as CPython's `array` does (`Py_UNICODE_WIDE`).
macro_rules! type_codes {
    (($($args:tt)*) => $($m:tt)+) => {
        $($m)+! { $($args)* ;
            (I8, 'b', "b", c"b", i8, Signed, "signed char"),
            (U8, 'B', "B", c"B", u8, Unsigned, "unsigned char"),
            (WChar, 'u', $crate::typecode::WCHAR_FORMAT, $crate::typecode::WCHAR_FORMAT_C,
                $crate::typecode::WChar, Char, "wchar_t"),
            (Ucs4, 'w', "w", c"w", u32, Char, "Py_UCS4"),
            (I16, 'h', "h", c"h", i16, Signed, "short"),
            (U16, 'H', "H", c"H", u16, Unsigned, "unsigned short"),
            (Int, 'i', "i", c"i", i32, Signed, "int"),
            (UInt, 'I', "I", c"I", u32, Unsigned, "unsigned int"),
            (Long, 'l', "l", c"l", $crate::typecode::CLong, Signed, "long"),
            (ULong, 'L', "L", c"L", $crate::typecode::CULong, Unsigned, "unsigned long"),
            (I64, 'q', "q", c"q", i64, Signed, "long long"),
            (U64, 'Q', "Q", c"Q", u64, Unsigned, "unsigned long long"),
            (F32, 'f', "f", c"f", f32, Float, "float"),
            (F64, 'd', "d", c"d", f64, Float, "double"),
        }
    };
}
pub(crate) use type_codes;

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

/// The buffer format `u` exports: `w` where `wchar_t` is 4 bytes, as CPython's `array` does.
pub(crate) const WCHAR_FORMAT: &str = if size_of::<WChar>() == 4 { "w" } else { "u" };
/// [`WCHAR_FORMAT`] as a C string.
pub(crate) const WCHAR_FORMAT_C: &CStr = if size_of::<WChar>() == 4 { c"w" } else { c"u" };

const _: () = {
    assert!(size_of::<CLong>() == size_of::<std::ffi::c_long>());
    assert!(size_of::<CULong>() == size_of::<std::ffi::c_ulong>());
    assert!(size_of::<WChar>() == if cfg!(windows) { 2 } else { 4 });
};

/// What kind of value an element holds, and so which [`Value`](crate::Value)s it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A signed integer.
    Signed,
    /// An unsigned integer.
    Unsigned,
    /// An IEEE 754 float.
    Float,
    /// A character (a code point).
    Char,
}

/// Defines `TypeCode` and its table-driven methods from the rows of [`type_codes!`].
macro_rules! define_type_codes {
    (; $(($v:ident, $c:literal, $fmt:expr, $cfmt:expr, $t:ty, $k:ident, $cname:literal)),* $(,)?) => {
        /// An element type, named by its Python `array` type code.
        ///
        /// | code | variant | C type | size here | values |
        /// |---|---|---|---|---|
        /// | `b` | `I8` | `signed char` | 1 | integers |
        /// | `B` | `U8` | `unsigned char` | 1 | integers |
        /// | `u` | `WChar` | `wchar_t` | the platform's `wchar_t`: 4 on Unix, 2 on Windows | characters |
        /// | `w` | `Ucs4` | `Py_UCS4` | 4 | characters |
        /// | `h` | `I16` | `short` | 2 | integers |
        /// | `H` | `U16` | `unsigned short` | 2 | integers |
        /// | `i` | `Int` | `int` | 4 | integers |
        /// | `I` | `UInt` | `unsigned int` | 4 | integers |
        /// | `l` | `Long` | `long` | the platform's `long`: 8 on 64-bit Unix, 4 on Windows | integers |
        /// | `L` | `ULong` | `unsigned long` | as `l` | integers |
        /// | `q` | `I64` | `long long` | 8 | integers |
        /// | `Q` | `U64` | `unsigned long long` | 8 | integers |
        /// | `f` | `F32` | `float` | 4 | floats |
        /// | `d` | `F64` | `double` | 8 | floats |
        ///
        /// ```
        /// use ftarray::TypeCode;
        /// let t = TypeCode::try_from('H').unwrap();
        /// assert_eq!(t, TypeCode::U16);
        /// assert_eq!(t.itemsize(), 2);
        /// assert_eq!(t.as_char(), 'H');
        /// assert_eq!(TypeCode::from_char('x'), None);
        /// assert!(TypeCode::try_from('x').is_err());
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum TypeCode {
            $(
                #[doc = concat!("`", $c, "`: `", $cname, "`.")]
                $v,
            )*
        }

        impl TypeCode {
            /// Every type code, in the order of Python's `array.typecodes` (`"bBuwhHiIlLqQfd"`).
            pub const ALL: [TypeCode; 14] = [$(TypeCode::$v),*];

            /// The type code named by `code`, or `None` for any other character
            /// (`TypeCode::try_from(code)` gives an [`Error`](crate::Error) instead).
            pub const fn from_char(code: char) -> Option<TypeCode> {
                match code {
                    $($c => Some(TypeCode::$v),)*
                    _ => None,
                }
            }

            /// The type code's letter.
            pub const fn as_char(self) -> char {
                match self {
                    $(TypeCode::$v => $c,)*
                }
            }

            /// The size of one element in bytes, on this platform.
            pub const fn itemsize(self) -> usize {
                match self {
                    $(TypeCode::$v => size_of::<$t>(),)*
                }
            }

            /// Whether elements are signed integers, unsigned integers, floats or characters.
            pub const fn kind(self) -> Kind {
                match self {
                    $(TypeCode::$v => Kind::$k,)*
                }
            }

            /// The buffer-protocol format string of one element (`struct` module syntax,
            /// native order and size), as Python's `array` exports it: the type code itself,
            /// except `u`, which exports `w` where `wchar_t` is 4 bytes.
            pub const fn format(self) -> &'static str {
                match self {
                    $(TypeCode::$v => $fmt,)*
                }
            }

            /// [`format`](Self::format) as a NUL-terminated C string (what a `Py_buffer`'s and
            /// the C ABI's `ftarray_buffer`'s `format` point to).
            pub const fn format_cstr(self) -> &'static CStr {
                match self {
                    $(TypeCode::$v => $cfmt,)*
                }
            }

            /// The C type's name (`"signed char"`, `"unsigned long"`, …), for error messages.
            pub const fn c_name(self) -> &'static str {
                match self {
                    $(TypeCode::$v => $cname,)*
                }
            }
        }
    };
}
type_codes!(() => define_type_codes);

impl TypeCode {
    /// The numeric type codes (everything but `u` and `w`), in `ALL`'s order.
    pub const NUMERIC: [TypeCode; 12] = [
        TypeCode::I8,
        TypeCode::U8,
        TypeCode::I16,
        TypeCode::U16,
        TypeCode::Int,
        TypeCode::UInt,
        TypeCode::Long,
        TypeCode::ULong,
        TypeCode::I64,
        TypeCode::U64,
        TypeCode::F32,
        TypeCode::F64,
    ];

    /// Whether elements are integers (signed or unsigned).
    pub const fn is_integer(self) -> bool {
        matches!(self.kind(), Kind::Signed | Kind::Unsigned)
    }

    /// Whether every element value fits an `i64` (the signed types, and the unsigned ones
    /// narrower than 64 bits).
    pub const fn fits_i64(self) -> bool {
        match self.int_range() {
            Some((_, max)) => max <= i64::MAX as i128,
            None => false,
        }
    }

    /// The smallest and largest value of an integer type code, widened to `i128`; `None` for
    /// floats and characters.
    pub const fn int_range(self) -> Option<(i128, i128)> {
        let bits = (self.itemsize() * 8) as u32;
        match self.kind() {
            Kind::Signed => Some((-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)),
            Kind::Unsigned => Some((0, (1i128 << bits) - 1)),
            Kind::Float | Kind::Char => None,
        }
    }
}

impl fmt::Display for TypeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

impl From<TypeCode> for char {
    fn from(code: TypeCode) -> char {
        code.as_char()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn letters_round_trip_and_others_are_rejected() {
        for t in TypeCode::ALL {
            assert_eq!(TypeCode::from_char(t.as_char()), Some(t));
            assert_eq!(t.format_cstr().to_str(), Ok(t.format()));
            assert_eq!(t.format().len(), 1);
        }
        let letters: String = TypeCode::ALL.iter().map(|t| t.as_char()).collect();
        assert_eq!(letters, "bBuwhHiIlLqQfd");
        for c in ['x', 'c', '?', 'e', 'Z', ' '] {
            assert_eq!(TypeCode::from_char(c), None);
        }
    }

    /// Python's `array` exports the type code as the format, but `u` as `w` where `wchar_t`
    /// is 4 bytes (its `Py_UNICODE_WIDE` case); the C ABI and the binding both use this.
    #[test]
    fn formats_are_the_letters_but_wide_u_is_w() {
        for t in TypeCode::ALL {
            let expected = if t == TypeCode::WChar && t.itemsize() == 4 {
                'w'
            } else {
                t.as_char()
            };
            assert_eq!(t.format(), expected.to_string(), "{t}");
        }
        assert!(TypeCode::I8.fits_i64() && TypeCode::UInt.fits_i64());
        assert!(!TypeCode::U64.fits_i64() && !TypeCode::F64.fits_i64());
    }

    #[test]
    fn sizes_follow_the_platform() {
        assert_eq!(TypeCode::Long.itemsize(), size_of::<std::ffi::c_long>());
        assert_eq!(TypeCode::ULong.itemsize(), size_of::<std::ffi::c_ulong>());
        assert_eq!(TypeCode::Int.itemsize(), size_of::<std::ffi::c_int>());
        assert_eq!(TypeCode::I16.itemsize(), size_of::<std::ffi::c_short>());
        assert_eq!(TypeCode::I8.int_range(), Some((-128, 127)));
        assert_eq!(TypeCode::U64.int_range(), Some((0, u64::MAX as i128)));
        assert_eq!(TypeCode::F64.int_range(), None);
    }
}
