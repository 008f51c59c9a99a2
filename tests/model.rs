//! Model-based property test: random sequences of operations are applied to an `FtArray<T>` and
//! to a plain `Vec<T>` that implements the documented semantics (including every error case and
//! the rules while the storage is exported). After every step the two must agree bit for bit
//! (so NaN payloads compare exactly), and so must every operation's result.

use ftarray::{Arith, Error, Export, FtArray};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::fmt::Debug;
use std::ops::{Bound, Range};

// ---------------------------------------------------------------------------------------------
// Element types under test
// ---------------------------------------------------------------------------------------------

trait TestElem: Arith + PartialEq + Debug + 'static {
    /// Whether `fetch_add` is modelled (integers: wrapping, deterministic). Float addition is
    /// left out: the bits of a NaN result are not specified.
    const INT: bool;
    fn any_elem() -> BoxedStrategy<Self>;
    fn model_add(self, delta: Self) -> Self;
}

macro_rules! int_elem {
    ($($t:ty),*) => {$(
        impl TestElem for $t {
            const INT: bool = true;
            fn any_elem() -> BoxedStrategy<Self> {
                // Small values often, so that searches and `retain` find things.
                prop_oneof![any::<$t>(), (0 as $t)..(4 as $t)].boxed()
            }
            fn model_add(self, delta: Self) -> Self {
                self.wrapping_add(delta)
            }
        }
    )*};
}
int_elem!(u8, i32, u64);

impl TestElem for f64 {
    const INT: bool = false;
    fn any_elem() -> BoxedStrategy<Self> {
        prop_oneof![
            // Every bit pattern, so NaNs with payloads and both signs.
            any::<u64>().prop_map(f64::from_bits),
            prop::sample::select(vec![0.0, -0.0, 1.0, f64::NAN, f64::INFINITY]),
        ]
        .boxed()
    }
    fn model_add(self, _: Self) -> Self {
        unreachable!("fetch_add is only generated for integer element types")
    }
}

fn bytes<T: TestElem>(x: T) -> Vec<u8> {
    bytemuck::bytes_of(&x).to_vec()
}

fn slice_bytes<T: TestElem>(x: &[T]) -> Vec<u8> {
    bytemuck::cast_slice::<T, u8>(x).to_vec()
}

/// Every bit of `x` inverted (a deterministic, bit-exact `fetch_update` function).
fn flip<T: TestElem>(mut x: T) -> T {
    for b in bytemuck::bytes_of_mut(&mut x) {
        *b = !*b;
    }
    x
}

/// `x` with its bytes reversed (what `byteswap` does to each element).
fn swapped<T: TestElem>(mut x: T) -> T {
    bytemuck::bytes_of_mut(&mut x).reverse();
    x
}

/// A total order on bit patterns, for `sort_by`.
fn by_bits<T: TestElem>(x: &T, y: &T) -> std::cmp::Ordering {
    bytemuck::bytes_of(x).cmp(bytemuck::bytes_of(y))
}

