//! The live exports of every handle: how many there are, and the storage each pins, so that a
//! copy from host memory can tell when its input lies inside an export
//! ([`in_live_export`]).

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock};

/// Exports acquired and not yet released, over all handles. A statistic, and the fast path of
/// [`in_live_export`]: Relaxed (see there).
static LIVE_EXPORTS: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn live_exports() -> usize {
    LIVE_EXPORTS.load(Ordering::Relaxed)
}

/// The storage of every live export, with its token (unique in the process): the registry that
/// tells `handle::copy_in` when host input lies inside an export, so that it can load whole
/// 64-bit units there (the access size the arrays themselves use) rather than element-wide
/// loads that would meet the arrays' 64-bit stores at another size. Entries are added after
/// the export is made and removed before it is released (under the write lock), so an entry
/// only ever names storage that is pinned. A copy holds the read lock only for its lookup,
/// which scans the live exports (a host rarely holds many).
pub(crate) static REGISTRY: RwLock<Vec<(u64, Range<usize>)>> = RwLock::new(Vec::new());

/// Whether the `len` bytes at `ptr` lie inside the storage of one live export (padding up to
/// the end of the last element's 8-byte unit included: [`ftarray::DynArray::exports_cover`]).
///
/// Consulted only while some export is live. The Relaxed load of `LIVE_EXPORTS` cannot miss an
/// export whose pointer the caller holds: the host got that pointer from
/// `ftarray_export_acquire`, after its increment, through its own synchronisation, so the load
/// sees that increment or a later value; and the count stays above 0 until that export's
/// release (each decrement follows its own export's increment).
pub(crate) fn in_live_export(ptr: *const u8, len: usize) -> bool {
    if len == 0 || LIVE_EXPORTS.load(Ordering::Relaxed) == 0 {
        return false;
    }
    let start = ptr.addr();
    let Some(end) = start.checked_add(len) else {
        return false;
    };
    REGISTRY
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .any(|(_, storage)| storage.start <= start && end <= storage.end)
}

/// Counts `n` more live exports (after they are made). Relaxed: see [`in_live_export`].
pub(crate) fn counted(n: usize) {
    LIVE_EXPORTS.fetch_add(n, Ordering::Relaxed);
}

/// Counts `n` fewer live exports (before they are released).
pub(crate) fn uncounted(n: usize) {
    LIVE_EXPORTS.fetch_sub(n, Ordering::Relaxed);
}
