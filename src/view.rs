//! [`View`]: what one validated read of an [`FtArray`](crate::FtArray) sees, as elements.
//!
//! A typed face over the core's view of words: every value is converted with `from_bits`, and
//! nothing here knows how the read was validated.

use crate::element::{Element, from_bits};
use crate::raw::RawView;
use std::marker::PhantomData;
use std::ops::Range;

/// The elements one read attempt sees: a consistent `(len, cells)` state of the array.
///
/// Given to the closure of `FtArray::read` (crate-internal). The closure may run more than once,
/// and on attempts that are thrown away it may see torn data, so it must only compute a result
/// (into its own scratch state), never act on what it sees.
pub(crate) struct View<'g, T: Element> {
    raw: RawView<'g, T::Bits>,
    _elem: PhantomData<T>,
}

impl<T: Element> Clone for View<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Element> Copy for View<'_, T> {}

impl<'g, T: Element> View<'g, T> {
    pub(crate) fn new(raw: RawView<'g, T::Bits>) -> Self {
        View {
            raw,
            _elem: PhantomData,
        }
    }

    /// The number of elements.
    #[inline(always)]
    pub(crate) fn len(self) -> usize {
        self.raw.len()
    }

    /// The element at `index`, if it is below the length.
    #[inline(always)]
    pub(crate) fn get(self, index: usize) -> Option<T> {
        self.raw.get(index).map(from_bits)
    }

    /// The elements in order.
    #[inline(always)]
    pub(crate) fn iter(self) -> impl ExactSizeIterator<Item = T> + 'g {
        self.raw.iter().map(from_bits)
    }

    /// The elements in `range`.
    ///
    /// # Panics
    ///
    /// If `range` is reversed or past the length.
    pub(crate) fn slice(self, range: Range<usize>) -> View<'g, T> {
        View::new(self.raw.slice(range))
    }

    /// Replaces the contents of `out` with these elements.
    pub(crate) fn copy_into(self, out: &mut Vec<T>) {
        out.clear();
        out.reserve(self.len());
        // A plain loop into the spare capacity: no per-element length update, so the loads
        // and stores pipeline (atomic loads are never vectorised).
        for (dst, x) in out.spare_capacity_mut().iter_mut().zip(self.iter()) {
            dst.write(x);
        }
        // SAFETY: the reserve made room for `self.len()` elements, and the loop above
        // initialised exactly the first `self.len()` of them (the zip stops at the shorter).
        unsafe { out.set_len(self.len()) };
    }
}