/// A hash of the bits, for `retain`'s predicate.
fn key<T: TestElem>(x: &T) -> u64 {
    bytemuck::bytes_of(x)
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

fn keep<T: TestElem>(k: u8) -> impl Fn(&T) -> bool {
    move |x| key(x) % (u64::from(k) + 2) != 0
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

/// A value to search for: a given one, or whatever is at an index (so searches hit).
#[derive(Clone, Debug)]
enum Probe<T> {
    Value(T),
    At(usize),
}

/// An edit for `update`.
#[derive(Clone, Debug)]
enum Edit<T> {
    Identity,
    Push(T),
    Pop,
    Clear,
    Reverse,
    Set(usize, T),
    Insert(usize, T),
    Truncate(usize),
}

impl<T: TestElem> Edit<T> {
    fn apply(&self, v: &mut Vec<T>) {
        match self {
            Edit::Identity => {}
            Edit::Push(x) => v.push(*x),
            Edit::Pop => {
                v.pop();
            }
            Edit::Clear => v.clear(),
            Edit::Reverse => v.reverse(),
            Edit::Set(i, x) => {
                if let Some(slot) = v.get_mut(*i) {
                    *slot = *x;
                }
            }
            Edit::Insert(i, x) => {
                if *i <= v.len() {
                    v.insert(*i, *x);
                }
            }
            Edit::Truncate(n) => v.truncate(*n),
        }
    }
}

type Bounds = (Bound<usize>, Bound<usize>);

#[derive(Clone, Debug)]
enum Op<T> {
    // Writes.
    Push(T),
    TryPush(T),
    Pop,
    Insert(usize, T),
    Remove(usize),
    RemoveItem(Probe<T>),
    SwapRemove(usize),
    Set(usize, T),
    FetchFlip(usize),
    FetchAdd(usize, T),
    Swap(usize, usize),
    ExtendFromSlice(Vec<T>),
    TryExtendFromSlice(Vec<T>),
    ExtendFromArray(Vec<T>),
    ExtendFromSelf,
    ExtendFromBytes(Vec<u8>),
    Truncate(usize),
    Clear,
    Resize(usize, T),
    TryResize(usize, T),
    Reserve(usize),
    TryReserve(usize),
    TryReserveExact(usize),
    ShrinkToFit,
    ReplaceRange(Bounds, Vec<T>),
    /// `replace_range(start..start + values.len(), values)`: equal length, short or long.
    ReplaceEqual(usize, Vec<T>),
    RemoveRange(Bounds),
    Retain(u8),
    Reverse,
    SortByBits,
    Byteswap,
    Update(Edit<T>),
    /// Take `n` exports, run the operation, check it against the export rules, drop them.
    Exported(usize, Box<Op<T>>),
    // Reads.
    Get(usize),
    First,
    Last,
    GetRange(Bounds),
    CopyToSlice(usize, usize),
    ToVec,
    ToBytes,
    Position(Probe<T>),
    Count(Probe<T>),
    Contains(Probe<T>),
    Iter,
    Reader,
    EqVec,
}

const IDX: usize = 40;

fn idx() -> BoxedStrategy<usize> {
    (0..IDX).boxed()
}

fn bound() -> BoxedStrategy<Bound<usize>> {
    prop_oneof![
        Just(Bound::Unbounded),
        idx().prop_map(Bound::Included),
        idx().prop_map(Bound::Excluded),
    ]
    .boxed()
}

fn bounds() -> BoxedStrategy<Bounds> {
    (bound(), bound()).boxed()
}

fn probe<T: TestElem>() -> BoxedStrategy<Probe<T>> {
    prop_oneof![
        T::any_elem().prop_map(Probe::Value),
        (0..12usize).prop_map(Probe::At)
    ]
    .boxed()
}

fn values<T: TestElem>() -> BoxedStrategy<Vec<T>> {
    vec(T::any_elem(), 0..8).boxed()
}

fn reserve_amount() -> BoxedStrategy<usize> {
    prop_oneof![8 => 0..40usize, 1 => Just(usize::MAX)].boxed()
}

fn edit<T: TestElem>() -> BoxedStrategy<Edit<T>> {
    let e = T::any_elem;
    prop_oneof![
        Just(Edit::Identity),
        e().prop_map(Edit::Push),
        Just(Edit::Pop),
        Just(Edit::Clear),
        Just(Edit::Reverse),
        (0..12usize, e()).prop_map(|(i, x)| Edit::Set(i, x)),
        (0..12usize, e()).prop_map(|(i, x)| Edit::Insert(i, x)),
        (0..12usize).prop_map(Edit::Truncate),
    ]
    .boxed()
}

/// Every operation except `Exported`.
fn base_op<T: TestElem>() -> BoxedStrategy<Op<T>> {
    let e = T::any_elem;
    let writes = prop_oneof![
        e().prop_map(Op::Push),
        e().prop_map(Op::TryPush),
        Just(Op::Pop),
        (0..IDX, e()).prop_map(|(i, x)| Op::Insert(i, x)),
        idx().prop_map(Op::Remove),
        probe().prop_map(Op::RemoveItem),
        idx().prop_map(Op::SwapRemove),
        (0..IDX, e()).prop_map(|(i, x)| Op::Set(i, x)),
        idx().prop_map(Op::FetchFlip),
        (0..IDX, e()).prop_map(|(i, x)| if T::INT {
            Op::FetchAdd(i, x)
        } else {
            Op::Set(i, x)
        }),
        (0..IDX, 0..IDX).prop_map(|(i, j)| Op::Swap(i, j)),
        values().prop_map(Op::ExtendFromSlice),
        values().prop_map(Op::TryExtendFromSlice),
        values().prop_map(Op::ExtendFromArray),
        Just(Op::ExtendFromSelf),
        vec(any::<u8>(), 0..40).prop_map(Op::ExtendFromBytes),
        idx().prop_map(Op::Truncate),
        Just(Op::Clear),
    ];
    let more_writes = prop_oneof![
        (0..120usize, e()).prop_map(|(n, x)| Op::Resize(n, x)),
        (0..120usize, e()).prop_map(|(n, x)| Op::TryResize(n, x)),
        (0..40usize).prop_map(Op::Reserve),
        reserve_amount().prop_map(Op::TryReserve),
        reserve_amount().prop_map(Op::TryReserveExact),
        Just(Op::ShrinkToFit),
        (bounds(), values()).prop_map(|(r, v)| Op::ReplaceRange(r, v)),
        (0..IDX, vec(e(), 0..100)).prop_map(|(i, v)| Op::ReplaceEqual(i, v)),
        bounds().prop_map(Op::RemoveRange),
        (0..4u8).prop_map(Op::Retain),
        Just(Op::Reverse),
        Just(Op::SortByBits),
        Just(Op::Byteswap),
        edit().prop_map(Op::Update),
    ];
    let reads = prop_oneof![
        idx().prop_map(Op::Get),
        Just(Op::First),
        Just(Op::Last),
        bounds().prop_map(Op::GetRange),
        (0..IDX, 0..12usize).prop_map(|(s, n)| Op::CopyToSlice(s, n)),
        Just(Op::ToVec),
        Just(Op::ToBytes),
        probe().prop_map(Op::Position),
        probe().prop_map(Op::Count),
        probe().prop_map(Op::Contains),
        Just(Op::Iter),
        Just(Op::Reader),
        Just(Op::EqVec),
    ];
    prop_oneof![5 => writes, 4 => more_writes, 3 => reads].boxed()
}

fn op<T: TestElem>() -> BoxedStrategy<Op<T>> {
    prop_oneof![
        4 => base_op::<T>(),
        1 => (1..=2usize, base_op::<T>()).prop_map(|(n, op)| Op::Exported(n, Box::new(op))),
    ]
    .boxed()
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

fn elem<T: TestElem>(x: Option<T>) -> Val {
    Val::Elem(x.map(bytes))
}

fn elems<T: TestElem>(x: &[T]) -> Val {
    Val::Elems(slice_bytes(x))
}

fn unit(r: Result<(), Error>) -> Out {
    r.map(|()| Val::Unit)
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/// Resolves a range as documented: `Err(RangeOutOfBounds)` if reversed or past the end.
fn resolve((s, e): Bounds, len: usize) -> Result<Range<usize>, Error> {
    let start = match s {
        Bound::Included(s) => s,
        Bound::Excluded(s) => s + 1,
        Bound::Unbounded => 0,
    };
    let end = match e {
        Bound::Included(e) => e + 1,
        Bound::Excluded(e) => e,
        // A start past the end of an open range is out of bounds (`4..` on length 3 is 4..4).
        Bound::Unbounded => len.max(start),
    };
    if start > end || end > len {
        return Err(Error::RangeOutOfBounds { start, end, len });
    }
    Ok(start..end)
}

fn probe_value<T: TestElem>(p: &Probe<T>, m: &[T]) -> T {
    match p {
        Probe::Value(x) => *x,
        Probe::At(i) => m.get(*i).copied().unwrap_or_else(T::zeroed),
    }
}

fn decode<T: TestElem>(b: &[u8]) -> Vec<T> {
    b.chunks_exact(size_of::<T>())
        .map(bytemuck::pod_read_unaligned)
        .collect()
}

/// The outcomes the documentation allows for `op` on an array holding `m` with capacity `cap`
/// while `exports` exports are alive: each a new content and a result. Usually exactly one.
fn expect<T: TestElem>(m: &[T], op: &Op<T>, exports: usize, cap: usize) -> Vec<(Vec<T>, Out)> {
    let len = m.len();
    let exported = exports > 0;
    let pinned = Err(Error::Exported { exports });
    // Appending `k` elements is allowed unless it must grow the pinned storage.
    let fits = |k: usize| k == 0 || !exported || len + k <= cap;
    let ior = |index: usize| Err(Error::IndexOutOfRange { index, len });
    let mut v = m.to_vec();
    let out: Out = match op {
        Op::Push(x) | Op::TryPush(x) => {
            if fits(1) {
                v.push(*x);
                Ok(Val::Unit)
            } else {
                pinned
            }
        }
        Op::Pop => Ok(elem(v.pop())),
        Op::Insert(i, x) => {
            if *i > len {
                ior(*i)
            } else if exported && !(*i == len && fits(1)) {
                pinned
            } else {
                v.insert(*i, *x);
                Ok(Val::Unit)
            }
        }
        Op::Remove(i) => {
            if *i >= len {
                ior(*i)
            } else if exported && *i != len - 1 {
                pinned
            } else {
                Ok(elem(Some(v.remove(*i))))
            }
        }
        Op::RemoveItem(p) => {
            let x = probe_value(p, m);
            match v.iter().position(|y| *y == x) {
                None => Ok(Val::Index(None)),
                Some(i) if exported && i != len - 1 => pinned,
                Some(i) => {
                    v.remove(i);
                    Ok(Val::Index(Some(i)))
                }
            }
        }
        Op::SwapRemove(i) => {
            if *i >= len {
                ior(*i)
            } else {
                Ok(elem(Some(v.swap_remove(*i))))
            }
        }
        Op::Set(i, x) => match v.get_mut(*i) {
            None => ior(*i),
            Some(slot) => Ok(elem(Some(std::mem::replace(slot, *x)))),
        },
        Op::FetchFlip(i) => match v.get_mut(*i) {
            None => ior(*i),
            Some(slot) => {
                let old = *slot;
                *slot = flip(old);
                Ok(elem(Some(old)))
            }
        },
        Op::FetchAdd(i, d) => match v.get_mut(*i) {
            None => ior(*i),
            Some(slot) => {
                let old = *slot;
                *slot = old.model_add(*d);
                Ok(elem(Some(old)))
            }
        },
        Op::Swap(i, j) => {
            if *i >= len {
                ior(*i)
            } else if *j >= len {
                ior(*j)
            } else {
                v.swap(*i, *j);
                Ok(Val::Unit)
            }
        }
        Op::ExtendFromSlice(xs) | Op::TryExtendFromSlice(xs) | Op::ExtendFromArray(xs) => {
            if fits(xs.len()) {
                v.extend_from_slice(xs);
                Ok(Val::Unit)
            } else {
                pinned
            }
        }
        Op::ExtendFromSelf => {
            if fits(len) {
                v.extend_from_slice(m);
                Ok(Val::Unit)
            } else {
                pinned
            }
        }
        Op::ExtendFromBytes(b) => {
            if b.len() % size_of::<T>() != 0 {
                Err(Error::BadByteLength {
                    len: b.len(),
                    item_size: size_of::<T>(),
                })
            } else {
                let xs = decode::<T>(b);
                if fits(xs.len()) {
                    v.extend_from_slice(&xs);
                    Ok(Val::Unit)
                } else {
                    pinned
                }
            }
        }
        Op::Truncate(n) => {
            v.truncate(*n);
            Ok(Val::Unit)
        }
        Op::Clear => {
            v.clear();
            Ok(Val::Unit)
        }
        Op::Resize(n, x) | Op::TryResize(n, x) => {
            if *n > len && !fits(*n - len) {
                pinned
            } else {
                v.resize(*n, *x);
                Ok(Val::Unit)
            }
        }
        Op::Reserve(n) | Op::TryReserve(n) | Op::TryReserveExact(n) => {
            if *n == usize::MAX {
                // An impossible request. Which error wins while exported is not documented, so
                // either is accepted; the array is unchanged in both cases.
                let mut alts = vec![(v.clone(), Err(Error::CapacityOverflow))];
                if exported {
                    alts.push((v, pinned));
                }
                return alts;
            }
            if exported && len + n > cap {
                pinned
            } else {
                Ok(Val::Unit)
            }
        }
        Op::ShrinkToFit => {
            if exported && len != cap {
                pinned
            } else {
                Ok(Val::Unit)
            }
        }
        Op::ReplaceRange(r, xs) => match resolve(*r, len) {
            Err(e) => Err(e),
            Ok(r) if !exported || r.len() == xs.len() => {
                v.splice(r, xs.iter().copied());
                Ok(Val::Unit)
            }
            Ok(r) => {
                // While exported, a length change is allowed only where it needs no move:
                // removing a tail (a truncate) or appending within the capacity (an extend).
                let tail_in_place =
                    r.end == len && (xs.is_empty() || (r.start == len && fits(xs.len())));
                if tail_in_place {
                    v.splice(r, xs.iter().copied());
                    return vec![(v, Ok(Val::Unit))];
                }
                pinned
            }
        },
        Op::ReplaceEqual(start, xs) => {
            let end = start + xs.len();
            if end > len {
                Err(Error::RangeOutOfBounds {
                    start: *start,
                    end,
                    len,
                })
            } else {
                v[*start..end].copy_from_slice(xs);
                Ok(Val::Unit)
            }
        }
        Op::RemoveRange(r) => match resolve(*r, len) {
            Err(e) => Err(e),
            Ok(r) if exported && !r.is_empty() && r.end != len => pinned,
            Ok(r) => Ok(elems(&v.drain(r).collect::<Vec<_>>())),
        },
        Op::Retain(k) => {
            v.retain(keep(*k));
            if exported && v.len() != len {
                v = m.to_vec();
                pinned
            } else {
                Ok(Val::Unit)
            }
        }
        Op::Reverse => {
            v.reverse();
            Ok(Val::Unit)
        }
        Op::SortByBits => {
            v.sort_by(by_bits);
            Ok(Val::Unit)
        }
        Op::Byteswap => {
            v.iter_mut().for_each(|x| *x = swapped(*x));
            Ok(Val::Unit)
        }
        Op::Update(ed) => {
            ed.apply(&mut v);
            if exported && v.len() != len {
                v = m.to_vec();
                pinned
            } else {
                Ok(Val::Count(v.len()))
            }
        }
        Op::Exported(..) => unreachable!("exports do not nest"),
        Op::Get(i) => Ok(elem(m.get(*i).copied())),
        Op::First => Ok(elem(m.first().copied())),
        Op::Last => Ok(elem(m.last().copied())),
        Op::GetRange(r) => resolve(*r, len).map(|r| elems(&m[r])),
        Op::CopyToSlice(start, n) => {
            let end = start + n;
            if end > len {
                Err(Error::RangeOutOfBounds {
                    start: *start,
                    end,
                    len,
                })
            } else {
                Ok(elems(&m[*start..end]))
            }
        }
        Op::ToVec | Op::Iter | Op::Reader => Ok(elems(m)),
        Op::ToBytes => Ok(Val::Elems(slice_bytes(m))),
        Op::Position(p) => {
            let x = probe_value(p, m);
            Ok(Val::Index(m.iter().position(|y| *y == x)))
        }
        Op::Count(p) => {
            let x = probe_value(p, m);
            Ok(Val::Count(m.iter().filter(|y| **y == x).count()))
        }
        Op::Contains(p) => {
            let x = probe_value(p, m);
            Ok(Val::Bool(m.contains(&x)))
        }
        #[allow(clippy::eq_op)] // a Vec holding a NaN is not equal to itself
        Op::EqVec => Ok(Val::Bool(m == m)),
    };
    vec![(v, out)]
}

// ---------------------------------------------------------------------------------------------
// The real array
// ---------------------------------------------------------------------------------------------

/// Runs `op` on the array. While exported, the fallible (`try_`) forms are used, since the
/// panicking ones would panic on the expected `Exported` errors.
fn apply<T: TestElem>(a: &FtArray<T>, op: &Op<T>, exported: bool, m: &[T]) -> Out {
    match op {
        Op::Push(x) if !exported => {
            a.push(*x);
            Ok(Val::Unit)
        }
        Op::Push(x) | Op::TryPush(x) => unit(a.try_push(*x)),
        Op::Pop => Ok(elem(a.pop())),
        Op::Insert(i, x) => unit(a.insert(*i, *x)),
        Op::Remove(i) => a.remove(*i).map(|x| elem(Some(x))),
        Op::RemoveItem(p) => a.remove_item(&probe_value(p, m)).map(Val::Index),
        Op::SwapRemove(i) => a.swap_remove(*i).map(|x| elem(Some(x))),
        Op::Set(i, x) => a.set(*i, *x).map(|x| elem(Some(x))),
        Op::FetchFlip(i) => a.fetch_update(*i, flip).map(|x| elem(Some(x))),
        Op::FetchAdd(i, d) => a.fetch_add(*i, *d).map(|x| elem(Some(x))),
        Op::Swap(i, j) => unit(a.swap(*i, *j)),
        Op::ExtendFromSlice(xs) if !exported => {
            a.extend_from_slice(xs);
            Ok(Val::Unit)
        }
        Op::ExtendFromSlice(xs) | Op::TryExtendFromSlice(xs) => unit(a.try_extend_from_slice(xs)),
        Op::ExtendFromArray(xs) => {
            let other = FtArray::from_slice(xs);
            if exported {
                unit(a.try_extend_from_array(&other))
            } else {
                a.extend_from_array(&other);
                Ok(Val::Unit)
            }
        }
        Op::ExtendFromSelf => {
            if exported {
                unit(a.try_extend_from_array(a))
            } else {
                a.extend_from_array(a);
                Ok(Val::Unit)
            }
        }
        Op::ExtendFromBytes(b) => unit(a.extend_from_bytes(b)),
        Op::Truncate(n) => {
            a.truncate(*n);
            Ok(Val::Unit)
        }
        Op::Clear => {
            a.clear();
            Ok(Val::Unit)
        }
        Op::Resize(n, x) if !exported => {
            a.resize(*n, *x);
            Ok(Val::Unit)
        }
        Op::Resize(n, x) | Op::TryResize(n, x) => unit(a.try_resize(*n, *x)),
        Op::Reserve(n) if !exported => {
            a.reserve(*n);
            Ok(Val::Unit)
        }
        Op::Reserve(n) | Op::TryReserve(n) => unit(a.try_reserve(*n)),
        Op::TryReserveExact(n) => unit(a.try_reserve_exact(*n)),
        Op::ShrinkToFit => unit(a.shrink_to_fit()),
        Op::ReplaceRange(r, xs) => unit(a.replace_range(*r, xs)),
        Op::ReplaceEqual(start, xs) => unit(a.replace_range(*start..start + xs.len(), xs)),
        Op::RemoveRange(r) => a.remove_range(*r).map(|xs| elems(&xs)),
        Op::Retain(k) => unit(a.retain(keep(*k))),
        Op::Reverse => {
            a.reverse();
            Ok(Val::Unit)
        }
        Op::SortByBits => {
            a.sort_by(by_bits);
            Ok(Val::Unit)
        }
        Op::Byteswap => {
            a.byteswap();
            Ok(Val::Unit)
        }
        Op::Update(ed) => a
            .update(|v| {
                ed.apply(v);
                v.len()
            })
            .map(Val::Count),
        Op::Exported(..) => unreachable!("exports do not nest"),
        Op::Get(i) => Ok(elem(a.get(*i))),
        Op::First => Ok(elem(a.first())),
        Op::Last => Ok(elem(a.last())),
        Op::GetRange(r) => a.get_range(*r).map(|xs| elems(&xs)),
        Op::CopyToSlice(start, n) => {
            let mut dst = vec![T::zeroed(); *n];
            a.copy_to_slice(*start, &mut dst).map(|()| elems(&dst))
        }
        Op::ToVec => Ok(elems(&a.to_vec())),
        Op::ToBytes => Ok(Val::Elems(a.to_bytes())),
        Op::Position(p) => Ok(Val::Index(a.position(&probe_value(p, m)))),
        Op::Count(p) => Ok(Val::Count(a.count(&probe_value(p, m)))),
        Op::Contains(p) => Ok(Val::Bool(a.contains(&probe_value(p, m)))),
        Op::Iter => Ok(elems(&a.iter().collect::<Vec<_>>())),
        Op::Reader => {
            let r = a.reader();
            let via_iter: Vec<T> = r.iter().collect();
            let via_get: Vec<T> = (0..r.len()).map_while(|i| r.get(i)).collect();
            let snapshot = r.to_vec();
            let agree = slice_bytes(&via_iter) == slice_bytes(&snapshot)
                && slice_bytes(&via_get) == slice_bytes(&snapshot)
                && r.to_bytes() == slice_bytes(&snapshot)
                && r.first().map(bytes) == snapshot.first().copied().map(bytes)
                && r.last().map(bytes) == snapshot.last().copied().map(bytes);
            if agree {
                Ok(elems(&snapshot))
            } else {
                Ok(Val::Bool(false))
            }
        }
        Op::EqVec => Ok(Val::Bool(*a == m.to_vec())),
    }
}

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

/// Applies one operation to both and checks the result and the resulting contents.
fn step<T: TestElem>(
    a: &FtArray<T>,
    model: &mut Vec<T>,
    op: &Op<T>,
    exports: usize,
) -> Result<(), TestCaseError> {
    let cap = a.capacity();
    let allowed = expect(model, op, exports, cap);
    let actual = apply(a, op, exports > 0, model);
    let after = a.to_vec();
    let found = allowed
        .iter()
        .find(|(v, out)| *out == actual && slice_bytes(v) == slice_bytes(&after));
    match found {
        Some((v, _)) => *model = v.clone(),
        None => {
            return Err(TestCaseError::fail(format!(
                "{op:?} (exports: {exports}, capacity {cap}) on {model:?}\n  \
                 array gave {actual:?} and now holds {after:?}\n  \
                 the model allows {allowed:?}"
            )));
        }
    }
    prop_assert_eq!(a.len(), model.len());
    prop_assert_eq!(a.to_bytes(), slice_bytes(model));
    prop_assert!(a.capacity() >= a.len());
    if actual.is_err() {
        prop_assert_eq!(a.capacity(), cap, "a failed call changed the capacity");
    }
    if exports == 0 && actual.is_ok() {
        check_capacity(op, cap, a.capacity(), model.len())?;
    }
    Ok(())
}

/// The documented capacity effects of successful calls on an array that is not exported.
fn check_capacity<T: TestElem>(
    op: &Op<T>,
    before: usize,
    after: usize,
    len: usize,
) -> Result<(), TestCaseError> {
    match op {
        Op::Pop | Op::Truncate(_) | Op::Clear | Op::SwapRemove(_) => {
            prop_assert_eq!(after, before, "{:?} must keep the capacity", op);
        }
        Op::Reserve(n) | Op::TryReserve(n) | Op::TryReserveExact(n) => {
            prop_assert!(
                after >= len + n,
                "{:?}: capacity {} < {}",
                op,
                after,
                len + n
            );
            if len + n <= before {
                prop_assert_eq!(after, before, "a satisfied {:?} reallocated", op);
            }
        }
        Op::ShrinkToFit => prop_assert_eq!(after, len),
        _ => {}
    }
    Ok(())
}

fn run<T: TestElem>(init: Vec<T>, ops: Vec<Op<T>>) -> Result<(), TestCaseError> {
    let a = FtArray::from_slice(&init);
    let mut model = init;
    prop_assert_eq!(a.to_bytes(), slice_bytes(&model));
    for op in &ops {
        match op {
            Op::Exported(n, inner) => {
                let cap = a.capacity();
                let guards: Vec<Export<'_, T>> = (0..*n).map(|_| a.export()).collect();
                prop_assert_eq!(a.export_count(), *n);
                let ptr = guards[0].as_ptr();
                prop_assert_eq!(guards[0].len(), model.len());
                step(&a, &mut model, inner, *n)?;
                prop_assert_eq!(a.capacity(), cap, "the storage moved while exported");
                if cap > 0 {
                    let again = a.export();
                    prop_assert_eq!(again.as_ptr(), ptr, "the storage moved while exported");
                }
                // Whatever the operation did is visible through the export's pointer.
                let k = guards[0].len().min(model.len());
                // SAFETY: the export pins the storage for `guards[0].len()` elements and no other
                // thread touches the array.
                let seen = unsafe { std::slice::from_raw_parts(guards[0].as_ptr(), k) };
                prop_assert_eq!(slice_bytes(seen), slice_bytes(&model[..k]));
                drop(guards);
                prop_assert_eq!(a.export_count(), 0);
            }
            _ => step(&a, &mut model, op, 0)?,
        }
        // `ExtendFromSelf` doubles: keep the arrays small enough for a quick test.
        if model.len() > 512 {
            a.truncate(64);
            model.truncate(64);
        }
    }
    prop_assert_eq!(slice_bytes(&a.into_vec()), slice_bytes(&model));
    Ok(())
}

fn config() -> Config {
    Config {
        cases: if cfg!(miri) { 8 } else { 256 },
        // Do not write regression files into the source tree.
        failure_persistence: None,
        ..Config::default()
    }
}

macro_rules! model_tests {
    ($($name:ident: $t:ty,)*) => {$(
        proptest! {
            #![proptest_config(config())]
            #[test]
            fn $name(
                init in vec(<$t as TestElem>::any_elem(), 0..16),
                ops in vec(op::<$t>(), 0..64),
            ) {
                run::<$t>(init, ops)?;
            }
        }
    )*};
}

model_tests! {
    u8_array_matches_the_vec_model: u8,
    i32_array_matches_the_vec_model: i32,
    u64_array_matches_the_vec_model: u64,
    f64_array_with_arbitrary_bit_patterns_matches_the_vec_model: f64,
}
