//! The `ops` target: operation sequences against an `FtArray<T>` and a `Vec<T>` model.
//!
//! The model implements the documented semantics, including every error and the rules while
//! the storage is exported (see `ftarray::Export`): operations that would move the storage fail
//! with `Error::Exported { exports }` and change nothing; in-place ones succeed. After every step
//! the array and the model must agree bit for bit (so NaN payloads compare exactly), the
//! capacity must cover the length, and while anything is exported the capacity and the storage
//! address must not change and the exported pointer must show the current contents.
//!
//! Capacity after growth is not modelled beyond `capacity() >= len()` (and `>= len + additional`
//! after a successful reserve, `== len` after `shrink_to_fit`, both documented).

use crate::elem::{FuzzElem, bytes_of, decode, key, same, swap_bytes};
use arbitrary::{Arbitrary, Unstructured};
use ftarray::{Error, Export, FtArray, Snapshot};
use std::cmp::Ordering;
use std::fmt::Debug;
use std::num::NonZeroUsize;
use std::ops::{Bound, Range};

/// At most this many operations per input.
const MAX_OPS: usize = 256;
/// Operations that would make the array longer than this are skipped.
const MAX_LEN: usize = 4096;
/// At most this many values per slice argument (more than the in-place limit of 64, so that
/// equal-length `replace_range` takes both paths).
const MAX_VALUES: usize = 80;
/// At most this many bytes per `extend_from_bytes`.
const MAX_BYTES: usize = 160;

// ---------------------------------------------------------------------------------------------
// The operation language
// ---------------------------------------------------------------------------------------------

/// An index, resolved against the length when the operation runs.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Idx {
    /// `n % (len + 1)`: in range, or exactly one past the end.
    Mod(u16),
    /// `len - k` (saturating): `FromEnd(0)` is `len`, `FromEnd(1)` the last element.
    FromEnd(u8),
    /// As given: usually out of range.
    Raw(u16),
    /// `usize::MAX`.
    Max,
}

impl Idx {
    fn at(self, len: usize) -> usize {
        match self {
            Idx::Mod(n) => usize::from(n) % (len + 1),
            Idx::FromEnd(k) => len.saturating_sub(usize::from(k)),
            Idx::Raw(n) => usize::from(n),
            Idx::Max => usize::MAX,
        }
    }
}

/// A length or an amount, resolved against the length.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Size {
    Small(u8),
    Around(i8),
    Big(u16),
}

impl Size {
    fn at(self, len: usize) -> usize {
        match self {
            Size::Small(n) => usize::from(n % 64),
            Size::Around(d) => len.saturating_add_signed(isize::from(d)),
            Size::Big(n) => usize::from(n) % (MAX_LEN + 1),
        }
    }
}

/// One range bound.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum BoundSpec {
    Unbounded,
    Included(Idx),
    Excluded(Idx),
}

impl BoundSpec {
    fn at(self, len: usize) -> Bound<usize> {
        match self {
            BoundSpec::Unbounded => Bound::Unbounded,
            BoundSpec::Included(i) => Bound::Included(i.at(len)),
            BoundSpec::Excluded(i) => Bound::Excluded(i.at(len)),
        }
    }
}

type Bounds = (Bound<usize>, Bound<usize>);

#[derive(Arbitrary, Debug, Clone, Copy)]
struct RangeSpec(BoundSpec, BoundSpec);

impl RangeSpec {
    fn at(self, len: usize) -> Bounds {
        (self.0.at(len), self.1.at(len))
    }
}

/// An element value: arbitrary bits, a small number (so searches and sorts see repeats), or a
/// special bit pattern (zeros, all ones, the sign bit, NaNs and infinities of both float sizes).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Value {
    Bits(u64),
    Small(u8),
    Special(u8),
}

const SPECIAL: [u64; 12] = [
    0,
    1,
    u64::MAX,
    0x8000_0000_0000_0000,     // f64 -0.0
    0x7ff8_0000_0000_0000,     // f64 NaN
    0x7ff0_0000_0000_0001,     // f64 signalling NaN
    0xfff0_0000_0000_0000,     // f64 -inf
    0x3ff0_0000_0000_0000,     // f64 1.0
    0x8000_0000,               // f32 -0.0
    0x7fc0_0000,               // f32 NaN
    0xffc0_0001,               // f32 NaN with payload and sign
    0x0000_0000_7f80_0000_u64, // f32 inf
];

impl Value {
    fn get<T: FuzzElem>(self) -> T {
        T::from_u64(match self {
            Value::Bits(b) => b,
            Value::Small(n) => u64::from(n % 8),
            Value::Special(n) => SPECIAL[usize::from(n) % SPECIAL.len()],
        })
    }
}

fn values<T: FuzzElem>(vs: &[Value]) -> Vec<T> {
    vs.iter().take(MAX_VALUES).map(|v| v.get()).collect()
}

/// A value to search for: a given one, or whatever is at an index (so that searches hit).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Probe {
    Value(Value),
    At(Idx),
}

impl Probe {
    fn get<T: FuzzElem>(self, m: &[T]) -> T {
        match self {
            Probe::Value(v) => v.get(),
            Probe::At(i) => m.get(i.at(m.len())).copied().unwrap_or_else(T::zeroed),
        }
    }
}

/// The function for `fetch_update`.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum FnSpec {
    Identity,
    Const(Value),
    Flip,
    SwapBytes,
}

impl FnSpec {
    fn apply<T: FuzzElem>(self, x: T) -> T {
        match self {
            FnSpec::Identity => x,
            FnSpec::Const(v) => v.get(),
            FnSpec::Flip => {
                let mut x = x;
                for b in bytemuck::bytes_of_mut(&mut x) {
                    *b = !*b;
                }
                x
            }
            FnSpec::SwapBytes => swap_bytes(x),
        }
    }
}

