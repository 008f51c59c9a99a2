//! The element types a `.npy` file can hold that ftarray reads and writes.

use crate::Element;
use std::fmt;

/// The kind of number in a `.npy` file: numpy's type character `i`, `u` or `f`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElementKind {
    /// Signed two's-complement integer (`i`).
    Int,
    /// Unsigned integer (`u`).
    Uint,
    /// IEEE 754 binary floating point (`f`).
    Float,
}

impl ElementKind {
    /// numpy's type character.
    const fn code(self) -> char {
        match self {
            ElementKind::Int => 'i',
            ElementKind::Uint => 'u',
            ElementKind::Float => 'f',
        }
    }
}

/// The byte order of the data in a `.npy` file (the first character of numpy's `descr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Least significant byte first (`<`).
    Little,
    /// Most significant byte first (`>`).
    Big,
    /// One-byte elements, where order does not apply (`|`).
    NotApplicable,
}

impl ByteOrder {
    /// The byte order of the machine this code runs on.
    ///
    /// ```
    /// use ftarray::npy::ByteOrder;
    /// assert_eq!(
    ///     ByteOrder::native(),
    ///     if cfg!(target_endian = "little") { ByteOrder::Little } else { ByteOrder::Big }
    /// );
    /// ```
    pub const fn native() -> ByteOrder {
        if cfg!(target_endian = "little") {
            ByteOrder::Little
        } else {
            ByteOrder::Big
        }
    }

    const fn code(self) -> char {
        match self {
            ByteOrder::Little => '<',
            ByteOrder::Big => '>',
            ByteOrder::NotApplicable => '|',
        }
    }
}

/// One of the ten element types ftarray stores, with the byte order of a file's data.
///
/// The type of the `descr` field of a `.npy` header: `'<i4'` is a little-endian `i32`, `'>f8'` a
/// big-endian `f64`, `'|u1'` a `u8`. Only the ten types below exist; a `Dtype` for anything else
/// (`'<f2'`, `'<c16'`, `'|b1'`, strings, structured types) cannot be made.
///
/// | kind | sizes | Rust types |
/// |---|---|---|
/// | [`Int`](ElementKind::Int) | 1, 2, 4, 8 | `i8 i16 i32 i64` |
/// | [`Uint`](ElementKind::Uint) | 1, 2, 4, 8 | `u8 u16 u32 u64` |
/// | [`Float`](ElementKind::Float) | 4, 8 | `f32 f64` |
///
/// ```
/// use ftarray::npy::{ByteOrder, Dtype, ElementKind};
///
/// let d = Dtype::from_descr(">f8").unwrap();
/// assert_eq!((d.kind(), d.size(), d.byte_order()), (ElementKind::Float, 8, ByteOrder::Big));
/// assert_eq!(d.descr(), ">f8");
/// assert_eq!(d.name(), "float64");
/// assert_eq!(Dtype::of::<u8>().descr(), "|u1");
/// assert!(Dtype::from_descr("<f2").is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dtype {
    /// Integer or float.
    kind: ElementKind,
    /// Bytes per element: 1, 2, 4 or 8, and 4 or 8 for floats.
    size: u8,
    /// `NotApplicable` exactly when `size == 1`.
    order: ByteOrder,
}

impl Dtype {
    /// The type with this kind, size in bytes and byte order, if ftarray supports it.
    ///
    /// For one-byte types the order is ignored (and reported as
    /// [`NotApplicable`](ByteOrder::NotApplicable)); for wider ones `NotApplicable` is refused.
    ///
    /// ```
    /// use ftarray::npy::{ByteOrder, Dtype, ElementKind};
    /// assert_eq!(Dtype::new(ElementKind::Int, 4, ByteOrder::Little).unwrap().descr(), "<i4");
    /// assert!(Dtype::new(ElementKind::Float, 2, ByteOrder::Little).is_none());
    /// assert!(Dtype::new(ElementKind::Int, 4, ByteOrder::NotApplicable).is_none());
    /// ```
    pub const fn new(kind: ElementKind, size: usize, order: ByteOrder) -> Option<Dtype> {
        let supported = match kind {
            ElementKind::Int | ElementKind::Uint => matches!(size, 1 | 2 | 4 | 8),
            ElementKind::Float => matches!(size, 4 | 8),
        };
        if !supported {
            return None;
        }
        let order = if size == 1 {
            ByteOrder::NotApplicable
        } else if matches!(order, ByteOrder::NotApplicable) {
            return None;
        } else {
            order
        };
        Some(Dtype {
            kind,
            size: size as u8,
            order,
        })
    }

