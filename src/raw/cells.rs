//! The cells of a block: elements packed into 64-bit atomic units.
//!
//! A block's storage is `[AtomicU64]`. Element `i` of a word type `W` occupies bytes
//! `i * size_of::<W>() ..` of that memory, exactly as in a plain `[W]`, so exports and byte
//! copies see an ordinary array. But every atomic access is to a whole unit:
//!
//! - Rust's memory model forbids racing atomic accesses of different sizes to the same bytes,
//!   so readers cannot load a `u8` while the writer stores the `u64` around it. With one access
//!   size for everything, a writer can store eight bytes at a time.
//! - A bulk write (an append, a splice, a fill) therefore stores one unit per 8 bytes: 128
//!   stores for 1,024 `u8` elements instead of 1,024, and only the partial units at its two
//!   ends are read-modify-write.
//! - On x86-64 a single narrow word is read with one load of its own size (see `narrow`): for
//!   the memory model that is the Relaxed load of its unit, so the rule above still holds.
//!
//! Only the holder of the array's writer lock stores. A store into part of a unit keeps the
//! other slots: with a plain load and store when nobody else can write the unit, with a
//! compare-and-swap loop while the storage is exported (an export's holder may be writing a
//! neighbouring element through its pointer, and that write must not be lost).

use super::unit::{UNIT_BYTES, Unit};
use super::wide;
use crate::element::Word;
use crate::sync::Ordering::Relaxed;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ops::Range;

/// Whether a partial store must preserve writes made concurrently through an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sharing {
    /// Nobody but the lock holder writes these units (the storage is not exported, or the
    /// block is not published yet): a partial store is a load and a store.
    Exclusive,
    /// An export's holder may write other elements of these units: a partial store is a
    /// compare-and-swap loop, so their writes are never overwritten with stale bytes.
    Exported,
}

/// Loads of words narrower than a unit with one load of their own size, on x86-64.
///
/// Read through its unit, a `u8`, `u16` or `u32` costs a load of the unit and a shift (and
/// the unit's index and the shift count): two or three instructions more per read than a load
/// of the word, about 8% of a pinned `Reader::get` (u8 1.67 -> 1.55 ns, u32 1.43 -> 1.32 ns).
///
/// On x86-64 an aligned load of 1, 2 or 4 bytes is atomic (Intel SDM vol. 3A, "Guaranteed
/// Atomic Operations"; AMD APM vol. 2, "Memory Access Atomicity"), and so is every store to
/// the unit around it (a 64-bit store, or a 16-byte one from `wide.rs`). Such a load returns the
/// word's bytes as they were in the unit at one instant, which is exactly what a Relaxed load of
/// the unit followed by the shift returns: it can do nothing that load could not. So an `asm!`
/// load is, for the memory model, that Relaxed 64-bit load of the unit (the argument `wide.rs`
/// makes for its 16-byte stores, mirrored), and the language still sees one access size for
/// every cell. Miri and loom, which cannot see inside `asm!`, and `--cfg ftarray_no_asm` builds
/// (ThreadSanitizer) load the unit.
#[cfg(all(target_arch = "x86_64", not(any(loom, miri, ftarray_no_asm))))]
mod narrow {
    use crate::element::Word;
    use std::arch::asm;

    /// The word at `p`, loaded with one `mov` of its size (1, 2 or 4 bytes).
    ///
    /// # Safety
    ///
    /// `p` is the address of a word of type `W` (so aligned to its size) inside an initialised
    /// unit that stays allocated during the call, and `W` is narrower than a unit.
    #[inline(always)]
    pub(super) unsafe fn load<W: Word>(p: *const u8) -> W {
        let v: u32;
        // SAFETY: `p` is aligned and readable for `size_of::<W>()` bytes (the caller); the asm
        // reads those bytes only, with one atomic load (see the module docs), writes no memory
        // and no flags, and does not touch the stack.
        unsafe {
            match size_of::<W>() {
                1 => asm!(
                    "movzx {v:e}, byte ptr [{p}]",
                    p = in(reg) p, v = lateout(reg) v,
                    options(nostack, preserves_flags, readonly)
                ),
                2 => asm!(
                    "movzx {v:e}, word ptr [{p}]",
                    p = in(reg) p, v = lateout(reg) v,
                    options(nostack, preserves_flags, readonly)
                ),
                4 => asm!(
                    "mov {v:e}, dword ptr [{p}]",
                    p = in(reg) p, v = lateout(reg) v,
                    options(nostack, preserves_flags, readonly)
                ),
                _ => unreachable!("a unit-wide word is loaded as its unit"),
            }
        }
        // Slot 0 of a unit is its low bits on this (little-endian) target: a truncation.
        W::from_unit(u64::from(v), 0)
    }
}

