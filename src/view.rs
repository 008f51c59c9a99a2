//! [`View`]: what one validated read of an [`FtArray`](crate::FtArray) sees, as elements.
//!
//! A typed face over the core's view of words: every value is converted with `from_bits`, and
//! nothing here knows how the read was validated.

use crate::element::{Element, ElementLayout, from_bits};
use crate::raw::RawView;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::slice;

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

    /// Writes these elements' native-order bytes to `out`, one load per 64-bit unit rather than
    /// per element (atomic loads are never vectorised, so this is what keeps bulk copies of
    /// small types near memory bandwidth).
    ///
    /// # Panics
    ///
    /// If `out` is not exactly `len * size_of::<T>()` bytes.
    #[inline]
    pub(crate) fn load_bytes(self, out: &mut [MaybeUninit<u8>]) {
        // `T` has the size of `T::Bits`, so the words' bytes are the elements' bytes.
        let () = ElementLayout::<T>::CHECKED;
        self.raw.load_bytes(out);
    }

    /// Writes these elements' native-order bytes to `dst`, which has exactly their size.
    ///
    /// # Panics
    ///
    /// If `dst.len() != self.len() * size_of::<T>()`.
    pub(crate) fn copy_to_bytes(self, dst: &mut [u8]) {
        // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and `load_bytes` writes only
        // initialised bytes through the cast slice, so `dst` stays initialised.
        let out: &mut [MaybeUninit<u8>] =
            unsafe { slice::from_raw_parts_mut(dst.as_mut_ptr().cast(), dst.len()) };
        self.load_bytes(out);
    }

    /// Copies these elements into `dst`, which has exactly their number.
    ///
    /// # Panics
    ///
    /// If `dst.len() != self.len()`.
    pub(crate) fn copy_to_slice(self, dst: &mut [T]) {
        self.copy_to_bytes(bytemuck::cast_slice_mut(dst));
    }

    /// Replaces the contents of `out` with these elements.
    pub(crate) fn copy_into(self, out: &mut Vec<T>) {
        out.clear();
        let n = self.len();
        out.reserve(n);
        let spare = &mut out.spare_capacity_mut()[..n];
        // SAFETY: `spare` is `n` elements of `T`, i.e. `size_of_val(spare)` bytes of memory we
        // borrow exclusively, and any byte may be written to `MaybeUninit` memory.
        let bytes: &mut [MaybeUninit<u8>] =
            unsafe { slice::from_raw_parts_mut(spare.as_mut_ptr().cast(), size_of_val(spare)) };
        self.load_bytes(bytes);
        // SAFETY: `load_bytes` initialised all of `bytes`, i.e. the first `n` elements, and
        // `T: Pod`, so any bytes are a valid `T`; the reserve made room for `n`.
        unsafe { out.set_len(n) };
    }

    /// Replaces the contents of `out` with these elements' native-order bytes.
    pub(crate) fn copy_bytes_into(self, out: &mut Vec<u8>) {
        out.clear();
        let n = self.len() * size_of::<T>();
        out.reserve(n);
        self.load_bytes(&mut out.spare_capacity_mut()[..n]);
        // SAFETY: `load_bytes` initialised the first `n` bytes; the reserve made room for them.
        unsafe { out.set_len(n) };
    }
}
