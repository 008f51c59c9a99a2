//! Copying out of memory that other threads may be writing: a host's buffer that aliases an
//! exported array (Python's `a.frombytes(memoryview(a))`, a C host extending one handle from
//! another's export).
//!
//! Such memory must never become a Rust `&[u8]` or `&[T]`: a plain reference to bytes another
//! thread writes is a data race, undefined behaviour even if the values are then thrown away.
//! [`read_shared`] copies it with atomic loads instead. When the pointer is aligned to the
//! element size it loads whole elements (the same size as the atomic cells an exported
//! ftarray's storage is made of, so the accesses never mix sizes); otherwise it loads byte by
//! byte.

use std::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering::Relaxed};

/// Copies `nbytes` bytes starting at `ptr` with relaxed atomic loads and returns them.
///
/// `itemsize` (1, 2, 4 or 8; anything else means bytes) chooses the load width when `ptr` and
/// `nbytes` are multiples of it. The copy is not a snapshot: bytes that change while it runs
/// may be seen before or after the change, element by element (never torn within an aligned
/// element).
///
/// # Safety
///
/// `ptr` must be valid for reads of `nbytes` bytes for the whole call (for example: an export
/// that stays alive, a host buffer that is not freed meanwhile), and every concurrent write to
/// that memory must be atomic (ftarray's own writes are; a host writing the same memory with
/// plain stores at the same time is a data race the host has to prevent).
///
/// ```
/// let src = [1u8, 2, 3, 4];
/// // SAFETY: `src` is valid and nobody writes it.
/// let copy = unsafe { ftarray::dynamic::read_shared(src.as_ptr(), src.len(), 2) };
/// assert_eq!(copy, src);
/// ```
pub unsafe fn read_shared(ptr: *const u8, nbytes: usize, itemsize: usize) -> Vec<u8> {
    let mut out = vec![0u8; nbytes];
    let aligned =
        matches!(itemsize, 2 | 4 | 8) && (ptr as usize) % itemsize == 0 && nbytes % itemsize == 0;
    macro_rules! copy_as {
        ($atomic:ty, $w:ty) => {
            for (k, chunk) in out.chunks_exact_mut(size_of::<$w>()).enumerate() {
                // SAFETY: the caller guarantees `ptr..ptr + nbytes` is readable and written
                // only atomically; `ptr` is aligned for `$w` (checked above) and element `k`
                // lies inside the range.
                let cell = unsafe { <$atomic>::from_ptr(ptr.add(k * size_of::<$w>()) as *mut $w) };
                chunk.copy_from_slice(&cell.load(Relaxed).to_ne_bytes());
            }
        };
    }
    match (aligned, itemsize) {
        (true, 2) => copy_as!(AtomicU16, u16),
        (true, 4) => copy_as!(AtomicU32, u32),
        (true, 8) => copy_as!(AtomicU64, u64),
        _ => {
            for (k, b) in out.iter_mut().enumerate() {
                // SAFETY: as above; every address is aligned for a byte.
                let cell = unsafe { AtomicU8::from_ptr(ptr.add(k) as *mut u8) };
                *b = cell.load(Relaxed);
            }
        }
    }
    out
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn copies_aligned_and_unaligned_memory() {
        let words = [0x0102_0304u32, 0x0506_0708];
        let p = words.as_ptr().cast::<u8>();
        // SAFETY: `words` is valid and nobody writes it.
        let all = unsafe { read_shared(p, 8, 4) };
        assert_eq!(all, bytemuck::cast_slice::<u32, u8>(&words));
        // SAFETY: as above; an odd start is copied byte by byte.
        let tail = unsafe { read_shared(p.add(1), 7, 4) };
        assert_eq!(tail, bytemuck::cast_slice::<u32, u8>(&words)[1..]);
        // SAFETY: zero bytes from any pointer.
        assert!(unsafe { read_shared(p, 0, 8) }.is_empty());
    }
}
