//! The `capi` target: arbitrary call sequences through the C ABI (`ftarray_capi`), on a few
//! live handles at once, checked against a byte-level model of each array.
//!
//! Handles are picked among 3 slots (a call on an empty slot passes NULL and must get
//! `NULL_ARGUMENT`); type codes include invalid ones; indices, lengths, slice bounds and export
//! tokens are arbitrary (tokens partly bogus or already released). After every call:
//!
//! * the status is one the call may return, and never `PANIC`;
//! * a failed call changed nothing: each live array's bytes, length, capacity, export count and
//!   export rule are as before, and the thread's last error message is not empty;
//! * a successful call did what the model says, bit for bit; where the library's policy is
//!   deliberately unspecified (whether an operation on exported storage can stay in place),
//!   either outcome is accepted, but then the model follows it exactly;
//! * every live export still points at the array's storage, which has not moved, and shows
//!   the current contents.
//!
//! Exports are also driven as a host drives them: elements loaded and stored through the
//! export's pointer with the unit protocol the header documents (a 64-bit atomic load, a
//! compare-exchange loop on the unit), which the array must then show; input bytes taken from a
//! live export of the same or another handle at any offset and length (`ftarray_extend_bytes`,
//! `ftarray_set_slice_bytes`), which must be copied exactly; and releases with a live token of
//! *another* handle, which must fail with `UNKNOWN_EXPORT` and change nothing (tokens are unique
//! in the process: every token acquired in a run is checked to be new).
//!
//! At the end every export is released and every handle freed, and the process-wide counters
//! (`ftarray_get_stats`) are back where they were.

use arbitrary::{Arbitrary, Unstructured};
use ftarray::dynamic::{clamp_index, resolve_index, search_range};
use ftarray::{Kind, Slice, TypeCode};
use ftarray_capi::*;
use std::collections::HashSet;
use std::ffi::c_char;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

const SLOTS: usize = 3;
const MAX_OPS: usize = 200;
const MAX_LEN: usize = 2048;

