//! The DLPack structs, as the DLPack 1.0 header lays them out (`include/dlpack/dlpack.h` of
//! dmlc/dlpack, `DLPACK_MAJOR_VERSION 1`, `DLPACK_MINOR_VERSION 0`), and the tensors the binding
//! hands to a consumer: a one-dimensional, compact CPU tensor over a snapshot's bytes (read-only)
//! or over a copy (the consumer's to write).
//!
//! A tensor is one heap box: the managed tensor first (so the pointer the consumer gets is the
//! box's), then its shape and strides, then what keeps the data alive. The deleter drops the
//! box; it touches no Python object, so a consumer may call it from any thread, attached or
//! not, and it never unwinds.

use super::unwind::no_unwind;
use ftarray::{DynSnapshot, Kind, TypeCode};
use std::ffi::c_void;
use std::ptr;

/// `DLPackVersion`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DLPackVersion {
    /// `major`: incompatible ABI changes.
    pub major: u32,
    /// `minor`: compatible additions.
    pub minor: u32,
}

/// `DLDevice`: `DLDeviceType device_type` (a C enum: `int32_t` here) and `int32_t device_id`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct DLDevice {
    /// `kDLCPU` = 1 for the host.
    pub device_type: i32,
    /// 0 for the host.
    pub device_id: i32,
}

/// `DLDataType`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct DLDataType {
    /// `kDLInt` 0, `kDLUInt` 1, `kDLFloat` 2.
    pub code: u8,
    /// Bits per element.
    pub bits: u8,
    /// 1: not a vector type.
    pub lanes: u16,
}

/// `DLTensor`.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct DLTensor {
    /// The data (`byte_offset` added gives the first element).
    pub data: *mut c_void,
    /// Where the data lives.
    pub device: DLDevice,
    /// The number of dimensions.
    pub ndim: i32,
    /// The element type.
    pub dtype: DLDataType,
    /// `ndim` extents.
    pub shape: *mut i64,
    /// `ndim` strides, in elements.
    pub strides: *mut i64,
    /// Bytes from `data` to the first element.
    pub byte_offset: u64,
}

/// `DLManagedTensor` (the pre-1.0 "legacy" struct, in a "dltensor" capsule).
#[repr(C)]
#[derive(Debug)]
pub(crate) struct DLManagedTensor {
    /// The tensor.
    pub dl_tensor: DLTensor,
    /// The producer's context.
    pub manager_ctx: *mut c_void,
    /// Frees the tensor; called once by its owner.
    pub deleter: Option<unsafe extern "C" fn(*mut DLManagedTensor)>,
}

/// `DLManagedTensorVersioned` (DLPack 1.x, in a "dltensor_versioned" capsule).
#[repr(C)]
#[derive(Debug)]
pub(crate) struct DLManagedTensorVersioned {
    /// The version of the struct.
    pub version: DLPackVersion,
    /// The producer's context.
    pub manager_ctx: *mut c_void,
    /// Frees the tensor; called once by its owner.
    pub deleter: Option<unsafe extern "C" fn(*mut DLManagedTensorVersioned)>,
    /// `DLPACK_FLAG_BITMASK_*`.
    pub flags: u64,
    /// The tensor.
    pub dl_tensor: DLTensor,
}

/// `kDLCPU`.
pub(crate) const KDL_CPU: i32 = 1;
/// `DLPACK_FLAG_BITMASK_READ_ONLY`: the consumer must not write the data.
pub(crate) const FLAG_READ_ONLY: u64 = 1 << 0;
/// `DLPACK_FLAG_BITMASK_IS_COPIED`: the data is a copy made for this export.
pub(crate) const FLAG_IS_COPIED: u64 = 1 << 1;
/// The version of the structs above.
pub(crate) const VERSION: DLPackVersion = DLPackVersion { major: 1, minor: 0 };

// The header's layout on a 64-bit platform.
const _: () = {
    use std::mem::{offset_of, size_of};
    assert!(size_of::<DLDevice>() == 8 && size_of::<DLDataType>() == 4);
    assert!(offset_of!(DLTensor, device) == 8 && offset_of!(DLTensor, ndim) == 16);
    assert!(offset_of!(DLTensor, dtype) == 20 && offset_of!(DLTensor, shape) == 24);
    assert!(offset_of!(DLTensor, byte_offset) == 40 && size_of::<DLTensor>() == 48);
    assert!(offset_of!(DLManagedTensor, manager_ctx) == 48 && size_of::<DLManagedTensor>() == 64);
    assert!(offset_of!(DLManagedTensorVersioned, flags) == 24);
    assert!(offset_of!(DLManagedTensorVersioned, dl_tensor) == 32);
};

/// The DLPack element type of a type code (characters as unsigned integers of their size, as
/// the Arrow export has them).
pub(crate) fn dtype_of(code: TypeCode) -> DLDataType {
    DLDataType {
        code: match code.kind() {
            Kind::Signed => 0,
            Kind::Unsigned | Kind::Char => 1,
            Kind::Float => 2,
        },
        bits: (code.itemsize() * 8) as u8,
        lanes: 1,
    }
}

/// What keeps a tensor's data alive.
enum Data {
    /// A snapshot: its bytes never change while it lives (read-only for the consumer).
    Shared(DynSnapshot),
    /// A copy the tensor owns, in 8-byte units so that any element type is aligned.
    Copied(Vec<u64>),
}

