//! Python's index and slice arithmetic, as pure functions of a length.
//!
//! These never read an array: the [`DynArray`](crate::DynArray) calls them with the length it
//! sees at the operation's linearization point (inside a validated read attempt, or under the
//! writer lock), so an index is never resolved against a stale length.

use crate::error::Error;

/// `index` resolved against `len` as Python resolves `a[index]`: a negative index counts from
/// the end. `None` if it is out of range.
///
/// ```
/// use ftarray::dynamic::resolve_index;
/// assert_eq!(resolve_index(-1, 3), Some(2));
/// assert_eq!(resolve_index(3, 3), None);
/// assert_eq!(resolve_index(-4, 3), None);
/// ```
#[inline]
pub fn resolve_index(index: isize, len: usize) -> Option<usize> {
    let i = if index < 0 {
        len.checked_sub(index.unsigned_abs())?
    } else {
        index as usize
    };
    (i < len).then_some(i)
}

/// `index` clamped into `0..=len` as Python's `insert` does: negative counts from the end,
/// anything before the start is 0, anything past the end is `len`.
///
/// ```
/// use ftarray::dynamic::clamp_index;
/// assert_eq!(clamp_index(-1, 3), 2);
/// assert_eq!(clamp_index(-10, 3), 0);
/// assert_eq!(clamp_index(10, 3), 3);
/// ```
#[inline]
pub fn clamp_index(index: isize, len: usize) -> usize {
    if index < 0 {
        len.saturating_sub(index.unsigned_abs())
    } else {
        (index as usize).min(len)
    }
}

/// A Python slice, `start:stop:step`, each part optional. Values beyond `isize` must be
/// clamped to `isize::MIN`/`isize::MAX` by the caller, as CPython's `_PyEval_SliceIndex` does.
///
/// ```
/// use ftarray::Slice;
/// let s = Slice::new(None, None, Some(-1)); // a[::-1]
/// let r = s.indices(4).unwrap();
/// assert_eq!(r.iter().collect::<Vec<_>>(), [3, 2, 1, 0]);
/// assert!(Slice::new(None, None, Some(0)).indices(4).is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Slice {
    /// First index (`None`: from the start, or from the end for a negative step).
    pub start: Option<isize>,
    /// Index to stop before (`None`: to the end, or to the start for a negative step).
    pub stop: Option<isize>,
    /// Distance between indices (`None`: 1). Zero is an error.
    pub step: Option<isize>,
}

/// A slice resolved against a length: the `len` indices `start, start + step, …`.
///
/// Every index it yields is in `0..length` for the length it was resolved against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SliceIndices {
    /// The first index (meaningful only when `len > 0`).
    pub start: isize,
    /// The stop bound after adjustment, as `PySlice_AdjustIndices` leaves it.
    pub stop: isize,
    /// The step; never zero.
    pub step: isize,
    /// How many indices the slice selects.
    pub len: usize,
}

impl Slice {
    /// `start:stop:step`.
    pub const fn new(start: Option<isize>, stop: Option<isize>, step: Option<isize>) -> Slice {
        Slice { start, stop, step }
    }

    /// `start:stop` (step 1).
    pub const fn range(start: isize, stop: isize) -> Slice {
        Slice::new(Some(start), Some(stop), None)
    }

    /// `:` — the whole array.
    pub const fn full() -> Slice {
        Slice::new(None, None, None)
    }

    /// Resolves the slice against `len` exactly as `PySlice_Unpack` followed by
    /// `PySlice_AdjustIndices` do.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroStep`] if the step is zero.
    pub fn indices(&self, len: usize) -> Result<SliceIndices, Error> {
        let step = match self.step {
            None => 1,
            Some(0) => return Err(Error::ZeroStep),
            // As CPython: -PY_SSIZE_T_MAX at most, so that -step cannot overflow.
            Some(s) => s.max(-isize::MAX),
        };
        let (default_start, default_stop) = if step < 0 {
            (isize::MAX, isize::MIN)
        } else {
            (0, isize::MAX)
        };
        let length = isize::try_from(len).unwrap_or(isize::MAX);
        let adjust = |i: isize| -> isize {
            if i < 0 {
                let j = i.saturating_add(length);
                if j < 0 {
                    if step < 0 { -1 } else { 0 }
                } else {
                    j
                }
            } else if i >= length {
                if step < 0 { length - 1 } else { length }
            } else {
                i
            }
        };
        let start = adjust(self.start.unwrap_or(default_start));
        let stop = adjust(self.stop.unwrap_or(default_stop));
        let count = if step < 0 {
            if stop < start {
                ((start - stop - 1) / (-step)) as usize + 1
            } else {
                0
            }
        } else if start < stop {
            // Step 1 (the common slice) without the division: a `div` is 20-40 cycles.
            if step == 1 {
                (stop - start) as usize
            } else {
                ((stop - start - 1) / step) as usize + 1
            }
        } else {
            0
        };
        Ok(SliceIndices {
            start,
            stop,
            step,
            len: count,
        })
    }
}

