//! [`DynArray`]: one `FtArray` of the type code's storage type, with Python's semantics
//! resolved at each operation's linearization point (see the [module docs](super)), and the
//! export tokens a buffer-protocol host releases its exports by.

use super::index::{Slice, SliceIndices, clamp_index, resolve_index, search_range};
use super::shared::{Source, read_shared};
use super::store::{Store, Stored, with_pair, with_store, with_type};
use super::value::{Scalar, Value};
use crate::array::FtArray;
use crate::error::Error;
use crate::typecode::{Kind, TypeCode};
use crate::writer::Writer;
use crossbeam_epoch::Guard;
use std::cmp::Ordering;
use std::fmt;
use std::sync::atomic::AtomicU64;

/// A rich comparison, as Python's six comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// Whether `ordering` satisfies this operator.
    pub fn holds(self, ordering: Ordering) -> bool {
        match self {
            CompareOp::Lt => ordering.is_lt(),
            CompareOp::Le => ordering.is_le(),
            CompareOp::Eq => ordering.is_eq(),
            CompareOp::Ne => ordering.is_ne(),
            CompareOp::Gt => ordering.is_gt(),
            CompareOp::Ge => ordering.is_ge(),
        }
    }
}

/// A raw export of a [`DynArray`]'s storage: what a buffer-protocol host needs.
///
/// Made by [`DynArray::export_raw`]; the storage stays where `ptr` points (it neither moves nor
/// is freed) until [`DynArray::release_export`] is called with `token`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawExport {
    /// The first element (dangling but aligned when `len` is 0).
    pub ptr: *mut u8,
    /// The number of elements (the array's length when the export was made).
    pub len: usize,
    /// The size of one element in bytes.
    pub itemsize: usize,
    /// The element type.
    pub code: TypeCode,
    /// Names this export for [`DynArray::release_export`]. Unique in the process: no two
    /// exports, of this array or any other, ever get the same token, so a token of another
    /// array names no export here.
    pub token: u64,
}

impl RawExport {
    /// The addresses of the storage this export pins: from `ptr` to the end of the 8-byte unit
    /// holding the last element (empty when `len` is 0). All of it belongs to the array, whose
    /// storage is whole aligned 64-bit units, so while the export lives a copy of any range
    /// inside it may load the units around that range whole ([`Source::Export`]).
    pub fn storage(&self) -> std::ops::Range<usize> {
        let start = self.ptr.addr();
        start..start + (self.len * self.itemsize).next_multiple_of(size_of::<u64>())
    }
}

/// The locks of one [`DynArray`], held (see [`DynArray::hold_for_fork`]); dropping it releases
/// them. Not `Send`: the thread that took them releases them (in a child after `fork()`, the
/// forking thread is that thread).
pub struct ForkHold<'a> {
    // Dropped first: the writer lock is released before the export list's.
    _writer: Box<dyn Held + 'a>,
    _exports: crate::sync::MutexGuard<'a, ExportTable>,
}

impl fmt::Debug for ForkHold<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForkHold").finish_non_exhaustive()
    }
}

/// Anything held until dropped (a typed writer, whatever its element type).
trait Held {}
impl<T> Held for T {}

// SAFETY: a `RawExport` is plain data (a pointer value it never dereferences and numbers);
// every access through `ptr` is the holder's `unsafe` business.
unsafe impl Send for RawExport {}
// SAFETY: as above.
unsafe impl Sync for RawExport {}

/// An array of plain numbers (or characters) whose element type is picked at run time by a
/// [`TypeCode`]: the shared layer under the C ABI and the Python binding.
///
/// It holds one [`FtArray`] of the matching storage type and adds what a scripting language
/// needs: signed indices, slices with steps, clamping, value conversion with range checks,
/// comparisons by value across type codes, repetition, concatenation, and an export rule of
/// the host's choosing. See the [module docs](crate::dynamic) for the linearization rule every method
/// follows.
pub struct DynArray {
    pub(super) code: TypeCode,
    pub(super) store: Store,
    /// Live exports: their tokens (drawn from [`NEXT_TOKEN`]) and storage. Allocated by the
    /// first export and freed when the last one is released: most arrays are never exported,
    /// and a `Vec` inline cost every array 24 bytes (a host that keeps many small arrays, such
    /// as Python's, pays for each).
    exports: crate::sync::Mutex<ExportTable>,
}

/// The live exports of a `DynArray`, allocated on its first export and freed with its last.
#[allow(
    clippy::box_collection,
    reason = "the box is the point: 8 bytes inline, the Vec's 24 only while exported"
)]
type ExportTable = Option<Box<Vec<LiveExport>>>;

/// One live export of a [`DynArray`].
#[derive(Clone, Debug)]
struct LiveExport {
    token: u64,
    /// [`RawExport::storage`].
    storage: std::ops::Range<usize>,
}

/// The next export token, for every array in the process: a token names one export of one
/// array, so a host that releases another array's token gets [`Error::UnknownExport`] instead
/// of dropping this array's pin (tokens counted per array made every array's first export
/// token 1). `Relaxed`: the read-modify-write alone makes each token unique, and nothing else
/// is ordered by it. At one export per nanosecond the counter would wrap after 584 years.
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

// ---------------------------------------------------------------------------------------------
// Typed implementations: one generic function per operation, dispatched by `with_store!`.
// ---------------------------------------------------------------------------------------------

/// `T` equal to `value` exactly, if some `T` is (`None`: no element can equal it).
///
/// Equality is by value, as Python compares numbers: an integer array holds `1.0` when it holds
/// `1`, a float array holds `3` when it holds `3.0`; characters equal only characters.
fn exact<T: Stored>(value: Value, code: TypeCode) -> Option<T> {
    let value = match value {
        // An integral float may equal an integer element; `from_i128` refuses anything outside
        // every integer type (and the cast saturates, so huge floats are refused too).
        Value::Float(f) if code.is_integer() => {
            if f.fract() != 0.0 || !f.is_finite() {
                return None;
            }
            Value::from_i128(f as i128)?
        }
        Value::Char(_) if code.kind() != Kind::Char => return None,
        Value::Int(_) | Value::UInt(_) | Value::Float(_) if code.kind() == Kind::Char => {
            return None;
        }
        v => v,
    };
    let x = T::from_value(value, code).ok()?;
    (x.to_value(code) == value).then_some(x)
}

fn convert_all<T: Stored>(values: &[Value], code: TypeCode) -> Result<Vec<T>, Error> {
    let mut out = Vec::new();
    out.try_reserve_exact(values.len())
        .map_err(|_| Error::AllocFailed {
            bytes: values.len().saturating_mul(size_of::<T>()),
        })?;
    for v in values {
        out.push(T::from_value(*v, code)?);
    }
    Ok(out)
}

fn from_bytes_t<T: Stored>(bytes: &[u8]) -> Result<Vec<T>, Error> {
    let item_size = size_of::<T>();
    if bytes.len() % item_size != 0 {
        return Err(Error::BadByteLength {
            len: bytes.len(),
            item_size,
        });
    }
    let mut out = Vec::new();
    out.try_reserve_exact(bytes.len() / item_size)
        .map_err(|_| Error::AllocFailed { bytes: bytes.len() })?;
    out.extend(
        bytes
            .chunks_exact(item_size)
            .map(bytemuck::pod_read_unaligned::<T>),
    );
    Ok(out)
}

/// `n` copies of `values` one after another, or an error if that does not fit in memory.
fn repeated<T: Copy>(values: &[T], n: usize) -> Result<Vec<T>, Error> {
    if values.is_empty() {
        // Not `n` rounds of nothing: `[] * PTRDIFF_MAX` would loop 2^63 times.
        return Ok(Vec::new());
    }
    // A result no array could hold is a capacity overflow, not an allocation failure, whatever
    // the length: no block is larger than `isize::MAX` bytes, and a block's header and padding
    // take less than 4 KiB of those.
    let total = values
        .len()
        .checked_mul(n)
        .filter(|&t| {
            t.checked_mul(size_of::<T>())
                .is_some_and(|b| b <= isize::MAX as usize - 4096)
        })
        .ok_or(Error::CapacityOverflow)?;
    let mut out = Vec::new();
    out.try_reserve_exact(total)
        .map_err(|_| Error::AllocFailed {
            bytes: total.saturating_mul(size_of::<T>()),
        })?;
    for _ in 0..n {
        out.extend_from_slice(values);
    }
    Ok(out)
}

/// Python's array comparison: find the first index where the items differ (by `==`), then
/// compare those two items with `op`; if none differ, compare the lengths.
fn richcompare<T: PartialOrd>(a: &[T], b: &[T], op: CompareOp) -> Result<bool, Error> {
    if a.len() != b.len() && matches!(op, CompareOp::Eq | CompareOp::Ne) {
        return Ok(op == CompareOp::Ne);
    }
    match a.iter().zip(b).find(|(x, y)| x != y) {
        None => Ok(op.holds(a.len().cmp(&b.len()))),
        Some(_) if op == CompareOp::Eq => Ok(false),
        Some(_) if op == CompareOp::Ne => Ok(true),
        // Typed elements are unordered only through a NaN, which Python's ordering operators
        // answer with false.
        Some((x, y)) => Ok(x.partial_cmp(y).is_some_and(|ordering| op.holds(ordering))),
    }
}