/// A total order for `sort_by` (a comparator that is not one may make `sort_by` panic).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum SortSpec {
    BitsAscending,
    BitsDescending,
    /// By `key % (k + 1)` only: many ties, so stability shows.
    KeyMod(u8),
}

impl SortSpec {
    fn compare<T: FuzzElem>(self) -> impl Fn(&T, &T) -> Ordering {
        move |x: &T, y: &T| match self {
            SortSpec::BitsAscending => bytemuck::bytes_of(x).cmp(bytemuck::bytes_of(y)),
            SortSpec::BitsDescending => bytemuck::bytes_of(y).cmp(bytemuck::bytes_of(x)),
            SortSpec::KeyMod(k) => {
                let m = u64::from(k) + 1;
                (key(x) % m).cmp(&(key(y) % m))
            }
        }
    }
}

/// An edit for `update`; returns the element it removed or replaced, if any.
#[derive(Arbitrary, Debug, Clone)]
enum Edit {
    Identity,
    Push(Value),
    Pop,
    Clear,
    Reverse,
    Set(Idx, Value),
    Insert(Idx, Value),
    Truncate(Size),
    Extend(Vec<Value>),
    Sort(SortSpec),
}

impl Edit {
    fn apply<T: FuzzElem>(&self, v: &mut Vec<T>) -> Option<T> {
        match self {
            Edit::Identity => None,
            Edit::Push(x) => {
                v.push(x.get());
                None
            }
            Edit::Pop => v.pop(),
            Edit::Clear => {
                v.clear();
                None
            }
            Edit::Reverse => {
                v.reverse();
                None
            }
            Edit::Set(i, x) => {
                let i = i.at(v.len());
                v.get_mut(i).map(|slot| std::mem::replace(slot, x.get()))
            }
            Edit::Insert(i, x) => {
                let i = i.at(v.len());
                if i <= v.len() {
                    v.insert(i, x.get());
                }
                None
            }
            Edit::Truncate(n) => {
                v.truncate(n.at(v.len()));
                None
            }
            Edit::Extend(xs) => {
                v.extend(values::<T>(xs));
                None
            }
            Edit::Sort(s) => {
                v.sort_by(s.compare());
                None
            }
        }
    }

    /// How many elements the edit can add at most.
    fn growth(&self) -> usize {
        match self {
            Edit::Push(_) | Edit::Insert(..) => 1,
            Edit::Extend(xs) => xs.len().min(MAX_VALUES),
            _ => 0,
        }
    }
}

/// How the array starts out.
#[derive(Arbitrary, Debug)]
enum Start {
    New,
    Default,
    WithCapacity(Size),
    TryWithCapacity(Size),
    /// `try_with_capacity(usize::MAX)` must fail with `CapacityOverflow`; then `new()`.
    TryWithCapacityMax,
    FromSlice(Vec<Value>),
    FromVec(Vec<Value>),
    FromIter(Vec<Value>),
}

/// One operation. Every write and read of `FtArray` is here.
#[derive(Arbitrary, Debug)]
enum Op {
    // In-place or possibly moving writes.
    Push(Value),
    TryPush(Value),
    Pop,
    Insert(Idx, Value),
    Remove(Idx),
    RemoveItem(Probe),
    SwapRemove(Idx),
    Set(Idx, Value),
    Swap(Idx, Idx),
    FetchUpdate(Idx, FnSpec),
    FetchAdd(Idx, Value),
    FetchSub(Idx, Value),
    ExtendFromSlice(Vec<Value>),
    TryExtendFromSlice(Vec<Value>),
    ExtendFromArray(Vec<Value>),
    ExtendFromSelf,
    TryExtendFromSelf,
    ExtendFromBytes(Vec<u8>),
    Truncate(Size),
    Clear,
    Resize(Size, Value),
    TryResize(Size, Value),
    Reserve(Size),
    TryReserve(Size),
    TryReserveExact(Size),
    TryReserveMax,
    TryReserveExactMax,
    ShrinkToFit,
    ReplaceRange(RangeSpec, Vec<Value>),
    /// `replace_strided(range, step % 5 + 1, values)`, with as many values as the range and
    /// step select (or one more, when `bool` is set: a length mismatch).
    ReplaceStrided(RangeSpec, u8, Vec<Value>, bool),
    /// `replace_range(start..start + values.len(), values)`: equal length, short or long.
    ReplaceEqual(Idx, Vec<Value>),
    RemoveRange(RangeSpec),
    Retain(u8),
    Reverse,
    SortBy(SortSpec),
    Byteswap,
    Update(Edit),
    // Exports.
    /// Turn the strict export rule (any length change fails while exported) on or off.
    SetStrict(bool),
    /// Take an export guard and hold it across the next `n % 8 + 1` operations.
    Export(u8),
    /// The same through `export_raw` / `release_export`.
    ExportRaw(u8),
    /// Write through the newest export's pointer (the holder's own write).
    ExportWrite(Idx, Value),
    DropExports,
    // Snapshots.
    /// Take a snapshot and keep it (with a copy of the model) until dropped; at most four are
    /// kept, the oldest going first. Every check compares each kept snapshot with its copy:
    /// no later operation may change what a snapshot shows.
    Snapshot,
    /// Drop kept snapshot `n % count`.
    DropSnapshot(u8),
    // Reads.
    Get(Idx),
    First,
    Last,
    Len,
    GetRange(RangeSpec),
    CopyToSlice(Idx, u8),
    ToVec,
    ToBytes,
    Position(Probe),
    Count(Probe),
    Contains(Probe),
    Iter(u8),
    Reader(Idx, RangeSpec, Probe),
    Clone,
    Eq,
    Debug,
}