/// Elements `start .. start + len` of a run of units, seen as words of type `W`.
///
/// Invariant: `start + len <= units.len() * W::PER_UNIT` (the words lie inside the units).
/// [`new`](Self::new) checks it and [`slice`](Self::slice) keeps it, and the loads rely on it
/// to index the units without a second bounds check.
pub(crate) struct Cells<'a, W: Word> {
    units: &'a [Unit],
    start: usize,
    len: usize,
    _word: PhantomData<W>,
}

impl<W: Word> Clone for Cells<'_, W> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<W: Word> Copy for Cells<'_, W> {}

impl<'a, W: Word> Cells<'a, W> {
    /// The first `len` words of `units`.
    ///
    /// # Panics
    ///
    /// If `units` holds fewer than `len` words.
    #[inline(always)]
    pub(crate) fn new(units: &'a [Unit], len: usize) -> Self {
        assert!(len <= units.len() * W::PER_UNIT, "Cells past the units");
        // SAFETY: just checked.
        unsafe { Self::new_unchecked(units, len) }
    }

    /// The first `len` words of `units`, without the check of [`new`](Self::new): for a
    /// block's cells, whose units were counted from the same capacity.
    ///
    /// # Safety
    ///
    /// `units` holds at least `len` words (`len <= units.len() * W::PER_UNIT`).
    #[inline(always)]
    pub(crate) unsafe fn new_unchecked(units: &'a [Unit], len: usize) -> Self {
        debug_assert!(len <= units.len() * W::PER_UNIT, "Cells past the units");
        Cells {
            units,
            start: 0,
            len,
            _word: PhantomData,
        }
    }

    /// No words at all.
    #[inline(always)]
    pub(crate) fn empty() -> Self {
        Self::new(&[], 0)
    }

    /// The number of words.
    #[inline(always)]
    pub(crate) fn len(self) -> usize {
        self.len
    }

    /// The words `range` of these.
    ///
    /// # Panics
    ///
    /// If `range` is reversed or past the length.
    #[inline(always)]
    pub(crate) fn slice(self, range: Range<usize>) -> Self {
        if range.start > range.end || range.end > self.len {
            range_out_of_range(range.start, range.end, self.len);
        }
        Cells {
            start: self.start + range.start,
            len: range.len(),
            ..self
        }
    }

    /// The unit holding word `index` and the word's slot in it.
    #[inline(always)]
    fn locate(self, index: usize) -> (&'a Unit, usize) {
        if index >= self.len {
            index_out_of_range(index, self.len);
        }
        let at = self.start + index;
        (&self.units[at / W::PER_UNIT], at % W::PER_UNIT)
    }

    /// Word `index` (a Relaxed load of its unit: readers validate, writers hold the lock).
    ///
    /// # Panics
    ///
    /// If `index` is past the length.
    #[inline(always)]
    pub(crate) fn load(self, index: usize) -> W {
        if index >= self.len {
            index_out_of_range(index, self.len);
        }
        // SAFETY: just checked.
        unsafe { self.load_unchecked(index) }
    }

    /// Word `index`, without the check of [`load`](Self::load): one bounds check per read (the
    /// caller's, against the length), not a second one against the units.
    ///
    /// # Safety
    ///
    /// `index < self.len()`.
    #[inline(always)]
    unsafe fn load_unchecked(self, index: usize) -> W {
        let at = self.start + index;
        #[cfg(all(target_arch = "x86_64", not(any(loom, miri, ftarray_no_asm))))]
        if W::PER_UNIT > 1 {
            // SAFETY: as below, word `at` lies inside unit `at / PER_UNIT`, which exists and is
            // initialised (a block's units all are) and borrowed for `'a`; word `at` is at
            // `at * size_of::<W>()` bytes from the first unit (`cells.rs` docs), aligned.
            let p = unsafe { self.units.as_ptr().cast::<W>().add(at) };
            // SAFETY: `p` is that word, narrower than a unit.
            return unsafe { narrow::load::<W>(p.cast::<u8>()) };
        }
        // SAFETY: `at < start + len <= units.len() * PER_UNIT` (the caller's bound and the
        // invariant of `Cells`), so unit `at / PER_UNIT` exists.
        let unit = unsafe { self.units.get_unchecked(at / W::PER_UNIT) };
        W::from_unit(unit.load(Relaxed), at % W::PER_UNIT)
    }

    /// Word `index`, if it is below the length.
    #[inline(always)]
    pub(crate) fn get(self, index: usize) -> Option<W> {
        // SAFETY: `index < len`, checked first.
        (index < self.len).then(|| unsafe { self.load_unchecked(index) })
    }

