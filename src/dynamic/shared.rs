//! Copying out of memory that other threads may be writing: a host's buffer that aliases an
//! exported array (Python's `a.frombytes(memoryview(a))`, a C host extending one handle from
//! another's export).
//!
//! Such memory must never become a Rust `&[u8]` or `&[T]`: a plain reference to bytes another
//! thread writes is a data race, undefined behaviour even if the values are then thrown away.
//! [`read_shared`] copies it with atomic loads instead. An ftarray's storage is made of aligned
//! 64-bit atomic units, so every aligned 8 bytes inside the range are loaded as one `AtomicU64`
//! (the access size ftarray's own readers and writers use, so they never mix sizes); only the
//! bytes before the first and after the last whole unit are loaded one by one (the memory
//! outside the range may not belong to the caller, so their unit cannot be loaded whole).

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};

/// Copies `nbytes` bytes starting at `ptr` with relaxed atomic loads and returns them (see
/// [`copy_shared`]).
///
/// # Safety
///
/// As [`copy_shared`], for `nbytes` bytes.
///
/// ```
/// let src = [1u8, 2, 3, 4];
/// // SAFETY: `src` is valid and nobody writes it.
/// let copy = unsafe { ftarray::dynamic::read_shared(src.as_ptr(), src.len()) };
/// assert_eq!(copy, src);
/// ```
pub unsafe fn read_shared(ptr: *const u8, nbytes: usize) -> Vec<u8> {
    let mut out = vec![0u8; nbytes];
    // SAFETY: forwarded to the caller.
    unsafe { copy_shared(ptr, &mut out) };
    out
}

/// Fills `out` with the `out.len()` bytes starting at `src`, read with relaxed atomic loads.
///
/// The copy is not a snapshot: bytes that change while it runs may be seen before or after the
/// change, unit by unit (an aligned 8-byte unit inside the range is never torn; an element that
/// straddles the range's partial first or last unit is read byte by byte).
///
/// # Safety
///
/// `src` must be valid for reads of `out.len()` bytes for the whole call (for example: an
/// export that stays alive, a host buffer that is not freed meanwhile), and every concurrent
/// write to that memory must be atomic (ftarray's own writes are; a host writing the same
/// memory with plain stores at the same time is a data race the host has to prevent). `out`
/// must not overlap it.
///
/// ```
/// let src = [5u16, 6, 7];
/// let mut out = [0u8; 6];
/// // SAFETY: `src` is valid, nobody writes it, and `out` is a separate buffer.
/// unsafe { ftarray::dynamic::copy_shared(src.as_ptr().cast(), &mut out) };
/// assert_eq!(out, bytemuck::cast_slice::<u16, u8>(&src));
/// ```
pub unsafe fn copy_shared(src: *const u8, out: &mut [u8]) {
    let nbytes = out.len();
    let head = src.align_offset(size_of::<u64>()).min(nbytes);
    let units = (nbytes - head) / size_of::<u64>();
    let body_end = head + units * size_of::<u64>();
    // Relaxed: each byte is read once, and nothing else is ordered by these loads.
    for k in (0..head).chain(body_end..nbytes) {
        // SAFETY: the caller guarantees `src..src + nbytes` is readable and written only
        // atomically; byte `k` lies inside it, and every address is aligned for a byte. The
        // atomic is only loaded from, so the `*mut` that `from_ptr` wants is never written.
        out[k] = unsafe { AtomicU8::from_ptr(src.add(k).cast_mut()) }.load(Relaxed);
    }
    for (j, chunk) in out[head..body_end]
        .chunks_exact_mut(size_of::<u64>())
        .enumerate()
    {
        // SAFETY: as above; `src + head` is 8-aligned (`align_offset`), and unit `j` lies
        // inside the range.
        let unit = unsafe { AtomicU64::from_ptr(src.add(head + 8 * j).cast::<u64>().cast_mut()) };
        chunk.copy_from_slice(&unit.load(Relaxed).to_ne_bytes());
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn copies_aligned_and_unaligned_memory() {
        let words = [0x0102_0304_0506_0708u64, 0x090a_0b0c_0d0e_0f10, 7];
        let bytes = bytemuck::cast_slice::<u64, u8>(&words);
        let p = words.as_ptr().cast::<u8>();
        for start in 0..bytes.len() {
            for end in start..=bytes.len() {
                // SAFETY: `words` is valid and nobody writes it; the range is inside it.
                let copy = unsafe { read_shared(p.add(start), end - start) };
                assert_eq!(copy, bytes[start..end], "{start}..{end}");
            }
        }
        // SAFETY: zero bytes from any pointer.
        assert!(unsafe { read_shared(p, 0) }.is_empty());
    }
}