// ---------------------------------------------------------------------------------------------
// Results, compared by bits
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Val {
    Unit,
    Elem(Option<Vec<u8>>),
    Elems(Vec<u8>),
    Index(Option<usize>),
    Count(usize),
    Bool(bool),
}

type Out = Result<Val, Error>;

fn elem<T: FuzzElem>(x: Option<T>) -> Val {
    Val::Elem(x.map(|x| bytemuck::bytes_of(&x).to_vec()))
}

fn elems<T: FuzzElem>(x: &[T]) -> Val {
    Val::Elems(bytes_of(x))
}

fn unit(r: Result<(), Error>) -> Out {
    r.map(|()| Val::Unit)
}

/// Resolves a range as documented: reversed or past the end is `RangeOutOfBounds`.
///
/// The second value is whether the error's fields are the ones computed here: for the two
/// overflowing bounds (`Excluded(usize::MAX)` start, `Included(usize::MAX)` end) only the variant
/// is specified.
fn resolve((s, e): Bounds, len: usize) -> Result<Range<usize>, (Error, bool)> {
    let mut exact = true;
    let start = match s {
        Bound::Included(s) => s,
        Bound::Excluded(s) => s.checked_add(1).unwrap_or_else(|| {
            exact = false;
            usize::MAX
        }),
        Bound::Unbounded => 0,
    };
    let end = match e {
        Bound::Included(e) => e.checked_add(1).unwrap_or_else(|| {
            exact = false;
            usize::MAX
        }),
        Bound::Excluded(e) => e,
        // A start past the end of an open range is out of bounds (`4..` on length 3 is 4..4).
        Bound::Unbounded => len.max(start),
    };
    if !exact || start > end || end > len {
        return Err((Error::RangeOutOfBounds { start, end, len }, exact));
    }
    Ok(start..end)
}

/// Asserts that `got` is the expected range error (exactly, or by variant when not `exact`).
fn assert_range_err<X: Debug>(op: &Op, got: &Result<X, Error>, want: &Error, exact: bool) {
    match got {
        Err(e @ Error::RangeOutOfBounds { .. }) if !exact || e == want => {}
        other => panic!("{op:?}: expected {want:?}, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------------

/// A live export: a guard, or a raw export to release by hand.
enum Pin<'a, T: FuzzElem> {
    Guard(Export<'a, T>),
    Raw(*mut T, usize),
}

struct Held<'a, T: FuzzElem> {
    pin: Pin<'a, T>,
    /// Steps left before it is dropped (decremented at the end of every step).
    ttl: u8,
}

impl<T: FuzzElem> Held<'_, T> {
    fn ptr(&self) -> *mut T {
        match &self.pin {
            Pin::Guard(e) => e.as_mut_ptr(),
            Pin::Raw(p, _) => *p,
        }
    }
    fn len(&self) -> usize {
        match &self.pin {
            Pin::Guard(e) => e.len(),
            Pin::Raw(_, n) => *n,
        }
    }
}

struct Harness<'a, T: FuzzElem> {
    a: &'a FtArray<T>,
    m: Vec<T>,
    pins: Vec<Held<'a, T>>,
    /// Capacity and element pointer when the first of the live exports was taken.
    pinned: Option<(usize, *mut T)>,
    /// Whether the strict export rule is on.
    strict: bool,
    /// Snapshots taken, each with the model's contents when it was taken.
    snaps: Vec<(Snapshot<T>, Vec<T>)>,
}

impl<'a, T: FuzzElem> Harness<'a, T> {
    fn release(&mut self, held: Held<'a, T>) {
        match held.pin {
            Pin::Guard(e) => drop(e),
            // SAFETY: made by `export_raw` on this array in `step` and released exactly once
            // here; the pointer is dropped with it.
            Pin::Raw(..) => unsafe { self.a.release_export() },
        }
    }

    fn release_all(&mut self) {
        while let Some(h) = self.pins.pop() {
            self.release(h);
        }
        self.pinned = None;
    }

    /// Ages the exports by one step and drops the expired ones.
    fn age(&mut self) {
        let mut i = 0;
        while i < self.pins.len() {
            self.pins[i].ttl -= 1;
            if self.pins[i].ttl == 0 {
                let h = self.pins.remove(i);
                self.release(h);
            } else {
                i += 1;
            }
        }
        if self.pins.is_empty() {
            self.pinned = None;
        }
    }

    /// The array agrees with the model, and exports pin the storage.
    fn check(&self, op: &Op) {
        let a = self.a;
        let len = self.m.len();
        assert_eq!(a.len(), len, "after {op:?}: len");
        assert_eq!(a.is_empty(), len == 0, "after {op:?}: is_empty");
        let got = a.to_vec();
        assert!(
            bytes_of(&got) == bytes_of(&self.m),
            "after {op:?}: contents differ\n array: {got:?}\n model: {:?}",
            self.m
        );
        let cap = a.capacity();
        assert!(cap >= len, "after {op:?}: capacity {cap} < len {len}");
        assert_eq!(
            a.export_count(),
            self.pins.len(),
            "after {op:?}: export_count"
        );
        if let Some((pinned_cap, _)) = self.pinned {
            assert_eq!(
                cap, pinned_cap,
                "after {op:?}: capacity changed while exported"
            );
        }
        for (k, (snap, then)) in self.snaps.iter().enumerate() {
            assert!(
                bytes_of(&snap.to_vec()) == bytes_of(then) && bytes_of(snap) == bytes_of(then),
                "after {op:?}: snapshot {k} changed\n snapshot: {:?}\n when taken: {then:?}",
                snap.to_vec()
            );
        }
        for h in &self.pins {
            // The storage did not move, so the exported pointer shows the current elements.
            for i in 0..h.len().min(len) {
                // SAFETY: the export pins the storage, which holds at least `h.len()` elements,
                // and no other thread touches the array.
                let x = unsafe { h.ptr().add(i).read() };
                assert!(
                    same(x, self.m[i]),
                    "after {op:?}: exported element {i} is {x:?}, model has {:?}",
                    self.m[i]
                );
            }
        }
    }

