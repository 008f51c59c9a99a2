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
///
/// It is one word (`size_of::<DynHold>() == size_of::<usize>()`).
pub struct DynHold(
    /// The held block's address (a multiple of 64, so its low bits are free) with the word
    /// size's [`HoldWord::TAG`] in the low two bits, or 0 for no hold: one word, so that a
    /// host can keep a hold in every array object for little memory.
    usize,
);

/// The tag bits of [`DynHold`]'s word.
const TAG_BITS: usize = 0b11;

/// The words a hold can be for, each with its tag.
trait HoldWord: crate::element::Word {
    const TAG: usize;
}

impl HoldWord for u8 {
    const TAG: usize = 0;
}
impl HoldWord for u16 {
    const TAG: usize = 1;
}
impl HoldWord for u32 {
    const TAG: usize = 2;
}
impl HoldWord for u64 {
    const TAG: usize = 3;
}

impl DynHold {
    /// A hold on nothing yet: the first read through it takes the pin and the hold.
    pub const fn new() -> Self {
        DynHold(0)
    }

    /// Whether a block is held (for tests and `Debug`).
    fn holds(&self) -> bool {
        self.0 != 0
    }

    /// Runs `f` with this hold as a `RawHold<W>`: a hold of another word size (from an array
    /// of another type) is let go first.
    #[inline(always)]
    fn with_raw<W: HoldWord, R>(&mut self, f: impl FnOnce(&mut RawHold<W>) -> R) -> R {
        // Taken out first: if `f` unwound, the hold it owns would be given back by its drop,
        // and this one must not still name it.
        let word = std::mem::take(&mut self.0);
        let mut raw = if word != 0 && word & TAG_BITS == W::TAG {
            // SAFETY: `word` holds a hold of this `W` (its tag says so), taken out above.
            unsafe { RawHold::<W>::from_addr(word & !TAG_BITS) }
        } else {
            DynHold(word).release();
            RawHold::new()
        };
        let result = f(&mut raw);
        let addr = raw.into_addr();
        debug_assert_eq!(addr & TAG_BITS, 0, "block addresses are multiples of 64");
        self.0 = if addr == 0 { 0 } else { addr | W::TAG };
        result
    }

    /// Gives the hold back, whatever its word size.
    fn release(&mut self) {
        let word = std::mem::take(&mut self.0);
        if word == 0 {
            return;
        }
        let addr = word & !TAG_BITS;
        // SAFETY: `word` holds a hold of the word size its tag names, taken out above; it is
        // turned back into that `RawHold` once, and dropped (given back).
        unsafe {
            match word & TAG_BITS {
                0 => drop(RawHold::<u8>::from_addr(addr)),
                1 => drop(RawHold::<u16>::from_addr(addr)),
                2 => drop(RawHold::<u32>::from_addr(addr)),
                _ => drop(RawHold::<u64>::from_addr(addr)),
            }
        }
    }
}

impl Default for DynHold {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for DynHold {
    fn drop(&mut self) {
        self.release();
    }
}

impl fmt::Debug for DynHold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.holds() { "holding" } else { "empty" };
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
            hold.with_raw(|raw| a.read_held(raw, |v| {
                let len = v.len();
                match resolve_index(index, len).and_then(|i| v.get(i)) {
                    Some(x) => Ok(x.to_value(code)),
                    None => Err(Error::SignedIndexOutOfRange { index, len }),
                }
            }))
        })
    }

    /// [`len`](Self::len) through `hold` (see [`DynHold`]).
    ///
    /// ```
    /// use ftarray::{DynArray, DynHold, TypeCode};
    ///
    /// let a = DynArray::new(TypeCode::I16);
    /// let mut hold = DynHold::new();
    /// assert_eq!(a.len_held(&mut hold), 0);
    /// a.extend_bytes(&[0; 6]).unwrap();
    /// assert_eq!(a.len_held(&mut hold), 3);
    /// ```
    #[inline]
    pub fn len_held(&self, hold: &mut DynHold) -> usize {
        with_store!(&self.store, a => hold.with_raw(|raw| a.read_held(raw, |v| v.len())))
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
        #[cfg(target_pointer_width = "64")] // narrower targets take no holds
        assert_eq!(format!("{hold:?}"), "DynHold(\"holding\")");
        assert_eq!(size_of::<DynHold>(), size_of::<usize>());
        assert_eq!(c.len_held(&mut hold), 1);
        assert_eq!(
            a.get_held(&mut hold, 1),
            Err(Error::SignedIndexOutOfRange { index: 1, len: 1 })
        );
    }
}