    /// The type of `T`'s elements in native byte order: what [`save_npy`](crate::FtArray::save_npy)
    /// writes.
    ///
    /// # Panics
    ///
    /// If `T::KIND` and `T`'s size name no supported type (a 2-byte float). ftarray evaluates it
    /// in const contexts, where that is a compile error instead.
    ///
    /// ```
    /// use ftarray::npy::Dtype;
    /// assert_eq!(Dtype::of::<i16>().name(), "int16");
    /// ```
    pub const fn of<T: NpyElement>() -> Dtype {
        match Dtype::new(T::KIND, size_of::<T>(), ByteOrder::native()) {
            Some(d) => d,
            None => panic!(
                "NpyElement::KIND and the type's size name no .npy type ftarray supports \
                 (integers of 1, 2, 4 or 8 bytes, floats of 4 or 8)"
            ),
        }
    }

    /// Parses numpy's type string, e.g. `<i4`, `>f8`, `|u1` (without quotes).
    ///
    /// Accepted: a byte-order character (`<` or `>`, and also `|` for one-byte types) followed by
    /// `i1 i2 i4 i8 u1 u2 u4 u8 f4 f8`. numpy itself always writes `|` for one-byte types and an
    /// explicit `<` or `>` otherwise; the native-order `=` and unprefixed forms are not written
    /// by numpy's `save` and are refused.
    ///
    /// ```
    /// use ftarray::npy::Dtype;
    /// assert_eq!(Dtype::from_descr("|i1"), Some(Dtype::of::<i8>()));
    /// assert_eq!(Dtype::from_descr("<i1"), Some(Dtype::of::<i8>()));
    /// assert!(Dtype::from_descr("=i4").is_none());
    /// assert!(Dtype::from_descr("|i4").is_none());
    /// assert!(Dtype::from_descr("<c16").is_none());
    /// ```
    pub fn from_descr(descr: &str) -> Option<Dtype> {
        let bytes = descr.as_bytes();
        let [order, kind, size] = bytes else {
            return None;
        };
        let kind = match kind {
            b'i' => ElementKind::Int,
            b'u' => ElementKind::Uint,
            b'f' => ElementKind::Float,
            _ => return None,
        };
        let size = match size {
            b'1' => 1,
            b'2' => 2,
            b'4' => 4,
            b'8' => 8,
            _ => return None,
        };
        let order = match order {
            b'<' => ByteOrder::Little,
            b'>' => ByteOrder::Big,
            // `|` says "order does not apply": only true of one-byte types.
            b'|' if size == 1 => ByteOrder::NotApplicable,
            _ => return None,
        };
        Dtype::new(kind, size, order)
    }

    /// numpy's type string for this type, e.g. `<i4` (what goes, quoted, in the header).
    pub fn descr(&self) -> String {
        // `size` is 1, 2, 4 or 8: one decimal digit.
        [
            self.order.code(),
            self.kind.code(),
            char::from(b'0' + self.size),
        ]
        .iter()
        .collect()
    }

    /// numpy's name for the type, e.g. `int32`, `float64`.
    pub fn name(&self) -> &'static str {
        match (self.kind, self.size) {
            (ElementKind::Int, 1) => "int8",
            (ElementKind::Int, 2) => "int16",
            (ElementKind::Int, 4) => "int32",
            (ElementKind::Int, _) => "int64",
            (ElementKind::Uint, 1) => "uint8",
            (ElementKind::Uint, 2) => "uint16",
            (ElementKind::Uint, 4) => "uint32",
            (ElementKind::Uint, _) => "uint64",
            (ElementKind::Float, 4) => "float32",
            (ElementKind::Float, _) => "float64",
        }
    }

    /// Integer or float.
    pub const fn kind(&self) -> ElementKind {
        self.kind
    }

    /// Bytes per element.
    pub const fn size(&self) -> usize {
        self.size as usize
    }

    /// The byte order of the data ([`NotApplicable`](ByteOrder::NotApplicable) for one-byte
    /// types).
    pub const fn byte_order(&self) -> ByteOrder {
        self.order
    }

    /// Whether the data must be byte-swapped to be read on this machine.
    pub const fn needs_swap(&self) -> bool {
        matches!(
            (self.order, ByteOrder::native()),
            (ByteOrder::Little, ByteOrder::Big) | (ByteOrder::Big, ByteOrder::Little)
        )
    }

    /// Whether `self` and `other` are the same number type, whatever their byte orders.
    pub const fn same_type(&self, other: &Dtype) -> bool {
        self.size == other.size
            && matches!(
                (self.kind, other.kind),
                (ElementKind::Int, ElementKind::Int)
                    | (ElementKind::Uint, ElementKind::Uint)
                    | (ElementKind::Float, ElementKind::Float)
            )
    }
}