/// Type codes to try: every valid one, and a few that name nothing.
const CODES: [u8; 18] = [
    b'b', b'B', b'h', b'H', b'i', b'I', b'l', b'L', b'q', b'Q', b'f', b'd', b'u', b'w', b'x', 0,
    b'c', 0xE9,
];

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Val {
    Small(i8),
    I64(i64),
    U64(u64),
    F64(f64),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Idx {
    Small(i8),
    Any(i16),
    Extreme(bool),
}

impl Idx {
    fn get(self) -> isize {
        match self {
            Idx::Small(i) => isize::from(i),
            Idx::Any(i) => isize::from(i),
            Idx::Extreme(true) => isize::MAX,
            Idx::Extreme(false) => isize::MIN,
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Token {
    /// The k-th live export of the slot (modulo their number).
    Live(u8),
    /// A token that was released already (the most recent one), or 0 if none.
    Released,
    /// Any number.
    Bogus(u64),
    /// A live token of the array in another slot (the k-th, modulo their number).
    Other(u8, u8),
}

/// Input bytes taken from a live export: one of the slot's exports, and a byte range of what it
/// shows (any offset and length, so unaligned and partial-unit ranges too).
#[derive(Arbitrary, Debug, Clone, Copy)]
struct FromExport {
    slot: u8,
    export: u8,
    start: u16,
    len: u16,
}

#[derive(Arbitrary, Debug, Clone)]
enum Op {
    New {
        slot: u8,
        code: u8,
        capacity: Option<u8>,
    },
    FromBytes {
        slot: u8,
        code: u8,
        bytes: Vec<u8>,
    },
    Clone {
        slot: u8,
        from: u8,
    },
    Free {
        slot: u8,
    },
    Push {
        slot: u8,
        val: Val,
    },
    PushBytes {
        slot: u8,
        bytes: Vec<u8>,
    },
    Pop {
        slot: u8,
        idx: Idx,
        out_len: u8,
    },
    Get {
        slot: u8,
        idx: Idx,
        how: u8,
    },
    Set {
        slot: u8,
        idx: Idx,
        val: Val,
    },
    SetBytes {
        slot: u8,
        idx: Idx,
        bytes: Vec<u8>,
    },
    Insert {
        slot: u8,
        idx: Idx,
        val: Val,
    },
    InsertBytes {
        slot: u8,
        idx: Idx,
        bytes: Vec<u8>,
    },
    Extend {
        slot: u8,
        from: u8,
    },
    /// Extend from raw bytes, or from a live export's memory (input aliasing storage).
    ExtendBytes {
        slot: u8,
        bytes: Vec<u8>,
        from_export: Option<FromExport>,
    },
    Truncate {
        slot: u8,
        len: u16,
    },
    Resize {
        slot: u8,
        len: u16,
        fill: Option<Vec<u8>>,
    },
    Clear {
        slot: u8,
    },
    Reserve {
        slot: u8,
        additional: u16,
        huge: bool,
    },
    Reverse {
        slot: u8,
    },
    Byteswap {
        slot: u8,
    },
    RepeatInPlace {
        slot: u8,
        n: i8,
    },
    GetSlice {
        slot: u8,
        dst: u8,
        start: Idx,
        stop: Idx,
        step: i8,
    },
    DelSlice {
        slot: u8,
        start: Idx,
        stop: Idx,
        step: i8,
    },
    SetSliceBytes {
        slot: u8,
        start: Idx,
        stop: Idx,
        step: i8,
        bytes: Vec<u8>,
        from_export: Option<FromExport>,
    },
    Search {
        slot: u8,
        val: Val,
        what: u8,
        start: Idx,
        stop: Idx,
    },
    FetchAdd {
        slot: u8,
        idx: Idx,
        val: Val,
    },
    CompareExchange {
        slot: u8,
        idx: Idx,
        expected: Val,
        desired: Val,
    },
    CompareSelf {
        slot: u8,
    },
    CopyBytes {
        slot: u8,
        cap: u16,
    },
    ExportAcquire {
        slot: u8,
    },
    ExportRelease {
        slot: u8,
        token: Token,
    },
    /// A host's store of element `idx` through an export: compare-exchange on its unit.
    ExportStore {
        slot: u8,
        export: u8,
        idx: u16,
        bits: u64,
    },
    /// A host's load of element `idx` through an export: a load of its unit.
    ExportLoad {
        slot: u8,
        export: u8,
        idx: u16,
    },
    Strict {
        slot: u8,
        on: bool,
    },
    Session {
        what: u8,
    },
    Bulk(Bulk),
}

/// What we know of one live handle.
struct Model {
    handle: *mut Handle,
    code: TypeCode,
    bytes: Vec<u8>,
    strict: bool,
    /// Live exports: (token, pointer, length at acquisition).
    exports: Vec<(u64, *mut u8, usize)>,
    /// The last token released, for `Token::Released`.
    released: u64,
}

impl Model {
    fn size(&self) -> usize {
        self.code.itemsize()
    }
    fn len(&self) -> usize {
        self.bytes.len() / self.size()
    }
    fn elem(&self, i: usize) -> &[u8] {
        &self.bytes[i * self.size()..(i + 1) * self.size()]
    }
}

fn slot_of(s: u8) -> usize {
    usize::from(s) % SLOTS
}

/// The live handle in `slot`, or NULL.
fn h(models: &[Option<Model>], slot: usize) -> *mut Handle {
    models[slot].as_ref().map_or(ptr::null_mut(), |m| m.handle)
}

/// An element value, decoded by type code.
#[derive(Debug, Clone, Copy, PartialEq)]
enum V {
    Int(i128),
    Float(f64),
    Char(u32),
}

fn decode(code: TypeCode, b: &[u8]) -> V {
    let mut w = [0u8; 8];
    w[..b.len()].copy_from_slice(b);
    let u = u64::from_ne_bytes(w);
    let n = b.len() * 8;
    match code.kind() {
        Kind::Float if n == 32 => V::Float(f64::from(f32::from_ne_bytes(b.try_into().unwrap()))),
        Kind::Float => V::Float(f64::from_ne_bytes(b.try_into().unwrap())),
        Kind::Char => V::Char(u as u32),
        Kind::Unsigned => V::Int(i128::from(u)),
        Kind::Signed => {
            let shift = 64 - n;
            V::Int(i128::from(((u << shift) as i64) >> shift))
        }
    }
}

fn encode_int(code: TypeCode, i: i128) -> Vec<u8> {
    (i as u64).to_ne_bytes()[..code.itemsize()].to_vec()
}

/// What `Val` converts to under `code`: the element bytes, or the status the layer gives.
fn convert(code: TypeCode, v: Val) -> Result<Vec<u8>, Status> {
    let int = match v {
        Val::Small(i) => i128::from(i),
        Val::I64(i) => i128::from(i),
        Val::U64(u) => i128::from(u),
        Val::F64(x) => {
            return match code.kind() {
                Kind::Float if code.itemsize() == 4 => Ok((x as f32).to_ne_bytes().to_vec()),
                Kind::Float => Ok(x.to_ne_bytes().to_vec()),
                _ => Err(Status::WrongKind),
            };
        }
    };
    match code.kind() {
        Kind::Float if code.itemsize() == 4 => Ok((int as f32).to_ne_bytes().to_vec()),
        Kind::Float => Ok((int as f64).to_ne_bytes().to_vec()),
        Kind::Char => {
            if (0..=0x10FFFF).contains(&int) {
                Ok(encode_int(code, int))
            } else {
                Err(Status::Overflow)
            }
        }
        _ => {
            let (lo, hi) = code.int_range().unwrap();
            if (lo..=hi).contains(&int) {
                Ok(encode_int(code, int))
            } else {
                Err(Status::Overflow)
            }
        }
    }
}

/// Calls the C ABI setter/pusher/inserter matching `v`'s C type.
macro_rules! by_val {
    ($v:expr, $i64:ident, $u64:ident, $f64:ident, ($($pre:expr),*)) => {
        // SAFETY: the handles and pointers come from live slots (or are NULL, which the
        // library rejects); the model owns every buffer passed.
        unsafe {
            match $v {
                Val::Small(i) => $i64($($pre,)* i64::from(i)),
                Val::I64(i) => $i64($($pre,)* i),
                Val::U64(u) => $u64($($pre,)* u),
                Val::F64(x) => $f64($($pre,)* x),
            }
        }
    };
}

/// Everything observable about a live array, for the "a failure changes nothing" check.
#[derive(Debug, PartialEq)]
struct Observed {
    bytes: Vec<u8>,
    capacity: usize,
    exports: usize,
    strict: bool,
}

fn observe(handle: *mut Handle) -> Observed {
    let mut n = 0usize;
    let mut cap = 0usize;
    let mut exports = 0usize;
    let mut strict = false;
    // SAFETY: `handle` is live; every out-pointer is a local.
    unsafe {
        assert_eq!(ftarray_copy_bytes(handle, ptr::null_mut(), 0, &mut n), {
            let mut len = 0;
            assert_eq!(ftarray_len(handle, &mut len), Status::Ok);
            if len == 0 {
                Status::Ok
            } else {
                Status::BufferTooSmall
            }
        });
        let mut bytes = vec![0u8; n];
        let mut written = 0;
        assert_eq!(
            ftarray_copy_bytes(handle, bytes.as_mut_ptr().cast(), n, &mut written),
            Status::Ok
        );
        assert_eq!(written, n);
        assert_eq!(ftarray_capacity(handle, &mut cap), Status::Ok);
        assert_eq!(ftarray_export_count(handle, &mut exports), Status::Ok);
        assert_eq!(ftarray_strict_exports(handle, &mut strict), Status::Ok);
        Observed {
            bytes,
            capacity: cap,
            exports,
            strict,
        }
    }
}

fn last_error() -> String {
    let mut buf = vec![0u8; 512];
    let mut needed = 0;
    // SAFETY: `buf` is 512 writable bytes.
    unsafe { ftarray_last_error(buf.as_mut_ptr().cast(), buf.len(), &mut needed) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(0);
    String::from_utf8(buf[..end].to_vec()).expect("the message is UTF-8")
}

/// A slice's indices under the model, or the status the library gives.
fn slice_indices(len: usize, start: Idx, stop: Idx, step: i8) -> Result<Vec<usize>, Status> {
    let s = Slice::new(Some(start.get()), Some(stop.get()), Some(isize::from(step)));
    s.indices(len)
        .map(|r| r.iter().collect())
        .map_err(|_| Status::ZeroStep)
}

struct Run {
    models: Vec<Option<Model>>,
    session_depth: usize,
    /// Every export token acquired in this run: tokens are unique in the process.
    tokens: HashSet<u64>,
}

/// The 64-bit unit of an export's storage that holds byte `at`.
///
/// # Safety
///
/// `p` is a live export's pointer and byte `at` lies in the storage it pins (which is whole
/// aligned units, `p` being 8-aligned).
unsafe fn unit<'a>(p: *mut u8, at: usize) -> &'a AtomicU64 {
    // SAFETY: by the contract the unit is inside the pinned storage, 8-aligned, and accessed
    // only atomically by the library.
    unsafe { AtomicU64::from_ptr(p.add(at & !7).cast::<u64>()) }
}

impl Run {
    /// Checks a call's outcome: `allowed` lists the statuses it may return; on failure the
    /// arrays must be unchanged. Returns the status.
    fn check(&self, status: Status, allowed: &[Status], before: &[Option<Observed>], what: &str) {
        assert_ne!(
            status,
            Status::Panic,
            "{what}: the library panicked: {}",
            last_error()
        );
        assert!(
            allowed.contains(&status),
            "{what}: returned {status:?}, allowed {allowed:?} ({})",
            last_error()
        );
        if status != Status::Ok {
            assert!(
                !last_error().is_empty(),
                "{what}: {status:?} without a message"
            );
            for (k, m) in self.models.iter().enumerate() {
                if let (Some(m), Some(b)) = (m, &before[k]) {
                    assert_eq!(
                        &observe(m.handle),
                        b,
                        "{what}: failed with {status:?} but changed slot {k}"
                    );
                }
            }
        }
    }

    fn before(&self) -> Vec<Option<Observed>> {
        self.models
            .iter()
            .map(|m| m.as_ref().map(|m| observe(m.handle)))
            .collect()
    }

    /// The model and the array agree, and every export still shows the storage.
    fn verify(&self) {
        for m in self.models.iter().flatten() {
            let o = observe(m.handle);
            assert_eq!(o.bytes, m.bytes, "array and model differ ({})", m.code);
            assert_eq!(o.exports, m.exports.len());
            assert_eq!(o.strict, m.strict);
            assert!(o.capacity >= m.len());
            if let Some(&(_, p, _)) = m.exports.first() {
                let shown = m
                    .len()
                    .min(m.exports.iter().map(|e| e.2).min().unwrap_or(0));
                for &(_, q, _) in &m.exports {
                    assert_eq!(
                        p, q,
                        "two live exports of one array point to different storage"
                    );
                }
                // SAFETY: the export pins `shown` elements at `p`; only this thread uses the
                // array, so plain reads race with nothing.
                let view = unsafe { std::slice::from_raw_parts(p, shown * m.size()) };
                assert_eq!(
                    view,
                    &m.bytes[..shown * m.size()],
                    "the export shows stale contents"
                );
            }
        }
    }

    /// The input `(pointer, length, bytes it holds)` that `from` names, if its slot has a live
    /// export: bytes of the export that the array still shows (elements below both the
    /// export's and the array's length), at any offset.
    fn export_input(&self, from: FromExport) -> Option<(*const u8, usize, Vec<u8>)> {
        let m = self.models[slot_of(from.slot)].as_ref()?;
        let &(_, p, elen) = m
            .exports
            .get(usize::from(from.export) % m.exports.len().max(1))?;
        let shown = m.len().min(elen) * m.size();
        let start = usize::from(from.start) % (shown + 1);
        let len = usize::from(from.len) % (shown - start + 1);
        Some((
            p.wrapping_add(start).cast_const(),
            len,
            m.bytes[start..start + len].to_vec(),
        ))
    }

    /// The export `export` of slot `s` and the element `idx` names among those it shows.
    fn export_elem(&self, s: usize, export: u8, idx: u16) -> Option<(*mut u8, usize)> {
        let m = self.models[s].as_ref()?;
        let &(_, p, elen) = m
            .exports
            .get(usize::from(export) % m.exports.len().max(1))?;
        let shown = m.len().min(elen);
        (shown > 0).then(|| (p, usize::from(idx) % shown))
    }

    fn capacity(&self, slot: usize) -> usize {
        let mut cap = 0;
        // SAFETY: a live handle and a local.
        let _ = unsafe { ftarray_capacity(h(&self.models, slot), &mut cap) };
        cap
    }

    fn new_model(&mut self, slot: usize, handle: *mut Handle, code: TypeCode) {
        self.free_slot(slot);
        self.models[slot] = Some(Model {
            handle,
            code,
            bytes: Vec::new(),
            strict: false,
            exports: Vec::new(),
            released: 0,
        });
        let o = observe(handle);
        self.models[slot].as_mut().unwrap().bytes = o.bytes;
    }

    /// Releases the slot's exports and frees its handle.
    fn free_slot(&mut self, slot: usize) {
        if let Some(m) = self.models[slot].take() {
            for (token, _, _) in &m.exports {
                // SAFETY: a live handle and its own live token.
                assert_eq!(
                    unsafe { ftarray_export_release(m.handle, *token) },
                    Status::Ok
                );
            }
            // SAFETY: the handle is live and used by this thread only; it is dropped here.
            assert_eq!(unsafe { ftarray_free(m.handle) }, Status::Ok);
        }
    }

    fn step(&mut self, op: &Op) {
        let before = self.before();
        let what = format!("{op:?}");
        match *op {
            Op::New {
                slot,
                code,
                capacity,
            } => {
                let s = slot_of(slot);
                let c = CODES[usize::from(code) % CODES.len()];
                let mut out = ptr::null_mut();
                // SAFETY: `out` is a local.
                let st = unsafe {
                    match capacity {
                        None => ftarray_new(c as c_char, &mut out),
                        Some(n) => ftarray_with_capacity(c as c_char, usize::from(n), &mut out),
                    }
                };
                match TypeCode::try_from(char::from(c)) {
                    Ok(code) => {
                        self.check(st, &[Status::Ok], &before, &what);
                        self.new_model(s, out, code);
                    }
                    Err(_) => {
                        self.check(st, &[Status::BadTypecode], &before, &what);
                        assert!(out.is_null());
                    }
                }
            }
            Op::FromBytes {
                slot,
                code,
                ref bytes,
            } => {
                let s = slot_of(slot);
                let c = CODES[usize::from(code) % CODES.len()];
                let mut out = ptr::null_mut();
                // SAFETY: `bytes` and `out` are ours.
                let st = unsafe {
                    ftarray_from_bytes(c as c_char, bytes.as_ptr().cast(), bytes.len(), &mut out)
                };
                match TypeCode::try_from(char::from(c)) {
                    Ok(code) if bytes.len() % code.itemsize() == 0 => {
                        self.check(st, &[Status::Ok], &before, &what);
                        self.new_model(s, out, code);
                        assert_eq!(self.models[s].as_ref().unwrap().bytes, *bytes);
                    }
                    Ok(_) => self.check(st, &[Status::BadLength], &before, &what),
                    Err(_) => self.check(st, &[Status::BadTypecode], &before, &what),
                }
            }
            Op::Clone { slot, from } => {
                let (s, f) = (slot_of(slot), slot_of(from));
                let mut out = ptr::null_mut();
                // SAFETY: a live handle or NULL, and a local.
                let st = unsafe { ftarray_clone(h(&self.models, f), &mut out) };
                match &self.models[f] {
                    None => self.check(st, &[Status::NullArgument], &before, &what),
                    Some(m) => {
                        self.check(st, &[Status::Ok], &before, &what);
                        let (code, bytes) = (m.code, m.bytes.clone());
                        self.new_model(s, out, code);
                        assert_eq!(self.models[s].as_ref().unwrap().bytes, bytes);
                    }
                }
            }
            Op::Free { slot } => {
                let s = slot_of(slot);
                let Some(m) = &self.models[s] else {
                    // SAFETY: NULL is accepted and does nothing.
                    assert_eq!(unsafe { ftarray_free(ptr::null_mut()) }, Status::Ok);
                    return;
                };
                // SAFETY: a live handle used by this thread only; freed at most once (the
                // model drops it on success).
                let st = unsafe { ftarray_free(m.handle) };
                if m.exports.is_empty() {
                    assert_eq!(st, Status::Ok);
                    self.models[s] = None;
                } else {
                    self.check(st, &[Status::Exported], &before, &what);
                }
            }
            Op::Push { slot, val } => {
                let s = slot_of(slot);
                let cap = self.capacity(s);
                let a = h(&self.models, s);
                let st = by_val!(
                    val,
                    ftarray_push_i64,
                    ftarray_push_u64,
                    ftarray_push_f64,
                    (a)
                );
                self.append_outcome(
                    s,
                    st,
                    cap,
                    convert_for(&self.models, s, val),
                    &before,
                    &what,
                );
            }
            Op::PushBytes { slot, ref bytes } => {
                let s = slot_of(slot);
                let cap = self.capacity(s);
                // SAFETY: `bytes` is ours; the handle is live or NULL.
                let st = unsafe {
                    ftarray_push_bytes(h(&self.models, s), bytes.as_ptr().cast(), bytes.len())
                };
                let want = match &self.models[s] {
                    None => Err(Status::NullArgument),
                    Some(m) if bytes.len() != m.size() => Err(Status::BadLength),
                    Some(m) if bad_code_point(m.code, bytes) => Err(Status::Overflow),
                    Some(_) => Ok(bytes.clone()),
                };
                self.append_outcome(s, st, cap, want, &before, &what);
            }
            Op::Pop { slot, idx, out_len } => {
                let s = slot_of(slot);
                let mut out = [0u8; 16];
                let n = usize::from(out_len % 10);
                // SAFETY: `out` has 16 bytes >= n.
                let st = unsafe {
                    ftarray_pop(h(&self.models, s), idx.get(), out.as_mut_ptr().cast(), n)
                };
                let Some(m) = &self.models[s] else {
                    return self.check(st, &[Status::NullArgument], &before, &what);
                };
                let len = m.len();
                if n != m.size() {
                    return self.check(st, &[Status::BadLength], &before, &what);
                }
                if len == 0 {
                    return self.check(st, &[Status::Empty], &before, &what);
                }
                let Some(i) = resolve_index(idx.get(), len) else {
                    return self.check(st, &[Status::IndexError], &before, &what);
                };
                let allowed: &[Status] = match (m.exports.is_empty(), m.strict, i + 1 == len) {
                    (true, _, _) => &[Status::Ok],
                    (false, true, _) => &[Status::Exported],
                    (false, false, true) => &[Status::Ok],
                    (false, false, false) => &[Status::Exported],
                };
                self.check(st, allowed, &before, &what);
                if st == Status::Ok {
                    let m = self.models[s].as_mut().unwrap();
                    let size = m.size();
                    let got = &out[..size];
                    let want: Vec<u8> = m.bytes.drain(i * size..(i + 1) * size).collect();
                    if m.code.kind() == Kind::Float {
                        // Popped through a value: equal as numbers (NaN payloads may change).
                        let (x, y) = (decode(m.code, got), decode(m.code, &want));
                        assert!(
                            x == y
                                || matches!((x, y), (V::Float(a), V::Float(b)) if a.is_nan() && b.is_nan())
                        );
                    } else {
                        assert_eq!(got, &want[..]);
                    }
                }
            }
            Op::Get { slot, idx, how } => {
                let s = slot_of(slot);
                let a = h(&self.models, s);
                let mut bytes = [0u8; 8];
                let (mut i, mut u, mut x) = (0i64, 0u64, 0f64);
                // SAFETY: locals only.
                let st = unsafe {
                    match how % 4 {
                        0 => ftarray_get_i64(a, idx.get(), &mut i),
                        1 => ftarray_get_u64(a, idx.get(), &mut u),
                        2 => ftarray_get_f64(a, idx.get(), &mut x),
                        _ => {
                            let n = self.models[s].as_ref().map_or(8, |m| m.size());
                            ftarray_get_bytes(a, idx.get(), bytes.as_mut_ptr().cast(), n)
                        }
                    }
                };
                let Some(m) = &self.models[s] else {
                    return self.check(st, &[Status::NullArgument], &before, &what);
                };
                let Some(k) = resolve_index(idx.get(), m.len()) else {
                    return self.check(st, &[Status::IndexError], &before, &what);
                };
                let e = m.elem(k);
                let v = decode(m.code, e);
                match (how % 4, v) {
                    (0, V::Int(n)) if i64::try_from(n).is_ok() => {
                        self.check(st, &[Status::Ok], &before, &what);
                        assert_eq!(i128::from(i), n);
                    }
                    (1, V::Int(n)) if n >= 0 => {
                        self.check(st, &[Status::Ok], &before, &what);
                        assert_eq!(i128::from(u), n);
                    }
                    (0 | 1, V::Int(_)) => self.check(st, &[Status::Overflow], &before, &what),
                    (0, V::Char(c)) => {
                        self.check(st, &[Status::Ok], &before, &what);
                        assert_eq!(i, i64::from(c));
                    }
                    (1, V::Char(c)) => {
                        self.check(st, &[Status::Ok], &before, &what);
                        assert_eq!(u, u64::from(c));
                    }
                    (0 | 1, V::Float(_)) | (2, V::Char(_)) => {
                        self.check(st, &[Status::WrongKind], &before, &what)
                    }
                    (2, V::Int(n)) => {
                        self.check(st, &[Status::Ok], &before, &what);
                        let want = if let Ok(n) = i64::try_from(n) {
                            n as f64
                        } else {
                            n as u64 as f64
                        };
                        assert_eq!(x, want);
                    }
                    (2, V::Float(f)) => {
                        self.check(st, &[Status::Ok], &before, &what);
                        assert!(x == f || (x.is_nan() && f.is_nan()));
                    }
                    (_, _) if how % 4 == 3 => {
                        self.check(st, &[Status::Ok], &before, &what);
                        assert_eq!(&bytes[..m.size()], e);
                    }
                    (_, v) => panic!("{what}: unexpected {st:?} for element {v:?}"),
                }
            }
            Op::Set { slot, idx, val } => {
                let s = slot_of(slot);
                let a = h(&self.models, s);
                let st = by_val!(
                    val,
                    ftarray_set_i64,
                    ftarray_set_u64,
                    ftarray_set_f64,
                    (a, idx.get())
                );
                let want = convert_for(&self.models, s, val);
                self.in_place_outcome(s, st, idx, want, &before, &what);
            }
            Op::SetBytes {
                slot,
                idx,
                ref bytes,
            } => {
                let s = slot_of(slot);
                // SAFETY: `bytes` is ours.
                let st = unsafe {
                    ftarray_set_bytes(
                        h(&self.models, s),
                        idx.get(),
                        bytes.as_ptr().cast(),
                        bytes.len(),
                    )
                };
                let want = match &self.models[s] {
                    None => Err(Status::NullArgument),
                    Some(m) if bytes.len() != m.size() => Err(Status::BadLength),
                    Some(m) if bad_code_point(m.code, bytes) => Err(Status::Overflow),
                    Some(_) => Ok(bytes.clone()),
                };
                self.in_place_outcome(s, st, idx, want, &before, &what);
            }
            Op::Insert { slot, idx, val } => {
                let s = slot_of(slot);
                let a = h(&self.models, s);
                let st = by_val!(
                    val,
                    ftarray_insert_i64,
                    ftarray_insert_u64,
                    ftarray_insert_f64,
                    (a, idx.get())
                );
                let want = convert_for(&self.models, s, val);
                self.insert_outcome(s, st, idx, want, &before, &what);
            }
            Op::InsertBytes {
                slot,
                idx,
                ref bytes,
            } => {
                let s = slot_of(slot);
                // SAFETY: `bytes` is ours.
                let st = unsafe {
                    ftarray_insert_bytes(
                        h(&self.models, s),
                        idx.get(),
                        bytes.as_ptr().cast(),
                        bytes.len(),
                    )
                };
                let want = match &self.models[s] {
                    None => Err(Status::NullArgument),
                    Some(m) if bytes.len() != m.size() => Err(Status::BadLength),
                    Some(m) if bad_code_point(m.code, bytes) => Err(Status::Overflow),
                    Some(_) => Ok(bytes.clone()),
                };
                self.insert_outcome(s, st, idx, want, &before, &what);
            }
            Op::Extend { slot, from } => {
                let (s, f) = (slot_of(slot), slot_of(from));
                let cap = self.capacity(s);
                // SAFETY: live handles or NULL (`s == f` is allowed: a.extend(a)).
                let st = unsafe { ftarray_extend(h(&self.models, s), h(&self.models, f)) };
                let want = match (&self.models[s], &self.models[f]) {
                    (None, _) | (_, None) => Err(Status::NullArgument),
                    (Some(a), Some(b)) if a.code != b.code => Err(Status::TypeMismatch),
                    (Some(_), Some(b)) => Ok(b.bytes.clone()),
                };
                self.append_outcome(s, st, cap, want, &before, &what);
            }
            Op::ExtendBytes {
                slot,
                ref bytes,
                from_export,
            } => {
                let s = slot_of(slot);
                let cap = self.capacity(s);
                // Input from an export's memory (this handle's or another's, any offset): the
                // library must copy it atomically first, and exactly.
                let (src, n, want_bytes) = from_export
                    .and_then(|f| self.export_input(f))
                    .unwrap_or_else(|| (bytes.as_ptr(), bytes.len(), bytes.clone()));
                // SAFETY: `src` is `n` readable bytes (ours, or a pinned export).
                let st = unsafe { ftarray_extend_bytes(h(&self.models, s), src.cast(), n) };
                let want = match &self.models[s] {
                    None => Err(Status::NullArgument),
                    Some(m) if n % m.size() != 0 => Err(Status::BadLength),
                    Some(_) => Ok(want_bytes),
                };
                self.append_outcome(s, st, cap, want, &before, &what);
            }
            Op::Truncate { slot, len } => {
                let s = slot_of(slot);
                let n = usize::from(len) % (MAX_LEN + 1);
                // SAFETY: a live handle or NULL.
                let st = unsafe { ftarray_truncate(h(&self.models, s), n) };
                self.shrink_outcome(s, st, n, &before, &what);
            }
            Op::Clear { slot } => {
                let s = slot_of(slot);
                // SAFETY: a live handle or NULL.
                let st = unsafe { ftarray_clear(h(&self.models, s)) };
                self.shrink_outcome(s, st, 0, &before, &what);
            }
            Op::Resize {
                slot,
                len,
                ref fill,
            } => {
                let s = slot_of(slot);
                let n = usize::from(len) % (MAX_LEN + 1);
                let (fp, fl) = fill
                    .as_ref()
                    .map_or((ptr::null(), 0), |f| (f.as_ptr(), f.len()));
                let cap = self.capacity(s);
                // SAFETY: `fill` is ours.
                let st = unsafe { ftarray_resize(h(&self.models, s), n, fp.cast(), fl) };
                let Some(m) = &self.models[s] else {
                    return self.check(st, &[Status::NullArgument], &before, &what);
                };
                let fill_bytes = match fill {
                    None => vec![0u8; m.size()],
                    Some(f) if f.len() != m.size() => {
                        return self.check(st, &[Status::BadLength], &before, &what);
                    }
                    Some(f) => f.clone(),
                };
                if let V::Char(c) = decode(m.code, &fill_bytes) {
                    if c > 0x10FFFF {
                        return self.check(st, &[Status::Overflow], &before, &what);
                    }
                }
                let len = m.len();
                let allowed: &[Status] = if m.exports.is_empty() || n == len {
                    &[Status::Ok]
                } else if m.strict {
                    &[Status::Exported]
                } else if n < len || n <= cap {
                    &[Status::Ok, Status::Exported]
                } else {
                    &[Status::Exported]
                };
                self.check(st, allowed, &before, &what);
                if st == Status::Ok {
                    let m = self.models[s].as_mut().unwrap();
                    let size = m.size();
                    if n < len {
                        m.bytes.truncate(n * size);
                    } else {
                        for _ in len..n {
                            m.bytes.extend_from_slice(&fill_bytes);
                        }
                    }
                    if m.code.kind() == Kind::Float {
                        // The fill goes through a value, which may quiet a NaN's payload:
                        // take the stored bits (the other elements are checked by `verify`
                        // against the old model before this step).
                        let stored = observe(m.handle).bytes;
                        for k in len..n {
                            let (x, y) = (
                                decode(m.code, &stored[k * size..(k + 1) * size]),
                                decode(m.code, &fill_bytes),
                            );
                            assert!(
                                x == y
                                    || matches!((x, y), (V::Float(a), V::Float(b)) if a.is_nan() && b.is_nan())
                            );
                        }
                        m.bytes[len.min(n) * size..].copy_from_slice(&stored[len.min(n) * size..]);
                    }
                }
            }
            Op::Reserve {
                slot,
                additional,
                huge,
            } => {
                let s = slot_of(slot);
                let add = if huge {
                    usize::MAX / 2
                } else {
                    usize::from(additional)
                };
                // SAFETY: a live handle or NULL.
                let st = unsafe { ftarray_reserve(h(&self.models, s), add) };
                match &self.models[s] {
                    None => self.check(st, &[Status::NullArgument], &before, &what),
                    Some(_) if huge => self.check(
                        st,
                        &[
                            Status::CapacityOverflow,
                            Status::OutOfMemory,
                            Status::Exported,
                        ],
                        &before,
                        &what,
                    ),
                    Some(m) if !m.exports.is_empty() => {
                        self.check(st, &[Status::Ok, Status::Exported], &before, &what)
                    }
                    Some(_) => self.check(st, &[Status::Ok], &before, &what),
                }
                if st == Status::Ok {
                    assert!(self.capacity(s) >= self.models[s].as_ref().unwrap().len() + add);
                }
            }
            Op::Reverse { slot } | Op::Byteswap { slot } => {
                let s = slot_of(slot);
                let rev = matches!(op, Op::Reverse { .. });
                // SAFETY: a live handle or NULL.
                let st = unsafe {
                    if rev {
                        ftarray_reverse(h(&self.models, s))
                    } else {
                        ftarray_byteswap(h(&self.models, s))
                    }
                };
                let Some(m) = self.models[s].as_mut() else {
                    return self.check(st, &[Status::NullArgument], &before, &what);
                };
                assert_eq!(st, Status::Ok, "{what}: {}", last_error());
                let size = m.size();
                let mut elems: Vec<Vec<u8>> = m.bytes.chunks(size).map(<[u8]>::to_vec).collect();
                if rev {
                    elems.reverse();
                } else {
                    elems.iter_mut().for_each(|e| e.reverse());
                }
                m.bytes = elems.concat();
            }
            Op::RepeatInPlace { slot, n } => {
                let s = slot_of(slot);
                let n = isize::from(n % 4);
                // SAFETY: a live handle or NULL.
                let st = unsafe { ftarray_repeat_in_place(h(&self.models, s), n) };
                let Some(m) = &self.models[s] else {
                    return self.check(st, &[Status::NullArgument], &before, &what);
                };
                let len = m.len();
                let new_len = if n <= 0 { 0 } else { len * n as usize };
                if len == 0 || n == 1 {
                    return self.check(st, &[Status::Ok], &before, &what);
                }
                let allowed: &[Status] = if m.exports.is_empty() {
                    &[Status::Ok]
                } else if m.strict {
                    &[Status::Exported]
                } else {
                    &[Status::Ok, Status::Exported]
                };
                self.check(st, allowed, &before, &what);
                if st == Status::Ok {
                    let m = self.models[s].as_mut().unwrap();
                    m.bytes = m.bytes.repeat(new_len / len.max(1));
                }
            }
            Op::GetSlice {
                slot,
                dst,
                start,
                stop,
                step,
            } => {
                let (s, d) = (slot_of(slot), slot_of(dst));
                let mut out = ptr::null_mut();
                // SAFETY: a live handle or NULL, a local.
                let st = unsafe {
                    ftarray_get_slice(
                        h(&self.models, s),
                        start.get(),
                        stop.get(),
                        isize::from(step),
                        &mut out,
                    )
                };
                let Some(m) = &self.models[s] else {
                    return self.check(st, &[Status::NullArgument], &before, &what);
                };
                match slice_indices(m.len(), start, stop, step) {
                    Err(e) => self.check(st, &[e], &before, &what),
                    Ok(ix) => {
                        self.check(st, &[Status::Ok], &before, &what);
                        let want: Vec<u8> = ix.iter().flat_map(|&i| m.elem(i).to_vec()).collect();
                        let code = m.code;
                        self.new_model(d, out, code);
                        assert_eq!(self.models[d].as_ref().unwrap().bytes, want);
                    }
                }
            }
            Op::DelSlice {
                slot,
                start,
                stop,
                step,
            } => {
                let s = slot_of(slot);
                // SAFETY: a live handle or NULL.
                let st = unsafe {
                    ftarray_del_slice(
                        h(&self.models, s),
                        start.get(),
                        stop.get(),
                        isize::from(step),
                    )
                };
                let Some(m) = &self.models[s] else {
                    return self.check(st, &[Status::NullArgument], &before, &what);
                };
                match slice_indices(m.len(), start, stop, step) {
                    Err(e) => self.check(st, &[e], &before, &what),
                    Ok(ix) => {
                        let allowed: &[Status] = if m.exports.is_empty() {
                            &[Status::Ok]
                        } else if m.strict {
                            &[Status::Exported]
                        } else {
                            &[Status::Ok, Status::Exported]
                        };
                        self.check(st, allowed, &before, &what);
                        if st == Status::Ok {
                            let m = self.models[s].as_mut().unwrap();
                            let keep: Vec<u8> = (0..m.len())
                                .filter(|i| !ix.contains(i))
                                .flat_map(|i| m.elem(i).to_vec())
                                .collect();
                            m.bytes = keep;
                        }
                    }
                }
            }
            Op::SetSliceBytes {
                slot,
                start,
                stop,
                step,
                ref bytes,
                from_export,
            } => {
                let s = slot_of(slot);
                let (src, n, bytes) = from_export
                    .and_then(|f| self.export_input(f))
                    .unwrap_or_else(|| (bytes.as_ptr(), bytes.len(), bytes.clone()));
                // SAFETY: `src` is `n` readable bytes (ours, or a pinned export's).
                let st = unsafe {
                    ftarray_set_slice_bytes(
                        h(&self.models, s),
                        start.get(),
                        stop.get(),
                        isize::from(step),
                        src.cast(),
                        n,
                    )
                };
                let Some(m) = &self.models[s] else {
                    return self.check(st, &[Status::NullArgument], &before, &what);
                };
                let size = m.size();
                if bytes.len() % size != 0 {
                    return self.check(st, &[Status::BadLength], &before, &what);
                }
                let ix = match slice_indices(m.len(), start, stop, step) {
                    Err(e) => return self.check(st, &[e], &before, &what),
                    Ok(ix) => ix,
                };
                let n = bytes.len() / size;
                let r = Slice::new(Some(start.get()), Some(stop.get()), Some(isize::from(step)))
                    .indices(m.len())
                    .unwrap();
                let resizes = n == 0 || ix.len() != n;
                if r.step != 1 && n != 0 && n != ix.len() {
                    let allowed: &[Status] = if !m.exports.is_empty() && m.strict {
                        &[Status::Exported]
                    } else {
                        &[Status::BadLength]
                    };
                    return self.check(st, allowed, &before, &what);
                }
                let allowed: &[Status] = if m.exports.is_empty() {
                    &[Status::Ok]
                } else if m.strict && resizes {
                    &[Status::Exported]
                } else {
                    &[Status::Ok, Status::Exported]
                };
                self.check(st, allowed, &before, &what);
                if st == Status::Ok {
                    let m = self.models[s].as_mut().unwrap();
                    let mut elems: Vec<Vec<u8>> =
                        m.bytes.chunks(size).map(<[u8]>::to_vec).collect();
                    let new: Vec<Vec<u8>> = bytes.chunks(size).map(<[u8]>::to_vec).collect();
                    if r.step == 1 {
                        let a = r.start as usize;
                        let b = (r.stop.max(r.start)) as usize;
                        elems.splice(a..b, new);
                    } else if n == 0 {
                        let mut k = 0;
                        elems.retain(|_| {
                            k += 1;
                            !ix.contains(&(k - 1))
                        });
                    } else {
                        for (i, e) in ix.iter().zip(new) {
                            elems[*i] = e;
                        }
                    }
                    m.bytes = elems.concat();
                }
            }
            Op::Search {
                slot,
                val,
                what: which,
                start,
                stop,
            } => self.search(slot_of(slot), val, which, start, stop, &before, &what),
            Op::FetchAdd { slot, idx, val } => {
                self.fetch_add(slot_of(slot), idx, val, &before, &what)
            }
            Op::CompareExchange {
                slot,
                idx,
                expected,
                desired,
            } => self.compare_exchange(slot_of(slot), idx, expected, desired, &before, &what),
            Op::CompareSelf { slot } => {
                let s = slot_of(slot);
                let a = h(&self.models, s);
                let mut eq = false;
                // SAFETY: a live handle (twice) or NULL, a local.
                let st = unsafe { ftarray_compare(a, a, 2, &mut eq) };
                let Some(m) = &self.models[s] else {
                    return self.check(st, &[Status::NullArgument], &before, &what);
                };
                self.check(st, &[Status::Ok], &before, &what);
                let has_nan = (0..m.len())
                    .any(|i| matches!(decode(m.code, m.elem(i)), V::Float(f) if f.is_nan()));
                assert_eq!(eq, !has_nan, "a == a");
                // An unknown operator is rejected.
                // SAFETY: as above.
                let st = unsafe { ftarray_compare(a, a, 6, &mut eq) };
                self.check(st, &[Status::InvalidArgument], &before, &what);
            }
            Op::CopyBytes { slot, cap } => {
                let s = slot_of(slot);
                let cap = usize::from(cap) % (MAX_LEN * 8);
                let mut buf = vec![0xAAu8; cap];
                let mut n = usize::MAX;
                // SAFETY: `buf` has `cap` bytes.
                let st = unsafe {
                    ftarray_copy_bytes(h(&self.models, s), buf.as_mut_ptr().cast(), cap, &mut n)
                };
                let Some(m) = &self.models[s] else {
                    return self.check(st, &[Status::NullArgument], &before, &what);
                };
                if m.bytes.len() > cap {
                    self.check(st, &[Status::BufferTooSmall], &before, &what);
                    assert_eq!(n, m.bytes.len(), "needed size");
                    assert!(buf.iter().all(|&b| b == 0xAA), "written although too small");
                } else {
                    self.check(st, &[Status::Ok], &before, &what);
                    assert_eq!(&buf[..n], &m.bytes[..]);
                }
            }
            Op::ExportAcquire { slot } => {
                let s = slot_of(slot);
                let mut b = std::mem::MaybeUninit::new(Buffer::init());
                // SAFETY: a live handle or NULL; `b` is written on success only.
                let st = unsafe { ftarray_export_acquire(h(&self.models, s), b.as_mut_ptr()) };
                let Some(m) = self.models[s].as_mut() else {
                    return self.check(st, &[Status::NullArgument], &before, &what);
                };
                assert_eq!(st, Status::Ok);
                // SAFETY: written by the successful call.
                let b = unsafe { b.assume_init() };
                assert_eq!(b.len, m.len());
                assert_eq!(b.itemsize, m.size());
                assert_eq!(b.typecode as u8 as char, m.code.as_char());
                assert!(!b.ptr.is_null());
                assert!(m.exports.iter().all(|e| e.0 != b.token), "token reused");
                m.exports.push((b.token, b.ptr.cast(), b.len));
                // Unique in the process, not only in the array: no other export, live or
                // released, of any handle ever had this token.
                assert!(
                    self.tokens.insert(b.token),
                    "token {} handed out twice",
                    b.token
                );
            }
            Op::ExportRelease { slot, token } => {
                let s = slot_of(slot);
                let Some(m) = &self.models[s] else {
                    // SAFETY: NULL is rejected.
                    let st = unsafe { ftarray_export_release(ptr::null_mut(), 1) };
                    return self.check(st, &[Status::NullArgument], &before, &what);
                };
                let foreign = match token {
                    Token::Other(o, k) if slot_of(o) != s => self.models[slot_of(o)]
                        .as_ref()
                        .filter(|n| !n.exports.is_empty())
                        .map(|n| n.exports[usize::from(k) % n.exports.len()].0),
                    _ => None,
                };
                let t = foreign.unwrap_or(match token {
                    Token::Live(k) if !m.exports.is_empty() => {
                        m.exports[usize::from(k) % m.exports.len()].0
                    }
                    Token::Live(_) | Token::Released | Token::Other(..) => m.released,
                    Token::Bogus(t) => t,
                });
                if foreign.is_some() {
                    // Another array's live export: never one of this array's (tokens counted per
                    // array made the numbers collide and released the wrong pin).
                    assert!(
                        m.exports.iter().all(|e| e.0 != t),
                        "two arrays share token {t}"
                    );
                }
                // SAFETY: a live handle.
                let st = unsafe { ftarray_export_release(m.handle, t) };
                if let Some(at) = m.exports.iter().position(|e| e.0 == t) {
                    self.check(st, &[Status::Ok], &before, &what);
                    let m = self.models[s].as_mut().unwrap();
                    m.exports.swap_remove(at);
                    m.released = t;
                } else {
                    self.check(st, &[Status::UnknownExport], &before, &what);
                }
            }
            Op::ExportStore {
                slot,
                export,
                idx,
                bits,
            } => {
                let s = slot_of(slot);
                let Some((p, i)) = self.export_elem(s, export, idx) else {
                    return;
                };
                let m = self.models[s].as_mut().unwrap();
                let size = m.size();
                // A valid element: character codes take a code point.
                let bits = if m.code.kind() == Kind::Char && size == 4 {
                    bits % 0x11_0000
                } else {
                    bits
                };
                let new = bits.to_ne_bytes();
                let at = i * size;
                // SAFETY: `p` is a live export and element `i` is below its length.
                let u = unsafe { unit(p, at) };
                // The host's store protocol: replace the element's bytes in the unit, keeping
                // the neighbours, with a compare-exchange loop.
                let mut cur = u.load(Relaxed);
                loop {
                    let mut b = cur.to_ne_bytes();
                    b[at % 8..at % 8 + size].copy_from_slice(&new[..size]);
                    match u.compare_exchange_weak(cur, u64::from_ne_bytes(b), Relaxed, Relaxed) {
                        Ok(_) => break,
                        Err(now) => cur = now,
                    }
                }
                m.bytes[at..at + size].copy_from_slice(&new[..size]);
            }
            Op::ExportLoad { slot, export, idx } => {
                let s = slot_of(slot);
                let Some((p, i)) = self.export_elem(s, export, idx) else {
                    return;
                };
                let m = self.models[s].as_ref().unwrap();
                let at = i * m.size();
                // SAFETY: as in `ExportStore`.
                let b = unsafe { unit(p, at) }.load(Relaxed).to_ne_bytes();
                assert_eq!(
                    &b[at % 8..at % 8 + m.size()],
                    m.elem(i),
                    "{what}: the export shows another value"
                );
            }
            Op::Strict { slot, on } => {
                let s = slot_of(slot);
                // SAFETY: a live handle or NULL.
                let st = unsafe { ftarray_set_strict_exports(h(&self.models, s), on) };
                match self.models[s].as_mut() {
                    None => self.check(st, &[Status::NullArgument], &before, &what),
                    Some(m) => {
                        assert_eq!(st, Status::Ok);
                        m.strict = on;
                    }
                }
            }
            Op::Session { what: which } => {
                let st = match which % 3 {
                    0 => ftarray_session_enter(),
                    1 => ftarray_session_quiescent(),
                    _ => ftarray_session_leave(),
                };
                match which % 3 {
                    0 => {
                        assert_eq!(st, Status::Ok);
                        self.session_depth += 1;
                    }
                    _ if self.session_depth == 0 => {
                        self.check(st, &[Status::NotInSession], &before, &what)
                    }
                    1 => assert_eq!(st, Status::Ok),
                    _ => {
                        assert_eq!(st, Status::Ok);
                        self.session_depth -= 1;
                    }
                }
                let mut depth = usize::MAX;
                // SAFETY: a local.
                assert_eq!(unsafe { ftarray_session_depth(&mut depth) }, Status::Ok);
                assert_eq!(depth, self.session_depth);
            }
            Op::Bulk(ref b) => self.bulk(b, &before, &what),
        }
    }

    /// An append of `want` (the element bytes, or the status conversion gives).
    fn append_outcome(
        &mut self,
        s: usize,
        st: Status,
        cap: usize,
        want: Result<Vec<u8>, Status>,
        before: &[Option<Observed>],
        what: &str,
    ) {
        let add = match want {
            Err(e) => return self.check(st, &[e], before, what),
            Ok(add) => add,
        };
        let m = self.models[s].as_ref().unwrap();
        let allowed: &[Status] = if add.is_empty() || m.exports.is_empty() {
            if m.len() + add.len() / m.size() > MAX_LEN * 4 {
                &[Status::Ok, Status::OutOfMemory]
            } else {
                &[Status::Ok]
            }
        } else if m.strict || m.len() + add.len() / m.size() > cap {
            &[Status::Exported]
        } else {
            &[Status::Ok]
        };
        self.check(st, allowed, before, what);
        if st == Status::Ok {
            let m = self.models[s].as_mut().unwrap();
            m.bytes.extend_from_slice(&add);
        }
    }

    /// `set` of element `idx` to `want`: in place, so allowed even while exported.
    fn in_place_outcome(
        &mut self,
        s: usize,
        st: Status,
        idx: Idx,
        want: Result<Vec<u8>, Status>,
        before: &[Option<Observed>],
        what: &str,
    ) {
        let len = self.models[s].as_ref().map(|m| m.len());
        let new = match (want, len) {
            // A wrong byte length is refused first; a value that does not convert is reported
            // after a bad index, as CPython reports `a[99] = 2**70` as an IndexError.
            (Err(e @ Status::BadLength), _) | (Err(e), None) => {
                return self.check(st, &[e], before, what);
            }
            (Err(e), Some(n)) if resolve_index(idx.get(), n).is_some() => {
                return self.check(st, &[e], before, what);
            }
            (Err(_), Some(_)) => return self.check(st, &[Status::IndexError], before, what),
            (Ok(b), _) => b,
        };
        let m = self.models[s].as_ref().unwrap();
        let Some(i) = resolve_index(idx.get(), m.len()) else {
            return self.check(st, &[Status::IndexError], before, what);
        };
        self.check(st, &[Status::Ok], before, what);
        let m = self.models[s].as_mut().unwrap();
        let size = m.size();
        m.bytes[i * size..(i + 1) * size].copy_from_slice(&new);
    }

    fn insert_outcome(
        &mut self,
        s: usize,
        st: Status,
        idx: Idx,
        want: Result<Vec<u8>, Status>,
        before: &[Option<Observed>],
        what: &str,
    ) {
        let new = match want {
            Err(e) => return self.check(st, &[e], before, what),
            Ok(b) => b,
        };
        let m = self.models[s].as_ref().unwrap();
        let i = clamp_index(idx.get(), m.len());
        let allowed: &[Status] = if m.exports.is_empty() {
            &[Status::Ok]
        } else if m.strict {
            &[Status::Exported]
        } else {
            &[Status::Ok, Status::Exported]
        };
        self.check(st, allowed, before, what);
        if st == Status::Ok {
            let m = self.models[s].as_mut().unwrap();
            let size = m.size();
            m.bytes.splice(i * size..i * size, new);
        }
    }

    fn shrink_outcome(
        &mut self,
        s: usize,
        st: Status,
        n: usize,
        before: &[Option<Observed>],
        what: &str,
    ) {
        let Some(m) = &self.models[s] else {
            return self.check(st, &[Status::NullArgument], before, what);
        };
        let allowed: &[Status] = if n < m.len() && !m.exports.is_empty() && m.strict {
            &[Status::Exported]
        } else {
            &[Status::Ok]
        };
        self.check(st, allowed, before, what);
        if st == Status::Ok {
            let m = self.models[s].as_mut().unwrap();
            let size = m.size();
            m.bytes.truncate(n.min(m.len()) * size);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn search(
        &mut self,
        s: usize,
        val: Val,
        which: u8,
        start: Idx,
        stop: Idx,
        before: &[Option<Observed>],
        what: &str,
    ) {
        let a = h(&self.models, s);
        let (mut found, mut n) = (false, usize::MAX);
        // SAFETY: a live handle or NULL, locals.
        let st = unsafe {
            match (which % 4, val) {
                (0, Val::F64(x)) => ftarray_contains_f64(a, x, &mut found),
                (0, Val::U64(u)) => ftarray_contains_u64(a, u, &mut found),
                (0, Val::I64(i)) => ftarray_contains_i64(a, i, &mut found),
                (0, Val::Small(i)) => ftarray_contains_i64(a, i.into(), &mut found),
                (1, Val::F64(x)) => ftarray_count_f64(a, x, &mut n),
                (1, Val::U64(u)) => ftarray_count_u64(a, u, &mut n),
                (1, Val::I64(i)) => ftarray_count_i64(a, i, &mut n),
                (1, Val::Small(i)) => ftarray_count_i64(a, i.into(), &mut n),
                (2, Val::F64(x)) => ftarray_index_f64(a, x, start.get(), stop.get(), &mut n),
                (2, Val::U64(u)) => ftarray_index_u64(a, u, start.get(), stop.get(), &mut n),
                (2, Val::I64(i)) => ftarray_index_i64(a, i, start.get(), stop.get(), &mut n),
                (2, Val::Small(i)) => {
                    ftarray_index_i64(a, i.into(), start.get(), stop.get(), &mut n)
                }
                (_, Val::F64(x)) => ftarray_remove_f64(a, x, &mut n),
                (_, Val::U64(u)) => ftarray_remove_u64(a, u, &mut n),
                (_, Val::I64(i)) => ftarray_remove_i64(a, i, &mut n),
                (_, Val::Small(i)) => ftarray_remove_i64(a, i.into(), &mut n),
            }
        };
        let Some(m) = &self.models[s] else {
            return self.check(st, &[Status::NullArgument], before, what);
        };
        // Which elements equal the value, exactly, as Python compares numbers (an integral
        // double matches the integer element of its value; an integer never matches a
        // character element).
        let eq = |e: &[u8]| -> bool {
            match (decode(m.code, e), val) {
                (V::Float(f), Val::F64(x)) => f == x,
                (V::Float(f), Val::I64(i)) => {
                    f == i as f64 && (f as i128) == i128::from(i) && f.fract() == 0.0
                }
                (V::Float(f), Val::Small(i)) => f == f64::from(i),
                (V::Float(f), Val::U64(u)) => {
                    f == u as f64 && (f as u128) == u128::from(u) && f.fract() == 0.0
                }
                (V::Int(k), Val::I64(i)) => k == i128::from(i),
                (V::Int(k), Val::Small(i)) => k == i128::from(i),
                (V::Int(k), Val::U64(u)) => k == i128::from(u),
                (V::Int(k), Val::F64(x)) => {
                    x.is_finite() && x.fract() == 0.0 && x.abs() < 1e20 && k == x as i128
                }
                _ => false,
            }
        };
        let hits: Vec<usize> = (0..m.len()).filter(|&i| eq(m.elem(i))).collect();
        match which % 4 {
            0 => {
                self.check(st, &[Status::Ok], before, what);
                assert_eq!(found, !hits.is_empty());
            }
            1 => {
                self.check(st, &[Status::Ok], before, what);
                assert_eq!(n, hits.len());
            }
            2 => {
                let r = search_range(start.get(), stop.get(), m.len());
                match hits.iter().find(|i| r.contains(i)) {
                    Some(&i) => {
                        self.check(st, &[Status::Ok], before, what);
                        assert_eq!(n, i);
                    }
                    None => self.check(st, &[Status::NotFound], before, what),
                }
            }
            _ => match hits.first() {
                None => self.check(st, &[Status::NotFound], before, what),
                Some(&i) => {
                    let allowed: &[Status] =
                        match (m.exports.is_empty(), m.strict, i + 1 == m.len()) {
                            (true, _, _) => &[Status::Ok],
                            (false, true, _) => &[Status::Exported],
                            (false, false, true) => &[Status::Ok, Status::Exported],
                            (false, false, false) => &[Status::Exported],
                        };
                    self.check(st, allowed, before, what);
                    if st == Status::Ok {
                        assert_eq!(n, i);
                        let m = self.models[s].as_mut().unwrap();
                        let size = m.size();
                        m.bytes.drain(i * size..(i + 1) * size);
                    }
                }
            },
        }
    }

    fn fetch_add(&mut self, s: usize, idx: Idx, val: Val, before: &[Option<Observed>], what: &str) {
        let a = h(&self.models, s);
        let (mut oi, mut ou, mut of) = (0i64, 0u64, 0f64);
        // SAFETY: a live handle or NULL, locals.
        let st = unsafe {
            match val {
                Val::Small(d) => ftarray_fetch_add_i64(a, idx.get(), d.into(), &mut oi),
                Val::I64(d) => ftarray_fetch_add_i64(a, idx.get(), d, &mut oi),
                Val::U64(d) => ftarray_fetch_add_u64(a, idx.get(), d, &mut ou),
                Val::F64(d) => ftarray_fetch_add_f64(a, idx.get(), d, &mut of),
            }
        };
        let Some(m) = &self.models[s] else {
            return self.check(st, &[Status::NullArgument], before, what);
        };
        let fits = m
            .code
            .int_range()
            .is_some_and(|(_, hi)| hi <= i128::from(i64::MAX));
        let ok_kind = match val {
            Val::Small(_) | Val::I64(_) => fits,
            Val::U64(_) => m.code.kind() == Kind::Unsigned,
            Val::F64(_) => m.code.kind() == Kind::Float,
        };
        if !ok_kind {
            return self.check(st, &[Status::WrongKind], before, what);
        }
        let Some(i) = resolve_index(idx.get(), m.len()) else {
            return self.check(st, &[Status::IndexError], before, what);
        };
        self.check(st, &[Status::Ok], before, what);
        let old = decode(m.code, m.elem(i));
        let m = self.models[s].as_mut().unwrap();
        let size = m.size();
        let new = match (old, val) {
            (V::Int(o), Val::Small(d)) => {
                assert_eq!(i128::from(oi), o);
                encode_int(m.code, o + i128::from(d))
            }
            (V::Int(o), Val::I64(d)) => {
                assert_eq!(i128::from(oi), o);
                encode_int(m.code, o + i128::from(d))
            }
            (V::Int(o), Val::U64(d)) => {
                assert_eq!(i128::from(ou), o);
                encode_int(m.code, o + i128::from(d))
            }
            (V::Float(o), Val::F64(_)) => {
                assert!(of == o || (of.is_nan() && o.is_nan()));
                // IEEE arithmetic in the element's precision: read back rather than model
                // the rounding of f32 sums.
                let got = observe(m.handle).bytes;
                got[i * size..(i + 1) * size].to_vec()
            }
            (o, v) => panic!("{what}: fetch_add of {v:?} on {o:?} succeeded"),
        };
        m.bytes[i * size..(i + 1) * size].copy_from_slice(&new);
    }

    fn compare_exchange(
        &mut self,
        s: usize,
        idx: Idx,
        expected: Val,
        desired: Val,
        before: &[Option<Observed>],
        what: &str,
    ) {
        let a = h(&self.models, s);
        let as_i = |v: Val| match v {
            Val::Small(i) => i64::from(i),
            Val::I64(i) => i,
            Val::U64(u) => u as i64,
            Val::F64(x) => x as i64,
        };
        let unsigned = matches!(expected, Val::U64(_));
        let (mut ei, mut eu) = (as_i(expected), as_i(expected) as u64);
        let (di, du) = (as_i(desired), as_i(desired) as u64);
        let mut done = false;
        // SAFETY: a live handle or NULL, locals.
        let st = unsafe {
            if unsigned {
                ftarray_compare_exchange_u64(a, idx.get(), &mut eu, du, &mut done)
            } else {
                ftarray_compare_exchange_i64(a, idx.get(), &mut ei, di, &mut done)
            }
        };
        let Some(m) = &self.models[s] else {
            return self.check(st, &[Status::NullArgument], before, what);
        };
        let fits = m
            .code
            .int_range()
            .is_some_and(|(_, hi)| hi <= i128::from(i64::MAX));
        let ok_kind = if unsigned {
            m.code.kind() == Kind::Unsigned
        } else {
            fits
        };
        if !ok_kind {
            return self.check(st, &[Status::WrongKind], before, what);
        }
        let (cur, new) = if unsigned {
            (i128::from(as_i(expected) as u64), i128::from(du))
        } else {
            (i128::from(as_i(expected)), i128::from(di))
        };
        let (lo, hi) = m.code.int_range().unwrap();
        if !(lo..=hi).contains(&cur) || !(lo..=hi).contains(&new) {
            return self.check(st, &[Status::Overflow], before, what);
        }
        let Some(i) = resolve_index(idx.get(), m.len()) else {
            return self.check(st, &[Status::IndexError], before, what);
        };
        self.check(st, &[Status::Ok], before, what);
        let V::Int(old) = decode(m.code, m.elem(i)) else {
            unreachable!("integer type code")
        };
        if old == cur {
            assert!(done);
            let m = self.models[s].as_mut().unwrap();
            let size = m.size();
            let b = encode_int(m.code, new);
            m.bytes[i * size..(i + 1) * size].copy_from_slice(&b);
        } else {
            assert!(!done);
            let actual = if unsigned {
                i128::from(eu)
            } else {
                i128::from(ei)
            };
            assert_eq!(actual, old, "the actual value is reported");
        }
    }
}

/// `convert` for the array in slot `s`, or NULL_ARGUMENT for an empty slot.
fn convert_for(models: &[Option<Model>], s: usize, v: Val) -> Result<Vec<u8>, Status> {
    match &models[s] {
        None => Err(Status::NullArgument),
        Some(m) => convert(m.code, v),
    }
}

/// Runs one input: decodes up to `MAX_OPS` calls and checks each (see the module docs).
pub fn run_capi(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut stats0 = std::mem::MaybeUninit::new(Stats::init());
    // SAFETY: a local.
    assert_eq!(
        unsafe { ftarray_get_stats(stats0.as_mut_ptr()) },
        Status::Ok
    );
    // SAFETY: written by the successful call.
    let stats0 = unsafe { stats0.assume_init() };
    let mut run = Run {
        models: (0..SLOTS).map(|_| None).collect(),
        session_depth: 0,
        tokens: HashSet::new(),
    };
    let mut ops = 0;
    while ops < MAX_OPS && !u.is_empty() {
        let Ok(op) = Op::arbitrary(&mut u) else { break };
        if crate::debug() {
            eprintln!("{op:?}");
        }
        run.step(&op);
        run.verify();
        ops += 1;
        // Keep arrays small: a run of appends is cut short.
        for s in 0..SLOTS {
            if run.models[s].as_ref().is_some_and(|m| m.len() > MAX_LEN) {
                run.free_slot(s);
            }
        }
    }
    for s in 0..SLOTS {
        run.free_slot(s);
    }
    for _ in 0..run.session_depth {
        assert_eq!(ftarray_session_leave(), Status::Ok);
    }
    let mut stats = std::mem::MaybeUninit::new(Stats::init());
    // SAFETY: a local.
    assert_eq!(unsafe { ftarray_get_stats(stats.as_mut_ptr()) }, Status::Ok);
    // SAFETY: written by the successful call.
    let stats = unsafe { stats.assume_init() };
    assert_eq!(stats.live_handles, stats0.live_handles, "handles leaked");
    assert_eq!(stats.live_exports, stats0.live_exports, "exports leaked");
    assert_eq!(stats.inits, 1);
}

/// Whether `bytes` is a character element that is no code point: given as bytes, it is refused
/// as it is given as an integer.
fn bad_code_point(code: TypeCode, bytes: &[u8]) -> bool {
    matches!(decode(code, bytes), V::Char(c) if c > 0x10FFFF)
}

/// The bulk calls: ranges, fills, nbytes, shrink_to_fit, sort.
#[derive(Arbitrary, Debug, Clone)]
enum Bulk {
    GetRange {
        slot: u8,
        start: Idx,
        stop: Idx,
        cap: u16,
    },
    SetRange {
        slot: u8,
        start: Idx,
        stop: Idx,
        bytes: Vec<u8>,
    },
    Fill {
        slot: u8,
        start: Idx,
        stop: Idx,
        val: Val,
    },
    Nbytes {
        slot: u8,
    },
    ShrinkToFit {
        slot: u8,
    },
    Sort {
        slot: u8,
    },
}

/// The elements `start..stop` select as a step-1 slice of `len` elements.
fn range_of(len: usize, start: Idx, stop: Idx) -> std::ops::Range<usize> {
    let r = Slice::range(start.get(), stop.get())
        .indices(len)
        .expect("step 1");
    r.span()
}

impl Run {
    fn bulk(&mut self, op: &Bulk, before: &[Option<Observed>], what: &str) {
        match *op {
            Bulk::GetRange {
                slot,
                start,
                stop,
                cap,
            } => {
                let s = slot_of(slot);
                let mut buf = vec![0xEEu8; usize::from(cap)];
                let mut n = usize::MAX;
                // SAFETY: a live handle or NULL; `buf` has `cap` bytes; `n` is a local.
                let st = unsafe {
                    ftarray_get_range(
                        h(&self.models, s),
                        start.get(),
                        stop.get(),
                        buf.as_mut_ptr().cast(),
                        buf.len(),
                        &mut n,
                    )
                };
                let Some(m) = &self.models[s] else {
                    return self.check(st, &[Status::NullArgument], before, what);
                };
                let span = range_of(m.len(), start, stop);
                let want = &m.bytes[span.start * m.size()..span.end * m.size()];
                if want.len() > buf.len() {
                    self.check(st, &[Status::BufferTooSmall], before, what);
                    assert!(
                        buf.iter().all(|&b| b == 0xEE),
                        "{what}: wrote a short buffer"
                    );
                } else {
                    self.check(st, &[Status::Ok], before, what);
                    assert_eq!(&buf[..n], want, "{what}");
                }
                assert_eq!(n, want.len(), "{what}: the size reported");
            }
            Bulk::SetRange {
                slot,
                start,
                stop,
                ref bytes,
            } => {
                let s = slot_of(slot);
                // SAFETY: a live handle or NULL; `bytes` is ours.
                let st = unsafe {
                    ftarray_set_range(
                        h(&self.models, s),
                        start.get(),
                        stop.get(),
                        bytes.as_ptr().cast(),
                        bytes.len(),
                    )
                };
                let Some(m) = &self.models[s] else {
                    return self.check(st, &[Status::NullArgument], before, what);
                };
                let span = range_of(m.len(), start, stop);
                let size = m.size();
                if bytes.len() % size != 0 || bytes.len() / size != span.len() {
                    return self.check(st, &[Status::BadLength], before, what);
                }
                let allowed: &[Status] = if m.exports.is_empty() {
                    &[Status::Ok]
                } else {
                    &[Status::Ok, Status::Exported]
                };
                self.check(st, allowed, before, what);
                if st == Status::Ok {
                    let m = self.models[s].as_mut().unwrap();
                    m.bytes[span.start * size..span.end * size].copy_from_slice(bytes);
                }
            }
            Bulk::Fill {
                slot,
                start,
                stop,
                val,
            } => {
                let s = slot_of(slot);
                let a = h(&self.models, s);
                let st = by_val!(
                    val,
                    ftarray_fill_i64,
                    ftarray_fill_u64,
                    ftarray_fill_f64,
                    (a, start.get(), stop.get())
                );
                let x = match convert_for(&self.models, s, val) {
                    Err(e) => return self.check(st, &[e], before, what),
                    Ok(x) => x,
                };
                let m = self.models[s].as_ref().unwrap();
                let allowed: &[Status] = if m.exports.is_empty() {
                    &[Status::Ok]
                } else {
                    &[Status::Ok, Status::Exported]
                };
                self.check(st, allowed, before, what);
                if st == Status::Ok {
                    let m = self.models[s].as_mut().unwrap();
                    let (size, span) = (m.size(), range_of(m.len(), start, stop));
                    let stored = observe(m.handle).bytes;
                    for k in span {
                        let got = &stored[k * size..(k + 1) * size];
                        // Through a value: a float NaN's payload may change, as in `Resize`.
                        let same = got == &x[..]
                            || matches!((decode(m.code, got), decode(m.code, &x)),
                                (V::Float(p), V::Float(q)) if p.is_nan() && q.is_nan());
                        assert!(same, "{what}: element {k}");
                        m.bytes[k * size..(k + 1) * size].copy_from_slice(got);
                    }
                }
            }
            Bulk::Nbytes { slot } => {
                let s = slot_of(slot);
                let mut n = 0;
                // SAFETY: a live handle or NULL; a local.
                let st = unsafe { ftarray_nbytes(h(&self.models, s), &mut n) };
                let Some(m) = &self.models[s] else {
                    return self.check(st, &[Status::NullArgument], before, what);
                };
                self.check(st, &[Status::Ok], before, what);
                assert!(n >= m.bytes.len(), "{what}: {n} bytes");
            }
            Bulk::ShrinkToFit { slot } => {
                let s = slot_of(slot);
                // SAFETY: a live handle or NULL.
                let st = unsafe { ftarray_shrink_to_fit(h(&self.models, s)) };
                let Some(m) = &self.models[s] else {
                    return self.check(st, &[Status::NullArgument], before, what);
                };
                let allowed: &[Status] = if m.exports.is_empty() {
                    &[Status::Ok]
                } else {
                    &[Status::Ok, Status::Exported]
                };
                self.check(st, allowed, before, what);
            }
            Bulk::Sort { slot } => {
                let s = slot_of(slot);
                // SAFETY: a live handle or NULL.
                let st = unsafe { ftarray_sort(h(&self.models, s)) };
                let Some(m) = self.models[s].as_mut() else {
                    return self.check(st, &[Status::NullArgument], before, what);
                };
                assert_eq!(st, Status::Ok, "{what}: {}", last_error());
                let (size, code) = (m.size(), m.code);
                let mut elems: Vec<Vec<u8>> = m.bytes.chunks(size).map(<[u8]>::to_vec).collect();
                // Stable, ascending; floats in IEEE total order (of the value as a double).
                elems.sort_by(|x, y| match (decode(code, x), decode(code, y)) {
                    (V::Float(p), V::Float(q)) => p.total_cmp(&q),
                    (V::Int(p), V::Int(q)) => p.cmp(&q),
                    (V::Char(p), V::Char(q)) => p.cmp(&q),
                    _ => unreachable!("one type code"),
                });
                m.bytes = elems.concat();
            }
        }
    }
}