    /// The words in order, each a Relaxed load.
    #[inline(always)]
    pub(crate) fn iter(self) -> impl ExactSizeIterator<Item = W> + 'a {
        // SAFETY: every `i` of `0..len` is below the length.
        (0..self.len).map(move |i| unsafe { self.load_unchecked(i) })
    }

    /// Loads these words into `out` as their native-order bytes, one Relaxed load per unit
    /// (two units per instruction where [`wide::load_units`] can; readers validate the whole
    /// copy afterwards; writers hold the lock): a 1M-element copy is then an eighth as many
    /// loads for `u8` as for `u64`, instead of one load per word.
    ///
    /// # Panics
    ///
    /// If `out` is not exactly `len` words long.
    #[inline]
    pub(crate) fn load_bytes(self, out: &mut [MaybeUninit<u8>]) {
        assert_eq!(
            out.len(),
            self.len * size_of::<W>(),
            "Cells::load_bytes: wrong length"
        );
        let spans = self.spans();
        let (head, rest) = out.split_at_mut(spans.head);
        let (body, tail) = rest.split_at_mut(spans.whole * UNIT_BYTES);
        if !head.is_empty() {
            let bytes = self.units[spans.head_unit].load(Relaxed).to_ne_bytes();
            write_bytes(head, &bytes[spans.head_at..spans.head_at + head.len()]);
        }
        wide::load_units(&self.units[spans.body()], body);
        if !tail.is_empty() {
            let bytes = self.units[spans.body().end].load(Relaxed).to_ne_bytes();
            write_bytes(tail, &bytes[..tail.len()]);
        }
    }

    /// How these words' bytes fall on the units.
    #[inline(always)]
    fn spans(self) -> Spans {
        let offset = self.start * size_of::<W>();
        let n = self.len * size_of::<W>();
        let head = ((UNIT_BYTES - offset % UNIT_BYTES) % UNIT_BYTES).min(n);
        Spans {
            head_unit: offset / UNIT_BYTES,
            head_at: offset % UNIT_BYTES,
            head,
            first: (offset + head) / UNIT_BYTES,
            whole: (n - head) / UNIT_BYTES,
        }
    }

    /// The address of the first word (dangling but aligned when there are no units).
    #[inline(always)]
    pub(crate) fn as_ptr(self) -> *const u8 {
        self.units
            .as_ptr()
            .cast::<u8>()
            .wrapping_add(self.start * size_of::<W>())
    }

    /// Stores `value` as word `index`. Only the writer-lock holder stores (Relaxed: the caller
    /// stores inside a step, or past the published length behind the append fence).
    ///
    /// # Panics
    ///
    /// If `index` is past the length.
    #[inline(always)]
    pub(crate) fn store(self, index: usize, value: W, sharing: Sharing) {
        self.at(index).store(value, sharing);
    }

    /// Word `index` on its own (its unit and its slot there), for a writer that stores it
    /// inside a step's closure: a whole `Cells` captured there is copied (32 bytes, with
    /// 16-byte loads of fields written as 8-byte stores, which cannot be forwarded) on every
    /// `a[i] = v`; this is two words used one by one.
    ///
    /// # Panics
    ///
    /// If `index` is past the length.
    #[inline(always)]
    pub(crate) fn at(self, index: usize) -> CellAt<'a, W> {
        let (unit, slot) = self.locate(index);
        CellAt {
            unit,
            slot,
            _words: PhantomData,
        }
    }

    /// Stores `value` as word `index` and returns the word it replaced, read in the same atomic
    /// step (while exported, a write through the export may have changed the word since the
    /// caller last loaded it: the word returned is the one really replaced). Writer-lock holder
    /// only, as [`store`](Self::store).
    ///
    /// # Panics
    ///
    /// If `index` is past the length.
    #[inline(always)]
    pub(crate) fn exchange(self, index: usize, value: W, sharing: Sharing) -> W {
        let (unit, slot) = self.locate(index);
        let old = match sharing {
            Sharing::Exclusive => {
                let old = unit.load(Relaxed);
                unit.store(value.into_unit(old, slot), Relaxed);
                old
            }
            // Relaxed: as in `update`; the version step orders the store for readers.
            Sharing::Exported => unit
                .fetch_update(Relaxed, Relaxed, |old| Some(value.into_unit(old, slot)))
                .unwrap_or_else(|old| old),
        };
        W::from_unit(old, slot)
    }

    /// Stores `value` as word `index` if the word still holds `base` (what the caller read
    /// earlier in its critical section), and returns the word found there.
    ///
    /// Only a write through an export can have changed the word in between (the caller holds
    /// the lock). That write is kept: it counts as made just after the caller's operation,
    /// which had read `base`. Without an export this is a plain store (nobody else writes).
    /// Writer-lock holder only, as [`store`](Self::store).
    ///
    /// # Panics
    ///
    /// If `index` is past the length.
    #[inline(always)]
    pub(crate) fn store_if_unchanged(self, index: usize, base: W, value: W, sharing: Sharing) -> W {
        if sharing == Sharing::Exclusive {
            self.store(index, value, sharing);
            return base;
        }
        let (unit, slot) = self.locate(index);
        let mut current = unit.load(Relaxed);
        loop {
            let seen = W::from_unit(current, slot);
            if seen != base {
                return seen;
            }
            // Relaxed: as in `update`.
            match unit.compare_exchange_weak(
                current,
                value.into_unit(current, slot),
                Relaxed,
                Relaxed,
            ) {
                Ok(_) => return seen,
                Err(now) => current = now,
            }
        }
    }

    /// Writes back a rewrite of these words while the storage is exported: `new` (native-order
    /// bytes, as [`store_bytes`](Self::store_bytes)) was computed from `base`, the contents the
    /// caller read earlier in its critical section. Each unit is replaced by a compare-and-swap
    /// against what it holds now, word by word: a word still equal to its `base` value gets its
    /// `new` value, and a word that differs (a write through the export landed since `base` was
    /// read) keeps that write, which counts as made just after the rewrite. Words outside these
    /// cells keep theirs. So no write through an export is ever overwritten with a stale copy.
    ///
    /// Writer-lock holder only, as [`store`](Self::store).
    ///
    /// # Panics
    ///
    /// If `new` or `base` is not exactly `len` words.
    pub(crate) fn store_bytes_over(self, new: &[u8], base: &[u8]) {
        let size = size_of::<W>();
        assert!(
            new.len() == self.len * size && base.len() == new.len(),
            "Cells::store_bytes_over: wrong length"
        );
        let word_at = |bytes: &[u8], k: usize| -> W { word(&bytes[k * size..][..size]) };
        let mut k = 0;
        while k < self.len {
            let at = self.start + k;
            let (unit, first) = (&self.units[at / W::PER_UNIT], at % W::PER_UNIT);
            let n = (W::PER_UNIT - first).min(self.len - k);
            let mut current = unit.load(Relaxed);
            loop {
                let mut desired = current;
                for s in 0..n {
                    if W::from_unit(current, first + s) == word_at(base, k + s) {
                        desired = word_at(new, k + s).into_unit(desired, first + s);
                    }
                }
                if desired == current {
                    break;
                }
                // Relaxed: as in `update`.
                match unit.compare_exchange_weak(current, desired, Relaxed, Relaxed) {
                    Ok(_) => break,
                    Err(now) => current = now,
                }
            }
            k += n;
        }
    }

    /// Stores the words of `src` (as many; another array's cells, read optimistically) as these
    /// words: what [`store_bytes`](Self::store_bytes) of their bytes would store. Where both
    /// ranges start at a unit boundary their whole units go unit to unit
    /// ([`wide::copy_units`]); the rest through a buffer on the stack, a few kilobytes at a
    /// time (both copies stay in the first-level cache). Writer-lock holder only, as
    /// [`store`](Self::store).
    ///
    /// # Panics
    ///
    /// If the lengths differ.
    pub(crate) fn store_from(self, src: Cells<'_, W>, sharing: Sharing) {
        const CHUNK_BYTES: usize = 4096;
        assert_eq!(src.len, self.len, "Cells::store_from: lengths differ");
        let mut done = 0;
        if self.start % W::PER_UNIT == 0 && src.start % W::PER_UNIT == 0 {
            let whole = self.len / W::PER_UNIT;
            let (d, s) = (self.start / W::PER_UNIT, src.start / W::PER_UNIT);
            wide::copy_units(&self.units[d..d + whole], &src.units[s..s + whole]);
            done = whole * W::PER_UNIT;
        }
        let mut buf = [MaybeUninit::<u8>::uninit(); CHUNK_BYTES];
        let per_chunk = CHUNK_BYTES / size_of::<W>();
        while done < self.len {
            let k = per_chunk.min(self.len - done);
            let out = &mut buf[..k * size_of::<W>()];
            src.slice(done..done + k).load_bytes(out);
            // SAFETY: `load_bytes` wrote every byte of `out` (it panics otherwise), and an
            // initialised `MaybeUninit<u8>` is a `u8`.
            let bytes = unsafe { &*(std::ptr::from_mut(out) as *const [u8]) };
            self.slice(done..done + k).store_bytes(bytes, sharing);
            done += k;
        }
    }

    /// Stores the words whose native-order bytes are `bytes` as these words, whole units at a
    /// time where they cover a unit. Writer-lock holder only, as [`store`](Self::store).
    ///
    /// # Panics
    ///
    /// If `bytes` is not exactly `len` words.
    #[inline]
    pub(crate) fn store_bytes(self, bytes: &[u8], sharing: Sharing) {
        assert_eq!(
            bytes.len(),
            self.len * size_of::<W>(),
            "Cells::store_bytes: wrong length"
        );
        let spans = self.spans();
        let (head, rest) = bytes.split_at(spans.head);
        let (body, tail) = rest.split_at(spans.whole * UNIT_BYTES);
        if !head.is_empty() {
            store_part(&self.units[spans.head_unit], spans.head_at, head, sharing);
        }
        wide::store_units(&self.units[spans.body()], body);
        if !tail.is_empty() {
            store_part(&self.units[spans.body().end], 0, tail, sharing);
        }
    }

    /// Moves words `src .. src + n` to `dst .. dst + n` (the two may overlap, as in
    /// `memmove`), whole units at a time where the destination covers a unit. Words outside
    /// the destination keep their values; the source words that are not also destination keep
    /// theirs.
    ///
    /// A destination of 64 bytes or more is moved as a run of 16-byte-aligned whole units
    /// ([`wide::move_units`]) between two ends of at most 15 bytes, each stored as at most two
    /// unit read-modify-writes whose new bytes are gathered from their source units (see
    /// `end_units`). Both ends are read before anything is stored, and the three parts are
    /// stored in the order that stores over a source byte only after reading it.
    ///
    /// # Safety
    ///
    /// No other thread writes these cells during the call: the caller holds the array's writer
    /// lock and the storage is not exported (or the block is not published yet). The source is
    /// read with plain loads, which would race with any concurrent store, atomic or not.
    ///
    /// # Panics
    ///
    /// If either range is past the length.
    #[inline]
    pub(crate) unsafe fn move_words(self, dst: usize, src: usize, n: usize) {
        if dst.max(src).checked_add(n).is_none_or(|end| end > self.len) {
            range_out_of_range(dst.max(src), dst.max(src).saturating_add(n), self.len);
        }
        let size = size_of::<W>();
        if dst == src || n == 0 {
            return;
        }
        if n * size < 64 || cfg!(loom) {
            // Word by word, in the direction that reads each word before overwriting it.
            let one = |i: usize| self.store(dst + i, self.load(src + i), Sharing::Exclusive);
            if dst < src {
                (0..n).for_each(one);
            } else {
                (0..n).rev().for_each(one);
            }
            return;
        }
        #[cfg(not(loom))]
        {
            let base = self.units.as_ptr().cast::<u8>();
            // Byte offsets from `base` of the destination, and the run of whole units inside
            // it whose address is 16-byte aligned: [a, b).
            let (d, s) = ((self.start + dst) * size, (self.start + src) * size);
            let a = d + (16 - (base.addr() + d) % 16) % 16;
            let b = d + n * size - (base.addr() + d + n * size) % 16;
            debug_assert!(a < b && (b - a) % 16 == 0 && a % size == 0 && b % size == 0);
            // The units of the two ends (at most 15 bytes each, so at most two units each),
            // gathered from their source units before anything is stored.
            let delta = s.wrapping_sub(d);
            let head = end_units(self.units, d, a, delta);
            let tail = end_units(self.units, b, d + n * size, delta);
            let store = |end: [Option<EndUnit>; 2]| {
                for e in end.into_iter().flatten() {
                    e.store(self.units);
                }
            };
            let store_head = || store(head);
            let store_tail = || store(tail);
            let wide_len = (b - a) / UNIT_BYTES;
            let wide_from = s + (a - d);
            let units = &self.units[a / UNIT_BYTES..a / UNIT_BYTES + wide_len];
            let descending = dst > src;
            // The source run `wide_from ..` lies inside words `src .. src + n` (it is the
            // destination run shifted by `s - d`), initialised units below the length.
            let run = || {
                // SAFETY: the source run is readable (above), nobody else writes it (contract),
                // and `descending` is true exactly when the destination lies above the source.
                unsafe { wide::move_units(units, base.add(wide_from), descending) }
            };
            // Ascending, the head lies below every source byte the run reads, and the run's
            // stores may cover the tail's source: head, run, tail. Descending, mirrored.
            if descending {
                store_tail();
                run();
                store_head();
            } else {
                store_head();
                run();
                store_tail();
            }
        }
    }

    /// Stores `value` as every one of these words, whole units at a time. Writer-lock holder
    /// only, as [`store`](Self::store).
    #[inline]
    pub(crate) fn fill(self, value: W, sharing: Sharing) {
        let per = W::PER_UNIT;
        let (start, end) = (self.start, self.start + self.len);
        // The words before the first whole unit and from the last whole unit on.
        let body_start = start.next_multiple_of(per).min(end);
        let body_end = (end / per * per).max(body_start);
        for i in start..body_start {
            self.store(i - start, value, sharing);
        }
        let pattern = value.splat();
        for unit in &self.units[body_start / per..body_end / per] {
            unit.store(pattern, Relaxed);
        }
        for i in body_end..end {
            self.store(i - start, value, sharing);
        }
    }
}

