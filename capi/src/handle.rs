//! The opaque handle, and the conversions between C arguments and the runtime-typed layer:
//! type codes, element bytes, values, and host buffers copied in with atomic loads.

use crate::registry;
use crate::status::{Fail, Status};
use crossbeam_epoch::{Collector, Guard, LocalHandle};
use ftarray::dynamic::Source;
use ftarray::{DynArray, Kind, TypeCode, Value};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::ffi::c_char;
use std::sync::atomic::AtomicPtr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// An array of numbers of one element type, shared by any number of threads.
///
/// Made by `ftarray_new` (and the other functions returning `ftarray **`), freed by
/// `ftarray_free`. Opaque: C code only holds pointers to it.
pub struct Handle {
    // One field, at offset 0 (asserted below): the struct stays opaque to cbindgen, which would
    // print the fields of a `#[repr(C)]` one, while the magic word comes first.
    inner: Inner,
}

/// What a handle holds, magic word first, so that checking a foreign pointer reads only its
/// first 8 bytes.
#[repr(C)]
struct Inner {
    /// [`LIVE`] from creation until `ftarray_free`, then [`FREED`] until the memory is
    /// reclaimed.
    magic: AtomicU64,
    array: DynArray,
}

const _: () = assert!(std::mem::offset_of!(Handle, inner) == 0);

/// The magic word of a live handle ("ftarray!" in ASCII, little-endian).
const LIVE: u64 = u64::from_le_bytes(*b"ftarray!");
/// The magic word of a freed handle whose memory has not been reclaimed yet.
const FREED: u64 = u64::from_le_bytes(*b"ftfreed!");
/// The magic word of a handle whose array was being written by a thread that the process
/// forked without running the library's fork handlers (see `ftarray_after_fork_child`).
const FORKED: u64 = u64::from_le_bytes(*b"ftforkd!");

// Handles are shared by C threads through raw pointers, which the compiler cannot check: the
// array inside must be shareable and sendable.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Handle>();
};

/// Handles created and not yet freed. A statistic: Relaxed.
static LIVE_HANDLES: AtomicUsize = AtomicUsize::new(0);

/// Handles freed whose memory the epoch collector has not reclaimed yet. A statistic (and
/// `ftarray_drain`'s goal): Relaxed.
static RETIRED_HANDLES: AtomicUsize = AtomicUsize::new(0);

/// The addresses of the live handles: what the fork handlers lock (every live array's locks
/// are held across a `fork()`, see `fork.rs`). A handle is added when it is made and removed
/// by `ftarray_free` before its memory is retired, both under this lock, so while a thread
/// holds it every address in it is a handle whose memory stays valid.
///
/// Lock order: this, then `registry::REGISTRY`, then an array's own locks.
pub(crate) static REGISTRY: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

pub(crate) fn registry() -> MutexGuard<'static, BTreeSet<usize>> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn live_handles() -> usize {
    LIVE_HANDLES.load(Ordering::Relaxed)
}

pub(crate) fn retired_handles() -> usize {
    RETIRED_HANDLES.load(Ordering::Relaxed)
}

/// A handle argument's pointer type: `ftarray *` for a call that may write, `const ftarray *`
/// for one that only reads (how `ffi!` picks the collector it pins, see `Pinned`).
pub(crate) trait HandlePtr {
    /// Whether the call may write through this argument.
    #[allow(non_snake_case)]
    fn WRITES_THROUGH(&self) -> bool;
}

impl HandlePtr for *const Handle {
    fn WRITES_THROUGH(&self) -> bool {
        false
    }
}

impl HandlePtr for *mut Handle {
    fn WRITES_THROUGH(&self) -> bool {
        true
    }
}

// ---------------------------------------------------------------------------------------------
// The handles' own epoch collector
// ---------------------------------------------------------------------------------------------

/// The collector that calls which may write pin while they use a handle (read-only calls pin
/// the storage collector, see `boundary::Pinned`), and that freed handles are retired to first.
/// A call pins for its whole length, including a wait for an array's writer lock; pinned with
/// the storage collector, a writer waiting behind another's O(n) rewrite would hold back the
/// reclamation of every array's storage meanwhile. Pinning it costs a writing call one more
/// fence outside a session; inside one, the session holds a pin of each collector, and a
/// call's pins are nested (a counter increment).
///
/// Null until first use; replaced by a new one in a child after `fork()` (threads of the
/// parent pinned at the fork stay pinned in the old one for ever). Acquire/Release: the
/// collector is initialised before its pointer is published.
static HANDLE_COLLECTOR: AtomicPtr<Collector> = AtomicPtr::new(std::ptr::null_mut());

