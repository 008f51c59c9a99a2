//! Whole-unit stores and loads, two units per instruction where the CPU makes that atomic.
//!
//! A bulk write (an append, an in-place splice or rewrite) stores whole 64-bit units, and the
//! plain way is one `AtomicU64::store` per unit: 512 stores for 4 KiB. Rust has no wider atomic
//! that it could mix with the readers' 64-bit loads (racing atomic accesses of different sizes
//! to the same bytes are undefined behaviour), and the compiler never merges atomic stores, so
//! that loop is all the language gives us.
//!
//! On x86-64 CPUs from Intel and AMD that support AVX, an aligned 16-byte `vmovdqa` store is
//! atomic as a whole (Intel SDM vol. 3A, "Guaranteed Atomic Operations"; AMD APM vol. 2, "Memory
//! Access Atomicity"; the same guarantee `portable-atomic` builds its 128-bit atomics on). Such a
//! store can do nothing that two Relaxed 64-bit stores to its two units, one after the other,
//! could not also do, so an `asm!` block of them is, for the memory model, that sequence of
//! Relaxed stores, and readers may load the units concurrently as before (the argument of the
//! `atomic-memcpy` crate for its inline-assembly copies). With four of them per loop iteration a
//! 4 KiB store takes about 45 ns on this project's machine instead of about 78 ns.
//!
//! Bulk *loads* (a validated copy: `a[i:j]`, `a + b`, `to_vec`, `tobytes`) have the same
//! problem the other way round, and the same answer: an aligned 16-byte `vmovdqa` load is
//! atomic as a whole on the same CPUs, so it is two Relaxed 64-bit loads of its two units, and
//! [`load_units`] copies four such pairs per loop iteration into the caller's private buffer.
//!
//! Everywhere else (other architectures and vendors, CPUs without AVX, Miri and loom, which
//! cannot see inside `asm!`, and builds with `--cfg ftarray_no_asm`, which the sanitizer script
//! sets so that ThreadSanitizer sees every store) the units are stored one by one.
//!
//! The detection reads the CPU's vendor and feature bits, which a binary translator or
//! emulator (Rosetta 2, Intel SDE, QEMU's TCG) reports as those of the CPU it imitates while
//! splitting a 16-byte store into smaller ones: it cannot tell such a host from the real CPU.
//! Setting the environment variable `FTARRAY_NO_WIDE_STORES` (to anything but `0`) before the
//! first bulk store or load turns the wide stores and loads off for the process.

use super::unit::{UNIT_BYTES, Unit};
use crate::sync::Ordering::Relaxed;
use std::mem::MaybeUninit;

/// Stores `src` into `units`, 8 bytes (native order) per unit, as Relaxed whole-unit stores:
/// two units per instruction where [`wide_available`] says so. The writer-lock holder only
/// (as [`Cells::store_bytes`](super::cells::Cells::store_bytes)).
///
/// # Panics
///
/// If `src` is not exactly `units.len()` units long.
#[inline(always)]
pub(crate) fn store_units(units: &[Unit], src: &[u8]) {
    assert_eq!(
        src.len(),
        units.len() * UNIT_BYTES,
        "store_units: wrong length"
    );
    #[cfg(all(target_arch = "x86_64", not(any(loom, miri, ftarray_no_asm))))]
    if units.len() >= x86::MIN_UNITS && x86::available() {
        // SAFETY: `available` checked that this CPU makes aligned 16-byte stores atomic; `src`
        // is as long as `units` (asserted above), and nothing writes it while it is borrowed,
        // so it is not part of `units` either: any direction is right, ascending included.
        unsafe { x86::move_units(units, src.as_ptr(), false) };
        return;
    }
    store_scalar(units, src);
}

/// Copies the units `src` into `dst` (as long), as a Relaxed whole-unit load and store per unit:
/// two units per instruction where [`wide_available`] says so and both ranges lie at the same
/// offset from a 16-byte boundary. For a copy from another array's cells, read optimistically
/// (whose writers store atomically meanwhile), into the writer's own: units past its length, or
/// a block nobody sees yet. Ranges that overlap get some mix of old and new values (never a
/// torn unit); no caller passes such.
///
/// # Panics
///
/// If the lengths differ.
#[inline(always)]
pub(crate) fn copy_units(dst: &[Unit], src: &[Unit]) {
    assert_eq!(dst.len(), src.len(), "copy_units: lengths differ");
    #[cfg(all(target_arch = "x86_64", not(any(loom, miri, ftarray_no_asm))))]
    if dst.len() >= x86::MIN_UNITS
        && (dst.as_ptr().addr() ^ src.as_ptr().addr()) % 16 == 0
        && x86::available()
    {
        // SAFETY: `available` checked that this CPU makes aligned 16-byte loads and stores
        // atomic; the two ranges are as long (asserted above) and at the same offset from a
        // 16-byte boundary (checked).
        unsafe { x86::copy_units(dst, src) };
        return;
    }
    for (d, s) in dst.iter().zip(src) {
        d.store(s.load(Relaxed), Relaxed);
    }
}