    fn step(&mut self, op: &Op) {
        let a = self.a;
        let len = self.m.len();
        let exports = self.pins.len();
        let exported = exports > 0;
        let cap = a.capacity();
        let pinned_err = Error::Exported { exports };
        let strict = self.strict;
        // While exported under the strict rule, no operation may change the length.
        let frozen = exported && strict;
        // Appending `k` elements is allowed unless it must grow the pinned storage (or, under
        // the strict rule, while anything is exported).
        let fits = |k: usize| k == 0 || !exported || (!strict && len + k <= cap);
        let ior = |index: usize| Error::IndexOutOfRange { index, len };
        let room = |k: usize| len + k <= MAX_LEN;
        let m = &mut self.m;

        // Each arm computes `want` from the model (updating it on success) and `got` from the
        // array, and they must be equal.
        let (want, got): (Out, Out) = match op {
            Op::Push(x) | Op::TryPush(x) => {
                if !room(1) {
                    return;
                }
                let x = x.get::<T>();
                let want = if fits(1) {
                    m.push(x);
                    Ok(Val::Unit)
                } else {
                    Err(pinned_err)
                };
                let got = if matches!(op, Op::Push(_)) && want.is_ok() {
                    a.push(x);
                    Ok(())
                } else {
                    a.try_push(x)
                };
                (want, unit(got))
            }
            Op::Pop => {
                if frozen && len > 0 {
                    (Err(pinned_err), a.try_pop().map(elem))
                } else if strict {
                    (Ok(elem(m.pop())), a.try_pop().map(elem))
                } else {
                    (Ok(elem(m.pop())), Ok(elem(a.pop())))
                }
            }
            Op::Insert(i, x) => {
                if !room(1) {
                    return;
                }
                let (i, x) = (i.at(len), x.get::<T>());
                let want = if i > len {
                    Err(ior(i))
                } else if exported && !(i == len && fits(1)) {
                    Err(pinned_err)
                } else {
                    m.insert(i, x);
                    Ok(Val::Unit)
                };
                (want, unit(a.insert(i, x)))
            }
            Op::Remove(i) => {
                let i = i.at(len);
                let want = if i >= len {
                    Err(ior(i))
                } else if exported && (i != len - 1 || strict) {
                    Err(pinned_err)
                } else {
                    Ok(elem(Some(m.remove(i))))
                };
                (want, a.remove(i).map(|x| elem(Some(x))))
            }
            Op::RemoveItem(p) => {
                let x = p.get::<T>(m);
                let want = match m.iter().position(|y| *y == x) {
                    None => Ok(Val::Index(None)),
                    Some(i) if exported && (i != len - 1 || strict) => Err(pinned_err),
                    Some(i) => {
                        m.remove(i);
                        Ok(Val::Index(Some(i)))
                    }
                };
                (want, a.remove_item(&x).map(Val::Index))
            }
            Op::SwapRemove(i) => {
                let i = i.at(len);
                let want = if i >= len {
                    Err(ior(i))
                } else if frozen {
                    Err(pinned_err)
                } else {
                    Ok(elem(Some(m.swap_remove(i))))
                };
                (want, a.swap_remove(i).map(|x| elem(Some(x))))
            }
            Op::Set(i, x) => {
                let (i, x) = (i.at(len), x.get::<T>());
                let want = match m.get_mut(i) {
                    None => Err(ior(i)),
                    Some(slot) => Ok(elem(Some(std::mem::replace(slot, x)))),
                };
                (want, a.set(i, x).map(|x| elem(Some(x))))
            }
            Op::Swap(i, j) => {
                let (i, j) = (i.at(len), j.at(len));
                let want = if i >= len {
                    Err(ior(i))
                } else if j >= len {
                    Err(ior(j))
                } else {
                    m.swap(i, j);
                    Ok(Val::Unit)
                };
                (want, unit(a.swap(i, j)))
            }
            Op::FetchUpdate(i, f) => {
                let i = i.at(len);
                let want = match m.get_mut(i) {
                    None => Err(ior(i)),
                    Some(slot) => {
                        let old = *slot;
                        *slot = f.apply(old);
                        Ok(elem(Some(old)))
                    }
                };
                let mut called = false;
                let got = a.fetch_update(i, |x| {
                    called = true;
                    f.apply(x)
                });
                assert_eq!(called, i < len, "{op:?}: fetch_update's function call");
                (want, got.map(|x| elem(Some(x))))
            }
            Op::FetchAdd(i, d) | Op::FetchSub(i, d) => {
                let (i, d) = (i.at(len), d.get::<T>());
                let add = matches!(op, Op::FetchAdd(..));
                let want = match m.get_mut(i) {
                    None => Err(ior(i)),
                    Some(slot) => {
                        let old = *slot;
                        *slot = if add { old.add(d) } else { old.sub(d) };
                        Ok(elem(Some(old)))
                    }
                };
                let got = if add {
                    a.fetch_add(i, d)
                } else {
                    a.fetch_sub(i, d)
                };
                // The payload of a NaN produced by float arithmetic is not specified: accept any
                // NaN where the model made one.
                if got.is_ok() && m[i].is_nan() {
                    let now = a.get(i).expect("index was in range");
                    assert!(now.is_nan(), "{op:?}: expected a NaN, got {now:?}");
                    m[i] = now;
                }
                (want, got.map(|x| elem(Some(x))))
            }
            Op::ExtendFromSlice(xs) | Op::TryExtendFromSlice(xs) | Op::ExtendFromArray(xs) => {
                let xs = values::<T>(xs);
                if !room(xs.len()) {
                    return;
                }
                let want = if fits(xs.len()) {
                    m.extend_from_slice(&xs);
                    Ok(Val::Unit)
                } else {
                    Err(pinned_err)
                };
                let got = match op {
                    Op::ExtendFromSlice(_) if want.is_ok() => {
                        a.extend_from_slice(&xs);
                        Ok(())
                    }
                    Op::ExtendFromArray(_) => {
                        let other = FtArray::from_slice(&xs);
                        if want.is_ok() {
                            a.extend_from_array(&other);
                            Ok(())
                        } else {
                            a.try_extend_from_array(&other)
                        }
                    }
                    _ => a.try_extend_from_slice(&xs),
                };
                (want, unit(got))
            }
            Op::ExtendFromSelf | Op::TryExtendFromSelf => {
                if !room(len) {
                    return;
                }
                let want = if fits(len) {
                    m.extend_from_within(..);
                    Ok(Val::Unit)
                } else {
                    Err(pinned_err)
                };
                let got = if matches!(op, Op::ExtendFromSelf) && want.is_ok() {
                    a.extend_from_array(a);
                    Ok(())
                } else {
                    a.try_extend_from_array(a)
                };
                (want, unit(got))
            }
            Op::ExtendFromBytes(b) => {
                let b = &b[..b.len().min(MAX_BYTES)];
                let size = size_of::<T>();
                let want = if b.len() % size != 0 {
                    Err(Error::BadByteLength {
                        len: b.len(),
                        item_size: size,
                    })
                } else {
                    let xs = decode::<T>(b);
                    if !room(xs.len()) {
                        return;
                    }
                    if fits(xs.len()) {
                        m.extend_from_slice(&xs);
                        Ok(Val::Unit)
                    } else {
                        Err(pinned_err)
                    }
                };
                (want, unit(a.extend_from_bytes(b)))
            }
            Op::Truncate(n) => {
                let n = n.at(len);
                if frozen && n < len {
                    (Err(pinned_err), unit(a.try_truncate(n)))
                } else {
                    m.truncate(n);
                    if strict {
                        (Ok(Val::Unit), unit(a.try_truncate(n)))
                    } else {
                        a.truncate(n);
                        (Ok(Val::Unit), Ok(Val::Unit))
                    }
                }
            }
            Op::Clear => {
                if frozen && len > 0 {
                    (Err(pinned_err), unit(a.try_clear()))
                } else {
                    m.clear();
                    if strict {
                        (Ok(Val::Unit), unit(a.try_clear()))
                    } else {
                        a.clear();
                        (Ok(Val::Unit), Ok(Val::Unit))
                    }
                }
            }
            Op::Resize(n, x) | Op::TryResize(n, x) => {
                let (n, x) = (n.at(len), x.get::<T>());
                if n > MAX_LEN {
                    return;
                }
                let want = if (n > len && !fits(n - len)) || (n < len && frozen) {
                    Err(pinned_err)
                } else {
                    m.resize(n, x);
                    Ok(Val::Unit)
                };
                let got = if matches!(op, Op::Resize(..)) && want.is_ok() {
                    a.resize(n, x);
                    Ok(())
                } else {
                    a.try_resize(n, x)
                };
                (want, unit(got))
            }
            Op::Reserve(n) | Op::TryReserve(n) | Op::TryReserveExact(n) => {
                let n = n.at(len).min(MAX_LEN);
                let want = if exported && len + n > cap {
                    Err(pinned_err)
                } else {
                    Ok(Val::Unit)
                };
                let got = match op {
                    Op::Reserve(_) if want.is_ok() => {
                        a.reserve(n);
                        Ok(())
                    }
                    Op::TryReserveExact(_) => a.try_reserve_exact(n),
                    _ => a.try_reserve(n),
                };
                if got.is_ok() {
                    let now = a.capacity();
                    assert!(
                        now >= len + n,
                        "{op:?}: capacity {now} after reserving {n} on {len}"
                    );
                }
                (want, unit(got))
            }
            Op::TryReserveMax | Op::TryReserveExactMax => {
                let got = if matches!(op, Op::TryReserveMax) {
                    a.try_reserve(usize::MAX)
                } else {
                    a.try_reserve_exact(usize::MAX)
                };
                // Impossible: must fail. Which error wins while exported is not documented.
                match &got {
                    Err(Error::CapacityOverflow) => {}
                    Err(e) if exported && *e == pinned_err => {}
                    other => panic!("{op:?}: expected CapacityOverflow, got {other:?}"),
                }
                (Ok(Val::Unit), Ok(Val::Unit))
            }
            Op::ShrinkToFit => {
                let want = if exported && len != cap {
                    Err(pinned_err)
                } else {
                    Ok(Val::Unit)
                };
                let got = a.shrink_to_fit();
                if got.is_ok() && !exported {
                    assert_eq!(a.capacity(), len, "{op:?}: capacity after shrink_to_fit");
                }
                (want, unit(got))
            }
            Op::ReplaceRange(r, xs) => {
                let (r, xs) = (r.at(len), values::<T>(xs));
                let want = match resolve(r, len) {
                    Err((e, exact)) => {
                        let got = a.replace_range(r, &xs);
                        assert_range_err(op, &got, &e, exact);
                        return self.finish(op);
                    }
                    Ok(r) => {
                        if !room(len - r.len() + xs.len()) {
                            return;
                        }
                        replace_outcome(m, r, &xs, exported, strict, fits, &pinned_err)
                    }
                };
                (want, unit(a.replace_range(r, &xs)))
            }
            Op::ReplaceStrided(r, step, xs, extra) => {
                let (r, step) = (r.at(len), usize::from(*step % 5) + 1);
                let Ok(rr) = resolve(r, len) else {
                    let got = a.replace_strided(r, NonZeroUsize::new(step).unwrap(), &[]);
                    assert!(
                        matches!(got, Err(Error::RangeOutOfBounds { .. })),
                        "{op:?}: {got:?}"
                    );
                    return self.finish(op);
                };
                let expected = rr.len().div_ceil(step);
                let mut xs = values::<T>(xs);
                xs.resize(expected + usize::from(*extra), T::zeroed());
                let want = if *extra {
                    Err(Error::LengthMismatch {
                        expected,
                        actual: expected + 1,
                    })
                } else {
                    for (k, x) in xs.iter().enumerate() {
                        m[rr.start + k * step] = *x;
                    }
                    Ok(Val::Unit)
                };
                let got = a.replace_strided(r, NonZeroUsize::new(step).unwrap(), &xs);
                (want, unit(got))
            }
            Op::ReplaceEqual(start, xs) => {
                let (start, xs) = (start.at(len), values::<T>(xs));
                let r = (
                    Bound::Included(start),
                    Bound::Excluded(start.saturating_add(xs.len())),
                );
                let want = match resolve(r, len) {
                    Err((e, _)) => Err(e),
                    Ok(r) => replace_outcome(m, r, &xs, exported, strict, fits, &pinned_err),
                };
                (want, unit(a.replace_range(r, &xs)))
            }
            Op::RemoveRange(r) => {
                let r = r.at(len);
                let want = match resolve(r, len) {
                    Err((e, exact)) => {
                        let got = a.remove_range(r);
                        assert_range_err(op, &got, &e, exact);
                        return self.finish(op);
                    }
                    Ok(r) => {
                        if exported && !r.is_empty() && (r.end != len || strict) {
                            Err(pinned_err)
                        } else {
                            Ok(elems(&m.drain(r).collect::<Vec<_>>()))
                        }
                    }
                };
                (want, a.remove_range(r).map(|v| elems(&v)))
            }
            Op::Retain(k) => {
                let keep = |x: &T| key(x) % (u64::from(*k % 8) + 2) != 0 || *k >= 200;
                let kept: Vec<T> = m.iter().copied().filter(keep).collect();
                let want = if exported && kept.len() != len {
                    Err(pinned_err)
                } else {
                    *m = kept;
                    Ok(Val::Unit)
                };
                (want, unit(a.retain(keep)))
            }
            Op::Reverse => {
                m.reverse();
                a.reverse();
                (Ok(Val::Unit), Ok(Val::Unit))
            }
            Op::SortBy(s) => {
                m.sort_by(s.compare());
                a.sort_by(s.compare());
                (Ok(Val::Unit), Ok(Val::Unit))
            }
            Op::Byteswap => {
                for x in m.iter_mut() {
                    *x = swap_bytes(*x);
                }
                a.byteswap();
                (Ok(Val::Unit), Ok(Val::Unit))
            }
            Op::Update(edit) => {
                if !room(edit.growth()) {
                    return;
                }
                let mut edited = m.clone();
                let ret = edit.apply(&mut edited);
                let want = if exported && edited.len() != len {
                    Err(pinned_err)
                } else {
                    *m = edited;
                    Ok(elem(ret))
                };
                (want, a.update(|v| edit.apply(v)).map(elem))
            }
            Op::SetStrict(on) => {
                a.set_strict_exports(*on);
                self.strict = *on;
                assert_eq!(a.strict_exports(), *on, "{op:?}");
                (Ok(Val::Unit), Ok(Val::Unit))
            }
            Op::Export(n) | Op::ExportRaw(n) => {
                let held = if matches!(op, Op::Export(_)) {
                    Pin::Guard(a.export())
                } else {
                    let (p, n) = a.export_raw();
                    Pin::Raw(p, n)
                };
                let held = Held {
                    pin: held,
                    ttl: n % 8 + 2,
                };
                assert_eq!(held.len(), len, "{op:?}: export length");
                match self.pinned {
                    None => self.pinned = Some((cap, held.ptr())),
                    Some((_, p)) => assert_eq!(p, held.ptr(), "{op:?}: the storage moved"),
                }
                self.pins.push(held);
                (Ok(Val::Unit), Ok(Val::Unit))
            }
            Op::ExportWrite(i, x) => {
                if let Some(h) = self.pins.last() {
                    let (i, x) = (i.at(len), x.get::<T>());
                    if i < h.len().min(len) {
                        // SAFETY: in bounds of the pinned storage; no other thread touches it.
                        unsafe { h.ptr().add(i).write(x) };
                        self.m[i] = x;
                    }
                }
                (Ok(Val::Unit), Ok(Val::Unit))
            }
            Op::DropExports => {
                self.release_all();
                (Ok(Val::Unit), Ok(Val::Unit))
            }
            Op::Snapshot => {
                let snap = a.snapshot();
                assert_eq!(snap.len(), len, "{op:?}: snapshot length");
                if exported {
                    assert!(
                        !snap.is_shared(),
                        "{op:?}: an exported array's snapshot shares"
                    );
                }
                if self.snaps.len() == 4 {
                    self.snaps.remove(0);
                }
                self.snaps.push((snap, m.clone()));
                (Ok(Val::Unit), Ok(Val::Unit))
            }
            Op::DropSnapshot(n) => {
                if !self.snaps.is_empty() {
                    let k = usize::from(*n) % self.snaps.len();
                    self.snaps.remove(k);
                }
                (Ok(Val::Unit), Ok(Val::Unit))
            }
            Op::Get(i) => {
                let i = i.at(len);
                (Ok(elem(m.get(i).copied())), Ok(elem(a.get(i))))
            }
            Op::First => (Ok(elem(m.first().copied())), Ok(elem(a.first()))),
            Op::Last => (Ok(elem(m.last().copied())), Ok(elem(a.last()))),
            Op::Len => (Ok(Val::Count(len)), Ok(Val::Count(a.len()))),
            Op::GetRange(r) => {
                let r = r.at(len);
                match resolve(r, len) {
                    Err((e, exact)) => {
                        assert_range_err(op, &a.get_range(r), &e, exact);
                        return self.finish(op);
                    }
                    Ok(rr) => (Ok(elems(&m[rr])), a.get_range(r).map(|v| elems(&v))),
                }
            }
            Op::CopyToSlice(start, n) => {
                let (start, n) = (start.at(len), usize::from(*n % 48));
                let mut dst = vec![T::zeroed(); n];
                let got = a.copy_to_slice(start, &mut dst);
                let want = match start.checked_add(n) {
                    Some(end) if end <= len => Ok(elems(&m[start..end])),
                    end => Err(Error::RangeOutOfBounds {
                        start,
                        end: end.unwrap_or(usize::MAX),
                        len,
                    }),
                };
                (want, got.map(|()| elems(&dst)))
            }
            Op::ToVec => (Ok(elems(m)), Ok(elems(&a.to_vec()))),
            Op::ToBytes => (Ok(Val::Elems(bytes_of(m))), Ok(Val::Elems(a.to_bytes()))),
            Op::Position(p) => {
                let x = p.get::<T>(m);
                (
                    Ok(Val::Index(m.iter().position(|y| *y == x))),
                    Ok(Val::Index(a.position(&x))),
                )
            }
            Op::Count(p) => {
                let x = p.get::<T>(m);
                (
                    Ok(Val::Count(m.iter().filter(|y| **y == x).count())),
                    Ok(Val::Count(a.count(&x))),
                )
            }
            Op::Contains(p) => {
                let x = p.get::<T>(m);
                (Ok(Val::Bool(m.contains(&x))), Ok(Val::Bool(a.contains(&x))))
            }
            Op::Iter(k) => {
                // Take a prefix, look at the position, then the rest; the iterator is fused.
                let k = usize::from(*k % 16);
                let mut it = a.iter();
                let mut got: Vec<T> = it.by_ref().take(k).collect();
                assert_eq!(it.next_index(), k.min(len), "{op:?}: iterator position");
                got.extend(it.by_ref());
                assert_eq!(it.next_index(), len, "{op:?}: iterator position at the end");
                assert!(it.next().is_none(), "{op:?}: iterator not fused");
                let via_ref: Vec<T> = a.into_iter().collect();
                assert_eq!(
                    bytes_of(&via_ref),
                    bytes_of(m),
                    "{op:?}: IntoIterator for &FtArray"
                );
                (Ok(elems(m)), Ok(elems(&got)))
            }
            Op::Reader(i, r, p) => {
                self.check_reader(op, *i, *r, *p);
                return self.finish(op);
            }
            Op::Clone => {
                let c = a.clone();
                assert_eq!(c.len(), len, "{op:?}: clone length");
                (Ok(elems(m)), Ok(elems(&c.into_vec())))
            }
            Op::Eq => {
                let c = FtArray::from_slice(m);
                // `PartialEq` compares elements: false iff some element is a NaN.
                let want = !m.iter().any(|x| x.is_nan());
                assert_eq!(*a == c, want, "{op:?}: FtArray == FtArray");
                assert_eq!(*a == *m, want, "{op:?}: FtArray == Vec");
                assert_eq!(*a == m[..], want, "{op:?}: FtArray == [T]");
                (Ok(Val::Bool(want)), Ok(Val::Bool(*a == *m)))
            }
            Op::Debug => {
                let want = format!("{m:?}");
                (Ok(Val::Bool(true)), Ok(Val::Bool(format!("{a:?}") == want)))
            }
        };
        assert_eq!(
            got, want,
            "{op:?} on {len} elements, {exports} exports, cap {cap}"
        );
        self.finish(op);
    }