/// Freed handles left with the collector of the parent after the last fork: never reclaimed in
/// the child (the floor `ftarray_drain` stops at).
static STRANDED_HANDLES: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's registration with the handle collector, and which collector that was.
    static HANDLE_LOCAL: RefCell<Option<(*const Collector, LocalHandle)>> =
        const { RefCell::new(None) };
}

fn handle_collector() -> &'static Collector {
    let p = HANDLE_COLLECTOR.load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: published collectors are leaked, never freed.
        return unsafe { &*p };
    }
    let new = Box::into_raw(Box::new(Collector::new()));
    match HANDLE_COLLECTOR.compare_exchange(
        std::ptr::null_mut(),
        new,
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        // SAFETY: just published, leaked from now on.
        Ok(_) => unsafe { &*new },
        Err(current) => {
            // SAFETY: `new` lost the race and was never shared; `current` is published.
            drop(unsafe { Box::from_raw(new) });
            // SAFETY: as above.
            unsafe { &*current }
        }
    }
}

/// Pins the calling thread with the handle collector.
pub(crate) fn pin() -> Guard {
    let collector = handle_collector();
    HANDLE_LOCAL
        .try_with(|slot| {
            let mut slot = slot.borrow_mut();
            match &*slot {
                Some((c, local)) if std::ptr::eq(*c, collector) => local.pin(),
                _ => {
                    let local = collector.register();
                    let guard = local.pin();
                    *slot = Some((collector, local));
                    guard
                }
            }
        })
        // The thread is exiting: a registration of its own, kept alive by the guard.
        .unwrap_or_else(|_| collector.register().pin())
}

/// Unpins and pins `guard` again (a session's quiescent point), moving it to the current
/// handle collector if a fork replaced it.
pub(crate) fn repin(guard: &mut Guard) {
    if guard.collector().is_some_and(|c| c == handle_collector()) {
        guard.repin_after(|| ());
    } else {
        *guard = pin();
    }
}

/// In a child after `fork()`: a new handle collector (see [`HANDLE_COLLECTOR`]); the handles
/// freed before the fork and not yet reclaimed stay with the old one.
pub(crate) fn after_fork_child() {
    let old = handle_collector();
    let local = old.register();
    for _ in 0..3 {
        local.pin().flush();
    }
    STRANDED_HANDLES.store(RETIRED_HANDLES.load(Ordering::Relaxed), Ordering::Relaxed);
    let new = Box::into_raw(Box::new(Collector::new()));
    HANDLE_COLLECTOR.store(new, Ordering::Release);
}

/// Freed handles that will never be reclaimed in this process (see [`after_fork_child`]).
pub(crate) fn stranded_handles() -> usize {
    STRANDED_HANDLES.load(Ordering::Relaxed)
}

/// Moves this thread's freed handles to the collector's queue and reclaims what has expired.
pub(crate) fn flush() {
    pin().flush();
}

/// The misuse a bad handle is reported as.
fn misuse(name: &str, what: &str) -> Fail {
    Fail::new(
        Status::Misuse,
        format!("argument `{name}` is not a live ftarray handle ({what})"),
    )
}

impl Handle {
    /// Moves `array` to the heap and returns the pointer the host owns from now on.
    pub(crate) fn into_raw(array: DynArray) -> *mut Handle {
        let p = Box::into_raw(Box::new(Handle {
            inner: Inner {
                magic: AtomicU64::new(LIVE),
                array,
            },
        }));
        registry().insert(p.addr());
        LIVE_HANDLES.fetch_add(1, Ordering::Relaxed);
        p
    }