/// How a run of bytes falls on the units: `head` bytes from byte `head_at` of unit
/// `head_unit` (a partial unit, or none), then `whole` whole units from unit `first`, then the
/// rest (a partial unit starting at byte 0 of the unit after them).
struct Spans {
    head_unit: usize,
    head_at: usize,
    head: usize,
    first: usize,
    whole: usize,
}

impl Spans {
    /// The whole units.
    #[inline(always)]
    fn body(&self) -> Range<usize> {
        self.first..self.first + self.whole
    }
}

/// The word whose native-order bytes are `bytes` (exactly one word).
#[inline(always)]
fn word<W: Word>(bytes: &[u8]) -> W {
    bytemuck::pod_read_unaligned(bytes)
}

/// Initialises `dst` with `src` (of the same length).
#[inline(always)]
fn write_bytes(dst: &mut [MaybeUninit<u8>], src: &[u8]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        d.write(s);
    }
}

/// The panic of an index past the cells' length, out of line and taking values: an `assert!`
/// formats its arguments by reference, which kept a whole `Cells` on the stack of every caller
/// (and copied it with loads the store buffer cannot forward).
#[cold]
#[inline(never)]
#[track_caller]
fn index_out_of_range(index: usize, len: usize) -> ! {
    panic!("Cells: index {index} out of 0..{len}")
}