    fn finish(&mut self, op: &Op) {
        self.age();
        self.check(op);
    }

    /// Every read through a `Reader` agrees with the model.
    fn check_reader(&self, op: &Op, i: Idx, r: RangeSpec, p: Probe) {
        let (a, m) = (self.a, &self.m);
        let len = m.len();
        let mut rd = a.reader();
        assert!(std::ptr::eq(rd.array(), a), "{op:?}: Reader::array");
        assert_eq!(rd.len(), len, "{op:?}: Reader::len");
        assert_eq!(rd.is_empty(), len == 0, "{op:?}: Reader::is_empty");
        assert_eq!(rd.capacity(), a.capacity(), "{op:?}: Reader::capacity");
        let i = i.at(len);
        assert_eq!(
            elem(rd.get(i)),
            elem(m.get(i).copied()),
            "{op:?}: Reader::get"
        );
        assert_eq!(elem(rd.first()), elem(m.first().copied()), "{op:?}: first");
        assert_eq!(elem(rd.last()), elem(m.last().copied()), "{op:?}: last");
        rd.repin();
        assert_eq!(
            bytes_of(&rd.to_vec()),
            bytes_of(m),
            "{op:?}: Reader::to_vec"
        );
        assert_eq!(rd.to_bytes(), bytes_of(m), "{op:?}: Reader::to_bytes");
        let it: Vec<T> = rd.iter().collect();
        assert_eq!(bytes_of(&it), bytes_of(m), "{op:?}: Reader::iter");
        let r = r.at(len);
        match resolve(r, len) {
            Ok(rr) => assert_eq!(
                rd.get_range(r).map(|v| bytes_of(&v)),
                Ok(bytes_of(&m[rr.clone()])),
                "{op:?}: Reader::get_range"
            ),
            Err((e, exact)) => assert_range_err(op, &rd.get_range(r), &e, exact),
        }
        if let Ok(rr) = resolve(r, len) {
            let mut dst = vec![T::zeroed(); rr.len()];
            assert_eq!(
                rd.copy_to_slice(rr.start, &mut dst),
                Ok(()),
                "{op:?}: copy_to_slice"
            );
            assert_eq!(
                bytes_of(&dst),
                bytes_of(&m[rr]),
                "{op:?}: Reader::copy_to_slice"
            );
        }
        let x = p.get::<T>(m);
        assert_eq!(rd.contains(&x), m.contains(&x), "{op:?}: Reader::contains");
        assert_eq!(
            rd.position(&x),
            m.iter().position(|y| *y == x),
            "{op:?}: Reader::position"
        );
        assert_eq!(
            rd.count(&x),
            m.iter().filter(|y| **y == x).count(),
            "{op:?}: Reader::count"
        );
        let _ = format!("{rd:?}");
    }
}

