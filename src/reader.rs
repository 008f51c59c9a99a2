//! Read handles: [`Reader`] (one epoch pin for many reads) and the live iterators.

use crate::array::{FtArray, bounds};
use crate::element::Element;
use crate::error::Error;
use crossbeam_epoch::Guard;
use std::fmt;
use std::iter::FusedIterator;
use std::ops::RangeBounds;

impl<T: Element> FtArray<T> {
    /// A live iterator with its own position; see [`Iter`] for what it promises.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3]);
    /// assert_eq!(a.iter().sum::<u32>(), 6);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter::new(self)
    }

    /// A handle that pins the epoch once for many reads; see [`Reader`].
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3]);
    /// let mut r = a.reader();
    /// let mut sum = 0;
    /// for i in 0..r.len() {
    ///     sum += r.get(i).unwrap();
    ///     r.repin(); // a quiescent point: lets retired buffers be freed
    /// }
    /// assert_eq!(sum, 6);
    /// ```
    pub fn reader(&self) -> Reader<'_, T> {
        Reader::new(self, crate::reclaim::pin())
    }
}

/// A read handle that pins the epoch once and keeps it pinned for many reads.
///
/// Pinning is the largest fixed cost of a read; a `Reader` pays it once. While it is pinned,
/// no buffer retired since it was pinned can be freed (by any array), so a long-lived reader
/// should call [`repin`](Self::repin) at its own quiescent points (where it holds no values
/// borrowed from the array; every read here returns copies, so any point between calls is one),
/// as an interpreter would at its eval breaker.
///
/// Every read is still validated and linearizable on its own; two reads through one `Reader`
/// are two separate instants. A `Reader` stays on the thread that made it (`!Send`).
///
/// It cannot be sent to another thread (its pin belongs to the thread that made it):
///
/// ```compile_fail,E0277
/// let a = ftarray::FtArray::from_slice(&[1u8]);
/// let r = a.reader();
/// std::thread::scope(|s| {
///     s.spawn(move || r.len());
/// });
/// ```
///
/// ```
/// use ftarray::FtArray;
/// let a = FtArray::from_slice(&[1u64, 2, 3]);
/// let mut r = a.reader();
/// assert_eq!(r.get(0), Some(1));
/// assert_eq!(r.len(), 3);
/// r.repin();
/// assert_eq!(r.to_vec(), [1, 2, 3]);
/// ```
pub struct Reader<'a, T: Element> {
    array: &'a FtArray<T>,
    guard: Guard,
}

impl<'a, T: Element> Reader<'a, T> {
    fn new(array: &'a FtArray<T>, guard: Guard) -> Self {
        Reader { array, guard }
    }

    /// The array this handle reads.
    pub fn array(&self) -> &'a FtArray<T> {
        self.array
    }

    /// Marks a quiescent point: unpins and pins again, so buffers retired meanwhile can be freed.
    pub fn repin(&mut self) {
        crate::reclaim::repin_current(&mut self.guard);
    }

    /// See [`FtArray::len`].
    pub fn len(&self) -> usize {
        self.array.len_in(&self.guard)
    }

    /// See [`FtArray::is_empty`].
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// See [`FtArray::capacity`].
    pub fn capacity(&self) -> usize {
        self.array.capacity_in(&self.guard)
    }

    /// See [`FtArray::get`].
    #[inline]
    pub fn get(&self, index: usize) -> Option<T> {
        self.array.get_in(index, &self.guard)
    }

    /// See [`FtArray::first`].
    pub fn first(&self) -> Option<T> {
        self.get(0)
    }

    /// See [`FtArray::last`].
    pub fn last(&self) -> Option<T> {
        self.array.last_in(&self.guard)
    }

    /// See [`FtArray::to_vec`].
    pub fn to_vec(&self) -> Vec<T> {
        self.array.to_vec_in(&self.guard)
    }

    /// See [`FtArray::to_bytes`].
    pub fn to_bytes(&self) -> Vec<u8> {
        self.array.to_bytes_in(&self.guard)
    }

    /// See [`FtArray::get_range`].
    ///
    /// # Errors
    ///
    /// [`Error::RangeOutOfBounds`].
    pub fn get_range(&self, range: impl RangeBounds<usize>) -> Result<Vec<T>, Error> {
        self.array.get_range_in(bounds(range), &self.guard)
    }

    /// See [`FtArray::copy_to_slice`].
    ///
    /// # Errors
    ///
    /// [`Error::RangeOutOfBounds`].
    pub fn copy_to_slice(&self, start: usize, dst: &mut [T]) -> Result<(), Error> {
        self.array.copy_to_slice_in(start, dst, &self.guard)
    }

    /// See [`FtArray::contains`].
    pub fn contains(&self, value: &T) -> bool
    where
        T: PartialEq,
    {
        self.position(value).is_some()
    }

    /// See [`FtArray::position`].
    pub fn position(&self, value: &T) -> Option<usize>
    where
        T: PartialEq,
    {
        self.array.position_in(value, &self.guard)
    }

    /// See [`FtArray::count`].
    pub fn count(&self, value: &T) -> usize
    where
        T: PartialEq,
    {
        self.array.count_in(value, &self.guard)
    }

    /// A live iterator (see [`Iter`]) that reads under this handle's pin.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u8, 2]);
    /// let r = a.reader();
    /// assert_eq!(r.iter().collect::<Vec<_>>(), [1, 2]);
    /// ```
    pub fn iter(&self) -> ReaderIter<'_, 'a, T> {
        ReaderIter {
            reader: self,
            next: 0,
            done: false,
        }
    }
}

