//! [`Value`]: one element of a [`DynArray`](crate::DynArray) as a runtime value, and the
//! conversions between values and each element type.

use crate::element::Element;
use crate::error::Error;
use crate::typecode::{Kind, TypeCode};
use std::cmp::Ordering;
use std::fmt;

/// One element, independent of the array's element type: what a scripting language passes in
/// and gets back.
///
/// Integers are held as `Int` when they fit in an `i64` and as `UInt` only above `i64::MAX`
/// (the constructors normalise), so two equal integers always have the same variant.
/// Characters (type codes `u` and `w`) are code points, which may be any value up to
/// `0x10FFFF` (surrogates included, as in a Python `str`).
///
/// Comparisons are by mathematical value, exactly, across variants, as Python compares `int`
/// and `float`: `Value::from(1u64) == Value::Float(1.0)`, and `2^53 + 1` is greater than the
/// float `2^53`. A NaN equals nothing; a character equals only the same character and is not
/// ordered against numbers.
///
/// ```
/// use ftarray::Value;
/// assert_eq!(Value::from(3u64), Value::Int(3));
/// assert_eq!(Value::from(u64::MAX), Value::UInt(u64::MAX));
/// assert!(Value::Int((1 << 53) + 1) > Value::Float((1u64 << 53) as f64));
/// assert_ne!(Value::Float(f64::NAN), Value::Float(f64::NAN));
/// assert_eq!(Value::from('é'), Value::Char(0xe9));
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Value {
    /// An integer in `i64`'s range.
    Int(i64),
    /// An integer above `i64::MAX`.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// A character, as its code point.
    Char(u32),
}

impl Value {
    /// The largest code point a character element may hold.
    pub const MAX_CHAR: u32 = 0x10FFFF;

    /// The integer `v`, or `None` if it is outside `i64::MIN..=u64::MAX`.
    pub fn from_i128(v: i128) -> Option<Value> {
        if let Ok(i) = i64::try_from(v) {
            Some(Value::Int(i))
        } else {
            u64::try_from(v).ok().map(Value::UInt)
        }
    }

    /// The value as an `i128` if it is an integer.
    pub fn as_i128(self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(i.into()),
            Value::UInt(u) => Some(u.into()),
            Value::Float(_) | Value::Char(_) => None,
        }
    }

    /// The value as an `f64` if it is a number (integers rounded to the nearest float).
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(i as f64),
            Value::UInt(u) => Some(u as f64),
            Value::Float(f) => Some(f),
            Value::Char(_) => None,
        }
    }

    /// The kind of value this is (`Signed` for every integer).
    pub fn kind(self) -> Kind {
        match self {
            Value::Int(_) | Value::UInt(_) => Kind::Signed,
            Value::Float(_) => Kind::Float,
            Value::Char(_) => Kind::Char,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Value {
        match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::UInt(v),
        }
    }
}

macro_rules! from_small {
    ($($t:ty => $via:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::from(<$via>::from(v))
            }
        }
    )*};
}
from_small!(i8 => i64, i16 => i64, i32 => i64, u8 => u64, u16 => u64, u32 => u64, f32 => f64);

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

impl From<char> for Value {
    fn from(c: char) -> Value {
        Value::Char(c.into())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::Int(i) => write!(f, "{i}"),
            Value::UInt(u) => write!(f, "{u}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Char(c) => match char::from_u32(c) {
                Some(ch) => write!(f, "{ch:?}"),
                None => write!(f, "U+{c:04X}"),
            },
        }
    }
}

