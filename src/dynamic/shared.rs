//! Copying out of memory that other threads may be writing: a host's buffer that aliases an
//! exported array (Python's `b.frombytes(memoryview(a))`, a C host extending one handle from
//! another's export).
//!
//! Such memory must never become a Rust `&[u8]` or `&[T]`: a plain reference to bytes another
//! thread writes is a data race, undefined behaviour even if the values are then thrown away.
//! [`copy_shared`] copies it with atomic loads instead, chosen by what the caller knows of the
//! memory ([`Source`]):
//!
//! - [`Source::Export`]: the range lies inside a live export of an ftarray array, whose storage
//!   is aligned 64-bit units padded to a whole unit. Every unit the range touches is loaded
//!   whole, as one `AtomicU64`: the access size the array's own readers and writers use, so no
//!   access of another size meets theirs, and no element is torn.
//! - [`Source::Elements`]: any other memory, of which only the range's own bytes may be
//!   touched. The aligned 8-byte units inside the range are loaded as `AtomicU64`s; the partial
//!   runs before the first and after the last whole unit are loaded with naturally aligned
//!   atomics at least as wide as an element, so an element is always read by one load and is
//!   never assembled from two stores. Only when the pointer is not aligned to the element size
//!   (then it is no ftarray export of elements that size) are those runs read byte by byte.
//!
//! What remains with `Elements` on an export's memory: the partial runs are loaded with 1-, 2-
//! or 4-byte atomics while the array's writer stores the unit around them with a 64-bit one.
//! Every element is still read whole (hardware keeps aligned accesses single-copy atomic at
//! any size), but Rust's memory model does not define racing atomic accesses of different
//! sizes, and Miri reports them. Callers that can tell the memory is an export pass
//! `Export` (the Python binding, from the buffer's owner; the C ABI, from its registry of live
//! exports); `DynArray::extend_from_raw` does for its own exports.

use std::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering::Relaxed};

/// The bytes in one storage unit of an ftarray array.
const UNIT: usize = size_of::<u64>();

/// What a copy knows of the memory it reads, which decides the loads it may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Memory of which only the range itself may be read, holding elements of `itemsize`
    /// bytes (the copy's element size: 1, 2, 4 or 8). Each element at an address aligned to
    /// `itemsize` is read by one aligned atomic load at least `itemsize` wide.
    Elements {
        /// The size of one element in bytes.
        itemsize: usize,
    },
    /// The range lies inside the storage of a live export of an ftarray array (a
    /// [`RawExport`](super::RawExport), a C ABI export, a Python buffer view of an
    /// `ftarray.array`): every 8-byte unit it touches, including the bytes of the first and
    /// last unit outside the range, belongs to that storage and is loaded whole.
    Export,
}

/// Copies `nbytes` bytes starting at `ptr` with relaxed atomic loads and returns them (see
/// [`copy_shared`]).
///
/// # Safety
///
/// As [`copy_shared`], for `nbytes` bytes.
///
/// ```
/// use ftarray::dynamic::{Source, read_shared};
/// let src = [1u8, 2, 3, 4];
/// // SAFETY: `src` is valid and nobody writes it.
/// let copy = unsafe { read_shared(src.as_ptr(), src.len(), Source::Elements { itemsize: 1 }) };
/// assert_eq!(copy, src);
/// ```
pub unsafe fn read_shared(ptr: *const u8, nbytes: usize, source: Source) -> Vec<u8> {
    let mut out = vec![0u8; nbytes];
    // SAFETY: forwarded to the caller.
    unsafe { copy_shared(ptr, &mut out, source) };
    out
}

