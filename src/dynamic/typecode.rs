//! [`TypeCode`]: which element type a [`DynArray`](crate::DynArray) holds, named by the
//! one-letter codes of Python's `array` module.

use crate::error::Error;
use std::fmt;

/// An element type, named by its Python `array` type code.
///
/// | code | variant | C type | size here | values |
/// |---|---|---|---|---|
/// | `b` | `I8` | `signed char` | 1 | integers |
/// | `B` | `U8` | `unsigned char` | 1 | integers |
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
/// | `u` | `WChar` | `wchar_t` | the platform's `wchar_t`: 4 on Unix, 2 on Windows | characters |
/// | `w` | `Ucs4` | `Py_UCS4` | 4 | characters |
///
/// ```
/// use ftarray::TypeCode;
/// let t = TypeCode::from_char('H').unwrap();
/// assert_eq!(t, TypeCode::U16);
/// assert_eq!(t.itemsize(), 2);
/// assert_eq!(t.as_char(), 'H');
/// assert!(TypeCode::from_char('x').is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TypeCode {
    /// `b`: `signed char`.
    I8,
    /// `B`: `unsigned char`.
    U8,
    /// `h`: `short`.
    I16,
    /// `H`: `unsigned short`.
    U16,
    /// `i`: `int`.
    Int,
    /// `I`: `unsigned int`.
    UInt,
    /// `l`: the platform's C `long`.
    Long,
    /// `L`: the platform's C `unsigned long`.
    ULong,
    /// `q`: `long long`.
    I64,
    /// `Q`: `unsigned long long`.
    U64,
    /// `f`: `float`.
    F32,
    /// `d`: `double`.
    F64,
    /// `u`: the platform's `wchar_t`, one character per element (deprecated in Python 3.13).
    WChar,
    /// `w`: `Py_UCS4`, one Unicode code point per element (Python 3.13's `w`).
    Ucs4,
}

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

impl TypeCode {
    /// Every type code, in the order of Python's `array.typecodes` (`"bBuwhHiIlLqQfd"`).
    pub const ALL: [TypeCode; 14] = [
        TypeCode::I8,
        TypeCode::U8,
        TypeCode::WChar,
        TypeCode::Ucs4,
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

    /// The type code named by `code`.
    ///
    /// # Errors
    ///
    /// [`Error::BadTypeCode`] for any other character.
    pub fn from_char(code: char) -> Result<TypeCode, Error> {
        Ok(match code {
            'b' => TypeCode::I8,
            'B' => TypeCode::U8,
            'h' => TypeCode::I16,
            'H' => TypeCode::U16,
            'i' => TypeCode::Int,
            'I' => TypeCode::UInt,
            'l' => TypeCode::Long,
            'L' => TypeCode::ULong,
            'q' => TypeCode::I64,
            'Q' => TypeCode::U64,
            'f' => TypeCode::F32,
            'd' => TypeCode::F64,
            'u' => TypeCode::WChar,
            'w' => TypeCode::Ucs4,
            _ => return Err(Error::BadTypeCode { code }),
        })
    }

    /// The type code's letter.
    pub const fn as_char(self) -> char {
        match self {
            TypeCode::I8 => 'b',
            TypeCode::U8 => 'B',
            TypeCode::I16 => 'h',
            TypeCode::U16 => 'H',
            TypeCode::Int => 'i',
            TypeCode::UInt => 'I',
            TypeCode::Long => 'l',
            TypeCode::ULong => 'L',
            TypeCode::I64 => 'q',
            TypeCode::U64 => 'Q',
            TypeCode::F32 => 'f',
            TypeCode::F64 => 'd',
            TypeCode::WChar => 'u',
            TypeCode::Ucs4 => 'w',
        }
    }

    /// The size of one element in bytes, on this platform.
    pub const fn itemsize(self) -> usize {
        match self {
            TypeCode::I8 | TypeCode::U8 => 1,
            TypeCode::I16 | TypeCode::U16 => 2,
            TypeCode::Int | TypeCode::UInt | TypeCode::F32 | TypeCode::Ucs4 => 4,
            TypeCode::Long | TypeCode::ULong => size_of::<std::ffi::c_long>(),
            TypeCode::I64 | TypeCode::U64 | TypeCode::F64 => 8,
            TypeCode::WChar => WCHAR_SIZE,
        }
    }

    /// Whether elements are signed integers, unsigned integers, floats or characters.
    pub const fn kind(self) -> Kind {
        match self {
            TypeCode::I8 | TypeCode::I16 | TypeCode::Int | TypeCode::Long | TypeCode::I64 => {
                Kind::Signed
            }
            TypeCode::U8 | TypeCode::U16 | TypeCode::UInt | TypeCode::ULong | TypeCode::U64 => {
                Kind::Unsigned
            }
            TypeCode::F32 | TypeCode::F64 => Kind::Float,
            TypeCode::WChar | TypeCode::Ucs4 => Kind::Char,
        }
    }

    /// Whether elements are integers (signed or unsigned).
    pub const fn is_integer(self) -> bool {
        matches!(self.kind(), Kind::Signed | Kind::Unsigned)
    }

    /// The buffer-protocol format string of one element (`struct` module syntax, native
    /// order and size), as Python's `array` exports it: the type code itself.
    pub const fn format(self) -> &'static str {
        match self {
            TypeCode::I8 => "b",
            TypeCode::U8 => "B",
            TypeCode::I16 => "h",
            TypeCode::U16 => "H",
            TypeCode::Int => "i",
            TypeCode::UInt => "I",
            TypeCode::Long => "l",
            TypeCode::ULong => "L",
            TypeCode::I64 => "q",
            TypeCode::U64 => "Q",
            TypeCode::F32 => "f",
            TypeCode::F64 => "d",
            TypeCode::WChar => "u",
            TypeCode::Ucs4 => "w",
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

    /// The C type's name (`"signed char"`, `"unsigned long"`, …), for error messages.
    pub const fn c_name(self) -> &'static str {
        match self {
            TypeCode::I8 => "signed char",
            TypeCode::U8 => "unsigned char",
            TypeCode::I16 => "short",
            TypeCode::U16 => "unsigned short",
            TypeCode::Int => "int",
            TypeCode::UInt => "unsigned int",
            TypeCode::Long => "long",
            TypeCode::ULong => "unsigned long",
            TypeCode::I64 => "long long",
            TypeCode::U64 => "unsigned long long",
            TypeCode::F32 => "float",
            TypeCode::F64 => "double",
            TypeCode::WChar => "wchar_t",
            TypeCode::Ucs4 => "Py_UCS4",
        }
    }
}

/// The size of `wchar_t`: 2 bytes on Windows, 4 elsewhere.
pub(crate) const WCHAR_SIZE: usize = if cfg!(windows) { 2 } else { 4 };

impl fmt::Display for TypeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

impl TryFrom<char> for TypeCode {
    type Error = Error;
    fn try_from(code: char) -> Result<Self, Error> {
        TypeCode::from_char(code)
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
            assert_eq!(TypeCode::from_char(t.as_char()), Ok(t));
            assert_eq!(t.format().chars().next(), Some(t.as_char()));
        }
        let letters: String = TypeCode::ALL.iter().map(|t| t.as_char()).collect();
        assert_eq!(letters, "bBuwhHiIlLqQfd");
        for c in ['x', 'c', '?', 'e', 'Z', ' '] {
            assert_eq!(TypeCode::from_char(c), Err(Error::BadTypeCode { code: c }));
        }
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
