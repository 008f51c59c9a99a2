//! The standard traits of [`FtArray`]: conversions, comparison, hashing, formatting, cloning,
//! collecting and extending. Each works on a copy taken at one instant (two arrays: copies
//! that were both current at one instant), never on live storage.

use crate::array::FtArray;
use crate::element::Element;
use crate::reader::Iter;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

impl<T: Element> Default for FtArray<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A snapshot copy.
impl<T: Element> Clone for FtArray<T> {
    fn clone(&self) -> Self {
        Self::from_slice(&self.to_vec())
    }
}

/// Formats a snapshot like a list: `[1, 2, 3]`.
impl<T: Element + fmt::Debug> fmt::Debug for FtArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.to_vec()).finish()
    }
}

/// Compares the two arrays' contents at one instant; an array compared with itself is one
/// snapshot compared with itself.
impl<T: Element + PartialEq> PartialEq for FtArray<T> {
    // `v == v` on purpose: it is false when an element is NaN, as it is for slices.
    #[allow(clippy::eq_op)]
    fn eq(&self, other: &Self) -> bool {
        if std::ptr::eq(self, other) {
            let v = self.to_vec();
            return v == v;
        }
        let (a, b) = self.snapshot_pair(other);
        a == b
    }
}

impl<T: Element + Eq> Eq for FtArray<T> {}

/// Compares the contents lexicographically (as slices do), at one instant, like `==`.
impl<T: Element + PartialOrd> PartialOrd for FtArray<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        if std::ptr::eq(self, other) {
            let v = self.to_vec();
            return v.partial_cmp(&v);
        }
        let (a, b) = self.snapshot_pair(other);
        a.partial_cmp(&b)
    }
}

/// Compares the contents lexicographically (as slices do), at one instant, like `==`.
impl<T: Element + Ord> Ord for FtArray<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        if std::ptr::eq(self, other) {
            return Ordering::Equal;
        }
        let (a, b) = self.snapshot_pair(other);
        a.cmp(&b)
    }
}

/// Hashes a snapshot of the contents as the slice of those elements hashes, so equal arrays
/// hash equally.
impl<T: Element + Hash> Hash for FtArray<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.to_vec().as_slice().hash(state);
    }
}

impl<T: Element + PartialEq> PartialEq<[T]> for FtArray<T> {
    fn eq(&self, other: &[T]) -> bool {
        self.to_vec() == other
    }
}

impl<T: Element + PartialEq> PartialEq<Vec<T>> for FtArray<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        self.to_vec() == *other
    }
}

impl<T: Element + PartialEq, const N: usize> PartialEq<[T; N]> for FtArray<T> {
    fn eq(&self, other: &[T; N]) -> bool {
        self.to_vec() == other
    }
}

impl<T: Element> From<Vec<T>> for FtArray<T> {
    fn from(values: Vec<T>) -> Self {
        Self::from_slice(&values)
    }
}

impl<T: Element> From<&[T]> for FtArray<T> {
    fn from(values: &[T]) -> Self {
        Self::from_slice(values)
    }
}

impl<T: Element, const N: usize> From<[T; N]> for FtArray<T> {
    fn from(values: [T; N]) -> Self {
        Self::from_slice(&values)
    }
}

impl<T: Element> From<FtArray<T>> for Vec<T> {
    fn from(array: FtArray<T>) -> Self {
        array.into_vec()
    }
}

impl<T: Element> FromIterator<T> for FtArray<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<Vec<T>>())
    }
}

/// Collects the items first, then appends them in one step.
///
/// # Panics
///
/// As [`FtArray::push`].
impl<T: Element> Extend<T> for FtArray<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        let values: Vec<T> = iter.into_iter().collect();
        self.extend_from_slice(&values);
    }
}

impl<'a, T: Element> Extend<&'a T> for FtArray<T> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.extend(iter.into_iter().copied());
    }
}

/// Collects the items first, then appends them in one step, through a shared reference (so
/// an array shared between threads can be extended from an iterator).
///
/// # Panics
///
/// As [`FtArray::push`].
///
/// ```
/// let a = ftarray::FtArray::from_slice(&[1u32]);
/// let mut shared = &a;
/// shared.extend([2, 3]);
/// shared.extend(&[4]);
/// assert_eq!(a.to_vec(), [1, 2, 3, 4]);
/// ```
impl<T: Element> Extend<T> for &FtArray<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        let values: Vec<T> = iter.into_iter().collect();
        self.extend_from_slice(&values);
    }
}

impl<'a, T: Element> Extend<&'a T> for &FtArray<T> {
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.extend(iter.into_iter().copied());
    }
}

impl<'a, T: Element> IntoIterator for &'a FtArray<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}
