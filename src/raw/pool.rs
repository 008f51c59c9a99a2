//! A small process-wide pool of freed block allocations, reused by the next block of the same
//! size.
//!
//! Writers that publish a new block for every change of a small array (a refill after `clear`,
//! `insert`, `remove`, `update`) would otherwise allocate one block and free another on every
//! write. The free happens in the epoch collector, on whichever thread collects (often a
//! reader's), so the allocator's arena lock bounces between the writer and the readers and the
//! new block is cold in the cache. The pool keeps the most recently freed blocks of up to
//! [`MAX_BLOCK_BYTES`] each, [`MAX_POOL_BYTES`] in all, and hands the newest one of the right
//! size to the next allocation.
//!
//! Nothing waits on the pool: both sides only `try_lock` it, and when it is busy, full, or has
//! no block of the size asked for, they go to the allocator as before. A block reaches the pool
//! only where it would have been deallocated: after its grace period (the epoch collector
//! dropped it) or when it was never shared, so reusing the memory is exactly as sound as the
//! allocator reusing it. Under loom the pool is off (loom checks the blocks' atomics, and a
//! freed block is poisoned and leaked there instead).

use std::alloc::{self, Layout};

/// The largest block allocation (bytes) that is pooled.
#[cfg_attr(loom, allow(dead_code))]
pub(crate) const MAX_BLOCK_BYTES: usize = 32 * 1024;
/// The most bytes the pool holds at once, across all sizes.
#[cfg_attr(loom, allow(dead_code))]
pub(crate) const MAX_POOL_BYTES: usize = 256 * 1024;

#[cfg(not(loom))]
mod imp {
    use super::{Layout, MAX_BLOCK_BYTES, MAX_POOL_BYTES};
    use std::ptr::NonNull;
    use std::sync::Mutex;

    /// A freed allocation and its layout.
    struct Free {
        ptr: NonNull<u8>,
        layout: Layout,
    }

    // SAFETY: a pooled allocation is plain memory that nothing references; whoever takes it out
    // of the pool owns it, on any thread (as with the allocator itself).
    unsafe impl Send for Free {}

    struct Pool {
        /// Oldest first; taken from the back, so the most recently freed (warmest) block goes
        /// out first.
        free: Vec<Free>,
        bytes: usize,
    }

    static POOL: Mutex<Pool> = Mutex::new(Pool {
        free: Vec::new(),
        bytes: 0,
    });

    fn pooled(layout: Layout) -> bool {
        layout.size() <= MAX_BLOCK_BYTES
    }

    /// A pooled allocation for `layout`, if one is at hand.
    pub(super) fn take(layout: Layout) -> Option<NonNull<u8>> {
        if !pooled(layout) {
            return None;
        }
        let mut pool = POOL.try_lock().ok()?;
        let i = pool.free.iter().rposition(|f| f.layout == layout)?;
        let free = pool.free.remove(i);
        pool.bytes -= layout.size();
        Some(free.ptr)
    }

    /// Keeps `ptr` (an allocation of `layout` that nothing references) for reuse; gives it
    /// back if the pool will not take it.
    pub(super) fn give(ptr: NonNull<u8>, layout: Layout) -> Result<(), NonNull<u8>> {
        if !pooled(layout) {
            return Err(ptr);
        }
        let Ok(mut pool) = POOL.try_lock() else {
            return Err(ptr);
        };
        if pool.bytes + layout.size() > MAX_POOL_BYTES {
            return Err(ptr);
        }
        pool.free.push(Free { ptr, layout });
        pool.bytes += layout.size();
        Ok(())
    }

    /// Bytes held by the pool (for tests).
    #[cfg(test)]
    pub(super) fn bytes() -> usize {
        POOL.lock().map_or(0, |p| p.bytes)
    }
}

/// Allocates memory for a block of `layout` (non-zero size): a pooled allocation of exactly
/// that layout if there is one, otherwise from the global allocator. Null if the allocator
/// refuses.
///
/// # Safety
///
/// As [`alloc::alloc`]: `layout` has a non-zero size.
pub(crate) unsafe fn allocate(layout: Layout) -> *mut u8 {
    #[cfg(not(loom))]
    if let Some(ptr) = imp::take(layout) {
        return ptr.as_ptr();
    }
    // SAFETY: the caller guarantees a non-zero size.
    unsafe { alloc::alloc(layout) }
}

/// Frees a block's memory: into the pool if it takes it, otherwise to the global allocator.
///
/// # Safety
///
/// As [`alloc::dealloc`]: `ptr` was returned by [`allocate`] with this `layout`, nothing
/// references the memory any more, and it is not freed twice.
pub(crate) unsafe fn deallocate(ptr: *mut u8, layout: Layout) {
    #[cfg(not(loom))]
    let ptr = match std::ptr::NonNull::new(ptr).map(|p| imp::give(p, layout)) {
        Some(Ok(())) => return,
        Some(Err(p)) => p.as_ptr(),
        None => ptr,
    };
    // SAFETY: the caller's guarantees, passed on.
    unsafe { alloc::dealloc(ptr, layout) }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A layout no other test uses, so parallel tests cannot take each other's blocks.
    fn odd_layout() -> Layout {
        Layout::from_size_align(24 + 4 * 777, 8).unwrap()
    }

    #[test]
    fn a_freed_block_is_handed_to_the_next_allocation_of_its_size() {
        let layout = odd_layout();
        // SAFETY: non-zero size; each pointer is freed once with its layout.
        unsafe {
            let a = allocate(layout);
            assert!(!a.is_null());
            deallocate(a, layout);
            let other = Layout::from_size_align(24 + 4 * 778, 8).unwrap();
            let b = allocate(other);
            assert_ne!(b, a, "a different size never gets the pooled block");
            let c = allocate(layout);
            assert_eq!(c, a, "the same size gets the pooled block back");
            deallocate(b, other);
            deallocate(c, layout);
        }
    }

    #[test]
    fn large_blocks_and_overflow_go_back_to_the_allocator() {
        let big = Layout::from_size_align(MAX_BLOCK_BYTES + 8, 8).unwrap();
        // SAFETY: as above.
        unsafe {
            let p = allocate(big);
            deallocate(p, big);
        }
        assert!(imp::bytes() <= MAX_POOL_BYTES);
        // Fill the pool past its limit: it never holds more than MAX_POOL_BYTES.
        let layout = Layout::from_size_align(MAX_BLOCK_BYTES, 8).unwrap();
        // SAFETY: as above.
        let ptrs: Vec<_> = (0..MAX_POOL_BYTES / MAX_BLOCK_BYTES + 3)
            .map(|_| unsafe { allocate(layout) })
            .collect();
        for p in ptrs {
            // SAFETY: as above.
            unsafe { deallocate(p, layout) };
            assert!(imp::bytes() <= MAX_POOL_BYTES);
        }
    }
}
