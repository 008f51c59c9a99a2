//! Whole-unit stores, two units per instruction where the CPU makes that atomic.
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
//! Everywhere else (other architectures and vendors, CPUs without AVX, Miri and loom, which
//! cannot see inside `asm!`, and builds with `--cfg ftarray_no_asm`, which the sanitizer script
//! sets so that ThreadSanitizer sees every store) the units are stored one by one.

use super::cells::{UNIT_BYTES, Unit};
use crate::sync::Ordering::Relaxed;

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
        // SAFETY: `available` checked that this CPU makes aligned 16-byte stores atomic, and
        // the lengths match (asserted above).
        unsafe { x86::store_units(units, src) };
        return;
    }
    store_scalar(units, src);
}

/// Whether bulk stores use the two-units-per-instruction path on this CPU and build.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn wide_available() -> bool {
    #[cfg(all(target_arch = "x86_64", not(any(loom, miri, ftarray_no_asm))))]
    return x86::available();
    #[cfg(not(all(target_arch = "x86_64", not(any(loom, miri, ftarray_no_asm)))))]
    false
}

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

#[cfg(all(target_arch = "x86_64", not(any(loom, miri, ftarray_no_asm))))]
mod x86 {
    use super::{UNIT_BYTES, Unit, store_scalar};
    use std::arch::asm;
    use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

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
        let wide = std::is_x86_feature_detected!("avx") && vendor_guarantees_it();
        WIDE.store(if wide { YES } else { NO }, Relaxed);
        wide
    }

    /// Only Intel and AMD document the 16-byte atomicity of AVX-capable CPUs; other vendors'
    /// (and emulators') CPUs keep the scalar stores.
    fn vendor_guarantees_it() -> bool {
        let id = std::arch::x86_64::__cpuid(0);
        let mut vendor = [0u8; 12];
        vendor[..4].copy_from_slice(&id.ebx.to_le_bytes());
        vendor[4..8].copy_from_slice(&id.edx.to_le_bytes());
        vendor[8..].copy_from_slice(&id.ecx.to_le_bytes());
        &vendor == b"GenuineIntel" || &vendor == b"AuthenticAMD"
    }

    /// Stores `src` into `units` with aligned 16-byte stores, after one scalar store if the
    /// units start 8 bytes past a 16-byte boundary and before one if an odd unit is left.
    ///
    /// # Safety
    ///
    /// [`available`] returned true, and `src.len() == units.len() * UNIT_BYTES`.
    #[inline(always)]
    pub(super) unsafe fn store_units(units: &[Unit], src: &[u8]) {
        let (mut units, mut src) = (units, src);
        if units.as_ptr().addr() % 16 != 0 {
            store_scalar(&units[..1], &src[..UNIT_BYTES]);
            (units, src) = (&units[1..], &src[UNIT_BYTES..]);
        }
        let pairs = units.len() / 2;
        let (blocks, rest) = (pairs / 4, pairs % 4);
        if pairs > 0 {
            // SAFETY: `dst` points at `units[0]`, now 16-byte aligned (units are 8-aligned, and
            // the scalar store above skipped one if needed), and the loops store exactly
            // `blocks * 64 + rest * 16 = pairs * 16` bytes, inside `units` (`pairs * 2` units);
            // they load as many bytes from `src`, which is as long as `units` (the caller's
            // promise). Writing through a pointer from `&[Unit]` is allowed (atomics are
            // `UnsafeCell`s). Each `vmovdqa` to a 16-aligned address is atomic (the caller
            // checked `available`), so it acts as two Relaxed stores of its two units: readers'
            // concurrent 64-bit loads see each unit old or new, never torn. Only the
            // writer-lock holder stores, so no other store races with these. The block is not
            // `nomem`: it orders with the surrounding code as the Relaxed stores it replaces.
            unsafe {
                asm!(
                    "test {blocks}, {blocks}",
                    "jz 3f",
                    "2:",
                    "vmovdqu {a}, xmmword ptr [{src}]",
                    "vmovdqu {b}, xmmword ptr [{src} + 16]",
                    "vmovdqu {c}, xmmword ptr [{src} + 32]",
                    "vmovdqu {d}, xmmword ptr [{src} + 48]",
                    "vmovdqa xmmword ptr [{dst}], {a}",
                    "vmovdqa xmmword ptr [{dst} + 16], {b}",
                    "vmovdqa xmmword ptr [{dst} + 32], {c}",
                    "vmovdqa xmmword ptr [{dst} + 48], {d}",
                    "add {src}, 64",
                    "add {dst}, 64",
                    "dec {blocks}",
                    "jnz 2b",
                    "3:",
                    "test {rest}, {rest}",
                    "jz 5f",
                    "4:",
                    "vmovdqu {a}, xmmword ptr [{src}]",
                    "vmovdqa xmmword ptr [{dst}], {a}",
                    "add {src}, 16",
                    "add {dst}, 16",
                    "dec {rest}",
                    "jnz 4b",
                    "5:",
                    src = inout(reg) src.as_ptr() => _,
                    dst = inout(reg) units.as_ptr().cast_mut() => _,
                    blocks = inout(reg) blocks => _,
                    rest = inout(reg) rest => _,
                    a = out(xmm_reg) _,
                    b = out(xmm_reg) _,
                    c = out(xmm_reg) _,
                    d = out(xmm_reg) _,
                    options(nostack),
                );
            }
        }
        if units.len() % 2 == 1 {
            let last = units.len() - 1;
            store_scalar(&units[last..], &src[last * UNIT_BYTES..]);
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

    /// Every length and both alignments of the start against 16 bytes: exactly the chosen
    /// units change, each to its own 8 bytes of `src`.
    #[test]
    fn bulk_stores_write_exactly_their_units() {
        if !wide_available() {
            println!("wide stores unavailable on this CPU or build: testing the scalar path");
        }
        let a = aligned();
        for start in 0..4 {
            for n in 0..=(a.0.len() - start) {
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
        const SWEEPS: usize = 20_000;
        let a = aligned();
        let writing = AtomicBool::new(false);
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                // Start checking once the writer runs, and keep it running until we are done.
                while !writing.load(Relaxed) {
                    std::hint::spin_loop();
                }
                // Sweep until the loads have raced with many stores: they saw the patterns
                // change at least a thousand times.
                let (mut changes, mut sweeps, mut last) = (0, 0, 0);
                while sweeps < SWEEPS || changes < 1_000 {
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