/// The panic of a range reversed or past the cells' length (see [`index_out_of_range`]).
#[cold]
#[inline(never)]
#[track_caller]
fn range_out_of_range(start: usize, end: usize, len: usize) -> ! {
    panic!("Cells: {start}..{end} out of 0..{len}")
}

/// One word of a block's cells: its unit and its slot in that unit ([`Cells::at`]).
#[derive(Clone, Copy)]
pub(crate) struct CellAt<'a, W: Word> {
    unit: &'a Unit,
    slot: usize,
    _words: PhantomData<W>,
}

impl<W: Word> CellAt<'_, W> {
    /// Stores `value` as this word (writer-lock holder only, as [`Cells::store`]), keeping
    /// the unit's other words.
    #[inline(always)]
    pub(crate) fn store(&self, value: W, sharing: Sharing) {
        if W::PER_UNIT == 1 {
            self.unit.store(value.into_unit(0, 0), Relaxed);
        } else {
            let slot = self.slot;
            update(self.unit, sharing, |old| value.into_unit(old, slot));
        }
    }
}

/// Replaces `unit` by `f(unit)` (writer-lock holder only).
#[inline(always)]
fn update(unit: &Unit, sharing: Sharing, f: impl Fn(u64) -> u64) {
    match sharing {
        Sharing::Exclusive => unit.store(f(unit.load(Relaxed)), Relaxed),
        Sharing::Exported => {
            let mut old = unit.load(Relaxed);
            // Relaxed: the unit's other bytes are only kept, not published by this write; the
            // lock and the version step order the store for readers as any other store.
            while let Err(seen) = unit.compare_exchange_weak(old, f(old), Relaxed, Relaxed) {
                old = seen;
            }
        }
    }
}