/// Fills `out` with the `out.len()` bytes starting at `src`, read with relaxed atomic loads
/// chosen by `source` (see [`Source`]).
///
/// The copy is not a snapshot: elements that change while it runs may be seen before or after
/// the change, load by load. No element is torn: with [`Source::Export`], every element lies
/// in one 64-bit load; with [`Source::Elements`], every element at an address aligned to
/// `itemsize` lies in one load (of 8 bytes inside the range's whole units, of at least
/// `itemsize` bytes in its partial first and last unit). Bytes past the last whole element (a
/// length that is not a multiple of `itemsize`), and every partial-unit byte when `src` is
/// not aligned to `itemsize`, are read one by one.
///
/// # Safety
///
/// `src` must be valid for reads of `out.len()` bytes for the whole call (for example: an
/// export that stays alive, a host buffer that is not freed meanwhile), and every concurrent
/// write to that memory must be atomic (ftarray's own writes are; a host writing the same
/// memory with plain stores at the same time is a data race the host has to prevent). With
/// [`Source::Export`] the same holds for every aligned 8-byte unit the range touches: the range
/// must lie inside the storage of an ftarray export that stays alive for the call, with
/// pointer provenance over that storage (a pointer derived from the export's). `out` must not
/// overlap the memory read.
///
/// ```
/// use ftarray::dynamic::{Source, copy_shared};
/// let src = [5u16, 6, 7];
/// let mut out = [0u8; 6];
/// // SAFETY: `src` is valid, nobody writes it, and `out` is a separate buffer.
/// unsafe { copy_shared(src.as_ptr().cast(), &mut out, Source::Elements { itemsize: 2 }) };
/// assert_eq!(out, bytemuck::cast_slice::<u16, u8>(&src));
/// ```
pub unsafe fn copy_shared(src: *const u8, out: &mut [u8], source: Source) {
    if out.is_empty() {
        return;
    }
    match source {
        // SAFETY: forwarded to the caller (the units around the range are export storage).
        Source::Export => unsafe { copy_units(src, out) },
        // SAFETY: forwarded to the caller.
        Source::Elements { itemsize } => unsafe { copy_elements(src, out, itemsize) },
    }
}

/// Loads the 64-bit unit at `p`.
///
/// # Safety
///
/// `p` is 8-aligned, valid for reads of 8 bytes, and written only atomically meanwhile.
#[inline]
unsafe fn load_unit(p: *const u8) -> [u8; UNIT] {
    // SAFETY: by the contract. `from_ptr` wants a `*mut`, but the atomic is only loaded from.
    // Relaxed: the copy orders nothing else; what the host wrote before the call
    // happened-before it through the host's own synchronisation.
    unsafe { AtomicU64::from_ptr(p.cast::<u64>().cast_mut()) }
        .load(Relaxed)
        .to_ne_bytes()
}

/// [`Source::Export`]: every unit that `src..src + out.len()` touches, loaded whole.
///
/// # Safety
///
/// As [`copy_shared`] with `Source::Export`; `out` is not empty.
unsafe fn copy_units(src: *const u8, out: &mut [u8]) {
    let nbytes = out.len();
    let lead = src.addr() % UNIT;
    let mut done = 0;
    if lead != 0 {
        // The partial first unit: its bytes from `lead` on, as far as the range goes.
        // SAFETY: the unit holding `src` is part of the export's storage (the caller's
        // contract), the allocation `src` points into, and `src - lead` is 8-aligned.
        let unit = unsafe { load_unit(src.sub(lead)) };
        done = (UNIT - lead).min(nbytes);
        out[..done].copy_from_slice(&unit[lead..lead + done]);
    }
    let mut whole = out[done..].chunks_exact_mut(UNIT);
    for (j, chunk) in whole.by_ref().enumerate() {
        // SAFETY: `src + done` is 8-aligned (`done` is 0 with `src` aligned, or reaches the
        // next unit), and unit `j` from there lies inside the range.
        chunk.copy_from_slice(&unsafe { load_unit(src.add(done + UNIT * j)) });
    }
    let rest = whole.into_remainder();
    if !rest.is_empty() {
        // The partial last unit: its first bytes. It holds the range's last byte, so it is
        // part of the export's storage.
        let n = rest.len();
        // SAFETY: as above; it starts at the 8-aligned `src + nbytes - n`.
        let unit = unsafe { load_unit(src.add(nbytes - n)) };
        rest.copy_from_slice(&unit[..n]);
    }
}

/// [`Source::Elements`]: the partial first run, the whole units, the partial last run, loaded
/// as [`Plan`] says.
///
/// # Safety
///
/// As [`copy_shared`].
unsafe fn copy_elements(src: *const u8, out: &mut [u8], itemsize: usize) {
    let plan = Plan::new(src.addr(), out.len(), itemsize);
    // SAFETY: `0..head` is inside the range (forwarded to the caller).
    unsafe { copy_run(src, out, plan.run(0, plan.head)) };
    for (j, chunk) in out[plan.head..plan.body_end]
        .chunks_exact_mut(UNIT)
        .enumerate()
    {
        // SAFETY: `src + head` is 8-aligned (by `head`'s definition), and unit `j` from there
        // lies inside the range, which the caller vouches for.
        chunk.copy_from_slice(&unsafe { load_unit(src.add(plan.head + UNIT * j)) });
    }
    // SAFETY: `body_end..nbytes` is inside the range.
    unsafe { copy_run(src, out, plan.run(plan.body_end, out.len())) };
}

