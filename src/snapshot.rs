//! [`Snapshot`]: an owned, immutable view of an array at one instant, and
//! `FtArray::snapshot`.

use crate::array::FtArray;
use crate::element::{Element, from_bits};
use crate::error::Error;
use crate::raw::RawSnapshot;
use std::fmt;
use std::marker::PhantomData;

impl<T: Element> FtArray<T> {
    /// An immutable view of the array at one instant, that derefs to `&[T]`.
    ///
    /// Taking one copies nothing while no writer is in the way: the snapshot holds the writer
    /// lock just long enough to count itself as an owner of the array's storage, which it then
    /// shares. A live snapshot never blocks a writer or a resize: a writer that would change
    /// storage a snapshot shares writes a fresh copy instead (copy on write, once: later
    /// writes run in place again), and the shared storage is freed when both the array and
    /// every snapshot are done with it. When the writer lock is busy (a writer may be doing
    /// O(n) work under it), the snapshot copies a validated read instead, so taking one never
    /// waits for O(n) work. When the storage is exported (its holder may write it), the
    /// snapshot is a copy made under the lock, which writers wait for.
    ///
    /// # Panics
    ///
    /// If a copy is needed and cannot be allocated; see [`try_snapshot`](Self::try_snapshot).
    ///
    /// ```
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3]);
    /// let s = a.snapshot();
    /// a.push(4); // the array goes on; the snapshot does not change
    /// a.set(0, 10).unwrap();
    /// assert_eq!(*s, [1, 2, 3]);
    /// assert_eq!(s.iter().sum::<u32>(), 6);
    /// assert_eq!(a.to_vec(), [10, 2, 3, 4]);
    /// ```
    pub fn snapshot(&self) -> Snapshot<T> {
        self.try_snapshot().unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`snapshot`](Self::snapshot), returning an error instead of panicking.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if a copy is needed and cannot be allocated.
    pub fn try_snapshot(&self) -> Result<Snapshot<T>, Error> {
        Ok(Snapshot {
            raw: self.raw_snapshot()?,
            _elem: PhantomData,
        })
    }
}

/// An owned, immutable view of an [`FtArray`] at one instant: what it held when
/// [`FtArray::snapshot`] was called, for as long as the snapshot lives, whatever the array does
/// meanwhile.
///
/// It derefs to a plain `&[T]` (iteration and `sum` at memory speed, no pin and no check per
/// element), is `Send + Sync + Clone` (a clone shares the same storage), and usually shares the
/// array's storage instead of copying it (see [`FtArray::snapshot`] for when it copies). This
/// is what the Arrow, DLPack and pickle hand-offs are built on: a consumer that assumes the
/// data it received does not change gets exactly that, while the array's writers go on.
///
/// ```
/// use ftarray::FtArray;
/// use std::sync::Arc;
///
/// let a = Arc::new(FtArray::from_slice(&[0.5f64; 1000]));
/// let s = a.snapshot();
/// let writer = {
///     let a = Arc::clone(&a);
///     std::thread::spawn(move || {
///         for i in 0..1000 {
///             a.set(i, 1.0).unwrap(); // the first write copies the storage, once
///         }
///         a.clear();
///     })
/// };
/// assert_eq!(s.iter().sum::<f64>(), 500.0); // whatever the writer is doing
/// writer.join().unwrap();
/// assert_eq!(s.len(), 1000);
/// ```
pub struct Snapshot<T: Element> {
    raw: RawSnapshot<T::Bits>,
    _elem: PhantomData<T>,
}

impl<T: Element> Snapshot<T> {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `index`, if it is below the length.
    pub fn get(&self, index: usize) -> Option<T> {
        self.raw.cells().get(index).map(from_bits)
    }

    /// The elements as a plain slice (also what `*snapshot` gives).
    #[cfg(not(loom))]
    pub fn as_slice(&self) -> &[T] {
        // `T` and its word have one size (`Element`'s contract, checked when the array was
        // made), and both are `Pod`, so the cast is exact.
        bytemuck::cast_slice(self.raw.as_words())
    }

    /// The elements' bytes, in native order.
    #[cfg(not(loom))]
    pub fn as_bytes(&self) -> &[u8] {
        bytemuck::cast_slice(self.raw.as_words())
    }

    /// A copy of the elements.
    pub fn to_vec(&self) -> Vec<T> {
        self.raw.cells().iter().map(from_bits).collect()
    }

    /// Whether this snapshot shares its storage with the array or with other snapshots
    /// (rather than holding a copy of its own, or nothing): a statistic, for tests and
    /// diagnostics.
    pub fn is_shared(&self) -> bool {
        self.raw.owners() > 1
    }
}

#[cfg(not(loom))]
impl<T: Element> std::ops::Deref for Snapshot<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

#[cfg(not(loom))]
impl<T: Element> AsRef<[T]> for Snapshot<T> {
    fn as_ref(&self) -> &[T] {
        self.as_slice()
    }
}

#[cfg(not(loom))]
impl<'a, T: Element> IntoIterator for &'a Snapshot<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

impl<T: Element> Clone for Snapshot<T> {
    /// Another handle on the same storage (no copy).
    fn clone(&self) -> Self {
        Snapshot {
            raw: self.raw.clone(),
            _elem: PhantomData,
        }
    }
}

impl<T: Element + fmt::Debug> fmt::Debug for Snapshot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.to_vec()).finish()
    }
}

impl<T: Element + PartialEq> PartialEq for Snapshot<T> {
    fn eq(&self, other: &Self) -> bool {
        self.to_vec() == other.to_vec()
    }
}

impl<T: Element + PartialEq> PartialEq<[T]> for Snapshot<T> {
    fn eq(&self, other: &[T]) -> bool {
        self.len() == other.len()
            && self
                .raw
                .cells()
                .iter()
                .map(from_bits::<T>)
                .eq(other.iter().copied())
    }
}

impl<T: Element + PartialEq, const N: usize> PartialEq<[T; N]> for Snapshot<T> {
    fn eq(&self, other: &[T; N]) -> bool {
        *self == other[..]
    }
}

impl<T: Element + PartialEq> PartialEq<Vec<T>> for Snapshot<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        *self == other[..]
    }
}
