//! [`DynHold`]: reads of one array, again and again, without an epoch pin each.

use super::array::{DynArray, NewArray};
use super::index::{Slice, resolve_index};
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
    #[inline(never)]
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

/// Which storage a read through a [`DynHold`] saw, and in which state: from
/// [`DynArray::read_run_held`], for [`DynArray::unchanged_held`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldStamp {
    /// The hold's word when the read was made (block address and word-size tag).
    word: usize,
    /// The block's (even) version the read validated.
    version: usize,
}

impl Default for DynHold {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for DynHold {
    /// Inlined: an empty hold (what an interpreter's cell leaves while a read borrows the
    /// hold) has nothing to release, and saying so takes no call.
    #[inline]
    fn drop(&mut self) {
        if self.0 != 0 {
            self.release();
        }
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

    /// Reads a run of elements from `start` (as many as fit in `out`, fewer at the end of the
    /// array) through `hold`, all at one instant, and returns how many it wrote (0 if `start`
    /// is at or past the end). With them, a [`HeldStamp`] when the read went through the held
    /// storage (not after a change of storage, which moves the hold: the next run gets one).
    ///
    /// Made for an iterator that serves several steps from one read: before each step it asks
    /// [`unchanged_held`](Self::unchanged_held) whether the array is still as the run saw it,
    /// two loads, and if so the run's element is the array's element at that instant.
    ///
    /// ```
    /// use ftarray::{DynArray, DynHold, TypeCode, Value};
    ///
    /// let a = DynArray::from_values(TypeCode::I16, &[Value::Int(1), Value::Int(2)]).unwrap();
    /// let mut hold = DynHold::new();
    /// let mut run = [Value::Int(0); 8];
    /// a.get_held(&mut hold, 0).unwrap(); // the hold takes the array's storage
    /// let (n, stamp) = a.read_run_held(&mut hold, 0, &mut run);
    /// assert_eq!(&run[..n], [Value::Int(1), Value::Int(2)]);
    /// let stamp = stamp.unwrap();
    /// assert!(a.unchanged_held(&hold, stamp));
    /// a.set(1, Value::Int(5)).unwrap(); // a write moves the version on
    /// assert!(!a.unchanged_held(&hold, stamp));
    /// ```
    #[inline]
    pub fn read_run_held(
        &self,
        hold: &mut DynHold,
        start: usize,
        out: &mut [Value],
    ) -> (usize, Option<HeldStamp>) {
        let code = self.code;
        let (n, version) = with_store!(&self.store, a => {
            hold.with_raw(|raw| a.read_held_versioned(raw, |v| {
                let n = v.len().saturating_sub(start).min(out.len());
                if n == 0 {
                    return 0;
                }
                for (slot, x) in out.iter_mut().zip(v.slice(start..start + n).iter()) {
                    *slot = x.to_value(code);
                }
                n
            }))
        });
        let stamp = version.filter(|_| hold.0 != 0).map(|version| HeldStamp {
            word: hold.0,
            version,
        });
        (n, stamp)
    }

    /// Whether this array is still in the state the read that gave `stamp` saw (see
    /// [`read_run_held`](Self::read_run_held)): `hold` still holds that read's storage, the
    /// array still has it, and no write has begun on it since. `false` otherwise, including
    /// for a stamp of another array or another hold.
    #[inline]
    pub fn unchanged_held(&self, hold: &DynHold, stamp: HeldStamp) -> bool {
        if hold.0 != stamp.word || hold.0 == 0 {
            return false;
        }
        // Whatever the word size: a block held for an array of another word size is never
        // this array's current block, and the address comparison says so before anything is
        // read through it. Every arm below is the same code, which the compiler folds into one.
        let addr = hold.0 & !TAG_BITS;
        // SAFETY: `hold` holds the block at `addr` (its word is non-zero), keeping it allocated.
        with_store!(&self.store, a => unsafe { a.unchanged_at(addr, stamp.version) })
    }

    /// [`get_slice_new`](Self::get_slice_new) through `hold` (see [`DynHold`]): the same
    /// result, without the epoch pin while the array keeps the storage the hold last saw
    /// (slices with a step other than 1 take the pinned path).
    ///
    /// # Errors
    ///
    /// As [`get_slice`](Self::get_slice).
    ///
    /// ```
    /// use ftarray::{DynArray, DynHold, Slice, TypeCode, Value};
    ///
    /// let a = DynArray::from_values(TypeCode::Int, &[1.into(), 2.into(), 3.into()]).unwrap();
    /// let mut hold = DynHold::new();
    /// let s = Slice { start: Some(1), stop: None, step: None };
    /// let b = a.get_slice_new_held(&mut hold, &s).unwrap().into_array();
    /// assert_eq!(b.to_values(), [Value::Int(2), Value::Int(3)]);
    /// ```
    pub fn get_slice_new_held(&self, hold: &mut DynHold, slice: &Slice) -> Result<NewArray, Error> {
        if slice.step.is_some_and(|s| s != 1) {
            return self.get_slice_new(slice);
        }
        let code = self.code;
        with_store!(&self.store, a => {
            let part = hold.with_raw(|raw| a.try_copy_range_held(raw, 1, |len| {
                let r = slice.indices(len)?;
                Ok(if r.len == 0 { 0..0 } else { r.span() })
            }))?;
            Ok(NewArray::of(code, part))
        })
    }

    /// [`try_clone_new`](Self::try_clone_new) through `hold` (see
    /// [`get_slice_new_held`](Self::get_slice_new_held)).
    ///
    /// # Errors
    ///
    /// Allocation errors.
    pub fn try_clone_new_held(&self, hold: &mut DynHold) -> Result<NewArray, Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            let copy = hold.with_raw(|raw| a.try_copy_range_held(raw, 1, |len| Ok(0..len)))?;
            Ok(NewArray::of(code, copy))
        })
    }

    /// [`repeat_new`](Self::repeat_new) through `hold` (see
    /// [`get_slice_new_held`](Self::get_slice_new_held)).
    ///
    /// # Errors
    ///
    /// As [`repeat`](Self::repeat).
    pub fn repeat_new_held(&self, hold: &mut DynHold, n: isize) -> Result<NewArray, Error> {
        let code = self.code;
        if n <= 0 {
            return Ok(NewArray::empty(code));
        }
        with_store!(&self.store, a => {
            let copies =
                hold.with_raw(|raw| a.try_copy_range_held(raw, n as usize, |len| Ok(0..len)))?;
            Ok(NewArray::of(code, copies))
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
        if hold.0 != 0 {
            // The common case, without taking the hold out and putting it back: the array
            // still has the held block and no writer overlaps.
            let addr = hold.0 & !TAG_BITS;
            // SAFETY: `hold` holds the block at `addr` (its word is non-zero).
            if let Some(n) = with_store!(&self.store, a => unsafe { a.len_at(addr) }) {
                return n;
            }
        }
        with_store!(&self.store, a => hold.with_raw(|raw| a.read_held(raw, |v| v.len())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typecode::TypeCode;

    /// One hold used with arrays of different word sizes, and with two arrays of the same
    /// one: every read is right (the hold is replaced or moved, never misread).
    /// A run read through a hold stays "unchanged" exactly until a write: in place, an
    /// append, a removal, a move to new storage; a start at or past the end reads nothing; a
    /// stamp is worth nothing with another hold or array.
    #[test]
    #[cfg(target_pointer_width = "64")] // narrower targets take no holds
    fn a_run_stays_unchanged_until_a_write() {
        let ints = |v: &[i64]| v.iter().map(|&i| Value::Int(i)).collect::<Vec<_>>();
        let a = DynArray::from_values(TypeCode::I64, &ints(&[1, 2, 3])).unwrap();
        let mut hold = DynHold::new();
        let mut out = [Value::Int(0); 2];
        // The first read pins and takes the hold: no stamp yet.
        assert_eq!(a.read_run_held(&mut hold, 0, &mut out), (2, None));
        let (n, stamp) = a.read_run_held(&mut hold, 1, &mut out);
        assert_eq!((n, &out[..n]), (2, &ints(&[2, 3])[..]));
        let stamp = stamp.expect("a read of the held block has a stamp");
        assert!(a.unchanged_held(&hold, stamp));
        for start in [3, 4, usize::MAX] {
            assert_eq!(a.read_run_held(&mut hold, start, &mut out).0, 0);
        }
        assert!(a.unchanged_held(&hold, stamp), "reads change nothing");
        let other = DynArray::from_values(TypeCode::I64, &ints(&[1, 2, 3])).unwrap();
        assert!(!other.unchanged_held(&hold, stamp));
        assert!(!a.unchanged_held(&DynHold::new(), stamp));
        type Write = fn(&DynArray);
        let writes: [Write; 4] = [
            |a| a.set(0, Value::Int(9)).unwrap(),
            |a| a.push(Value::Int(4)).unwrap(),
            |a| assert_eq!(a.pop(-1), Ok(Value::Int(4))), // the one just pushed
            |a| a.extend_values(&[Value::Int(5); 1000]).unwrap(),
        ];
        for write in writes {
            let (_, stamp) = a.read_run_held(&mut hold, 0, &mut out);
            let stamp = stamp.expect("the hold is on the current block");
            write(&a);
            assert!(!a.unchanged_held(&hold, stamp));
            // Once past the pin that a new block needs, the next run has a stamp again.
            if a.read_run_held(&mut hold, 0, &mut out).1.is_none() {
                assert!(a.read_run_held(&mut hold, 0, &mut out).1.is_some());
            }
        }
    }

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