impl<T: Element + fmt::Debug> fmt::Debug for Reader<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("array", &self.to_vec())
            .finish()
    }
}

/// One step of a live iterator: read the element at `*next`; end for good at the first miss.
fn advance<T>(
    next: &mut usize,
    done: &mut bool,
    get: impl FnOnce(usize) -> Option<T>,
) -> Option<T> {
    if *done {
        return None;
    }
    let value = get(*next);
    match value {
        Some(_) => *next += 1,
        None => *done = true,
    }
    value
}

/// A live iterator over an [`FtArray`], with its own position.
///
/// It is **not a snapshot**: each `next()` is one linearizable read of the element at the
/// iterator's position at that instant, like Python's array iterator. It ends the first time
/// its position is past the end (and stays ended). If other threads insert or remove elements
/// meanwhile, it may see an element twice or skip one, but it never sees a value that was not
/// at that index, and never crashes. For one consistent view, iterate over
/// [`FtArray::to_vec`].
///
/// Every iterator has its own position: iterators never share a cursor.
///
/// ```
/// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3]);
/// let mut it = a.iter();
/// assert_eq!(it.next(), Some(1));
/// a.push(4); // seen: the iterator reads the array as it is now
/// assert_eq!(it.collect::<Vec<_>>(), [2, 3, 4]);
/// ```
pub struct Iter<'a, T: Element> {
    array: &'a FtArray<T>,
    next: usize,
    done: bool,
}

impl<'a, T: Element> Iter<'a, T> {
    fn new(array: &'a FtArray<T>) -> Self {
        Iter {
            array,
            next: 0,
            done: false,
        }
    }

    /// The index the next call to `next()` reads.
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u8, 2, 3]);
    /// let mut it = a.iter();
    /// it.next();
    /// assert_eq!(it.next_index(), 1);
    /// // `position` is `Iterator::position`:
    /// assert_eq!(it.position(|x| x == 3), Some(1));
    /// ```
    pub fn next_index(&self) -> usize {
        self.next
    }
}

impl<T: Element> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let array = self.array;
        advance(&mut self.next, &mut self.done, |i| array.get(i))
    }
}

impl<T: Element> FusedIterator for Iter<'_, T> {}

impl<T: Element> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("position", &self.next)
            .finish()
    }
}

/// A live iterator that reads under a [`Reader`]'s pin; otherwise as [`Iter`].
pub struct ReaderIter<'r, 'a, T: Element> {
    reader: &'r Reader<'a, T>,
    next: usize,
    done: bool,
}

impl<T: Element> Iterator for ReaderIter<'_, '_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let reader = self.reader;
        advance(&mut self.next, &mut self.done, |i| reader.get(i))
    }
}

impl<T: Element> FusedIterator for ReaderIter<'_, '_, T> {}