/// The outcome of `replace_range(r, xs)` (`r` already resolved) per the documented rules,
/// applied to the model on success.
fn replace_outcome<T: FuzzElem>(
    m: &mut Vec<T>,
    r: Range<usize>,
    xs: &[T],
    exported: bool,
    strict: bool,
    fits: impl Fn(usize) -> bool,
    pinned_err: &Error,
) -> Out {
    let len = m.len();
    // While exported, the storage may not move: equal-length replacement (in place), removing a
    // tail (a truncate) and appending within the capacity (an extend) are what remain; under
    // the strict rule only the equal-length replacement.
    let allowed = !exported
        || r.len() == xs.len()
        || (!strict && r.end == len && xs.is_empty())
        || (r.start == len && fits(xs.len()));
    if allowed {
        m.splice(r, xs.iter().copied());
        Ok(Val::Unit)
    } else {
        Err(pinned_err.clone())
    }
}

fn build<T: FuzzElem>(start: &Start) -> (FtArray<T>, Vec<T>) {
    match start {
        Start::New => (FtArray::new(), Vec::new()),
        Start::Default => (FtArray::default(), Vec::new()),
        Start::WithCapacity(n) => {
            let n = n.at(0);
            let a = FtArray::<T>::with_capacity(n);
            assert!(a.capacity() >= n, "with_capacity({n})");
            (a, Vec::new())
        }
        Start::TryWithCapacity(n) => {
            let n = n.at(0);
            let a = FtArray::<T>::try_with_capacity(n).expect("a small capacity");
            assert!(a.capacity() >= n, "try_with_capacity({n})");
            (a, Vec::new())
        }
        Start::TryWithCapacityMax => {
            let e = FtArray::<T>::try_with_capacity(usize::MAX).err();
            assert_eq!(
                e,
                Some(Error::CapacityOverflow),
                "try_with_capacity(usize::MAX)"
            );
            (FtArray::new(), Vec::new())
        }
        Start::FromSlice(xs) => {
            let xs = values::<T>(xs);
            (FtArray::from_slice(&xs), xs)
        }
        Start::FromVec(xs) => {
            let xs = values::<T>(xs);
            (FtArray::from(xs.clone()), xs)
        }
        Start::FromIter(xs) => {
            let xs = values::<T>(xs);
            (xs.iter().copied().collect(), xs)
        }
    }
}

