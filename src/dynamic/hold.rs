//! [`DynHold`]: reads of one array, again and again, without an epoch pin each.

use super::array::DynArray;
use super::index::resolve_index;
use super::store::with_store;
use super::value::{Scalar, Value};
use crate::error::Error;
use crate::raw::RawHold;
use std::fmt;

/// A reader's hold on the storage an array had at the last read made through it, for
/// [`DynArray::get_held`]: while the array keeps that storage, reads through the hold skip the
/// epoch pin every other read takes (a thread-local lookup and an atomic read-modify-write,
/// about half the cost of reading one element), and they are the same reads otherwise: each
/// sees the array as it was at one instant within the call.
///
/// Made for a loop that reads one array element by element with other code in between, where a
/// [`Session`](crate::Session) (one pin across many reads) would hold up memory reclamation for
/// every thread while that code runs: an interpreter's iterator, whose `next` runs user code
/// between calls. A hold instead keeps only the one storage block it saw from being freed
/// (writers still write it in place, and growth still replaces it); it moves to the array's new
/// storage at the next read after a change of block, and lets go of it when dropped.
///
/// A hold is not tied to one array: used with several, it works, but every read whose array is
/// not the one it last read takes the pin.
///
/// ```
/// use ftarray::{DynArray, DynHold, TypeCode, Value};
///
/// let a = DynArray::from_values(TypeCode::F64, &[Value::Float(1.5), Value::Float(2.5)]).unwrap();
/// let mut hold = DynHold::new();
/// assert_eq!(a.get_held(&mut hold, 0), Ok(Value::Float(1.5)));
/// a.push(Value::Float(3.5)).unwrap(); // writers are not held up by the hold
/// assert_eq!(a.get_held(&mut hold, -1), Ok(Value::Float(3.5)));
/// assert!(a.get_held(&mut hold, 3).is_err());
/// ```
#[derive(Default)]
pub struct DynHold(Held);

/// The hold, by word size (a storage type's word: the hold's block layout depends on it).
#[derive(Default)]
enum Held {
    #[default]
    None,
    W8(RawHold<u8>),
    W16(RawHold<u16>),
    W32(RawHold<u32>),
    W64(RawHold<u64>),
}

/// The words a hold can be for: picks (or makes) the hold of this word size.
trait HoldWord: crate::element::Word {
    fn hold(held: &mut Held) -> &mut RawHold<Self>;
}

macro_rules! hold_words {
    ($(($w:ty, $v:ident)),*) => {$(
        impl HoldWord for $w {
            #[inline(always)]
            fn hold(held: &mut Held) -> &mut RawHold<$w> {
                // A hold of another word size (from an array of another type) is let go first.
                if !matches!(held, Held::$v(_)) {
                    *held = Held::$v(RawHold::new());
                }
                match held {
                    Held::$v(h) => h,
                    _ => unreachable!("just set"),
                }
            }
        }
    )*};
}
hold_words!((u8, W8), (u16, W16), (u32, W32), (u64, W64));

impl DynHold {
    /// A hold on nothing yet: the first read through it takes the pin and the hold.
    pub fn new() -> Self {
        DynHold(Held::None)
    }
}

impl fmt::Debug for DynHold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.0 {
            Held::None => "empty",
            Held::W8(h) if h.holds() => "holding",
            Held::W16(h) if h.holds() => "holding",
            Held::W32(h) if h.holds() => "holding",
            Held::W64(h) if h.holds() => "holding",
            _ => "empty",
        };
        f.debug_tuple("DynHold").field(&state).finish()
    }
}

impl DynArray {
    /// [`get`](Self::get) through `hold`: the same result, without the epoch pin while the
    /// array keeps the storage the hold last saw (see [`DynHold`]).
    ///
    /// # Errors
    ///
    /// [`Error::SignedIndexOutOfRange`].
    #[inline]
    pub fn get_held(&self, hold: &mut DynHold, index: isize) -> Result<Value, Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            a.read_held(HoldWord::hold(&mut hold.0), |v| {
                let len = v.len();
                match resolve_index(index, len).and_then(|i| v.get(i)) {
                    Some(x) => Ok(x.to_value(code)),
                    None => Err(Error::SignedIndexOutOfRange { index, len }),
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typecode::TypeCode;

    /// One hold used with arrays of different word sizes, and with two arrays of the same
    /// one: every read is right (the hold is replaced or moved, never misread).
    #[test]
    fn a_hold_moves_between_arrays_and_word_sizes() {
        let a = DynArray::from_values(TypeCode::U8, &[Value::Int(7)]).unwrap();
        let b = DynArray::from_values(TypeCode::F64, &[Value::Float(0.5)]).unwrap();
        let c = DynArray::from_values(TypeCode::I64, &[Value::Int(-3)]).unwrap();
        let mut hold = DynHold::new();
        assert_eq!(format!("{hold:?}"), "DynHold(\"empty\")");
        for _ in 0..3 {
            assert_eq!(a.get_held(&mut hold, 0), Ok(Value::Int(7)));
            assert_eq!(b.get_held(&mut hold, 0), Ok(Value::Float(0.5)));
            assert_eq!(c.get_held(&mut hold, -1), Ok(Value::Int(-3)));
            assert_eq!(b.get_held(&mut hold, 0), Ok(Value::Float(0.5)));
        }
        assert_eq!(format!("{hold:?}"), "DynHold(\"holding\")");
        assert_eq!(
            a.get_held(&mut hold, 1),
            Err(Error::SignedIndexOutOfRange { index: 1, len: 1 })
        );
    }
}