    /// The array behind `p`, checked: NULL, a freed handle and a pointer this library did not
    /// make (as far as its first 8 bytes tell) are refused.
    ///
    /// `guard` must be pinned before the call and for as long as the array is used: a handle
    /// freed by another thread meanwhile is reclaimed only after `guard` unpins.
    ///
    /// # Safety
    ///
    /// `p` is NULL or a handle returned by [`Handle::into_raw`], possibly freed since but not
    /// yet reclaimed. (Anything else is the best effort the magic word gives, as SQLite's: a
    /// foreign pointer to readable memory or a reclaimed handle is usually refused, but it is
    /// undefined behaviour.)
    pub(crate) unsafe fn array<'g>(
        p: *const Handle,
        name: &str,
        _guard: &'g Guard,
    ) -> Result<&'g DynArray, Fail> {
        if p.is_null() {
            return Err(Fail::null(name));
        }
        if !p.is_aligned() {
            return Err(misuse(name, "misaligned: not made by this library"));
        }
        // SAFETY: non-null and aligned; by the contract a handle of this library, perhaps
        // freed but not reclaimed (a foreign pointer is the best-effort case the contract
        // leaves to the host: the magic word is its first 8 bytes, all that is read of it).
        let magic = unsafe { &(*p).inner.magic };
        // Acquire: pairs with nothing stronger than the host's own publication of the handle;
        // a `FREED` stored by a racing `ftarray_free` before its retirement is seen by every
        // call pinned after that retirement (see `free`).
        match magic.load(Ordering::Acquire) {
            // SAFETY: a live handle; it is retired only after its magic word changes, and then
            // reclaimed only once `_guard` (pinned before the load) unpins.
            LIVE => Ok(unsafe { &(*p).inner.array }),
            FREED => Err(misuse(name, "it was freed")),
            FORKED => Err(Fail::new(
                Status::Forked,
                format!(
                    "argument `{name}` was being written by a thread this process does not \
                     have: it forked without the library's fork handlers; free it"
                ),
            )),
            _ => Err(misuse(name, "not made by this library, or freed long ago")),
        }
    }

    /// Frees the handle `p` unless it has live exports: its magic word changes to `FREED`, it
    /// leaves the registry, and its memory is retired to both epoch collectors in turn (the
    /// handle collector's grace period, then the storage collector's), so it is reclaimed only
    /// once every thread pinned with either when it was unlinked has unpinned. So a call racing
    /// with the free on another thread (a host bug, but not a use-after-free) either finishes on
    /// the still-valid array or gets `FTARRAY_STATUS_MISUSE`.
    ///
    /// # Safety
    ///
    /// As [`Handle::array`].
    pub(crate) unsafe fn free(p: *mut Handle) -> Result<(), Fail> {
        let guard = pin();
        // SAFETY: forwarded from our caller.
        let array = unsafe { Handle::array(p, "a", &guard) };
        let array = match array {
            Ok(a) => a,
            // SAFETY: as above; a handle the library marked `FORKED` is freed (its array is
            // leaked: its locks belong to a thread the process does not have).
            Err(f) if f.status == Status::Forked => return unsafe { Handle::free_forked(p) },
            Err(f) => return Err(f),
        };
        let exports = array.export_count();
        if exports > 0 {
            return Err(ftarray::Error::Exported { exports }.into());
        }
        // SAFETY: `p` is a live handle (checked above, and it stays valid while we are pinned).
        let magic = unsafe { &(*p).inner.magic };
        // SeqCst, and under `guard`: the store is the handle's unlinking, as storing a new
        // pointer is for a block. A call pinned before it may still use the array, and the
        // retirement below waits for that call to unpin; a call pinned after it sees `FREED`.
        // Compare-exchange: of two racing frees, one wins and the other is a misuse.
        if magic
            .compare_exchange(LIVE, FREED, Ordering::SeqCst, Ordering::Relaxed)
            .is_err()
        {
            return Err(misuse("a", "it was freed"));
        }
        registry().remove(&p.addr());
        LIVE_HANDLES.fetch_sub(1, Ordering::Relaxed);
        RETIRED_HANDLES.fetch_add(1, Ordering::Relaxed);
        let p = SendPtr(p);
        // SAFETY: the handle is unlinked (its magic word is `FREED` and it is out of the
        // registry); threads that read `LIVE` before were pinned, and the collector runs this
        // only after they all unpin. The closure only drops the handle (a `Send` value).
        unsafe {
            guard.defer_unchecked(move || {
                let p = p;
                // The handle collector's grace period is over; now the storage collector's,
                // which read-only calls pin (it starts after the unlink too, so every call that
                // could have seen the handle live is covered).
                let storage = ftarray::pin();
                // SAFETY: as above, for the storage collector's pins.
                storage.defer_unchecked(move || {
                    let p = p;
                    drop(Box::from_raw(p.0));
                    RETIRED_HANDLES.fetch_sub(1, Ordering::Relaxed);
                });
                storage.flush();
            });
        }
        // Handles are few and small: no need to batch them in this thread's bag.
        guard.flush();
        Ok(())
    }

    /// Frees a handle marked `FORKED`: the shell goes, the array is leaked.
    ///
    /// # Safety
    ///
    /// `p` is a handle marked `FORKED` by `mark_forked`, in a process that has one thread.
    unsafe fn free_forked(p: *mut Handle) -> Result<(), Fail> {
        // SAFETY: by the contract: marked in this (single-threaded at the time) child, so no
        // other thread can be inside a call on it; the magic word changes only here.
        let magic = unsafe { &(*p).inner.magic };
        if magic
            .compare_exchange(FORKED, FREED, Ordering::SeqCst, Ordering::Relaxed)
            .is_err()
        {
            return Err(misuse("a", "it was freed"));
        }
        registry().remove(&p.addr());
        LIVE_HANDLES.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }

    /// The array of a registered handle, unchecked, for the fork handlers.
    ///
    /// # Safety
    ///
    /// `addr` is in the registry, and the caller holds the registry lock for `'a`.
    pub(crate) unsafe fn registered<'a>(addr: usize) -> &'a DynArray {
        // SAFETY: by the contract: registered handles are live while the lock is held.
        unsafe { &(*(addr as *const Handle)).inner.array }
    }

    /// Marks the registered handle at `addr` as `FORKED` (its array was locked at a fork that
    /// skipped the library's handlers).
    ///
    /// # Safety
    ///
    /// As [`Handle::registered`].
    pub(crate) unsafe fn mark_forked(addr: usize) {
        // SAFETY: by the contract.
        let magic = unsafe { &(*(addr as *const Handle)).inner.magic };
        // Relaxed: only in a child with one thread.
        magic.store(FORKED, Ordering::Relaxed);
    }
}