impl DynArray {
    pub(super) fn from_store(code: TypeCode, store: Store) -> DynArray {
        DynArray {
            code,
            store,
            exports: crate::sync::Mutex::new(None),
        }
    }

    fn from_vec<T: Stored>(code: TypeCode, values: &[T]) -> DynArray {
        DynArray::from_store(code, T::wrap(FtArray::from_slice(values)))
    }
}

/// A new array not placed yet: its type code and its storage, two words.
///
/// [`get_slice_new`](DynArray::get_slice_new), [`try_clone_new`](DynArray::try_clone_new),
/// [`repeat_new`](DynArray::repeat_new) and [`concat_new`](DynArray::concat_new) make one, for
/// a host that keeps arrays inside its own objects: a `DynArray` is a dozen words (the writer
/// lock lies a cache line away from the storage pointer), and every move of one between the
/// copy and its final place is a dozen loads and stores, some of them of bytes just stored at
/// another width (which the CPU cannot forward, and waits for). A `NewArray` moves in two
/// registers; [`into_array`](Self::into_array), called where the array is to stay, builds it
/// there. Dropping one frees its storage.
///
/// ```
/// use ftarray::{DynArray, Slice, TypeCode, Value};
///
/// let a = DynArray::from_values(TypeCode::F64, &[Value::Float(1.0), Value::Float(2.0)]).unwrap();
/// let part = a.get_slice_new(&Slice { start: Some(1), stop: None, step: None }).unwrap();
/// assert_eq!(part.typecode(), TypeCode::F64);
/// let b: DynArray = part.into_array();
/// assert_eq!(b.to_values(), [Value::Float(2.0)]);
/// ```
pub struct NewArray {
    code: TypeCode,
    /// The storage (`RawBlock::into_addr` of a block of `code`'s word size, owned), or 0 for
    /// none.
    block: usize,
}

impl NewArray {
    /// Takes over `block`, which holds words of `code`'s storage type.
    #[inline]
    pub(super) fn of<W: crate::element::Word>(
        code: TypeCode,
        block: Option<crate::raw::RawBlock<W>>,
    ) -> Self {
        debug_assert_eq!(
            size_of::<W>(),
            code.itemsize(),
            "a block of another word size"
        );
        NewArray {
            code,
            block: block.map_or(0, crate::raw::RawBlock::into_addr),
        }
    }

    /// An empty array of `code`'s type (no storage).
    pub fn empty(code: TypeCode) -> NewArray {
        NewArray { code, block: 0 }
    }

    /// The type code.
    pub fn typecode(&self) -> TypeCode {
        self.code
    }

    /// The array, with the default export rule (see
    /// [`DynArray::set_strict_exports`]). Inlined: built where the caller puts it.
    #[inline(always)]
    pub fn into_array(self) -> DynArray {
        self.into_array_with_strict_exports(false)
    }

    /// The array, with the export rule chosen (see [`DynArray::set_strict_exports`]).
    #[inline(always)]
    pub fn into_array_with_strict_exports(self, strict: bool) -> DynArray {
        let this = std::mem::ManuallyDrop::new(self);
        let (code, addr) = (this.code, this.block);
        let store = with_type!(code, T => {
            // SAFETY: `addr` is an owned block of `code`'s word size, `T::Bits` (see `of`),
            // and `this` gives its ownership up here (it is not dropped).
            let block = (addr != 0).then(|| unsafe { crate::raw::RawBlock::from_addr(addr) });
            let mut array = FtArray::<T>::from_block(block);
            array.set_strict_owned(strict);
            T::wrap(array)
        });
        DynArray::from_store(code, store)
    }
}

impl Drop for NewArray {
    fn drop(&mut self) {
        if self.block != 0 {
            // The block goes with an array made from it, which frees it.
            drop(
                NewArray {
                    code: self.code,
                    block: std::mem::take(&mut self.block),
                }
                .into_array(),
            );
        }
    }
}

impl fmt::Debug for NewArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewArray")
            .field("typecode", &self.code)
            .field("has_storage", &(self.block != 0))
            .finish()
    }
}

/// CPython's early refusal (bpo-4509): under the strict rule, with an export alive, a slice
/// assignment or deletion fails even when it would not change the length (`a[0:0] =
/// array()`), so that a failing assignment is decided before anything is looked at. The core
/// refuses every actual length change itself; this adds only those no-change cases. Decided
/// under `w`'s lock, from one load of the export count.
fn fail_early<T: Stored>(a: &FtArray<T>, w: &Writer<'_, T>) -> Result<(), Error> {
    if !w.strict_exports() {
        return Ok(());
    }
    match a.export_count() {
        0 => Ok(()),
        exports => Err(Error::Exported { exports }),
    }
}

/// Python's slice assignment `a[s] = values`, resolved against the length under the lock.
fn assign_slice<T: Stored>(
    a: &FtArray<T>,
    w: &mut Writer<'_, T>,
    slice: Slice,
    values: &[T],
) -> Result<(), Error> {
    let r = slice.indices(w.len())?;
    let needed = values.len();
    // CPython (bpo-4509): with exports alive, fail early unless this is an equal-size
    // replacement of a non-empty selection.
    if needed == 0 || r.len != needed {
        fail_early(a, w)?;
    }
    if r.step == 1 {
        let start = r.start as usize;
        let stop = r.stop.max(r.start) as usize;
        return w.splice(start..stop, values);
    }
    if needed == 0 {
        return delete_indices(w, r);
    }
    if needed != r.len {
        return Err(Error::LengthMismatch {
            expected: r.len,
            actual: needed,
        });
    }
    if r.step > 0 {
        w.set_strided(r.start as usize, r.step as usize, values)
    } else {
        // The core takes the lowest index first: the same stores, listed the other way.
        let lowest = r.iter().last().expect("a non-empty selection");
        let reversed: Vec<T> = values.iter().rev().copied().collect();
        w.set_strided(lowest, r.step.unsigned_abs(), &reversed)
    }
}

/// Removes the indices of `r` (any step) under the lock.
fn delete_indices<T: Stored>(w: &mut Writer<'_, T>, r: SliceIndices) -> Result<(), Error> {
    if r.len == 0 {
        return Ok(());
    }
    if r.step == 1 || r.step == -1 {
        return w.splice(r.span(), &[]);
    }
    let span = r.span();
    let step = r.step.unsigned_abs();
    let lo = span.start;
    let values = w.snapshot()?;
    let kept: Vec<T> = values
        .iter()
        .enumerate()
        .filter(|(i, _)| !(span.contains(i) && (i - lo) % step == 0))
        .map(|(_, x)| *x)
        .collect();
    w.commit(&kept, &values)
}

impl DynArray {
    // -----------------------------------------------------------------------------------------
    // Construction and shape
    // -----------------------------------------------------------------------------------------

    /// An empty array of `code`'s element type. Does not allocate.
    ///
    /// ```
    /// use ftarray::{DynArray, TypeCode};
    /// let a = DynArray::new(TypeCode::F64);
    /// assert!(a.is_empty());
    /// assert_eq!(a.itemsize(), 8);
    /// ```
    pub fn new(code: TypeCode) -> DynArray {
        DynArray::from_store(code, Store::new(code))
    }

    /// An empty array of the type named by the letter `code`.
    ///
    /// # Errors
    ///
    /// [`Error::BadTypeCode`].
    ///
    /// ```
    /// let a = ftarray::DynArray::from_typecode('H').unwrap();
    /// assert_eq!(a.typecode().as_char(), 'H');
    /// assert!(ftarray::DynArray::from_typecode('x').is_err());
    /// ```
    pub fn from_typecode(code: char) -> Result<DynArray, Error> {
        Ok(DynArray::new(TypeCode::try_from(code)?))
    }

    /// An empty array with room for at least `capacity` elements.
    ///
    /// # Errors
    ///
    /// [`Error::CapacityOverflow`] or [`Error::AllocFailed`].
    pub fn with_capacity(code: TypeCode, capacity: usize) -> Result<DynArray, Error> {
        let store = with_type!(code, T => T::wrap(FtArray::<T>::try_with_capacity(capacity)?));
        Ok(DynArray::from_store(code, store))
    }

    /// An array holding `values`, each converted to `code`'s element type.
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`] or [`Error::WrongKind`] for the first value that does not convert.
    ///
    /// ```
    /// use ftarray::{DynArray, TypeCode, Value};
    /// let a = DynArray::from_values(TypeCode::U8, &[Value::Int(255)]).unwrap();
    /// assert_eq!(a.len(), 1);
    /// assert!(DynArray::from_values(TypeCode::U8, &[Value::Int(256)]).is_err());
    /// ```
    pub fn from_values(code: TypeCode, values: &[Value]) -> Result<DynArray, Error> {
        with_type!(code, T => Ok(DynArray::from_vec(code, &convert_all::<T>(values, code)?)))
    }