/// Whether bulk stores use the two-units-per-instruction path on this CPU and build.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn wide_available() -> bool {
    #[cfg(all(target_arch = "x86_64", not(any(loom, miri, ftarray_no_asm))))]
    return x86::available();
    #[cfg(not(all(target_arch = "x86_64", not(any(loom, miri, ftarray_no_asm)))))]
    false
}

/// Whether the environment turns the wide stores off (`FTARRAY_NO_WIDE_STORES` set to anything
/// but `0` or the empty string): the run-time opt-out for hosts the detection cannot see
/// through, such as binary translators. Read once, by the detection.
#[cfg_attr(
    not(all(target_arch = "x86_64", not(any(loom, miri, ftarray_no_asm)))),
    allow(dead_code)
)]
fn turned_off() -> bool {
    std::env::var_os(NO_WIDE_STORES).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The environment variable that turns the wide stores off (see the module docs).
pub(crate) const NO_WIDE_STORES: &str = "FTARRAY_NO_WIDE_STORES";

/// One Relaxed store per unit (lengths as [`store_units`]).
#[inline(always)]
fn store_scalar(units: &[Unit], src: &[u8]) {
    for (unit, chunk) in units.iter().zip(src.chunks_exact(UNIT_BYTES)) {
        unit.store(
            u64::from_ne_bytes(chunk.try_into().expect("8 bytes")),
            Relaxed,
        );
    }
}

/// Loads `units` into `dst`, 8 bytes (native order) per unit, as Relaxed whole-unit loads:
/// two units per instruction where [`wide_available`] says so. `dst` is the caller's own
/// memory (a buffer or an unpublished block), so nobody else touches it.
///
/// # Panics
///
/// If `dst` is not exactly `units.len()` units long.
#[inline(always)]
pub(crate) fn load_units(units: &[Unit], dst: &mut [MaybeUninit<u8>]) {
    assert_eq!(
        dst.len(),
        units.len() * UNIT_BYTES,
        "load_units: wrong length"
    );
    #[cfg(all(target_arch = "x86_64", not(any(loom, miri, ftarray_no_asm))))]
    if units.len() >= x86::MIN_UNITS && x86::available() {
        // SAFETY: `available` checked that this CPU makes aligned 16-byte loads atomic; `dst`
        // is exactly as long as `units` (asserted above) and, being a `&mut`, is not part of
        // them.
        unsafe { x86::load_units(units, dst.as_mut_ptr().cast::<u8>()) };
        return;
    }
    load_scalar(units, dst);
}

/// One Relaxed load per unit (lengths as [`load_units`]).
#[inline(always)]
fn load_scalar(units: &[Unit], dst: &mut [MaybeUninit<u8>]) {
    for (unit, chunk) in units.iter().zip(dst.chunks_exact_mut(UNIT_BYTES)) {
        for (d, s) in chunk.iter_mut().zip(unit.load(Relaxed).to_ne_bytes()) {
            d.write(s);
        }
    }
}

/// Copies `dst.len()` units' worth of bytes from `src` into `dst`, as Relaxed whole-unit
/// stores (two units per instruction where [`wide_available`] says so), in ascending address
/// order, or descending if `descending`: the two may overlap, as in `memmove`, when the
/// direction is the one that reads every source byte before it is overwritten (descending
/// exactly when `dst` lies above `src`).
///
/// # Safety
///
/// `src` is valid for reads of `dst.len() * UNIT_BYTES` bytes for the whole call, and no other
/// thread writes them meanwhile (they are read with plain loads: the source is this array's own
/// storage, which only the writer-lock holder writes, and no export exists). If the two ranges
/// overlap, `descending` is true exactly when `dst` starts above `src`.
#[inline]
#[cfg_attr(loom, allow(dead_code))] // loom's cells are moved word by word
pub(crate) unsafe fn move_units(dst: &[Unit], src: *const u8, descending: bool) {
    #[cfg(all(target_arch = "x86_64", not(any(loom, miri, ftarray_no_asm))))]
    if dst.len() >= x86::MIN_UNITS && x86::available() {
        // SAFETY: forwarded from the caller; `available` holds.
        unsafe { x86::move_units(dst, src, descending) };
        return;
    }
    // SAFETY: forwarded from the caller.
    unsafe { move_scalar(dst, src, descending) };
}

/// [`move_units`] one unit at a time (same contract).
///
/// # Safety
///
/// As [`move_units`].
#[inline(always)]
#[cfg_attr(loom, allow(dead_code))]
unsafe fn move_scalar(dst: &[Unit], src: *const u8, descending: bool) {
    let mut one = |k: usize| {
        // SAFETY: unit `k`'s source bytes are inside the readable range (the caller's promise)
        // and nobody else writes them, so this plain unaligned read does not race; in this
        // direction no store of this loop has overwritten them yet.
        let word = unsafe { src.add(k * UNIT_BYTES).cast::<u64>().read_unaligned() };
        dst[k].store(word, Relaxed);
    };
    if descending {
        (0..dst.len()).rev().for_each(&mut one);
    } else {
        (0..dst.len()).for_each(&mut one);
    }
}

#[cfg(all(target_arch = "x86_64", not(any(loom, miri, ftarray_no_asm))))]
mod x86 {
    use super::{UNIT_BYTES, Unit, move_scalar};
    use std::arch::asm;
    use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

    /// The ascending pair loop of [`move_units`] and [`copy_units`]: four 16-byte loads with
    /// `$load` (`vmovdqu`: any alignment, plain; `vmovdqa`: 16-aligned, atomic), then four
    /// aligned 16-byte `vmovdqa` stores, per iteration, `$blocks` times; then one pair at a
    /// time, `$rest` times. The callers argue the accesses' soundness.
    macro_rules! ascending_pairs {
        ($load:literal, $src:expr, $dst:expr, $blocks:expr, $rest:expr) => {
            asm!(
                "test {blocks}, {blocks}",
                "jz 3f",
                "2:",
                concat!($load, " {a}, xmmword ptr [{src}]"),
                concat!($load, " {b}, xmmword ptr [{src} + 16]"),
                concat!($load, " {c}, xmmword ptr [{src} + 32]"),
                concat!($load, " {e}, xmmword ptr [{src} + 48]"),
                "vmovdqa xmmword ptr [{dst}], {a}",
                "vmovdqa xmmword ptr [{dst} + 16], {b}",
                "vmovdqa xmmword ptr [{dst} + 32], {c}",
                "vmovdqa xmmword ptr [{dst} + 48], {e}",
                "add {src}, 64",
                "add {dst}, 64",
                "dec {blocks}",
                "jnz 2b",
                "3:",
                "test {rest}, {rest}",
                "jz 5f",
                "4:",
                concat!($load, " {a}, xmmword ptr [{src}]"),
                "vmovdqa xmmword ptr [{dst}], {a}",
                "add {src}, 16",
                "add {dst}, 16",
                "dec {rest}",
                "jnz 4b",
                "5:",
                src = inout(reg) $src => _,
                dst = inout(reg) $dst => _,
                blocks = inout(reg) $blocks => _,
                rest = inout(reg) $rest => _,
                a = out(xmm_reg) _,
                b = out(xmm_reg) _,
                c = out(xmm_reg) _,
                e = out(xmm_reg) _,
                options(nostack),
            )
        };
    }

    /// Below this many units the scalar loop is as fast, and skips the detection check.
    pub(super) const MIN_UNITS: usize = 8;

    const UNKNOWN: u8 = 0;
    const NO: u8 = 1;
    const YES: u8 = 2;

    /// The detection result, computed once (a race between two first callers computes the same
    /// value twice; Relaxed, as the value depends on nothing else in memory).
    static WIDE: AtomicU8 = AtomicU8::new(UNKNOWN);

    /// Whether aligned 16-byte stores are atomic on this CPU.
    #[inline(always)]
    pub(super) fn available() -> bool {
        match WIDE.load(Relaxed) {
            YES => true,
            NO => false,
            _ => detect(),
        }
    }

    #[cold]
    #[inline(never)]
    fn detect() -> bool {
        let wide =
            !super::turned_off() && std::is_x86_feature_detected!("avx") && vendor_guarantees_it();
        WIDE.store(if wide { YES } else { NO }, Relaxed);
        wide
    }

    /// Only Intel and AMD document the 16-byte atomicity of AVX-capable CPUs; other vendors'
    /// (and emulators') CPUs keep the scalar stores.
    fn vendor_guarantees_it() -> bool {
        // `__cpuid` is an `unsafe fn` in the Rust releases before it was made safe (through
        // a `cpuid` target feature), which include this crate's MSRV, 1.85; newer ones call the
        // block unnecessary, hence the allowance.
        #[allow(unused_unsafe)]
        // SAFETY: every x86_64 CPU has the CPUID instruction, and leaf 0 exists on all of them.
        let id = unsafe { std::arch::x86_64::__cpuid(0) };
        let mut vendor = [0u8; 12];
        vendor[..4].copy_from_slice(&id.ebx.to_le_bytes());
        vendor[4..8].copy_from_slice(&id.edx.to_le_bytes());
        vendor[8..].copy_from_slice(&id.ecx.to_le_bytes());
        &vendor == b"GenuineIntel" || &vendor == b"AuthenticAMD"
    }

    /// [`super::move_units`] with aligned 16-byte stores and unaligned 16-byte loads; a unit
    /// at either end that is not part of a 16-aligned pair is moved on its own, in the same
    /// direction order.
    ///
    /// # Safety
    ///
    /// [`available`] returned true, and the contract of [`super::move_units`].
    #[inline(always)]
    pub(super) unsafe fn move_units(dst: &[Unit], src: *const u8, descending: bool) {
        // Split off a lone unit at the start (if `dst` is not 16-aligned) and at the end (if
        // what is left is odd); the middle is whole 16-aligned pairs.
        let head = usize::from(dst.as_ptr().addr() % 16 != 0).min(dst.len());
        let pairs = (dst.len() - head) / 2;
        let mid = head..head + 2 * pairs;
        let lone = |k: usize| {
            // SAFETY: unit `k` and its source bytes are inside the caller's ranges; this is
            // called in the direction's order relative to the pairs.
            unsafe { move_scalar(&dst[k..k + 1], src.add(k * UNIT_BYTES), false) }
        };
        let (first, last) = (head == 1, mid.end < dst.len());
        if !descending && first {
            lone(0);
        }
        if descending && last {
            lone(dst.len() - 1);
        }
        if pairs > 0 {
            let (blocks, rest) = (pairs / 4, pairs % 4);
            let d = dst[mid.start..].as_ptr().cast_mut().cast::<u8>();
            // SAFETY: `src + mid.start * 8` is inside the readable range, and so is every
            // address the loops load from.
            let s = unsafe { src.add(mid.start * UNIT_BYTES) };
            let bytes = pairs * 16;
            // Why the loops below are sound: `d` is 16-aligned (the lone head unit was split
            // off) and they store exactly `pairs * 16` bytes inside `dst`, each `vmovdqa`
            // atomic (`available`), so each acts as two Relaxed unit stores. They load as many
            // bytes from `s` with `vmovdqu` (any alignment). Each iteration loads all its
            // chunks before storing any, and the loops run in the caller's direction, so every
            // source byte is read before a store overwrites it (ascending: later loads lie
            // above every earlier store; descending: the pointers start at the end and step
            // down, and later loads lie below every earlier store).
            //
            // SAFETY: as just argued; the source bytes are readable and written by nobody else
            // (the caller's promise), and the stores stay inside `dst`.
            unsafe {
                if descending {
                    asm!(
                        "test {blocks}, {blocks}",
                        "jz 3f",
                        "2:",
                        "sub {src}, 64",
                        "sub {dst}, 64",
                        "vmovdqu {a}, xmmword ptr [{src}]",
                        "vmovdqu {b}, xmmword ptr [{src} + 16]",
                        "vmovdqu {c}, xmmword ptr [{src} + 32]",
                        "vmovdqu {e}, xmmword ptr [{src} + 48]",
                        "vmovdqa xmmword ptr [{dst}], {a}",
                        "vmovdqa xmmword ptr [{dst} + 16], {b}",
                        "vmovdqa xmmword ptr [{dst} + 32], {c}",
                        "vmovdqa xmmword ptr [{dst} + 48], {e}",
                        "dec {blocks}",
                        "jnz 2b",
                        "3:",
                        "test {rest}, {rest}",
                        "jz 5f",
                        "4:",
                        "sub {src}, 16",
                        "sub {dst}, 16",
                        "vmovdqu {a}, xmmword ptr [{src}]",
                        "vmovdqa xmmword ptr [{dst}], {a}",
                        "dec {rest}",
                        "jnz 4b",
                        "5:",
                        src = inout(reg) s.add(bytes) => _,
                        dst = inout(reg) d.add(bytes) => _,
                        blocks = inout(reg) blocks => _,
                        rest = inout(reg) rest => _,
                        a = out(xmm_reg) _,
                        b = out(xmm_reg) _,
                        c = out(xmm_reg) _,
                        e = out(xmm_reg) _,
                        options(nostack),
                    );
                } else {
                    ascending_pairs!("vmovdqu", s, d, blocks, rest);
                }
            }
        }
        if !descending && last {
            lone(dst.len() - 1);
        }
        if descending && first {
            lone(0);
        }
    }

    /// [`super::copy_units`] with aligned 16-byte loads and aligned 16-byte stores; a unit at
    /// either end that is not part of a 16-aligned pair is copied on its own.
    ///
    /// # Safety
    ///
    /// [`available`] returned true; `dst` and `src` are as long and lie at the same offset from
    /// a 16-byte boundary.
    #[inline(always)]
    pub(super) unsafe fn copy_units(dst: &[Unit], src: &[Unit]) {
        let head = usize::from(dst.as_ptr().addr() % 16 != 0).min(dst.len());
        let pairs = (dst.len() - head) / 2;
        let mid = head..head + 2 * pairs;
        let lone = |k: usize| dst[k].store(src[k].load(Relaxed), Relaxed);
        if head == 1 {
            lone(0);
        }
        if pairs > 0 {
            let (blocks, rest) = (pairs / 4, pairs % 4);
            let s = src[mid.start..].as_ptr().cast::<u8>();
            let d = dst[mid.start..].as_ptr().cast_mut().cast::<u8>();
            // Why the loops are sound: `d` is 16-aligned (the lone head unit was split off),
            // and so is `s` (the same offset from a 16-byte boundary, the caller's promise).
            // They load exactly `pairs * 16` bytes of `src` and store as many into `dst`, all
            // with `vmovdqa`, each access atomic (`available`): each load acts as two Relaxed
            // unit loads (the only kind of access a reader makes, and what a writer of `src`
            // races with safely) and each store as two Relaxed unit stores into units the
            // writer-lock holder alone writes. The units are atomics, so writing them through a
            // pointer from a shared reference is allowed.
            //
            // SAFETY: as just argued; every access stays inside `src` or `dst`.
            unsafe { ascending_pairs!("vmovdqa", s, d, blocks, rest) };
        }
        if mid.end < dst.len() {
            lone(dst.len() - 1);
        }
    }

    /// [`super::load_units`] with aligned 16-byte loads and unaligned 16-byte stores; a unit
    /// at either end that is not part of a 16-aligned pair is loaded on its own.
    ///
    /// # Safety
    ///
    /// [`available`] returned true; `dst` is valid for writes of `units.len() * UNIT_BYTES`
    /// bytes that nobody else accesses during the call, and does not overlap `units`.
    #[inline(always)]
    pub(super) unsafe fn load_units(units: &[Unit], dst: *mut u8) {
        let head = usize::from(units.as_ptr().addr() % 16 != 0).min(units.len());
        let pairs = (units.len() - head) / 2;
        let mid = head..head + 2 * pairs;
        let lone = |k: usize| {
            let bytes = units[k].load(Relaxed).to_ne_bytes();
            // SAFETY: the 8 bytes at `dst + k * 8` are inside the caller's writable range.
            unsafe {
                dst.add(k * UNIT_BYTES)
                    .cast::<[u8; UNIT_BYTES]>()
                    .write_unaligned(bytes)
            };
        };
        if head == 1 {
            lone(0);
        }
        if pairs > 0 {
            let (blocks, rest) = (pairs / 4, pairs % 4);
            let s = units[mid.start..].as_ptr().cast::<u8>();
            // SAFETY: `dst + mid.start * 8` is inside the caller's writable range.
            let d = unsafe { dst.add(mid.start * UNIT_BYTES) };
            // Why the loop is sound: `s` is 16-aligned (the lone head unit was split off) and
            // the loop loads exactly `pairs * 16` bytes of `units` with `vmovdqa`, each load
            // atomic (`available`), so each acts as two Relaxed unit loads, the only kind of
            // access a reader makes; it stores as many bytes to `d` with `vmovdqu` (any
            // alignment), memory the caller gave us alone. Only the loads must be 16 bytes:
            // the main loop joins two loaded pairs into one 32-byte register (`vinsertf128`,
            // AVX like the rest) and stores that, half the stores (a 1k-element `to_vec` took
            // 29% less time than with four 16-byte stores), and clears the upper halves after
            // (`vzeroupper`), so the SSE code around it pays no transition. The registers are
            // named, not allocated (a crate compiled without AVX has no 256-bit register
            // class). `vzeroupper` clears the upper half of every vector register, so all
            // sixteen are declared clobbered (a clobbered `xmmN` is the whole `ymmN`/`zmmN` to
            // the compiler): a build with AVX enabled (`-C target-cpu=native`) may keep 256-bit
            // values in any of them across this block, and a review found that declaring only
            // the four used lost the upper lanes of a hoisted vector in such a build.
            //
            // SAFETY: as just argued; the loads stay inside `units` and the stores inside the
            // caller's range.
            unsafe {
                asm!(
                    "test {blocks}, {blocks}",
                    "jz 3f",
                    "2:",
                    "vmovdqa xmm0, xmmword ptr [{src}]",
                    "vmovdqa xmm1, xmmword ptr [{src} + 16]",
                    "vmovdqa xmm2, xmmword ptr [{src} + 32]",
                    "vmovdqa xmm3, xmmword ptr [{src} + 48]",
                    "vinsertf128 ymm0, ymm0, xmm1, 1",
                    "vinsertf128 ymm2, ymm2, xmm3, 1",
                    "vmovdqu ymmword ptr [{dst}], ymm0",
                    "vmovdqu ymmword ptr [{dst} + 32], ymm2",
                    "add {src}, 64",
                    "add {dst}, 64",
                    "dec {blocks}",
                    "jnz 2b",
                    "vzeroupper",
                    "3:",
                    "test {rest}, {rest}",
                    "jz 5f",
                    "4:",
                    "vmovdqa xmm0, xmmword ptr [{src}]",
                    "vmovdqu xmmword ptr [{dst}], xmm0",
                    "add {src}, 16",
                    "add {dst}, 16",
                    "dec {rest}",
                    "jnz 4b",
                    "5:",
                    src = inout(reg) s => _,
                    dst = inout(reg) d => _,
                    blocks = inout(reg) blocks => _,
                    rest = inout(reg) rest => _,
                    out("xmm0") _,
                    out("xmm1") _,
                    out("xmm2") _,
                    out("xmm3") _,
                    out("xmm4") _,
                    out("xmm5") _,
                    out("xmm6") _,
                    out("xmm7") _,
                    out("xmm8") _,
                    out("xmm9") _,
                    out("xmm10") _,
                    out("xmm11") _,
                    out("xmm12") _,
                    out("xmm13") _,
                    out("xmm14") _,
                    out("xmm15") _,
                    options(nostack),
                );
            }
        }
        if mid.end < units.len() {
            lone(units.len() - 1);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// 16-byte aligned storage for the tests, so that every start offset can be chosen.
    #[repr(C, align(64))]
    struct Aligned([Unit; 40]);

    fn aligned() -> Box<Aligned> {
        Box::new(Aligned(std::array::from_fn(|_| Unit::new(0))))
    }

    /// `FTARRAY_NO_WIDE_STORES` turns the wide stores off for the process (checked in a child
    /// process, since the detection runs once per process), and `0` leaves them as detected.
    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn the_environment_can_turn_wide_stores_off() {
        const CHILD: &str = "FTARRAY_WIDE_CHILD_EXPECTS";
        if let Some(expected) = std::env::var_os(CHILD) {
            assert_eq!(wide_available().to_string(), expected.to_str().unwrap());
            return;
        }
        let detected = wide_available();
        for (value, expected) in [("1", false), ("0", detected), ("", detected)] {
            let status = crate::testing::run_child(
                &crate::testing::test_path!("the_environment_can_turn_wide_stores_off"),
                &[(CHILD, &expected.to_string()), (NO_WIDE_STORES, value)],
                false,
            );
            assert!(status.success(), "{NO_WIDE_STORES}={value:?}: child failed");
        }
    }

    /// Every length and both alignments of the start against 16 bytes: exactly the chosen
    /// units change, each to its own 8 bytes of `src`.
    #[test]
    fn bulk_stores_write_exactly_their_units() {
        if !wide_available() {
            println!("wide stores unavailable on this CPU or build: testing the scalar path");
        }
        let a = aligned();
        // Under Miri (scalar stores, every access interpreted) a few lengths suffice.
        let lengths: Vec<usize> = if cfg!(miri) {
            vec![0, 1, 9, 17]
        } else {
            (0..=36).collect()
        };
        for start in 0..4 {
            for &n in &lengths {
                for unit in &a.0 {
                    unit.store(u64::MAX, Relaxed);
                }
                let src: Vec<u8> = (0..n * UNIT_BYTES).map(|k| (k % 251) as u8).collect();
                store_units(&a.0[start..start + n], &src);
                for (k, unit) in a.0.iter().enumerate() {
                    let want = if (start..start + n).contains(&k) {
                        let at = (k - start) * UNIT_BYTES;
                        u64::from_ne_bytes(src[at..at + UNIT_BYTES].try_into().unwrap())
                    } else {
                        u64::MAX
                    };
                    assert_eq!(unit.load(Relaxed), want, "start {start}, len {n}, unit {k}");
                }
            }
        }
    }

    /// Every length and every pair of start offsets (same and different alignment against 16
    /// bytes, so both the wide and the unit-by-unit path run): exactly the chosen units of
    /// `dst` change, each to its unit of `src`, and `src` is unchanged.
    #[test]
    fn unit_copies_write_exactly_their_units() {
        let (from, to) = (aligned(), aligned());
        for (k, unit) in from.0.iter().enumerate() {
            unit.store(0x0101_0101_0101_0101 * (k as u64 + 1), Relaxed);
        }
        let lengths: Vec<usize> = if cfg!(miri) {
            vec![0, 1, 9, 17]
        } else {
            (0..=36).collect()
        };
        for src_start in 0..4 {
            for dst_start in 0..4 {
                for &n in &lengths {
                    for unit in &to.0 {
                        unit.store(u64::MAX, Relaxed);
                    }
                    copy_units(
                        &to.0[dst_start..dst_start + n],
                        &from.0[src_start..src_start + n],
                    );
                    for (k, unit) in to.0.iter().enumerate() {
                        let want = if (dst_start..dst_start + n).contains(&k) {
                            from.0[k - dst_start + src_start].load(Relaxed)
                        } else {
                            u64::MAX
                        };
                        let at = format!("src {src_start}, dst {dst_start}, len {n}, unit {k}");
                        assert_eq!(unit.load(Relaxed), want, "{at}");
                    }
                }
            }
        }
        for (k, unit) in from.0.iter().enumerate() {
            assert_eq!(unit.load(Relaxed), 0x0101_0101_0101_0101 * (k as u64 + 1));
        }
    }

    /// Every length and both alignments of the start against 16 bytes: the loaded bytes are
    /// exactly the chosen units', in order, and nothing past the end of `dst` is touched.
    #[test]
    fn bulk_loads_read_exactly_their_units() {
        let a = aligned();
        for (k, unit) in a.0.iter().enumerate() {
            unit.store(0x0101_0101_0101_0101 * (k as u64 + 1), Relaxed);
        }
        let lengths: Vec<usize> = if cfg!(miri) {
            vec![0, 1, 9, 17]
        } else {
            (0..=36).collect()
        };
        for start in 0..4 {
            for &n in &lengths {
                // One spare unit after the end, which must stay as it was.
                let mut out = vec![MaybeUninit::new(0xEEu8); (n + 1) * UNIT_BYTES];
                load_units(&a.0[start..start + n], &mut out[..n * UNIT_BYTES]);
                // SAFETY: every byte was initialised above.
                let out: Vec<u8> = out.iter().map(|b| unsafe { b.assume_init() }).collect();
                for k in 0..n {
                    let want = (((start + k) as u64 + 1) * 0x0101_0101_0101_0101).to_ne_bytes();
                    let got = &out[k * UNIT_BYTES..(k + 1) * UNIT_BYTES];
                    assert_eq!(got, want, "start {start}, len {n}, unit {k}");
                }
                assert!(
                    out[n * UNIT_BYTES..].iter().all(|&b| b == 0xEE),
                    "wrote past the end"
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "wrong length")]
    fn a_wrong_length_load_panics() {
        let a = aligned();
        load_units(&a.0[..9], &mut [MaybeUninit::new(0); 71]);
    }

    /// A bulk load racing whole-pattern bulk stores never returns a unit whose 8 bytes come
    /// from two different stores (each pattern fills a unit with one byte), at either start
    /// alignment of the loaded range.
    #[test]
    fn concurrent_bulk_loads_never_see_a_torn_unit() {
        use std::sync::atomic::AtomicBool;
        const SWEEPS: usize = if cfg!(miri) { 20 } else { 20_000 };
        const CHANGES: usize = if cfg!(miri) { 5 } else { 1_000 };
        let a = aligned();
        let writing = AtomicBool::new(false);
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !writing.load(Relaxed) {
                    crate::sync::spin_loop();
                }
                let (mut changes, mut sweeps, mut last) = (0, 0, 0);
                let mut out = vec![MaybeUninit::new(0u8); 40 * UNIT_BYTES];
                while sweeps < SWEEPS || changes < CHANGES {
                    let start = sweeps % 2;
                    sweeps += 1;
                    let n = 40 - start;
                    load_units(&a.0[start..], &mut out[..n * UNIT_BYTES]);
                    for chunk in out[..n * UNIT_BYTES].chunks_exact(UNIT_BYTES) {
                        // SAFETY: `load_units` initialised these bytes.
                        let bytes: Vec<u8> =
                            chunk.iter().map(|b| unsafe { b.assume_init() }).collect();
                        if bytes.iter().any(|&b| b != bytes[0]) {
                            done.store(true, Relaxed);
                            panic!("torn unit {bytes:?}");
                        }
                        changes += usize::from(bytes[0] != last);
                        last = bytes[0];
                    }
                }
                done.store(true, Relaxed);
            });
            let patterns: Vec<Vec<u8>> = (1..=4u8).map(|b| vec![b; 40 * UNIT_BYTES]).collect();
            writing.store(true, Relaxed);
            let mut round = 0;
            while !done.load(Relaxed) {
                store_units(&a.0, &patterns[round % 4]);
                round += 1;
            }
        });
    }

    #[test]
    #[should_panic(expected = "wrong length")]
    fn a_wrong_length_panics() {
        let a = aligned();
        store_units(&a.0[..9], &[0; 71]);
    }

    /// A reader loading the units while the writer stores whole patterns never sees a unit
    /// whose 8 bytes come from two different stores (each pattern fills a unit with one byte).
    #[test]
    fn concurrent_loads_never_see_a_torn_unit() {
        use std::sync::atomic::AtomicBool;
        // Miri interprets every load: far fewer sweeps there (it runs the scalar stores).
        const SWEEPS: usize = if cfg!(miri) { 20 } else { 20_000 };
        const CHANGES: usize = if cfg!(miri) { 5 } else { 1_000 };
        let a = aligned();
        let writing = AtomicBool::new(false);
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                // Start checking once the writer runs, and keep it running until we are done.
                while !writing.load(Relaxed) {
                    crate::sync::spin_loop();
                }
                // Sweep until the loads have raced with many stores: they saw the patterns
                // change at least CHANGES times.
                let (mut changes, mut sweeps, mut last) = (0, 0, 0);
                while sweeps < SWEEPS || changes < CHANGES {
                    sweeps += 1;
                    for unit in &a.0 {
                        let bytes = unit.load(Relaxed).to_ne_bytes();
                        if bytes.iter().any(|&b| b != bytes[0]) {
                            done.store(true, Relaxed);
                            panic!("torn unit {bytes:?}");
                        }
                        changes += usize::from(bytes[0] != last);
                        last = bytes[0];
                    }
                }
                done.store(true, Relaxed);
            });
            let patterns: Vec<Vec<u8>> = (1..=4u8).map(|b| vec![b; 40 * UNIT_BYTES]).collect();
            writing.store(true, Relaxed);
            let mut round = 0;
            while !done.load(Relaxed) {
                // Start at unit 0 or 1 so both the aligned and the shifted layouts race.
                let start = round % 2;
                let p = &patterns[round % 4];
                store_units(&a.0[start..], &p[start * UNIT_BYTES..]);
                round += 1;
            }
        });
    }
}