/// A handle pointer moved into the collector's deferred destructor (which may run on any
/// thread).
struct SendPtr(*mut Handle);
// SAFETY: the handle is `Send` (checked above) and the pointer is its only owner once retired.
unsafe impl Send for SendPtr {}

/// The type code named by the C character `code`.
pub(crate) fn typecode(code: c_char) -> Result<TypeCode, Fail> {
    // `c_char` may be signed: go through `u8` so that bytes 0x80..=0xFF become U+0080..U+00FF,
    // which name no type code, rather than sign-extended garbage.
    Ok(TypeCode::try_from(char::from(code as u8))?)
}

/// The type code's letter as a C character.
pub(crate) fn typecode_char(code: TypeCode) -> c_char {
    code.as_char() as u8 as c_char
}

// ---------------------------------------------------------------------------------------------
// Host buffers
// ---------------------------------------------------------------------------------------------

/// Copies `len` bytes of host memory at `src`, read as elements of `itemsize` bytes, into a
/// new `Vec`, with relaxed atomic loads.
///
/// Host input may alias memory that other threads write at the same time: typically an
/// export of another array (extending `b` from `a`'s exported buffer while `a` is being
/// written). Turning it into a `&[u8]` would claim that nobody writes it, which is then
/// false: a data race, undefined behaviour in Rust's memory model. So every byte is read with
/// an atomic load before the layer sees it (`ftarray::dynamic::copy_shared`), and no element is
/// ever assembled from two stores:
///
/// - input inside a live export of any handle (the registry, [`registry::in_live_export`]): every
///   8-byte unit it touches is loaded whole, the access size the arrays' own readers and
///   writers use, so the accesses never mix sizes (`Source::Export`). The bytes of those units
///   outside the input are loaded too: a host that writes them with plain stores at that
///   moment races, as the export's contract already says of plain access while other threads
///   use the array;
/// - any other input: each aligned 8 bytes inside it with one 64-bit load, and the partial
///   runs at its ends with naturally aligned loads at least `itemsize` wide
///   (`Source::Elements`); byte by byte only where `src` is not aligned to `itemsize`, which
///   no export of such elements is.
///
/// `Relaxed`: the copy orders nothing else; whatever the host wrote before this call
/// happened-before it by the host's own synchronisation.
///
/// # Safety
///
/// If `len > 0`, `src` is valid for reads of `len` bytes for the duration of the call, and
/// every concurrent write to those bytes is atomic (an ftarray writer, or the host's own
/// atomics); input from an export is read while that export is alive (an export released
/// during the call would make `src` invalid anyway). `src` may be NULL (or dangling) when `len`
/// is 0.
pub(crate) unsafe fn copy_in(src: *const u8, len: usize, itemsize: usize) -> Result<Vec<u8>, Fail> {
    let mut out: Vec<u8> = Vec::new();
    if len == 0 {
        return Ok(out);
    }
    out.try_reserve_exact(len).map_err(|_| Fail::oom(len))?;
    out.resize(len, 0);
    let source = if registry::in_live_export(src, len) {
        Source::Export
    } else {
        Source::Elements { itemsize }
    };
    // SAFETY: forwarded from our caller (`src` readable for `len` bytes, written only
    // atomically, and for `Source::Export` inside the storage of a live export, which stays
    // pinned while `src` is valid); `out` is our own buffer.
    unsafe { ftarray::dynamic::copy_shared(src, &mut out, source) };
    Ok(out)
}