    /// An array decoded from `bytes` (native byte order, Python's `frombytes`).
    ///
    /// # Errors
    ///
    /// [`Error::BadByteLength`] if the length is not a multiple of the item size.
    pub fn from_bytes(code: TypeCode, bytes: &[u8]) -> Result<DynArray, Error> {
        let item_size = code.itemsize();
        if bytes.len() % item_size != 0 {
            return Err(Error::BadByteLength {
                len: bytes.len(),
                item_size,
            });
        }
        // Straight into the block: no typed copy in between.
        with_type!(code, T => Ok(DynArray::from_store(code, T::wrap(FtArray::<T>::try_from_ne_bytes(bytes)?))))
    }

    /// The element type.
    pub fn typecode(&self) -> TypeCode {
        self.code
    }

    /// The size of one element in bytes.
    pub fn itemsize(&self) -> usize {
        self.code.itemsize()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len_in(&crate::reclaim::pin())
    }

    /// [`len`](Self::len) under a guard the caller already holds (from [`pin`](crate::pin)):
    /// no pin of its own, for a host boundary that pins once around each call.
    pub fn len_in(&self, guard: &Guard) -> usize {
        with_store!(&self.store, a => a.len_in(guard))
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many elements fit before the storage has to move.
    pub fn capacity(&self) -> usize {
        with_store!(&self.store, a => a.capacity())
    }

    /// Chooses the export rule: with `strict` on, **any** change of length fails with
    /// [`Error::Exported`] while an export is alive (CPython's `BufferError` rule); off (the
    /// default), only operations that would move or free the storage fail. Each operation
    /// decides under the array's lock, from one reading of the export count.
    pub fn set_strict_exports(&self, strict: bool) {
        with_store!(&self.store, a => a.set_strict_exports(strict))
    }

    /// This array with the export rule chosen (see
    /// [`set_strict_exports`](Self::set_strict_exports)), for a new array that no other thread
    /// can reach yet: it takes no lock.
    ///
    /// ```
    /// use ftarray::{DynArray, TypeCode};
    ///
    /// let a = DynArray::new(TypeCode::F64).with_strict_exports(true);
    /// assert!(a.strict_exports());
    /// ```
    #[must_use]
    pub fn with_strict_exports(mut self, strict: bool) -> Self {
        with_store!(&mut self.store, a => a.set_strict_owned(strict));
        self
    }

    /// Whether the strict export rule is on.
    pub fn strict_exports(&self) -> bool {
        with_store!(&self.store, a => a.strict_exports())
    }

    // -----------------------------------------------------------------------------------------
    // Single elements
    // -----------------------------------------------------------------------------------------

    /// The element at `index` (negative counts from the end), resolved against the length at
    /// the instant of the read.
    ///
    /// # Errors
    ///
    /// [`Error::SignedIndexOutOfRange`].
    pub fn get(&self, index: isize) -> Result<Value, Error> {
        self.get_in(index, &crate::reclaim::pin())
    }

    /// [`get`](Self::get) under a guard the caller already holds (from [`pin`](crate::pin)).
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get).
    pub fn get_in(&self, index: isize, guard: &Guard) -> Result<Value, Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            a.read(guard, |v| {
                let len = v.len();
                match resolve_index(index, len).and_then(|i| v.get(i)) {
                    Some(x) => Ok(x.to_value(code)),
                    None => Err(Error::SignedIndexOutOfRange { index, len }),
                }
            })
        })
    }

    /// Copies the bytes of the element at `index` into `out` (which must be `itemsize()` long).
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] for a wrong `out` length; [`Error::SignedIndexOutOfRange`].
    pub fn get_bytes(&self, index: isize, out: &mut [u8]) -> Result<(), Error> {
        self.get_bytes_in(index, out, &crate::reclaim::pin())
    }

    /// [`get_bytes`](Self::get_bytes) under a guard the caller already holds (from
    /// [`pin`](crate::pin)).
    ///
    /// # Errors
    ///
    /// As [`get_bytes`](Self::get_bytes).
    pub fn get_bytes_in(&self, index: isize, out: &mut [u8], guard: &Guard) -> Result<(), Error> {
        if out.len() != self.itemsize() {
            return Err(Error::LengthMismatch {
                expected: self.itemsize(),
                actual: out.len(),
            });
        }
        with_store!(&self.store, a => {
            let x = a.read(guard, |v| {
                let len = v.len();
                resolve_index(index, len)
                    .and_then(|i| v.get(i))
                    .ok_or(Error::SignedIndexOutOfRange { index, len })
            })?;
            out.copy_from_slice(bytemuck::bytes_of(&x));
            Ok(())
        })
    }

    /// Replaces the element at `index` (negative counts from the end) with `value`.
    ///
    /// # Errors
    ///
    /// [`Error::SignedIndexOutOfRange`] against the length at the write, or a conversion error
    /// (an index that is out of range is reported first, as CPython does).
    pub fn set(&self, index: isize, value: Value) -> Result<(), Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            let x = match Scalar::from_value(value, code) {
                Ok(x) => x,
                // As CPython, a bad index is reported before a bad value. Nothing changes
                // either way, so one reading of the length decides which error to report.
                Err(e) => {
                    let len = a.len();
                    return Err(match resolve_index(index, len) {
                        None => Error::SignedIndexOutOfRange { index, len },
                        Some(_) => e,
                    });
                }
            };
            let mut w = a.write();
            let len = w.len();
            let i = resolve_index(index, len).ok_or(Error::SignedIndexOutOfRange { index, len })?;
            w.set(i, x).map(|_| ())
        })
    }

    /// Replaces the element at `index` with the element encoded in `bytes` (native order).
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] if `bytes` is not `itemsize()` long; index errors.
    pub fn set_bytes(&self, index: isize, bytes: &[u8]) -> Result<(), Error> {
        if bytes.len() != self.itemsize() {
            return Err(Error::LengthMismatch {
                expected: self.itemsize(),
                actual: bytes.len(),
            });
        }
        with_store!(&self.store, a => {
            let x = bytemuck::pod_read_unaligned(bytes);
            let mut w = a.write();
            let len = w.len();
            let i = resolve_index(index, len).ok_or(Error::SignedIndexOutOfRange { index, len })?;
            w.set(i, x).map(|_| ())
        })
    }

    /// Appends `value`.
    ///
    /// # Errors
    ///
    /// Conversion errors; [`Error::Exported`] (strict rule, or growth while exported);
    /// allocation errors. The array is unchanged.
    pub fn push(&self, value: Value) -> Result<(), Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            let x = Scalar::from_value(value, code)?;
            let mut w = a.write();
            w.append(std::slice::from_ref(&x))
        })
    }

    /// Removes and returns the element at `index` (Python's `pop(i)`; `-1` is the last).
    ///
    /// # Errors
    ///
    /// [`Error::Empty`] on an empty array, [`Error::SignedIndexOutOfRange`], [`Error::Exported`].
    pub fn pop(&self, index: isize) -> Result<Value, Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            let mut w = a.write();
            let len = w.len();
            if len == 0 {
                return Err(Error::Empty);
            }
            let i = resolve_index(index, len).ok_or(Error::SignedIndexOutOfRange { index, len })?;
            let x = w.get(i).ok_or(Error::SignedIndexOutOfRange { index, len })?;
            if i + 1 == len {
                // The last element (`pop()`): a truncation, without the general splice.
                w.truncate(i)?;
            } else {
                w.splice(i..i + 1, &[])?;
            }
            Ok(x.to_value(code))
        })
    }

    /// Removes the element at `index` (as [`pop`](Self::pop)) and copies its bytes into `out`
    /// (which must be `itemsize()` long), bit for bit: no conversion, so a float's NaN payload
    /// survives.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] for a wrong `out` length (nothing removed); otherwise as
    /// [`pop`](Self::pop).
    pub fn pop_bytes(&self, index: isize, out: &mut [u8]) -> Result<(), Error> {
        if out.len() != self.itemsize() {
            return Err(Error::LengthMismatch {
                expected: self.itemsize(),
                actual: out.len(),
            });
        }
        with_store!(&self.store, a => {
            let mut w = a.write();
            let len = w.len();
            if len == 0 {
                return Err(Error::Empty);
            }
            let i = resolve_index(index, len).ok_or(Error::SignedIndexOutOfRange { index, len })?;
            let x = w.get(i).ok_or(Error::SignedIndexOutOfRange { index, len })?;
            w.splice(i..i + 1, &[])?;
            out.copy_from_slice(bytemuck::bytes_of(&x));
            Ok(())
        })
    }

    /// Inserts `value` before `index`, clamped into `0..=len` as Python's `insert` does.
    ///
    /// # Errors
    ///
    /// Conversion errors; [`Error::Exported`]; allocation errors.
    pub fn insert(&self, index: isize, value: Value) -> Result<(), Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            let x = Scalar::from_value(value, code)?;
            let mut w = a.write();
            let i = clamp_index(index, w.len());
            w.splice(i..i, std::slice::from_ref(&x))
        })
    }

    /// Removes the first element equal to `value` (Python's `remove`) and returns its index.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`]; [`Error::Exported`].
    pub fn remove_value(&self, value: Value) -> Result<usize, Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            let Some(x) = exact(value, code) else {
                return Err(Error::NotFound);
            };
            let mut w = a.write();
            let values = w.snapshot()?;
            let i = values.iter().position(|y| *y == x).ok_or(Error::NotFound)?;
            w.splice(i..i + 1, &[])?;
            Ok(i)
        })
    }

    /// The index of the first element equal to `value` within `start..stop` (clamped as
    /// Python's `index(x, start, stop)`; pass `0, isize::MAX` for the whole array).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`].
    pub fn index(&self, value: Value, start: isize, stop: isize) -> Result<usize, Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            let Some(x) = exact(value, code) else {
                return Err(Error::NotFound);
            };
            let guard = crate::reclaim::pin();
            a.read(&guard, |v| {
                let r = search_range(start, stop, v.len());
                v.slice(r.clone())
                    .iter()
                    .position(|y| y == x)
                    .map(|k| r.start + k)
                    .ok_or(Error::NotFound)
            })
        })
    }

    /// How many elements equal `value`.
    pub fn count(&self, value: Value) -> usize {
        let code = self.code;
        with_store!(&self.store, a => match exact(value, code) {
            None => 0,
            Some(x) => {
                let guard = crate::reclaim::pin();
                a.read(&guard, |v| v.iter().filter(|y| *y == x).count())
            }
        })
    }

    /// Whether some element equals `value`.
    pub fn contains(&self, value: Value) -> bool {
        self.index(value, 0, isize::MAX).is_ok()
    }

    // -----------------------------------------------------------------------------------------
    // Slices
    // -----------------------------------------------------------------------------------------

    /// A new array holding `self[slice]`, read at one instant.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroStep`].
    pub fn get_slice(&self, slice: Slice) -> Result<DynArray, Error> {
        self.get_slice_new(&slice).map(NewArray::into_array)
    }

    /// This array as a [`NewArray`], to place elsewhere: its storage moves with it when
    /// nothing else uses that storage (no live export, no snapshot sharing it), which is the
    /// case for an array just made; otherwise the elements are copied (and the array dropped).
    /// The export rule is not kept: [`NewArray::into_array_with_strict_exports`] chooses it.
    ///
    /// # Errors
    ///
    /// Allocation errors of that copy.
    ///
    /// ```
    /// use ftarray::{DynArray, TypeCode, Value};
    ///
    /// let a = DynArray::from_values(TypeCode::Int, &[Value::Int(7)]).unwrap();
    /// let b = a.into_new().unwrap().into_array();
    /// assert_eq!(b.to_values(), [Value::Int(7)]);
    /// ```
    pub fn into_new(self) -> Result<NewArray, Error> {
        let code = self.code;
        let DynArray { store, exports, .. } = self;
        drop(exports);
        with_store!(store, a => match a.into_block() {
            Ok(block) => Ok(NewArray::of(code, block)),
            Err(a) => a.try_copy_range(1, |len| Ok(0..len)).map(|b| NewArray::of(code, b)),
        })
    }

    /// [`get_slice`](Self::get_slice), as a [`NewArray`] to place. The slice is borrowed: six
    /// words, which a hot path had better not copy on the way.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroStep`].
    pub fn get_slice_new(&self, slice: &Slice) -> Result<NewArray, Error> {
        let code = self.code;
        if slice.step.is_none_or(|s| s == 1) {
            // Contiguous: one copy, straight into the new array's block.
            return with_store!(&self.store, a => {
                let part = a.try_copy_range(1, |len| {
                    let r = slice.indices(len)?;
                    Ok(if r.len == 0 { 0..0 } else { r.span() })
                })?;
                Ok(NewArray::of(code, part))
            });
        }
        with_store!(&self.store, a => {
            let guard = crate::reclaim::pin();
            let mut out = Vec::new();
            a.read(&guard, |v| {
                let r = slice.indices(v.len())?;
                if r.step == 1 {
                    v.slice(r.span()).copy_into(&mut out);
                } else {
                    out.clear();
                    out.extend(r.iter().map(|i| v.get(i).expect("resolved in range")));
                }
                Ok::<(), Error>(())
            })?;
            Ok(NewArray::of(code, FtArray::block_from_slice(&out)?))
        })
    }

    /// Python's `self[slice] = other` (`other` may be `self`): any length for step 1; the
    /// same length as the selection for other steps, where an empty `other` deletes the
    /// selection (as CPython's `array` does).
    ///
    /// `other` is read while `self`'s lock is held (never taking `other`'s lock), so the
    /// assignment takes effect at one instant.
    ///
    /// # Errors
    ///
    /// [`Error::TypeMismatch`], [`Error::ZeroStep`], [`Error::LengthMismatch`],
    /// [`Error::Exported`], allocation errors. The array is unchanged.
    pub fn set_slice(&self, slice: Slice, other: &DynArray) -> Result<(), Error> {
        with_pair!(&self.store, &other.store, a, b => {
            if self.code != other.code {
                return Err(self.mismatch(other));
            }
            let mut w = a.write();
            w.with_copy_of(b, |w, values| assign_slice(a, w, slice, values))
        }, _ => Err(self.mismatch(other)))
    }

    /// Python's `self[slice] = values`, converting `values` first.
    ///
    /// # Errors
    ///
    /// As [`set_slice`](Self::set_slice), plus conversion errors.
    pub fn set_slice_values(&self, slice: Slice, values: &[Value]) -> Result<(), Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            let values = convert_all(values, code)?;
            let mut w = a.write();
            assign_slice(a, &mut w, slice, &values)
        })
    }

    /// Python's `self[slice] = array(code, bytes)`: the elements decoded from `bytes`.
    ///
    /// # Errors
    ///
    /// As [`set_slice`](Self::set_slice), plus [`Error::BadByteLength`].
    pub fn set_slice_bytes(&self, slice: Slice, bytes: &[u8]) -> Result<(), Error> {
        with_store!(&self.store, a => {
            let values = from_bytes_t(bytes)?;
            let mut w = a.write();
            assign_slice(a, &mut w, slice, &values)
        })
    }

    /// Removes the elements of `self[slice]` and returns them (in slice order), in one step:
    /// `del self[slice]` that tells what it removed.
    ///
    /// # Errors
    ///
    /// As [`del_slice`](Self::del_slice).
    ///
    /// ```
    /// use ftarray::{DynArray, Slice, TypeCode, Value};
    /// let a = DynArray::from_values(TypeCode::I16, &[1, 2, 3, 4].map(Value::from)).unwrap();
    /// let tail = a.take_slice(Slice::new(Some(-2), None, None)).unwrap();
    /// assert_eq!(tail.to_values(), [3, 4].map(Value::from));
    /// assert_eq!(a.to_values(), [1, 2].map(Value::from));
    /// ```
    pub fn take_slice(&self, slice: Slice) -> Result<DynArray, Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            let mut w = a.write();
            let r = slice.indices(w.len())?;
            fail_early(a, &w)?;
            let taken: Vec<_> = r.iter().map(|i| w.get(i).expect("resolved in range")).collect();
            delete_indices(&mut w, r)?;
            Ok(DynArray::from_vec(code, &taken))
        })
    }

    /// Python's `del self[slice]`.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroStep`], [`Error::Exported`], allocation errors.
    pub fn del_slice(&self, slice: Slice) -> Result<(), Error> {
        with_store!(&self.store, a => {
            let mut w = a.write();
            let r = slice.indices(w.len())?;
            // CPython raises BufferError for any deletion while exported, even an empty one.
            fail_early(a, &w)?;
            delete_indices(&mut w, r)
        })
    }

    // -----------------------------------------------------------------------------------------
    // Bulk writes
    // -----------------------------------------------------------------------------------------

    /// Appends the elements of `other` (which may be `self`: `a.extend(a)` doubles `a`). The
    /// append takes effect at an instant at which `other` held exactly what was appended (the
    /// core's cross-array rule: `self`'s lock only, `other` read optimistically and checked at
    /// the publishing step).
    ///
    /// # Errors
    ///
    /// [`Error::TypeMismatch`]; [`Error::Exported`]; allocation errors.
    pub fn extend(&self, other: &DynArray) -> Result<(), Error> {
        with_pair!(&self.store, &other.store, a, b => {
            if self.code != other.code {
                return Err(self.mismatch(other));
            }
            a.try_extend_from_array(b)
        }, _ => Err(self.mismatch(other)))
    }

    /// Appends `values`, all converted first (Python's `fromlist`: all or nothing).
    ///
    /// # Errors
    ///
    /// Conversion errors (nothing appended); [`Error::Exported`]; allocation errors.
    pub fn extend_values(&self, values: &[Value]) -> Result<(), Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            let values = convert_all(values, code)?;
            let mut w = a.write();
            w.append(&values)
        })
    }

    /// Appends the elements encoded in `bytes` (native order; Python's `frombytes`).
    ///
    /// # Errors
    ///
    /// [`Error::BadByteLength`]; [`Error::Exported`]; allocation errors.
    pub fn extend_bytes(&self, bytes: &[u8]) -> Result<(), Error> {
        // The bytes go to the core as they are: no typed copy in between (the length is
        // checked before anything changes).
        with_store!(&self.store, a => a.write().append_bytes(bytes))
    }

    /// Appends the elements encoded in the `nbytes` bytes at `ptr` (native order), copied with
    /// atomic loads first (see [`read_shared`]): for input that may alias memory other threads
    /// write, such as another array's export, or this array's own.
    ///
    /// No element is torn: when `ptr` is aligned to the element size (as every export's
    /// elements are), each is read by one atomic load at least as wide as an element
    /// ([`Source::Elements`]), or, when the bytes lie in one of this array's own live exports,
    /// by whole 64-bit unit loads ([`Source::Export`]). To copy from *another* array's
    /// export with unit loads too (no access of a size other than that array's own), check
    /// [`exports_cover`](Self::exports_cover) on that array and use [`read_shared`] with
    /// `Source::Export`, then [`extend_bytes`](Self::extend_bytes).
    ///
    /// # Errors
    ///
    /// As [`extend_bytes`](Self::extend_bytes).
    ///
    /// # Safety
    ///
    /// As [`read_shared`] with `Source::Elements`: `ptr` readable for `nbytes` bytes during
    /// the call, written only atomically meanwhile.
    pub unsafe fn extend_from_raw(&self, ptr: *const u8, nbytes: usize) -> Result<(), Error> {
        let source = self.source_of(ptr, nbytes);
        // SAFETY: forwarded to the caller; `Source::Export` only for a range inside one of our
        // live exports, which the caller keeps alive by keeping `ptr` readable.
        let bytes = unsafe { read_shared(ptr, nbytes, source) };
        self.extend_bytes(&bytes)
    }

    /// Python's `self[slice] = array(code, bytes)` with the bytes at `ptr` copied with atomic
    /// loads first (see [`extend_from_raw`](Self::extend_from_raw)).
    ///
    /// # Errors
    ///
    /// As [`set_slice_bytes`](Self::set_slice_bytes).
    ///
    /// # Safety
    ///
    /// As [`extend_from_raw`](Self::extend_from_raw).
    pub unsafe fn set_slice_from_raw(
        &self,
        slice: Slice,
        ptr: *const u8,
        nbytes: usize,
    ) -> Result<(), Error> {
        let source = self.source_of(ptr, nbytes);
        // SAFETY: as in `extend_from_raw`.
        let bytes = unsafe { read_shared(ptr, nbytes, source) };
        self.set_slice_bytes(slice, &bytes)
    }

    /// Removes every element, keeping the capacity.
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] under the strict rule.
    pub fn clear(&self) -> Result<(), Error> {
        self.truncate(0)
    }

    /// Shortens the array to `len` elements (nothing if it is not longer).
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] under the strict rule.
    pub fn truncate(&self, len: usize) -> Result<(), Error> {
        with_store!(&self.store, a => {
            let mut w = a.write();
            if len < w.len() {
                w.truncate(len)?;
            }
            Ok(())
        })
    }

    /// Resizes to `len` elements, filling new slots with `fill`.
    ///
    /// # Errors
    ///
    /// Conversion errors; [`Error::Exported`]; allocation errors.
    pub fn resize(&self, len: usize, fill: Value) -> Result<(), Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            let x = Scalar::from_value(fill, code)?;
            let mut w = a.write();
            let old = w.len();
            if len < old {
                w.truncate(len)?;
                Ok(())
            } else {
                w.append_repeat(x, len - old)
            }
        })
    }

    /// Resizes to `len` elements, filling new slots with the element encoded in `fill` (native
    /// order, bit for bit).
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] if `fill` is not `itemsize()` long; otherwise as
    /// [`resize`](Self::resize).
    pub fn resize_bytes(&self, len: usize, fill: &[u8]) -> Result<(), Error> {
        if fill.len() != self.itemsize() {
            return Err(Error::LengthMismatch {
                expected: self.itemsize(),
                actual: fill.len(),
            });
        }
        with_store!(&self.store, a => {
            let x = bytemuck::pod_read_unaligned(fill);
            let mut w = a.write();
            let old = w.len();
            if len < old {
                w.truncate(len)?;
                Ok(())
            } else {
                w.append_repeat(x, len - old)
            }
        })
    }

    /// Makes room for at least `additional` more elements.
    ///
    /// # Errors
    ///
    /// [`Error::CapacityOverflow`], [`Error::AllocFailed`], [`Error::Exported`].
    pub fn reserve(&self, additional: usize) -> Result<(), Error> {
        with_store!(&self.store, a => a.try_reserve(additional))
    }

    /// Reverses the elements in one step.
    ///
    /// # Errors
    ///
    /// Allocation errors.
    pub fn reverse(&self) -> Result<(), Error> {
        with_store!(&self.store, a => {
            a.write().rewrite(|values| values.reverse())
        })
    }

    /// Reverses the bytes of every element (Python's `byteswap`) in one step.
    ///
    /// # Errors
    ///
    /// Allocation errors.
    pub fn byteswap(&self) -> Result<(), Error> {
        with_store!(&self.store, a => {
            a.write().rewrite(|values| {
                for x in values.iter_mut() {
                    bytemuck::bytes_of_mut(x).reverse();
                }
            })
        })
    }

    /// Python's `self *= n`: the contents repeated `n` times (`n <= 0` empties the array).
    ///
    /// # Errors
    ///
    /// [`Error::Exported`]; [`Error::CapacityOverflow`]/[`Error::AllocFailed`] if the result
    /// does not fit.
    pub fn repeat_in_place(&self, n: isize) -> Result<(), Error> {
        with_store!(&self.store, a => {
            let mut w = a.write();
            let len = w.len();
            if len == 0 || n == 1 {
                return Ok(());
            }
            if n <= 0 {
                return w.truncate(0);
            }
            let values = w.snapshot()?;
            let more = repeated(&values, n as usize - 1)?;
            w.append(&more)
        })
    }

    // -----------------------------------------------------------------------------------------
    // New arrays and snapshots
    // -----------------------------------------------------------------------------------------

    /// Python's `self * n`: a new array with the contents repeated `n` times.
    ///
    /// # Errors
    ///
    /// [`Error::CapacityOverflow`]/[`Error::AllocFailed`] if the result does not fit.
    pub fn repeat(&self, n: isize) -> Result<DynArray, Error> {
        self.repeat_new(n).map(NewArray::into_array)
    }

    /// [`repeat`](Self::repeat), as a [`NewArray`] to place.
    ///
    /// # Errors
    ///
    /// As [`repeat`](Self::repeat).
    pub fn repeat_new(&self, n: isize) -> Result<NewArray, Error> {
        let code = self.code;
        if n <= 0 {
            return Ok(NewArray { code, block: 0 });
        }
        with_store!(&self.store, a => {
            let copies = a.try_copy_range(n as usize, |len| Ok(0..len))?;
            Ok(NewArray::of(code, copies))
        })
    }

    /// Python's `self + other`: a new array, both read as they were at one instant, without a
    /// lock (`other` may be `self`).
    ///
    /// # Errors
    ///
    /// [`Error::TypeMismatch`]; allocation errors.
    pub fn concat(&self, other: &DynArray) -> Result<DynArray, Error> {
        self.concat_new(other).map(NewArray::into_array)
    }

    /// [`concat`](Self::concat), as a [`NewArray`] to place.
    ///
    /// # Errors
    ///
    /// As [`concat`](Self::concat).
    pub fn concat_new(&self, other: &DynArray) -> Result<NewArray, Error> {
        let code = self.code;
        let same = std::ptr::eq(self, other);
        with_pair!(&self.store, &other.store, a, b => {
            if self.code != other.code {
                return Err(self.mismatch(other));
            }
            // Both as they were at one instant, without a lock, copied straight into the
            // new block (`a + a`: one read, copied twice).
            let joined = if same { a.try_copy_range(2, |len| Ok(0..len))? } else { a.try_concat(b)? };
            Ok(NewArray::of(code, joined))
        }, _ => Err(self.mismatch(other)))
    }

    /// All elements as values, taken at one instant (Python's `tolist`).
    pub fn to_values(&self) -> Vec<Value> {
        let code = self.code;
        with_store!(&self.store, a => a.to_vec().into_iter().map(|x| x.to_value(code)).collect())
    }

    /// All elements' bytes in native order, taken at one instant (Python's `tobytes`).
    pub fn to_bytes(&self) -> Vec<u8> {
        with_store!(&self.store, a => a.to_bytes())
    }

    /// Copies all elements' bytes into `dst`, at one instant, and returns how many bytes that
    /// was.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] if `dst` is too small at that instant: `expected` is the size
    /// needed then (ask again with a buffer at least that big; the array may have grown).
    pub fn copy_bytes_to(&self, dst: &mut [u8]) -> Result<usize, Error> {
        with_store!(&self.store, a => copy_bytes_t(a, dst))
    }

    /// Copies the bytes of the elements `self[start:stop]` (Python's slice with step 1:
    /// negative bounds count from the end, everything is clamped), taken at one instant, into
    /// `dst`, and returns how many bytes that was.
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] if `dst` is too small at that instant: `expected` is the size
    /// needed then.
    ///
    /// ```
    /// use ftarray::{DynArray, TypeCode, Value};
    /// let a = DynArray::from_values(TypeCode::I16, &[1, 2, 3, 4].map(Value::from)).unwrap();
    /// let mut out = [0u8; 8];
    /// assert_eq!(a.copy_range_to(1, -1, &mut out).unwrap(), 4);
    /// assert_eq!(&out[..4], [2i16, 3].map(i16::to_ne_bytes).concat());
    /// ```
    pub fn copy_range_to(&self, start: isize, stop: isize, dst: &mut [u8]) -> Result<usize, Error> {
        let item = self.itemsize();
        with_store!(&self.store, a => {
            let guard = crate::reclaim::pin();
            a.read(&guard, |v| {
                let span = Slice::range(start, stop).indices(v.len())?.span();
                let n = span.len() * item;
                if n > dst.len() {
                    return Err(Error::LengthMismatch {
                        expected: n,
                        actual: dst.len(),
                    });
                }
                v.slice(span).copy_to_bytes(&mut dst[..n]);
                Ok(n)
            })
        })
    }

    /// Overwrites the elements `self[start:stop]` (clamped as a step-1 slice) with the
    /// elements encoded in `bytes`, which must be exactly as many, in one step; the length never
    /// changes.
    ///
    /// # Errors
    ///
    /// [`Error::BadByteLength`]; [`Error::LengthMismatch`] (in elements) if the clamped range
    /// at the instant of the write does not have as many elements as `bytes`;
    /// [`Error::Exported`] if the range is too large to rewrite in place while exported;
    /// allocation errors.
    pub fn set_range_bytes(&self, start: isize, stop: isize, bytes: &[u8]) -> Result<(), Error> {
        with_store!(&self.store, a => {
            let values = from_bytes_t(bytes)?;
            let mut w = a.write();
            let span = Slice::range(start, stop).indices(w.len())?.span();
            if span.len() != values.len() {
                return Err(Error::LengthMismatch {
                    expected: span.len(),
                    actual: values.len(),
                });
            }
            w.splice(span, &values)
        })
    }

    /// Sets every element of `self[start:stop]` (clamped as a step-1 slice) to `value`, in
    /// one step.
    ///
    /// # Errors
    ///
    /// Conversion errors (nothing changes); [`Error::Exported`] as
    /// [`set_range_bytes`](Self::set_range_bytes); allocation errors.
    pub fn fill(&self, start: isize, stop: isize, value: Value) -> Result<(), Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            let x = Scalar::from_value(value, code)?;
            fill_t(a, start, stop, x)
        })
    }

    /// [`fill`](Self::fill) with the element encoded in `fill` (native order, bit for bit).
    ///
    /// # Errors
    ///
    /// [`Error::LengthMismatch`] if `fill` is not `itemsize()` long; otherwise as
    /// [`fill`](Self::fill).
    pub fn fill_bytes(&self, start: isize, stop: isize, fill: &[u8]) -> Result<(), Error> {
        if fill.len() != self.itemsize() {
            return Err(Error::LengthMismatch {
                expected: self.itemsize(),
                actual: fill.len(),
            });
        }
        with_store!(&self.store, a => fill_t(a, start, stop, bytemuck::pod_read_unaligned(fill)))
    }

    /// Gives back the capacity beyond the length (a smaller block is published and the old one
    /// retired).
    ///
    /// # Errors
    ///
    /// [`Error::Exported`] (the storage would move); allocation errors.
    pub fn shrink_to_fit(&self) -> Result<(), Error> {
        with_store!(&self.store, a => a.shrink_to_fit())
    }

    /// Sorts the elements in ascending order, in one step (stable). Integers and characters by
    /// value; floats by IEEE 754's total order (`-NaN < -inf < … < -0.0 < +0.0 < … < +inf <
    /// +NaN`), so a NaN never makes the order undefined.
    ///
    /// # Errors
    ///
    /// Allocation errors.
    ///
    /// ```
    /// use ftarray::{DynArray, TypeCode, Value};
    /// let a = DynArray::from_values(TypeCode::F64, &[2.0, f64::NAN, -1.0].map(Value::from)).unwrap();
    /// a.sort().unwrap();
    /// assert_eq!(a.get(0).unwrap(), Value::from(-1.0));
    /// assert!(a.get(2).unwrap().as_f64().unwrap().is_nan());
    /// ```
    pub fn sort(&self) -> Result<(), Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            if code.kind() == Kind::Float {
                a.try_sort_by(|x, y| {
                    let (x, y) = (x.to_value(code), y.to_value(code));
                    let f = |v: Value| v.as_f64().unwrap_or(f64::NAN);
                    f(x).total_cmp(&f(y))
                })
            } else {
                a.try_sort_by(|x, y| x.partial_cmp(y).unwrap_or(Ordering::Equal))
            }
        })
    }

    /// A snapshot copy with the same type code (and the default export rule).
    ///
    /// # Errors
    ///
    /// Allocation errors.
    pub fn try_clone(&self) -> Result<DynArray, Error> {
        self.try_clone_new().map(NewArray::into_array)
    }

    /// [`try_clone`](Self::try_clone), as a [`NewArray`] to place.
    ///
    /// # Errors
    ///
    /// Allocation errors.
    pub fn try_clone_new(&self) -> Result<NewArray, Error> {
        let code = self.code;
        with_store!(&self.store, a => {
            let copy = a.try_copy_range(1, |len| Ok(0..len))?;
            Ok(NewArray::of(code, copy))
        })
    }

    // -----------------------------------------------------------------------------------------
    // Comparison
    // -----------------------------------------------------------------------------------------

    /// Python's rich comparison of two arrays, by value, across type codes (an `i` array
    /// equals a `d` array holding the same numbers). Both are read as they were at one instant,
    /// without a lock; `a == a` is one snapshot compared with itself.
    ///
    /// # Errors
    ///
    /// [`Error::Unordered`] if an ordering comparison meets a character and a number.
    pub fn compare(&self, other: &DynArray, op: CompareOp) -> Result<bool, Error> {
        if std::ptr::eq(self, other) {
            // One snapshot compared with itself: every element equals itself unless NaN.
            return with_store!(&self.store, a => {
                let v = a.to_vec();
                richcompare(&v, &v, op)
            });
        }
        let (code_a, code_b) = (self.code, other.code);
        if code_a == code_b {
            return with_pair!(&self.store, &other.store, a, b => {
                let (x, y) = a.snapshot_pair(b);
                richcompare(&x, &y, op)
            }, _ => unreachable!("one type code, one storage type"));
        }
        let (x, y) = with_store!(&self.store, a => with_store!(&other.store, b => {
            values_pair(a, code_a, b, code_b)
        }));
        if x.len() != y.len() && matches!(op, CompareOp::Eq | CompareOp::Ne) {
            return Ok(op == CompareOp::Ne);
        }
        match x.iter().zip(&y).find(|(p, q)| p != q) {
            None => Ok(op.holds(x.len().cmp(&y.len()))),
            Some(_) if op == CompareOp::Eq => Ok(false),
            Some(_) if op == CompareOp::Ne => Ok(true),
            Some((p, q)) => match p.partial_cmp(q) {
                Some(ordering) => Ok(op.holds(ordering)),
                None if p.kind() != Kind::Char && q.kind() != Kind::Char => Ok(false),
                None => Err(Error::Unordered),
            },
        }
    }

    // -----------------------------------------------------------------------------------------
    // Atomic read-modify-write
    // -----------------------------------------------------------------------------------------

    /// Adds `delta` to the element at `index` (integers wrap; floats follow IEEE 754) in one
    /// step and returns the old value.
    ///
    /// # Errors
    ///
    /// [`Error::NotInteger`] for a character array; [`Error::WrongKind`] for a delta the
    /// array cannot add (a float on an integer array, a character on any array);
    /// [`Error::SignedIndexOutOfRange`]. On error nothing changes.
    pub fn fetch_add(&self, index: isize, delta: Value) -> Result<Value, Error> {
        let code = self.code;
        if code.kind() == Kind::Char {
            return Err(Error::NotInteger { code });
        }
        // Refused before the lock is taken, so a wrong delta costs other writers nothing.
        let addable = if code.is_integer() {
            delta.as_i128().is_some()
        } else {
            delta.as_f64().is_some()
        };
        if !addable {
            return Err(Error::WrongKind {
                code,
                given: delta.kind(),
            });
        }
        with_store!(&self.store, a => {
            let mut w = a.write();
            let len = w.len();
            let i = resolve_index(index, len).ok_or(Error::SignedIndexOutOfRange { index, len })?;
            let old = w
                .get_for_update(i)
                .ok_or(Error::SignedIndexOutOfRange { index, len })?;
            let new = add_wrapping(old, delta, code)?;
            // A write through an export after `get` is kept (made just after this add).
            w.replace(i, old, new)?;
            Ok(old.to_value(code))
        })
    }

    /// If the element at `index` equals `current`, replaces it with `new`; returns `Ok(old)`
    /// if it did and `Err(actual)` if not. Integer arrays only.
    ///
    /// # Errors
    ///
    /// [`Error::NotInteger`]; conversion errors for `current` and `new`; index errors.
    pub fn compare_exchange(
        &self,
        index: isize,
        current: Value,
        new: Value,
    ) -> Result<Result<Value, Value>, Error> {
        let code = self.code;
        if !code.is_integer() {
            return Err(Error::NotInteger { code });
        }
        with_store!(&self.store, a => {
            let cur = Scalar::from_value(current, code)?;
            let new = Scalar::from_value(new, code)?;
            let mut w = a.write();
            let len = w.len();
            let i = resolve_index(index, len).ok_or(Error::SignedIndexOutOfRange { index, len })?;
            let old = w
                .get_for_update(i)
                .ok_or(Error::SignedIndexOutOfRange { index, len })?;
            if old != cur {
                return Ok(Err(old.to_value(code)));
            }
            // A compare-and-swap of the element: a write through an export since `get` makes
            // it fail with that value, as it would have had the write come first.
            match w.replace(i, old, new)? {
                seen if seen == old => Ok(Ok(old.to_value(code))),
                seen => Ok(Err(seen.to_value(code))),
            }
        })
    }

    // -----------------------------------------------------------------------------------------
    // Exports
    // -----------------------------------------------------------------------------------------

    /// Pins the storage and returns where it is, for a buffer-protocol host; the export lasts
    /// until [`release_export`](Self::release_export) is called with its token.
    ///
    /// While it lasts, operations that would move or free the storage fail with
    /// [`Error::Exported`] (and, under [`set_strict_exports`](Self::set_strict_exports), every
    /// length change does). Reads and writes through the pointer race with this array's own
    /// lock-free readers and writers unless the host orders them: treat the elements as
    /// atomics of `itemsize` bytes, or write only while no other thread uses the array.
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if a snapshot shares the storage and the copy the export needs
    /// (the host may write; a snapshot never changes) cannot be allocated: nothing is exported.
    pub fn export_raw(&self) -> Result<RawExport, Error> {
        let mut live = self.exports.lock();
        let (ptr, len) = with_store!(&self.store, a => {
            let (p, n) = a.try_export_raw()?;
            (p.cast::<u8>(), n)
        });
        let token = NEXT_TOKEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let export = RawExport {
            ptr,
            len,
            itemsize: self.itemsize(),
            code: self.code,
            token,
        };
        live.get_or_insert_with(Box::default).push(LiveExport {
            token,
            storage: export.storage(),
        });
        Ok(export)
    }

    /// Ends the export named by `token`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownExport`] if `token` does not name a live export of this array (never
    /// made, made by another array, or already released); nothing changes.
    pub fn release_export(&self, token: u64) -> Result<(), Error> {
        let mut guard = self.exports.lock();
        let live = guard.as_mut().ok_or(Error::UnknownExport { token })?;
        let at = live
            .iter()
            .position(|e| e.token == token)
            .ok_or(Error::UnknownExport { token })?;
        live.swap_remove(at);
        if live.is_empty() {
            *guard = None;
        }
        // SAFETY: `token` named a live export made by `export_raw`, which made exactly one
        // `FtArray::export_raw`; we release exactly that one, once (the token is gone now).
        with_store!(&self.store, a => unsafe { a.release_export() });
        Ok(())
    }

    /// Holds this array's locks (the export list's, then the writer lock) until the returned
    /// value is dropped: while it lives, no other thread is inside a write of this array, so no
    /// write is half done, and none can start.
    ///
    /// For `fork()`: a process that holds every array this way in a `pthread_atfork` prepare
    /// handler, and drops the holds in the parent and child handlers, never gives a child an
    /// array locked by a thread the child does not have. The locks are std's futex mutexes,
    /// whose waiters live in the kernel, so dropping a hold in the child wakes nobody and
    /// leaves nothing behind. Never hold two arrays this way in different orders on two threads
    /// at once. One thread holding many, as a fork handler does, is fine as long as every other
    /// lock holder holds one array's locks at a time: the crate's own operations do, but a
    /// closure given to [`FtArray::update`] (or `retain`, `sort_by`, `fetch_update`) that writes
    /// another array holds two, and a fork handler taking them in the other order deadlocks
    /// with it.
    pub fn hold_for_fork(&self) -> ForkHold<'_> {
        let exports = self.exports.lock();
        let writer: Box<dyn Held + '_> = with_store!(&self.store, a => Box::new(a.write()));
        ForkHold {
            _writer: writer,
            _exports: exports,
        }
    }

    /// [`hold_for_fork`](Self::hold_for_fork) if both locks are free right now, else `None`:
    /// never waits. In a child forked while another thread was writing this array (the locks
    /// held by a thread the child does not have), it is `None`.
    pub fn try_hold_for_fork(&self) -> Option<ForkHold<'_>> {
        let exports = self.exports.try_lock()?;
        let writer: Box<dyn Held + '_> = with_store!(&self.store, a => Box::new(a.try_write()?));
        Some(ForkHold {
            _writer: writer,
            _exports: exports,
        })
    }

    /// The number of live exports.
    pub fn export_count(&self) -> usize {
        self.exports.lock().as_ref().map_or(0, |live| live.len())
    }

    /// Whether the `nbytes` bytes at `ptr` (at least one) lie inside the storage of one of this
    /// array's live exports, counting the padding up to the end of the last element's 8-byte
    /// unit: memory [`Source::Export`] may then be used for (for as long as that export
    /// lives). A host that holds a buffer of this array (Python's `memoryview`) asks this
    /// before copying from it.
    ///
    /// ```
    /// use ftarray::{DynArray, TypeCode, Value};
    /// let a = DynArray::from_values(TypeCode::UInt, &[Value::from(1); 3]).unwrap();
    /// let e = a.export_raw().unwrap();
    /// // SAFETY: pointer arithmetic inside the exported storage; nothing is read.
    /// let tail = unsafe { e.ptr.add(4) };
    /// assert!(a.exports_cover(tail, 8));
    /// assert!(a.exports_cover(tail, 12)); // 12 + 4 = 16: the padding of the last unit
    /// assert!(!a.exports_cover(tail, 13));
    /// a.release_export(e.token).unwrap();
    /// assert!(!a.exports_cover(tail, 8));
    /// ```
    pub fn exports_cover(&self, ptr: *const u8, nbytes: usize) -> bool {
        let start = ptr.addr();
        let Some(end) = start.checked_add(nbytes) else {
            return false;
        };
        nbytes > 0
            && self
                .exports
                .lock()
                .iter()
                .flat_map(|live| live.iter())
                .any(|e| e.storage.start <= start && end <= e.storage.end)
    }

    /// How to copy the `nbytes` bytes at `ptr` for this array: whole units if they lie in one
    /// of its own live exports, else element-wide loads.
    fn source_of(&self, ptr: *const u8, nbytes: usize) -> Source {
        if self.exports_cover(ptr, nbytes) {
            Source::Export
        } else {
            Source::Elements {
                itemsize: self.itemsize(),
            }
        }
    }

    fn mismatch(&self, other: &DynArray) -> Error {
        Error::TypeMismatch {
            expected: self.code,
            actual: other.code,
        }
    }
}