/// Compares the integer `i` with the float `x` exactly (`None` if `x` is NaN).
fn cmp_int_float(i: i128, x: f64) -> Option<Ordering> {
    if x.is_nan() {
        return None;
    }
    // Every integer we hold is below 2^64 in magnitude; floats this large are past all of them.
    const FAR: f64 = 1e30;
    if x >= FAR {
        return Some(Ordering::Less);
    }
    if x <= -FAR {
        return Some(Ordering::Greater);
    }
    // |x| < 1e30 < 2^127, so its integral part converts to i128 exactly.
    let t = x.trunc();
    match i.cmp(&(t as i128)) {
        Ordering::Equal => (0.0).partial_cmp(&(x - t)),
        other => Some(other),
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.partial_cmp(other) == Some(Ordering::Equal)
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        match (*self, *other) {
            (Value::Char(a), Value::Char(b)) => Some(a.cmp(&b)),
            (Value::Char(_), _) | (_, Value::Char(_)) => None,
            (Value::Float(a), Value::Float(b)) => a.partial_cmp(&b),
            (Value::Float(a), b) => {
                cmp_int_float(b.as_i128().expect("an integer"), a).map(Ordering::reverse)
            }
            (a, Value::Float(b)) => cmp_int_float(a.as_i128().expect("an integer"), b),
            (a, b) => Some(a.as_i128().cmp(&b.as_i128())),
        }
    }
}

/// The element types a [`DynArray`](crate::DynArray) stores, with their conversions to and
/// from [`Value`] under a given type code.
///
/// Sealed: implemented for the ten primitive element types.
pub trait Scalar: Element + PartialEq + PartialOrd + fmt::Debug + sealed::Sealed {
    /// The element as a value of the type code's kind (a `u32` under `w` is a character).
    fn to_value(self, code: TypeCode) -> Value;

    /// The element that `value` converts to under `code`.
    ///
    /// # Errors
    ///
    /// [`Error::WrongKind`] if the value's kind does not fit the type code (a float for an
    /// integer code, a number for a character code…), [`Error::Overflow`] if an integer or
    /// code point is outside the type's range.
    fn from_value(value: Value, code: TypeCode) -> Result<Self, Error>;
}

mod sealed {
    pub trait Sealed {}
}

/// Checks an integer (or code point) against `code`'s range.
fn int_in_range(value: Value, code: TypeCode) -> Result<i128, Error> {
    let wrong = || Error::WrongKind {
        code,
        given: value.kind(),
    };
    let i = match (code.kind(), value) {
        (Kind::Char, Value::Char(c)) => i128::from(c),
        (Kind::Char, Value::Int(_) | Value::UInt(_)) => value.as_i128().ok_or_else(wrong)?,
        (Kind::Signed | Kind::Unsigned, Value::Int(_) | Value::UInt(_)) => {
            value.as_i128().ok_or_else(wrong)?
        }
        _ => return Err(wrong()),
    };
    let (min, max) = match code.kind() {
        Kind::Char => (0, i128::from(Value::MAX_CHAR)),
        _ => code.int_range().ok_or_else(wrong)?,
    };
    if i < min {
        return Err(Error::Overflow { code, above: false });
    }
    if i > max {
        return Err(Error::Overflow { code, above: true });
    }
    Ok(i)
}

macro_rules! int_scalar {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Scalar for $t {
            #[inline]
            fn to_value(self, code: TypeCode) -> Value {
                #[allow(irrefutable_let_patterns, clippy::unnecessary_fallible_conversions)]
                match code.kind() {
                    // Only u16/u32 are stored under a character code; they always fit.
                    Kind::Char => Value::Char(u32::try_from(self).unwrap_or(u32::MAX)),
                    _ => Value::from_i128(self as i128).expect("every primitive integer fits"),
                }
            }
            #[inline]
            fn from_value(value: Value, code: TypeCode) -> Result<Self, Error> {
                let i = int_in_range(value, code)?;
                // The range check is against `code`, whose size and signedness are this
                // type's (the layer never pairs a code with another storage type), so the
                // conversion cannot fail; report it as an overflow rather than panic.
                <$t>::try_from(i).map_err(|_| Error::Overflow { code, above: i > 0 })
            }
        }
    )*};
}
int_scalar!(i8, u8, i16, u16, i32, u32, i64, u64);