impl fmt::Display for Dtype {
    /// `'<i4' (int32)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}' ({})", self.descr(), self.name())
    }
}

/// An element type that has a `.npy` type: how its bits are read by numpy.
///
/// Implemented for `i8 u8 i16 u16 i32 u32 i64 u64 f32 f64`. A [`Pod`](bytemuck::Pod) newtype
/// stored by [`FtArray`](crate::FtArray) can implement it too, naming the kind its bits are;
/// the size comes from the type. A kind and size that make no supported type (a 2-byte float)
/// is a compile error where the array is saved or loaded.
///
/// ```
/// use bytemuck::{Pod, Zeroable};
/// use ftarray::npy::{ElementKind, NpyElement};
/// use ftarray::{Element, FtArray};
///
/// #[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
/// #[repr(transparent)]
/// struct Celsius(f32);
/// // SAFETY: `Celsius` is a transparent `f32`: four bytes, like `u32`.
/// unsafe impl Element for Celsius {
///     type Bits = u32;
/// }
/// impl NpyElement for Celsius {
///     const KIND: ElementKind = ElementKind::Float;
/// }
///
/// let mut file = Vec::new();
/// FtArray::from_slice(&[Celsius(21.5)]).write_npy(&mut file).unwrap();
/// let back = FtArray::<Celsius>::read_npy(&file[..]).unwrap();
/// assert_eq!(back.to_vec(), [Celsius(21.5)]);
/// // numpy sees a float32 array
/// let f = FtArray::<f32>::read_npy(&file[..]).unwrap();
/// assert_eq!(f.to_vec(), [21.5]);
/// ```
pub trait NpyElement: Element {
    /// Whether the bits are a signed integer, an unsigned integer or a float.
    const KIND: ElementKind;
}

macro_rules! npy_element {
    ($($t:ty => $kind:ident),* $(,)?) => {$(
        impl NpyElement for $t {
            const KIND: ElementKind = ElementKind::$kind;
        }
    )*};
}

npy_element!(
    i8 => Int, i16 => Int, i32 => Int, i64 => Int,
    u8 => Uint, u16 => Uint, u32 => Uint, u64 => Uint,
    f32 => Float, f64 => Float,
);

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn every_supported_descr_round_trips() {
        let mut n = 0;
        for order in ['<', '>', '|'] {
            for kind in ['i', 'u', 'f'] {
                for size in ['1', '2', '4', '8'] {
                    let s = format!("{order}{kind}{size}");
                    if let Some(d) = Dtype::from_descr(&s) {
                        n += 1;
                        let canonical = if size == '1' {
                            format!("|{kind}{size}")
                        } else {
                            s.clone()
                        };
                        assert_eq!(d.descr(), canonical, "{s}");
                        assert_eq!(d.size().to_string(), size.to_string());
                    }
                }
            }
        }
        // 6 one-byte spellings (<, >, | for i1 and u1) + 2 orders x 8 wider types.
        assert_eq!(n, 6 + 16);
    }

    #[test]
    fn refuses_everything_else() {
        for s in [
            "", "<", "<i", "<i3", "<i16", "=i4", "|i2", "i4", "<f1", "<f2", "<c8", "|b1", "|S4",
            "<U1", "|O", "<M8", "<f16", " <i4", "<i4 ", "<I4", "<F8",
        ] {
            assert!(Dtype::from_descr(s).is_none(), "{s:?} was accepted");
        }
    }

    #[test]
    fn native_types_match_numpy_names() {
        assert_eq!(Dtype::of::<i8>().name(), "int8");
        assert_eq!(Dtype::of::<u64>().name(), "uint64");
        assert_eq!(Dtype::of::<f32>().name(), "float32");
        assert_eq!(Dtype::of::<f64>().byte_order(), ByteOrder::native());
        assert!(!Dtype::of::<f64>().needs_swap());
        let other = if cfg!(target_endian = "little") {
            ">f8"
        } else {
            "<f8"
        };
        let swapped = Dtype::from_descr(other).unwrap();
        assert!(swapped.needs_swap());
        assert!(swapped.same_type(&Dtype::of::<f64>()));
        assert!(!swapped.same_type(&Dtype::of::<u64>()));
        assert!(!swapped.same_type(&Dtype::of::<f32>()));
        assert_eq!(swapped.to_string(), format!("'{other}' (float64)"));
    }
}