/// The element bytes at `(src, len)`, which must be exactly one element of `code`.
///
/// # Safety
///
/// As [`copy_in`].
pub(crate) unsafe fn copy_in_element(
    name: &str,
    src: *const u8,
    len: usize,
    code: TypeCode,
) -> Result<Vec<u8>, Fail> {
    if len != code.itemsize() {
        return Err(ftarray::Error::LengthMismatch {
            expected: code.itemsize(),
            actual: len,
        }
        .into());
    }
    if src.is_null() {
        return Err(Fail::null(name));
    }
    // SAFETY: forwarded from our caller; `src` is non-null and `len` is one element.
    unsafe { copy_in(src, len, code.itemsize()) }
}

/// A character array's element given as bytes, as the code point it is: such an element is
/// then stored through the value path, so it meets the rules (and the order of errors) of one
/// given as an integer: `0x110000` is refused as by `ftarray_push_i64`, lone surrogates are
/// accepted by both, as Python's `str` has them. `None` for other kinds, whose bytes are
/// stored bit for bit.
pub(crate) fn char_value(code: TypeCode, bytes: &[u8]) -> Option<Value> {
    (code.kind() == Kind::Char).then(|| value_from_bytes(code, bytes))
}

/// `(ptr, len)` as host input bytes holding elements of `code`: NULL is accepted only for
/// `len == 0`.
///
/// # Safety
///
/// As [`copy_in`].
pub(crate) unsafe fn copy_in_bytes(
    name: &str,
    src: *const u8,
    len: usize,
    code: TypeCode,
) -> Result<Vec<u8>, Fail> {
    // The length is checked before anything is allocated: no object is longer than
    // `PTRDIFF_MAX` bytes, and the copy must be whole elements.
    if len > isize::MAX as usize {
        return Err(Fail::new(
            Status::BadLength,
            format!("a byte length of {len} is longer than any object can be"),
        ));
    }
    if len % code.itemsize() != 0 {
        return Err(ftarray::Error::BadByteLength {
            len,
            item_size: code.itemsize(),
        }
        .into());
    }
    if src.is_null() && len > 0 {
        return Err(Fail::null(name));
    }
    // SAFETY: forwarded from our caller; `src` is non-null whenever `len > 0`.
    unsafe { copy_in(src, len, code.itemsize()) }
}

/// A host output buffer `(dst, cap)` as a slice. NULL is accepted only for `cap == 0`.
///
/// Output buffers are the host's own memory, written by this call alone (as `memcpy`'s
/// destination), so a `&mut [u8]` is what they are.
///
/// # Safety
///
/// If `cap > 0`, `dst` is valid for writes of `cap` bytes and nothing else reads or writes
/// them during the call.
pub(crate) unsafe fn out_bytes<'a>(
    name: &str,
    dst: *mut u8,
    cap: usize,
) -> Result<&'a mut [u8], Fail> {
    if cap == 0 {
        return Ok(&mut []);
    }
    if dst.is_null() {
        return Err(Fail::null(name));
    }
    // SAFETY: `dst` is non-null and valid for exclusive writes of `cap` bytes by the contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(dst, cap) })
}

// ---------------------------------------------------------------------------------------------
// Versioned structs
// ---------------------------------------------------------------------------------------------

