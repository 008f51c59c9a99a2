//! Unit tests for every public operation of `FtArray`, `Reader`, `Iter`, `ReaderIter`, `Export`
//! and `Error`, including each error path. Every failing call is checked to leave the array
//! exactly as it was (elements by bits, length and capacity).

use ftarray::{Element, Error, Export, FtArray};
use std::fmt::Debug;
use std::num::NonZeroUsize;
use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// A user element type: a `Pod` newtype over `f32`.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(transparent)]
struct Meters(f32);

// SAFETY: `Meters` wraps an `f32`, which has the size of `u32`.
unsafe impl Element for Meters {
    type Bits = u32;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The observable state of an array: its elements' bytes (so NaN payloads compare exactly), its
/// length and its capacity.
fn state<T: Element>(a: &FtArray<T>) -> (Vec<u8>, usize, usize) {
    let v = a.to_vec();
    (
        bytemuck::cast_slice::<T, u8>(&v).to_vec(),
        a.len(),
        a.capacity(),
    )
}

/// Runs `op` and asserts it left `a` exactly as it was; returns what `op` returned.
fn unchanged<T: Element, R>(a: &FtArray<T>, op: impl FnOnce() -> R) -> R {
    let before = state(a);
    let r = op();
    assert_eq!(state(a), before, "a failing call changed the array");
    r
}

/// Asserts that `op` fails with `expected` and leaves `a` unchanged.
#[track_caller]
fn fails_unchanged<T: Element, R: Debug>(
    a: &FtArray<T>,
    expected: Error,
    op: impl FnOnce() -> Result<R, Error>,
) {
    let r = unchanged(a, op);
    match r {
        Err(e) => assert_eq!(e, expected),
        Ok(v) => panic!("expected Err({expected:?}), got Ok({v:?})"),
    }
}

/// Asserts that `op` fails with `Error::Exported { exports }` and leaves `a` unchanged.
#[track_caller]
fn exported_unchanged<T: Element, R: Debug>(
    a: &FtArray<T>,
    exports: usize,
    op: impl FnOnce() -> Result<R, Error>,
) {
    fails_unchanged(a, Error::Exported { exports }, op);
}

/// Asserts that `op` panics and leaves `a` unchanged.
#[track_caller]
fn panics_unchanged<T: Element, R>(a: &FtArray<T>, op: impl FnOnce() -> R) {
    let r = unchanged(a, || catch_unwind(AssertUnwindSafe(op)));
    assert!(r.is_err(), "expected a panic");
}

/// The elements visible through an export's pointer (its `len()` elements).
fn view<T: Element>(e: &Export<'_, T>) -> Vec<T> {
    // SAFETY: the export pins the storage for `e.len()` elements, and no other thread writes to
    // the array while the test reads through the pointer.
    unsafe { std::slice::from_raw_parts(e.as_ptr(), e.len()) }.to_vec()
}

fn bits_f64(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

// ---------------------------------------------------------------------------------------------
// The tests, one file per subject
// ---------------------------------------------------------------------------------------------

mod construction;
mod error;
mod exports;
mod growing_and_shrinking;
mod in_place_writes;
mod iter;
mod reader;
mod reads;
mod refills;
mod sharing;
mod snapshots;