impl Data {
    fn ptr(&self) -> *mut c_void {
        match self {
            Data::Shared(s) => s.as_bytes().as_ptr().cast_mut().cast(),
            Data::Copied(v) => v.as_ptr().cast_mut().cast(),
        }
    }
}

/// A copy of a snapshot's bytes in aligned storage.
fn aligned_copy(s: &DynSnapshot) -> Vec<u64> {
    let bytes = s.as_bytes();
    let mut units = vec![0u64; bytes.len().div_ceil(8)];
    bytemuck::cast_slice_mut::<u64, u8>(&mut units)[..bytes.len()].copy_from_slice(bytes);
    units
}

/// A tensor box: the managed tensor first (`repr(C)`), so a pointer to it is a pointer to the
/// box.
#[repr(C)]
struct Boxed<M> {
    managed: M,
    shape: [i64; 1],
    strides: [i64; 1],
    data: Data,
}

/// The tensor fields for `data`: the shape and strides pointers are filled by `into_box`.
fn tensor(data: &Data, s_code: TypeCode) -> DLTensor {
    DLTensor {
        data: data.ptr(),
        device: DLDevice {
            device_type: KDL_CPU,
            device_id: 0,
        },
        ndim: 1,
        dtype: dtype_of(s_code),
        shape: ptr::null_mut(),
        strides: ptr::null_mut(),
        byte_offset: 0,
    }
}

/// Boxes a tensor and points its shape and strides into the box.
fn into_box<M>(
    managed: M,
    len: usize,
    data: Data,
    tensor_of: fn(&mut M) -> &mut DLTensor,
) -> *mut Boxed<M> {
    let b = Box::into_raw(Box::new(Boxed {
        managed,
        shape: [len as i64],
        strides: [1],
        data,
    }));
    // SAFETY: `b` is a fresh, live box, ours alone; its fields stay put until it is dropped.
    unsafe {
        let t = tensor_of(&mut (*b).managed);
        t.shape = (*b).shape.as_mut_ptr();
        t.strides = (*b).strides.as_mut_ptr();
    }
    b
}

unsafe extern "C" fn delete_versioned(t: *mut DLManagedTensorVersioned) {
    no_unwind(|| {
        if !t.is_null() {
            // SAFETY: `t` is the first field of a box `versioned` leaked; its owner calls the
            // deleter once.
            drop(unsafe { Box::from_raw(t.cast::<Boxed<DLManagedTensorVersioned>>()) });
        }
    })
}

unsafe extern "C" fn delete_legacy(t: *mut DLManagedTensor) {
    no_unwind(|| {
        if !t.is_null() {
            // SAFETY: as in `delete_versioned`, for a box `legacy` leaked.
            drop(unsafe { Box::from_raw(t.cast::<Boxed<DLManagedTensor>>()) });
        }
    })
}

/// A leaked DLPack 1.0 tensor over `snapshot` (read-only), or over a copy of it when `copy`,
/// to be owned by a capsule; its deleter frees it.
pub(super) fn versioned(snapshot: DynSnapshot, copy: bool) -> *mut DLManagedTensorVersioned {
    let (code, len) = (snapshot.typecode(), snapshot.len());
    let (data, flags) = if copy {
        (Data::Copied(aligned_copy(&snapshot)), FLAG_IS_COPIED)
    } else {
        (Data::Shared(snapshot), FLAG_READ_ONLY)
    };
    let managed = DLManagedTensorVersioned {
        version: VERSION,
        manager_ctx: ptr::null_mut(),
        deleter: Some(delete_versioned),
        flags,
        dl_tensor: tensor(&data, code),
    };
    let b = into_box(managed, len, data, |m| &mut m.dl_tensor);
    // SAFETY: `b` is live; the context names the box, for a consumer that wants it.
    unsafe { (*b).managed.manager_ctx = b.cast() };
    b.cast()
}

/// A leaked pre-1.0 tensor over a copy of `snapshot` (that struct has no read-only flag, so a
/// consumer of it may write what it gets), to be owned by a capsule; its deleter frees it.
pub(super) fn legacy(snapshot: &DynSnapshot) -> *mut DLManagedTensor {
    let data = Data::Copied(aligned_copy(snapshot));
    let managed = DLManagedTensor {
        dl_tensor: tensor(&data, snapshot.typecode()),
        manager_ctx: ptr::null_mut(),
        deleter: Some(delete_legacy),
    };
    let b = into_box(managed, snapshot.len(), data, |m| &mut m.dl_tensor);
    // SAFETY: as in `versioned`.
    unsafe { (*b).managed.manager_ctx = b.cast() };
    b.cast()
}

/// Frees a tensor no capsule took (the capsule could not be made).
///
/// # Safety
///
/// `t` came from [`versioned`] and was never handed out.
pub(super) unsafe fn free_versioned(t: *mut DLManagedTensorVersioned) {
    // SAFETY: the caller's contract.
    unsafe { delete_versioned(t) }
}

/// Frees a tensor no capsule took.
///
/// # Safety
///
/// `t` came from [`legacy`] and was never handed out.
pub(super) unsafe fn free_legacy(t: *mut DLManagedTensor) {
    // SAFETY: the caller's contract.
    unsafe { delete_legacy(t) }
}