/// The `size` field (the first, a `size_t`) of the caller's versioned struct at `out`, checked:
/// at least `min` (the struct's first version) and at most the size this library knows.
///
/// # Safety
///
/// `out` is NULL or valid for reads of a `size_t` at its start.
pub(crate) unsafe fn versioned_size<T>(name: &str, out: *mut T, min: usize) -> Result<usize, Fail> {
    if out.is_null() {
        return Err(Fail::null(name));
    }
    // SAFETY: non-null and readable for its first field by the contract; every versioned
    // struct starts with its `size`.
    let size = unsafe { out.cast::<usize>().read() };
    if size < min || size > size_of::<T>() {
        return Err(Fail::new(
            Status::InvalidArgument,
            format!(
                "`{name}->size` is {size}, a size this library does not know (it knows {min} to \
                 {} bytes): set it to the struct's sizeof, as its _init() function does",
                size_of::<T>()
            ),
        ));
    }
    Ok(size)
}

/// Writes the first `size` bytes of `value` to `out` (a caller compiled with an older, shorter
/// version of the struct gets the fields it knows).
///
/// # Safety
///
/// `out` is valid for writes of `size` bytes, and `size <= size_of::<T>()`.
pub(crate) unsafe fn write_versioned<T: Copy>(out: *mut T, value: &T, size: usize) {
    debug_assert!(size <= size_of::<T>());
    // SAFETY: by the contract; an untyped copy (padding bytes included), which a `#[repr(C)]`
    // struct of plain fields allows; `value` is ours and cannot overlap the caller's struct.
    unsafe {
        std::ptr::copy_nonoverlapping(
            std::ptr::from_ref(value).cast::<u8>(),
            out.cast::<u8>(),
            size,
        )
    };
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/// An element value as an `int64_t`.
pub(crate) fn to_i64(v: Value, code: TypeCode) -> Result<i64, Fail> {
    match v {
        Value::Int(i) => Ok(i),
        Value::Char(c) => Ok(i64::from(c)),
        Value::UInt(u) => Err(Fail::new(
            crate::Status::Overflow,
            format!("element value {u} does not fit in an int64_t"),
        )),
        Value::Float(_) => Err(wrong_accessor(code, "int64_t")),
    }
}

/// An element value as a `uint64_t`.
pub(crate) fn to_u64(v: Value, code: TypeCode) -> Result<u64, Fail> {
    match v {
        Value::Int(i) => u64::try_from(i).map_err(|_| {
            Fail::new(
                crate::Status::Overflow,
                format!("element value {i} does not fit in a uint64_t"),
            )
        }),
        Value::UInt(u) => Ok(u),
        Value::Char(c) => Ok(u64::from(c)),
        Value::Float(_) => Err(wrong_accessor(code, "uint64_t")),
    }
}

/// An element value as a `double` (integers rounded to the nearest double).
pub(crate) fn to_f64(v: Value, code: TypeCode) -> Result<f64, Fail> {
    match v {
        Value::Char(_) => Err(wrong_accessor(code, "double")),
        v => Ok(v.as_f64().unwrap_or(f64::NAN)),
    }
}

fn wrong_accessor(code: TypeCode, ctype: &str) -> Fail {
    Fail::new(
        crate::Status::WrongKind,
        format!(
            "elements of type code '{code}' ({}) cannot be read as {ctype}",
            code.c_name()
        ),
    )
}

/// The value of the element whose native bytes are `bytes` (exactly `itemsize` of them).
pub(crate) fn value_from_bytes(code: TypeCode, bytes: &[u8]) -> Value {
    fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
        b.try_into().expect("the caller checked the element size")
    }
    match (code.kind(), code.itemsize()) {
        (Kind::Signed, 1) => Value::from(i8::from_ne_bytes(arr(bytes))),
        (Kind::Signed, 2) => Value::from(i16::from_ne_bytes(arr(bytes))),
        (Kind::Signed, 4) => Value::from(i32::from_ne_bytes(arr(bytes))),
        (Kind::Signed, _) => Value::from(i64::from_ne_bytes(arr(bytes))),
        (Kind::Unsigned, 1) => Value::from(u8::from_ne_bytes(arr(bytes))),
        (Kind::Unsigned, 2) => Value::from(u16::from_ne_bytes(arr(bytes))),
        (Kind::Unsigned, 4) => Value::from(u32::from_ne_bytes(arr(bytes))),
        (Kind::Unsigned, _) => Value::from(u64::from_ne_bytes(arr(bytes))),
        (Kind::Float, 4) => Value::from(f32::from_ne_bytes(arr(bytes))),
        (Kind::Float, _) => Value::from(f64::from_ne_bytes(arr(bytes))),
        (Kind::Char, 2) => Value::Char(u16::from_ne_bytes(arr(bytes)).into()),
        (Kind::Char, _) => Value::Char(u32::from_ne_bytes(arr(bytes))),
    }
}