/// Both arrays' elements as values, as they were at one instant (no lock).
fn values_pair<T: Stored, U: Stored>(
    a: &FtArray<T>,
    code_a: TypeCode,
    b: &FtArray<U>,
    code_b: TypeCode,
) -> (Vec<Value>, Vec<Value>) {
    let (x, y) = a.snapshot_pair(b);
    (
        x.into_iter().map(|e| e.to_value(code_a)).collect(),
        y.into_iter().map(|e| e.to_value(code_b)).collect(),
    )
}

fn copy_bytes_t<T: Stored>(a: &FtArray<T>, dst: &mut [u8]) -> Result<usize, Error> {
    let guard = crate::reclaim::pin();
    a.read(&guard, |v| {
        let n = v.len() * size_of::<T>();
        if n > dst.len() {
            return Err(Error::LengthMismatch {
                expected: n,
                actual: dst.len(),
            });
        }
        v.copy_to_bytes(&mut dst[..n]);
        Ok(n)
    })
}

/// Sets `a[start:stop]` (a clamped step-1 slice) to `x`, in one step.
fn fill_t<T: Stored>(a: &FtArray<T>, start: isize, stop: isize, x: T) -> Result<(), Error> {
    let mut w = a.write();
    let span = Slice::range(start, stop).indices(w.len())?.span();
    let mut values = Vec::new();
    values
        .try_reserve_exact(span.len())
        .map_err(|_| Error::AllocFailed {
            bytes: span.len().saturating_mul(size_of::<T>()),
        })?;
    values.resize(span.len(), x);
    w.splice(span, &values)
}