fn run<T: FuzzElem>(start: &Start, ops: &[Op]) {
    let (a, m) = build::<T>(start);
    let m = {
        let mut h = Harness {
            a: &a,
            m,
            pins: Vec::new(),
            pinned: None,
            strict: false,
            snaps: Vec::new(),
        };
        h.check(&Op::Len);
        for op in ops {
            h.step(op);
        }
        h.release_all();
        h.check(&Op::DropExports);
        std::mem::take(&mut h.m)
    };
    // Consuming conversions at the end.
    assert_eq!(a.export_count(), 0);
    assert_eq!(bytes_of(&a.into_vec()), bytes_of(&m), "into_vec");
    let c = FtArray::from_slice(&m);
    assert_eq!(bytes_of(&Vec::from(c)), bytes_of(&m), "Vec::from(FtArray)");
}

/// The `ops` target: the first byte picks the element type, then a start and up to
/// 256 operations are decoded from the rest.
pub fn run_ops(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(ty) = u.arbitrary::<u8>() else {
        return;
    };
    let Ok(start) = u.arbitrary::<Start>() else {
        return;
    };
    let mut ops = Vec::new();
    while !u.is_empty() && ops.len() < MAX_OPS {
        match u.arbitrary::<Op>() {
            Ok(op) => ops.push(op),
            Err(_) => break,
        }
    }
    if crate::debug() {
        eprintln!(
            "ops: type {}, {start:?}, {} ops: {ops:#?}",
            ty % 6,
            ops.len()
        );
    }
    match ty % 6 {
        0 => run::<u8>(&start, &ops),
        1 => run::<i16>(&start, &ops),
        2 => run::<u32>(&start, &ops),
        3 => run::<u64>(&start, &ops),
        4 => run::<f64>(&start, &ops),
        _ => run::<f32>(&start, &ops),
    }
}
