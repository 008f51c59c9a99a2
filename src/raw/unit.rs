//! The storage unit: every cell access is to one whole aligned 64-bit atomic (see `cells.rs`
//! for why), and a block's cells are an array of them.

use crate::element::Word;
use crate::sync::AtomicU64;

/// One storage unit.
pub(crate) type Unit = AtomicU64;

/// The bytes in one unit.
pub(crate) const UNIT_BYTES: usize = size_of::<u64>();

/// The number of units that hold `cap` words, or `None` if that overflows.
#[inline]
pub(crate) fn units_for<W: Word>(cap: usize) -> Option<usize> {
    Some(cap.checked_add(W::PER_UNIT - 1)? / W::PER_UNIT)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn units_round_up_and_overflow_is_none() {
        assert_eq!(units_for::<u8>(0), Some(0));
        assert_eq!(units_for::<u8>(1), Some(1));
        assert_eq!(units_for::<u8>(9), Some(2));
        assert_eq!(units_for::<u32>(3), Some(2));
        assert_eq!(units_for::<u64>(3), Some(3));
        assert_eq!(units_for::<u8>(usize::MAX), None);
    }
}