/// `old + delta`, wrapping for integers, or the error of a delta the element cannot take
/// (never a silent substitute: `Ok` from `fetch_add` means the delta was added).
fn add_wrapping<T: Stored>(old: T, delta: Value, code: TypeCode) -> Result<T, Error> {
    let wrong = || Error::WrongKind {
        code,
        given: delta.kind(),
    };
    match old.to_value(code) {
        Value::Float(x) => T::from_value(Value::Float(x + delta.as_f64().ok_or_else(wrong)?), code),
        o => {
            let bits = (code.itemsize() * 8) as u32;
            let sum = o
                .as_i128()
                .ok_or_else(wrong)?
                .wrapping_add(delta.as_i128().ok_or_else(wrong)?);
            let mask = (1i128 << bits) - 1;
            let wrapped = sum & mask;
            let v = if code.kind() == Kind::Signed && wrapped >> (bits - 1) & 1 == 1 {
                wrapped - (1i128 << bits)
            } else {
                wrapped
            };
            // In range by construction; an error rather than a panic if that were ever false.
            let v = Value::from_i128(v).ok_or(Error::Overflow { code, above: v > 0 })?;
            T::from_value(v, code)
        }
    }
}

impl Clone for DynArray {
    /// A snapshot copy.
    ///
    /// # Panics
    ///
    /// If the allocation fails; see [`DynArray::try_clone`].
    fn clone(&self) -> DynArray {
        self.try_clone().unwrap_or_else(|e| panic!("{e}"))
    }
}