/// Stores `src` as bytes `at .. at + src.len()` of `unit`, keeping its other bytes.
#[inline]
fn store_part(unit: &Unit, at: usize, src: &[u8], sharing: Sharing) {
    update(unit, sharing, |old| {
        let mut bytes = old.to_ne_bytes();
        bytes[at..at + src.len()].copy_from_slice(src);
        u64::from_ne_bytes(bytes)
    });
}

/// One unit at an end of a move: the bytes `mask` of unit `unit` get `bits`, the others keep
/// theirs. Both are in little-endian order (byte `k` of the unit's memory is bits `8k..8k+8`),
/// whatever the target's byte order.
#[cfg_attr(loom, allow(dead_code))]
#[derive(Clone, Copy)]
struct EndUnit {
    unit: usize,
    mask: u64,
    bits: u64,
}

impl EndUnit {
    /// Stores the new bytes, keeping the unit's others (writer-lock holder, no export).
    #[cfg_attr(loom, allow(dead_code))]
    #[inline(always)]
    fn store(self, units: &[Unit]) {
        let unit = &units[self.unit];
        let old = u64::from_le_bytes(unit.load(Relaxed).to_ne_bytes());
        let new = (old & !self.mask) | (self.bits & self.mask);
        unit.store(u64::from_ne_bytes(new.to_le_bytes()), Relaxed);
    }
}