macro_rules! float_scalar {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Scalar for $t {
            #[inline]
            fn to_value(self, _code: TypeCode) -> Value {
                Value::Float(self as f64)
            }
            #[inline]
            fn from_value(value: Value, code: TypeCode) -> Result<Self, Error> {
                match value {
                    // As C's conversion: the nearest float; out-of-range doubles become ±inf.
                    Value::Float(x) => Ok(x as $t),
                    Value::Int(i) => Ok(i as $t),
                    Value::UInt(u) => Ok(u as $t),
                    Value::Char(_) => Err(Error::WrongKind { code, given: Kind::Char }),
                }
            }
        }
    )*};
}
float_scalar!(f32, f64);

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn integers_normalise_and_compare_exactly_with_floats() {
        assert!(matches!(Value::from(5u64), Value::Int(5)));
        assert!(matches!(Value::from_i128(-1), Some(Value::Int(-1))));
        assert!(Value::from_i128(1 << 64).is_none());
        assert!(Value::from_i128(-(1 << 63) - 1).is_none());
        let big = 1i64 << 53;
        assert_eq!(Value::Int(big), Value::Float(big as f64));
        assert!(Value::Int(big + 1) > Value::Float(big as f64));
        assert!(Value::Float(0.5) > Value::Int(0));
        assert!(Value::Float(-0.5) < Value::Int(0));
        assert!(Value::Float(-0.5) > Value::Int(-1));
        assert_eq!(Value::Float(-0.0), Value::Int(0));
        assert!(Value::UInt(u64::MAX) < Value::Float(f64::INFINITY));
        assert!(Value::UInt(u64::MAX) < Value::Float(18446744073709551616.0));
        assert!(Value::Int(i64::MIN) == Value::Float(-9223372036854775808.0));
        assert!(Value::Int(i64::MIN) > Value::Float(f64::NEG_INFINITY));
        assert_eq!(Value::Int(1).partial_cmp(&Value::Float(f64::NAN)), None);
        assert_eq!(Value::Char(65).partial_cmp(&Value::Int(65)), None);
        assert_ne!(Value::Char(65), Value::Int(65));
        assert!(Value::Char(65) < Value::Char(66));
    }

    #[test]
    fn conversions_check_range_and_kind() {
        assert_eq!(i8::from_value(Value::Int(-128), TypeCode::I8), Ok(-128));
        assert_eq!(
            i8::from_value(Value::Int(128), TypeCode::I8),
            Err(Error::Overflow {
                code: TypeCode::I8,
                above: true
            })
        );
        assert_eq!(
            u32::from_value(Value::Int(-1), TypeCode::UInt),
            Err(Error::Overflow {
                code: TypeCode::UInt,
                above: false
            })
        );
        assert_eq!(
            u64::from_value(Value::UInt(u64::MAX), TypeCode::U64),
            Ok(u64::MAX)
        );
        assert_eq!(
            i64::from_value(Value::UInt(u64::MAX), TypeCode::I64),
            Err(Error::Overflow {
                code: TypeCode::I64,
                above: true
            })
        );
        assert_eq!(
            i32::from_value(Value::Float(1.0), TypeCode::Int),
            Err(Error::WrongKind {
                code: TypeCode::Int,
                given: Kind::Float
            })
        );
        assert_eq!(f32::from_value(Value::Int(3), TypeCode::F32), Ok(3.0));
        assert_eq!(
            f32::from_value(Value::Float(1e300), TypeCode::F32),
            Ok(f32::INFINITY)
        );
        assert_eq!(
            u32::from_value(Value::Char(0x10FFFF), TypeCode::Ucs4),
            Ok(0x10FFFF)
        );
        assert_eq!(
            u32::from_value(Value::Char(0x110000), TypeCode::Ucs4),
            Err(Error::Overflow {
                code: TypeCode::Ucs4,
                above: true
            })
        );
        assert!(u32::from_value(Value::Float(1.0), TypeCode::Ucs4).is_err());
        assert!(matches!(
            0x41u32.to_value(TypeCode::Ucs4),
            Value::Char(0x41)
        ));
        assert!(matches!(0x41u32.to_value(TypeCode::UInt), Value::Int(0x41)));
        assert!(matches!(
            u64::MAX.to_value(TypeCode::U64),
            Value::UInt(u64::MAX)
        ));
        assert!(matches!(1.5f32.to_value(TypeCode::F32), Value::Float(1.5)));
    }
}