impl fmt::Debug for DynArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "array('{}', [", self.code)?;
        for (k, v) in self.to_values().iter().enumerate() {
            if k > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{v}")?;
        }
        f.write_str("])")
    }
}

/// Equality by value across type codes (Python's `==`); `a == a` is one snapshot.
impl PartialEq for DynArray {
    fn eq(&self, other: &DynArray) -> bool {
        self.compare(other, CompareOp::Eq).unwrap_or(false)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// After `into_new`, a snapshot of the old array still shows what it showed, whatever the
    /// new array writes (`into_new` copies storage a snapshot shares; a move would be caught
    /// by the writers' copy-on-write too), and values and empty or unplaced `NewArray`s come
    /// out right. The export case, where a move would be wrong, is the next test.
    #[test]
    fn into_new_copies_storage_that_a_snapshot_or_an_export_uses() {
        let values = [Value::Int(1), Value::Int(2), Value::Int(3)];
        // Alone: moved, contents kept.
        let a = DynArray::from_values(TypeCode::Int, &values).unwrap();
        let b = a.into_new().unwrap().into_array();
        assert_eq!(b.to_values(), values);
        // Shared with a snapshot: copied.
        let snap = b.snapshot().unwrap();
        let c = b.into_new().unwrap().into_array();
        c.set(0, Value::Int(99)).unwrap();
        c.push(Value::Int(4)).unwrap();
        assert_eq!(
            snap.to_values(),
            values,
            "the snapshot saw the new array's writes"
        );
        drop(snap);
        assert_eq!(c.to_values()[..2], [Value::Int(99), Value::Int(2)]);
        // An empty `NewArray` and one dropped unplaced free what they hold.
        assert_eq!(NewArray::empty(TypeCode::F64).into_array().len(), 0);
        drop(c.try_clone_new().unwrap());
    }

    /// The export half of the test above. An array dropped with a live export leaks its
    /// storage by design (the holder may still use it), which Miri reports.
    #[test]
    #[cfg_attr(miri, ignore = "leaks the exported storage by design")]
    fn into_new_copies_storage_that_an_export_uses() {
        let values = [Value::Int(1), Value::Int(2), Value::Int(3)];
        let c = DynArray::from_values(TypeCode::Int, &values).unwrap();
        let export = c.export_raw().unwrap();
        let d = c.into_new().unwrap().into_array();
        d.set(1, Value::Int(-5)).unwrap();
        assert_eq!(d.to_values()[1], Value::Int(-5));
        // SAFETY: an export's storage stays allocated until released (here: for good, its
        // array is gone), `Int` is 4 bytes, and no thread writes it now.
        let seen = unsafe { *export.ptr.cast::<i32>().add(1) };
        assert_eq!(seen, 2, "the export's storage was written by the new array");
    }

    /// Issue 20, defect 4: tokens counted per array from 1 made the first export of every array
    /// token 1, so releasing `a`'s token on `b` dropped `b`'s real pin. Whatever the numbers,
    /// a token of another array names no export here.
    #[test]
    fn a_token_of_another_array_releases_nothing() {
        let a = DynArray::from_values(TypeCode::Int, &[1.into(), 2.into()]).unwrap();
        let b = DynArray::from_values(TypeCode::Int, &[3.into(), 4.into()]).unwrap();
        let ea = a.export_raw().unwrap();
        let eb = b.export_raw().unwrap();
        // Under per-array counting both are token 1: the case the C test skipped.
        for (array, foreign, own) in [(&b, ea.token, eb.token), (&a, eb.token, ea.token)] {
            assert_eq!(
                array.release_export(foreign),
                Err(Error::UnknownExport { token: foreign })
            );
            assert_eq!(array.export_count(), 1);
            assert_ne!(foreign, own, "two live exports share a token");
        }
        // `b`'s export still pins its storage: a move is refused, and the view is intact.
        assert!(matches!(
            b.reserve(1 << 20),
            Err(Error::Exported { exports: 1 })
        ));
        // SAFETY: `eb` pins `b`'s first two elements; only this thread uses `b`.
        let view = unsafe { std::slice::from_raw_parts(eb.ptr.cast::<i32>(), eb.len) };
        assert_eq!(view, [3, 4]);
        // Each token still works on its own array, once.
        a.release_export(ea.token).unwrap();
        b.release_export(eb.token).unwrap();
        assert!(b.release_export(eb.token).is_err());
        assert_eq!((a.export_count(), b.export_count()), (0, 0));
    }

    /// Issue 20, defect 3, the memory model's half: a copy from a live export racing the
    /// array's writer must not mix access sizes. The writer stores element 2 of a `u32` array
    /// as part of its 64-bit unit; a copy that loaded that element by itself (bytes, or one
    /// 4-byte atomic) would race with that store at another size, which Miri reports. With
    /// `Source::Export` every unit is loaded whole, as the writer stores it: under Miri
    /// (`cargo +nightly miri test --lib copy_from_a_live_export`, Tree Borrows) this is clean.
    #[test]
    fn copy_from_a_live_export_loads_whole_units() {
        const ROUNDS: usize = if cfg!(miri) { 30 } else { 10_000 };
        let a = DynArray::from_values(TypeCode::UInt, &[Value::from(0); 3]).unwrap();
        let e = a.export_raw().unwrap();
        assert!(a.exports_cover(e.ptr, 12));
        let ones = Value::from(0xFFFF_FFFFi64);
        std::thread::scope(|s| {
            s.spawn(|| {
                for k in 0..ROUNDS {
                    a.set(2, if k % 2 == 0 { ones } else { Value::from(0) })
                        .unwrap();
                }
            });
            let b = DynArray::new(TypeCode::UInt);
            for k in 0..ROUNDS {
                let (from, n) = if k % 2 == 0 { (0, 12) } else { (4, 8) };
                // SAFETY: the export pins `a`'s storage for the whole scope, and `a`'s writer
                // stores whole units atomically; the range lies inside the export.
                let bytes = unsafe { read_shared(e.ptr.add(from), n, Source::Export) };
                b.extend_bytes(&bytes).unwrap();
            }
            for v in b.to_values() {
                assert!(v == Value::from(0) || v == ones, "torn: {v:?}");
            }
        });
        a.release_export(e.token).unwrap();
    }

    /// Issue 20, defect 5: a character delta on a float array returned Ok and added nothing.
    /// `Ok` means applied: a delta of the wrong kind is refused before anything changes.
    #[test]
    fn fetch_add_refuses_a_delta_of_the_wrong_kind() {
        for code in [TypeCode::F32, TypeCode::F64] {
            let a = DynArray::from_values(code, &[Value::Float(1.5)]).unwrap();
            assert_eq!(
                a.fetch_add(0, Value::Char(65)),
                Err(Error::WrongKind {
                    code,
                    given: Kind::Char
                })
            );
            assert_eq!(a.to_values(), [Value::Float(1.5)]);
            assert_eq!(a.fetch_add(0, Value::Int(2)), Ok(Value::Float(1.5)));
            assert_eq!(a.fetch_add(0, Value::Float(0.25)), Ok(Value::Float(3.5)));
            assert_eq!(a.to_values(), [Value::Float(3.75)]);
        }
        let i = DynArray::from_values(TypeCode::Int, &[Value::Int(7)]).unwrap();
        for delta in [Value::Char(65), Value::Float(1.0)] {
            assert_eq!(
                i.fetch_add(0, delta),
                Err(Error::WrongKind {
                    code: TypeCode::Int,
                    given: delta.kind()
                })
            );
        }
        assert_eq!(i.to_values(), [Value::Int(7)]);
    }

    /// Issue 22, item 6: a Python host embeds a `DynArray` in every array object, so its size
    /// is per-object memory. The export table is allocated only while an export lives (it cost
    /// every array 24 bytes inline), and it comes and goes with the exports.
    #[test]
    fn the_export_table_is_allocated_only_while_exports_live() {
        assert!(size_of::<DynArray>() <= 104, "{}", size_of::<DynArray>());
        let a = DynArray::from_values(TypeCode::Int, &[1.into(), 2.into()]).unwrap();
        assert!(a.exports.lock().is_none());
        let e1 = a.export_raw().unwrap();
        let e2 = a.export_raw().unwrap();
        assert_eq!(a.export_count(), 2);
        assert!(a.exports_cover(e1.ptr, 8));
        a.release_export(e1.token).unwrap();
        assert!(a.exports.lock().is_some());
        a.release_export(e2.token).unwrap();
        assert!(a.exports.lock().is_none());
        assert_eq!(a.export_count(), 0);
        assert!(!a.exports_cover(e1.ptr, 8));
        assert_eq!(
            a.release_export(e2.token),
            Err(Error::UnknownExport { token: e2.token })
        );
    }
}