/// The units covering bytes `lo..hi` of `units` (fewer than 16 bytes, so at most two units),
/// each with the bytes that a move shifting everything by `delta` (source offset minus
/// destination offset, wrapping) brings into them, loaded now from the one or two source
/// units that hold them.
///
/// A move's ends are done this way, a unit at a time, instead of a word at a time: for `u8`
/// up to 15 read-modify-writes per end become at most two.
#[cfg_attr(loom, allow(dead_code))]
#[inline(always)]
fn end_units(units: &[Unit], lo: usize, hi: usize, delta: usize) -> [Option<EndUnit>; 2] {
    debug_assert!(hi - lo < 16);
    let le = |k: usize| u128::from(u64::from_le_bytes(units[k].load(Relaxed).to_ne_bytes()));
    let one = |first: usize, last: usize| {
        // This unit's destination bytes, `first..last`, come from `first + delta ..`, which
        // lie in one or two source units.
        let unit = first / UNIT_BYTES;
        let (src_first, src_last) = (first.wrapping_add(delta), last.wrapping_add(delta));
        let (su0, su1) = (src_first / UNIT_BYTES, (src_last - 1) / UNIT_BYTES);
        let v = le(su0) | if su1 != su0 { le(su1) << 64 } else { 0 };
        // Byte `p` of the unit comes from byte `p + shift` of `v` (`shift` is within -7..=7:
        // `v` starts at most 7 bytes before the source of byte `first`).
        let shift = (unit * UNIT_BYTES)
            .wrapping_add(delta)
            .wrapping_sub(su0 * UNIT_BYTES) as isize;
        let bits = if shift >= 0 {
            (v >> (8 * shift)) as u64
        } else {
            (v << (8 * -shift)) as u64
        };
        let width = 8 * (last - first);
        let mask = (((1u128 << width) - 1) << (8 * (first - unit * UNIT_BYTES))) as u64;
        EndUnit { unit, mask, bits }
    };
    let mut out = [None, None];
    let mut at = lo;
    for slot in &mut out {
        if at < hi {
            let last = hi.min((at / UNIT_BYTES + 1) * UNIT_BYTES);
            *slot = Some(one(at, last));
            at = last;
        }
    }
    out
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn units(n: usize) -> Vec<Unit> {
        (0..n).map(|_| Unit::new(0)).collect()
    }

    fn bytes_of(units: &[Unit]) -> Vec<u8> {
        units
            .iter()
            .flat_map(|u| u.load(Relaxed).to_ne_bytes())
            .collect()
    }

    /// Every sub-range store (bytes and fill, both sharings) changes exactly its own bytes, for
    /// every word size and every alignment of the range against the units.
    fn stores_touch_only_their_range<W: Word + std::fmt::Debug>() {
        let size = size_of::<W>();
        let cap = 4 * W::PER_UNIT;
        for sharing in [Sharing::Exclusive, Sharing::Exported] {
            for start in 0..=cap {
                for end in start..=cap {
                    let u = units(4);
                    for unit in &u {
                        unit.store(u64::from_ne_bytes([0xAB; 8]), Relaxed);
                    }
                    let cells = Cells::<W>::new(&u, cap).slice(start..end);
                    let src: Vec<u8> = (0..(end - start) * size).map(|k| k as u8).collect();
                    cells.store_bytes(&src, sharing);
                    let mut expected = vec![0xAB; 32];
                    expected[start * size..end * size].copy_from_slice(&src);
                    assert_eq!(bytes_of(&u), expected, "store_bytes {start}..{end}");
                    for (k, v) in cells.iter().enumerate() {
                        let want: W = bytemuck::pod_read_unaligned(&src[k * size..][..size]);
                        assert_eq!(v, want);
                    }

                    let value: W = bytemuck::pod_read_unaligned(&[0x5Cu8; 8][..size]);
                    cells.fill(value, sharing);
                    expected[start * size..end * size].fill(0x5C);
                    assert_eq!(bytes_of(&u), expected, "fill {start}..{end}");
                }
            }
        }
    }

    #[test]
    fn partial_and_whole_unit_stores_keep_their_neighbours() {
        stores_touch_only_their_range::<u8>();
        stores_touch_only_their_range::<u16>();
        stores_touch_only_their_range::<u32>();
        stores_touch_only_their_range::<u64>();
    }

    /// `load_bytes` copies exactly the range's bytes, for every word size and every alignment
    /// of the range against the units (the head and tail units are partial).
    fn loads_copy_exactly_their_range<W: Word>() {
        let size = size_of::<W>();
        let cap = 4 * W::PER_UNIT;
        let u = units(4);
        let all: Vec<u8> = (0..32u8).map(|k| k.wrapping_mul(37) ^ 0x5A).collect();
        for (unit, chunk) in u.iter().zip(all.chunks_exact(8)) {
            unit.store(u64::from_ne_bytes(chunk.try_into().unwrap()), Relaxed);
        }
        for start in 0..=cap {
            for end in start..=cap {
                let cells = Cells::<W>::new(&u, cap).slice(start..end);
                // One guard byte past the end: `load_bytes` must not write beyond its slice.
                let n = (end - start) * size;
                let mut out = vec![MaybeUninit::new(0xEEu8); n + 1];
                cells.load_bytes(&mut out[..n]);
                // SAFETY: every byte was initialised above and only overwritten with bytes.
                let got: Vec<u8> = out.iter().map(|b| unsafe { b.assume_init() }).collect();
                assert_eq!(&got[..n], &all[start * size..end * size], "{start}..{end}");
                assert_eq!(got[n], 0xEE, "{start}..{end}: wrote past the end");
            }
        }
    }

    /// `move_words` gives what `copy_within` on the bytes gives, for overlapping and disjoint
    /// moves up and down, lengths below and above the 64-byte wide threshold, and both
    /// alignments of the storage against 16 bytes; bytes outside the destination keep theirs.
    fn moves_match_copy_within<W: Word>() {
        let size = size_of::<W>();
        let all = units(41);
        let (sizes, offsets): (&[usize], Vec<usize>) = if cfg!(miri) {
            (&[3, 70], vec![0, 5])
        } else {
            (
                &[0, 1, 3, 8, 15, 16, 17, 40, 63, 64, 65, 100, 200],
                (0..=17).collect(),
            )
        };
        for skew in 0..2 {
            let u = &all[skew..skew + 40];
            let cap = 40 * W::PER_UNIT;
            for &bytes in sizes {
                let n = bytes / size;
                let mut places: Vec<usize> = offsets.clone();
                places.push(cap - n);
                places.retain(|&p| p + n <= cap);
                for &src in &places {
                    for &dst in &places {
                        let init: Vec<u8> = (0..320).map(|k| (k * 7 + 3) as u8).collect();
                        for (unit, chunk) in u.iter().zip(init.chunks_exact(8)) {
                            unit.store(u64::from_ne_bytes(chunk.try_into().unwrap()), Relaxed);
                        }
                        // SAFETY: this thread alone uses `u`.
                        unsafe { Cells::<W>::new(u, cap).move_words(dst, src, n) };
                        let mut want = init.clone();
                        want.copy_within(src * size..(src + n) * size, dst * size);
                        assert_eq!(
                            bytes_of(u),
                            want,
                            "{size}-byte words {src} -> {dst}, {n} words, skew {skew}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn word_moves_match_copy_within() {
        moves_match_copy_within::<u8>();
        moves_match_copy_within::<u16>();
        moves_match_copy_within::<u32>();
        moves_match_copy_within::<u64>();
    }

    #[test]
    #[should_panic(expected = "out of 0..8")]
    fn a_move_past_the_length_panics() {
        let u = units(2);
        // SAFETY: this thread alone uses `u`.
        unsafe { Cells::<u16>::new(&u, 8).move_words(5, 0, 4) };
    }

    #[test]
    fn bulk_loads_copy_partial_and_whole_units() {
        loads_copy_exactly_their_range::<u8>();
        loads_copy_exactly_their_range::<u16>();
        loads_copy_exactly_their_range::<u32>();
        loads_copy_exactly_their_range::<u64>();
    }

    #[test]
    #[should_panic(expected = "wrong length")]
    fn bulk_loads_into_a_wrong_length_panic() {
        let u = units(1);
        let mut out = [MaybeUninit::new(0u8); 3];
        Cells::<u16>::new(&u, 4).load_bytes(&mut out);
    }

    #[test]
    fn single_stores_and_loads_address_the_right_bytes() {
        let u = units(2);
        let cells = Cells::<u16>::new(&u, 8).slice(3..7);
        cells.store(0, 0x0102, Sharing::Exclusive);
        cells.store(3, 0x0304, Sharing::Exported);
        let bytes = bytes_of(&u);
        assert_eq!(&bytes[6..8], &0x0102u16.to_ne_bytes());
        assert_eq!(&bytes[12..14], &0x0304u16.to_ne_bytes());
        assert_eq!(cells.get(0), Some(0x0102));
        assert_eq!(cells.get(3), Some(0x0304));
        assert_eq!(cells.get(4), None);
        assert_eq!(
            cells.as_ptr(),
            u.as_ptr().cast::<u8>().wrapping_add(6),
            "as_ptr points at the first word"
        );
    }

    #[test]
    #[should_panic(expected = "out of 0..4")]
    fn slices_past_the_end_panic() {
        let u = units(1);
        let _ = Cells::<u16>::new(&u, 4).slice(2..5);
    }
}