/// Writes the native bytes of `v`, an element value of `code`, into `out` (`itemsize` long).
#[cfg(test)]
pub(crate) fn value_to_bytes(code: TypeCode, v: Value, out: &mut [u8]) {
    let bits: u64 = match v {
        Value::Int(i) => i as u64,
        Value::UInt(u) => u,
        Value::Char(c) => u64::from(c),
        Value::Float(x) => {
            if code.itemsize() == 4 {
                out.copy_from_slice(&(x as f32).to_ne_bytes());
            } else {
                out.copy_from_slice(&x.to_ne_bytes());
            }
            return;
        }
    };
    // Truncating to the element's width keeps the two's-complement bits of signed values.
    match out.len() {
        1 => out.copy_from_slice(&(bits as u8).to_ne_bytes()),
        2 => out.copy_from_slice(&(bits as u16).to_ne_bytes()),
        4 => out.copy_from_slice(&(bits as u32).to_ne_bytes()),
        _ => out.copy_from_slice(&bits.to_ne_bytes()),
    }
}

/// The value zero of `code`'s kind (the default fill of `ftarray_resize`).
pub(crate) fn zero(code: TypeCode) -> Value {
    match code.kind() {
        Kind::Float => Value::Float(0.0),
        Kind::Char => Value::Char(0),
        Kind::Signed | Kind::Unsigned => Value::Int(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_bytes_round_trip_through_values() {
        for code in TypeCode::ALL {
            let n = code.itemsize();
            for seed in [0u8, 1, 0x7f, 0x80, 0xfe, 0xff] {
                let mut bytes = vec![seed; n];
                bytes[0] = seed.wrapping_add(3);
                if code.kind() == Kind::Float {
                    // Not a NaN: NaN payloads need not survive a float conversion.
                    bytes[n - 1] = 0x3f;
                }
                if code.kind() == Kind::Char && n == 4 {
                    bytes = 0x10_0000u32
                        .wrapping_add(u32::from(seed))
                        .to_ne_bytes()
                        .to_vec();
                }
                let v = value_from_bytes(code, &bytes);
                let mut back = vec![0u8; n];
                value_to_bytes(code, v, &mut back);
                assert_eq!(back, bytes, "{code}: {v:?}");
            }
        }
    }

    #[test]
    fn copy_in_reads_every_byte_aligned_or_not() {
        let data: Vec<u64> = (0..9u64).map(|k| k * 0x0101_0101_0101_0101).collect();
        let bytes: &[u8] = bytemuck_bytes(&data);
        for start in 0..10 {
            for len in [0, 1, 7, 8, 9, bytes.len() - start - 5] {
                for itemsize in [1, 2, 4, 8] {
                    // SAFETY: the range is inside `bytes`, which nobody writes.
                    let got = unsafe { copy_in(bytes.as_ptr().add(start), len, itemsize) };
                    assert_eq!(got.unwrap(), &bytes[start..start + len]);
                }
            }
        }
        // SAFETY: zero bytes are read, so NULL is allowed.
        let empty = unsafe { copy_in(std::ptr::null(), 0, 4) };
        assert!(empty.unwrap().is_empty());
    }

    fn bytemuck_bytes(v: &[u64]) -> &[u8] {
        // SAFETY: any `u64` is 8 initialised bytes; the slice covers exactly `v`.
        unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), v.len() * 8) }
    }

    #[test]
    fn conversions_to_c_types_check_ranges() {
        assert_eq!(to_i64(Value::Int(-5), TypeCode::I8).unwrap(), -5);
        assert!(to_i64(Value::UInt(u64::MAX), TypeCode::U64).is_err());
        assert!(to_u64(Value::Int(-1), TypeCode::I8).is_err());
        assert_eq!(
            to_u64(Value::UInt(u64::MAX), TypeCode::U64).unwrap(),
            u64::MAX
        );
        assert!(to_i64(Value::Float(1.0), TypeCode::F64).is_err());
        assert!(to_f64(Value::Char(65), TypeCode::Ucs4).is_err());
        assert_eq!(to_f64(Value::Int(3), TypeCode::Int).unwrap(), 3.0);
        assert!(TypeCode::UInt.fits_i64());
        assert!(!TypeCode::U64.fits_i64());
        assert!(!TypeCode::F64.fits_i64());
    }
}