impl SliceIndices {
    /// The selected indices, in slice order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = usize> + Clone + use<> {
        let (start, step) = (self.start, self.step);
        (0..self.len).map(move |k| (start + k as isize * step) as usize)
    }

    /// Whether the slice is a plain contiguous range (`step == 1`).
    pub fn is_contiguous(&self) -> bool {
        self.step == 1
    }

    /// The indices as a half-open range in increasing order, for step 1; for other steps
    /// (including empty ones), the span `lowest..highest + 1` of the selected indices.
    pub fn span(&self) -> std::ops::Range<usize> {
        if self.len == 0 {
            let at = self.start.max(0) as usize;
            return at..at;
        }
        let first = self.start as usize;
        let last = (self.start + (self.len as isize - 1) * self.step) as usize;
        first.min(last)..first.max(last) + 1
    }
}

/// `start` and `stop` clamped as Python's `list.index(x, start, stop)` and `array.index` do:
/// negative values count from the end and then clamp at 0; `stop` clamps at `len`.
///
/// ```
/// use ftarray::dynamic::search_range;
/// assert_eq!(search_range(-2, isize::MAX, 5), 3..5);
/// assert_eq!(search_range(4, 2, 5), 4..4);
/// ```
pub fn search_range(start: isize, stop: isize, len: usize) -> std::ops::Range<usize> {
    let s = clamp_index(start, len);
    let e = clamp_index(stop, len);
    s..e.max(s)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Python's own results for `range(len)[slice]`, computed by hand for a few cases.
    #[test]
    fn slices_match_python() {
        let idx = |s: Slice, len| s.indices(len).unwrap().iter().collect::<Vec<_>>();
        assert_eq!(idx(Slice::full(), 3), [0, 1, 2]);
        assert_eq!(idx(Slice::new(Some(1), None, Some(2)), 6), [1, 3, 5]);
        assert_eq!(idx(Slice::new(None, None, Some(-2)), 6), [5, 3, 1]);
        assert_eq!(idx(Slice::new(Some(-1), Some(-4), Some(-1)), 6), [5, 4, 3]);
        assert_eq!(idx(Slice::new(Some(10), Some(-10), Some(-3)), 6), [5, 2]);
        assert_eq!(idx(Slice::new(Some(-100), Some(100), None), 3), [0, 1, 2]);
        assert_eq!(
            idx(Slice::new(Some(2), Some(1), None), 3),
            Vec::<usize>::new()
        );
        assert_eq!(idx(Slice::new(None, None, Some(isize::MIN)), 3), [2]);
        assert_eq!(
            idx(
                Slice::new(Some(isize::MIN), Some(isize::MAX), Some(isize::MAX)),
                3
            ),
            [0]
        );
        assert_eq!(idx(Slice::full(), 0), Vec::<usize>::new());
        assert_eq!(
            Slice::new(None, None, Some(0)).indices(3),
            Err(Error::ZeroStep)
        );
    }

    #[test]
    fn spans_cover_the_selected_indices() {
        let s = Slice::new(None, None, Some(-2)).indices(6).unwrap();
        assert_eq!(s.span(), 1..6);
        let s = Slice::new(Some(2), Some(2), None).indices(6).unwrap();
        assert_eq!(s.span(), 2..2);
    }

    #[test]
    fn indices_resolve_and_clamp_like_python() {
        assert_eq!(resolve_index(0, 0), None);
        assert_eq!(resolve_index(isize::MIN, 3), None);
        assert_eq!(resolve_index(-3, 3), Some(0));
        assert_eq!(clamp_index(isize::MIN, 3), 0);
        assert_eq!(clamp_index(isize::MAX, 3), 3);
        assert_eq!(search_range(-100, -1, 5), 0..4);
    }
}