/// Loads each `(offset, width)` of `loads` from `src + offset` into `out[offset..]`.
///
/// # Safety
///
/// Every `src + offset..src + offset + width` is inside the range of [`copy_shared`]'s
/// contract (readable for the call, written only atomically) and aligned to `width`.
unsafe fn copy_run(src: *const u8, out: &mut [u8], loads: impl Iterator<Item = (usize, usize)>) {
    for (k, width) in loads {
        // SAFETY: by the contract; `width` is 4, 2 or 1. The atomics are only loaded from.
        // Relaxed as in `load_unit`.
        unsafe {
            let p = src.add(k);
            match width {
                4 => out[k..k + 4].copy_from_slice(
                    &AtomicU32::from_ptr(p.cast::<u32>().cast_mut())
                        .load(Relaxed)
                        .to_ne_bytes(),
                ),
                2 => out[k..k + 2].copy_from_slice(
                    &AtomicU16::from_ptr(p.cast::<u16>().cast_mut())
                        .load(Relaxed)
                        .to_ne_bytes(),
                ),
                _ => out[k] = AtomicU8::from_ptr(p.cast_mut()).load(Relaxed),
            }
        }
    }
}

/// How [`Source::Elements`] splits a copy of `nbytes` bytes at address `addr` into loads.
///
/// Every aligned 8-byte unit inside the range (`head..body_end`) is one 8-byte load. In the
/// partial runs before and after them, each load is the widest naturally aligned one of 4, 2
/// or 1 bytes that is at least `min` wide and fits in what is left of the run, where `min` is
/// the element size if `addr` is aligned to it (then so is every load's start, and each
/// element lies in exactly one load) and 1 otherwise; a tail shorter than `min` (not a whole
/// element) is read byte by byte.
struct Plan {
    addr: usize,
    head: usize,
    body_end: usize,
    min: usize,
}

impl Plan {
    fn new(addr: usize, nbytes: usize, itemsize: usize) -> Plan {
        let head = ((UNIT - addr % UNIT) % UNIT).min(nbytes);
        let min = if itemsize.is_power_of_two() && itemsize <= UNIT && addr % itemsize == 0 {
            itemsize
        } else {
            1
        };
        Plan {
            addr,
            head,
            body_end: head + (nbytes - head) / UNIT * UNIT,
            min,
        }
    }

    /// The loads of the partial run `from..to` (inside one unit), as `(offset, width)`.
    fn run(&self, from: usize, to: usize) -> impl Iterator<Item = (usize, usize)> + use<> {
        let (addr, min) = (self.addr, self.min);
        let mut k = from;
        std::iter::from_fn(move || {
            if k >= to {
                return None;
            }
            let width = [4, 2, 1]
                .into_iter()
                .find(|&w| w >= min && w <= to - k && (addr + k) % w == 0)
                .unwrap_or(1);
            let at = k;
            k += width;
            Some((at, width))
        })
    }

    /// Every load of the copy, in order (for tests: the copy itself loads the units directly).
    #[cfg(test)]
    fn loads(&self, nbytes: usize) -> Vec<(usize, usize)> {
        let mut out: Vec<_> = self.run(0, self.head).collect();
        out.extend((self.head..self.body_end).step_by(UNIT).map(|k| (k, UNIT)));
        out.extend(self.run(self.body_end, nbytes));
        out
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
                for source in [1, 2, 4, 8, 3]
                    .map(|itemsize| Source::Elements { itemsize })
                    .into_iter()
                    .chain([Source::Export])
                {
                    // SAFETY: `words` is valid and nobody writes it; the range is inside it,
                    // and so is every unit it touches (for `Export`).
                    let copy = unsafe { read_shared(p.add(start), end - start, source) };
                    assert_eq!(copy, bytes[start..end], "{start}..{end} {source:?}");
                }
            }
        }
        // SAFETY: zero bytes from any pointer.
        assert!(unsafe { read_shared(p, 0, Source::Export) }.is_empty());
    }

    /// No element aligned to its size is ever split between two loads, whatever the range;
    /// an element is read by a load at least as wide as itself; loads are naturally aligned.
    #[test]
    fn partial_runs_never_split_an_element() {
        for itemsize in [1, 2, 4, 8] {
            for first in 0..16 {
                for count in 0..12 {
                    let (start, end) = (first * itemsize, (first + count) * itemsize);
                    let mut next = 0;
                    let nbytes = end - start;
                    for (at, w) in Plan::new(64 + start, nbytes, itemsize).loads(nbytes) {
                        assert_eq!(at, next, "loads cover the range in order");
                        assert_eq!((64 + start + at) % w, 0, "a load is naturally aligned");
                        assert!(
                            w >= itemsize,
                            "{itemsize}-byte elements read {w} bytes wide"
                        );
                        next += w;
                    }
                    assert_eq!(next, end - start);
                }
            }
        }
    }
}
