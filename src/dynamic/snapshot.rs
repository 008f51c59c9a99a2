//! [`DynSnapshot`]: a [`Snapshot`] of a [`DynArray`], whatever its type code.

use super::array::DynArray;
use super::store::{Stored, with_store};
use super::value::{Scalar, Value};
use crate::error::Error;
use crate::snapshot::Snapshot;
use crate::typecode::TypeCode;
use std::fmt;

/// One typed snapshot, of one of the ten storage types (the `Store` enum's twin).
macro_rules! define_snapshot_store {
    (; $(($v:ident, $t:ty)),*) => {
        #[derive(Clone)]
        enum SnapshotStore {
            $($v(Snapshot<$t>),)*
        }

        /// Runs `$body` with `$s` bound to the typed snapshot inside `$store`.
        macro_rules! with_snapshot {
            ($store:expr, $s:ident => $body:expr) => {
                match $store {
                    $(SnapshotStore::$v($s) => $body,)*
                }
            };
        }

        /// Wraps a typed snapshot.
        trait IntoSnapshotStore: Stored {
            fn wrap_snapshot(s: Snapshot<Self>) -> SnapshotStore;
        }
        $(
            impl IntoSnapshotStore for $t {
                fn wrap_snapshot(s: Snapshot<$t>) -> SnapshotStore {
                    SnapshotStore::$v(s)
                }
            }
        )*
    };
}
super::store::storage_types!(() => define_snapshot_store);

/// An immutable view of a [`DynArray`] at one instant, with its type code: what a host hands
/// to a consumer that assumes the data it received does not change (Arrow, DLPack, an
/// out-of-band pickle buffer), while the array's writers go on. See
/// [`Snapshot`](crate::Snapshot) for how it shares the storage and when it copies.
///
/// ```
/// use ftarray::{DynArray, TypeCode, Value};
/// let a = DynArray::from_values(TypeCode::I16, &[1, 2, 3].map(Value::from)).unwrap();
/// let s = a.snapshot().unwrap();
/// a.push(Value::from(4)).unwrap();
/// assert_eq!(s.typecode(), TypeCode::I16);
/// assert_eq!(s.len(), 3);
/// assert_eq!(s.as_bytes(), bytemuck::cast_slice::<i16, u8>(&[1, 2, 3]));
/// assert_eq!(s.to_values(), [1, 2, 3].map(Value::from));
/// ```
#[derive(Clone)]
pub struct DynSnapshot {
    code: TypeCode,
    store: SnapshotStore,
}

impl DynSnapshot {
    /// The type code of the elements.
    pub fn typecode(&self) -> TypeCode {
        self.code
    }

    /// The size of one element in bytes.
    pub fn itemsize(&self) -> usize {
        self.code.itemsize()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        with_snapshot!(&self.store, s => s.len())
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements' bytes in native order (`len() * itemsize()` of them), aligned for the
    /// element type; they never change while the snapshot lives.
    #[cfg(not(loom))]
    pub fn as_bytes(&self) -> &[u8] {
        with_snapshot!(&self.store, s => s.as_bytes())
    }

    /// The elements as values.
    pub fn to_values(&self) -> Vec<Value> {
        let code = self.code;
        with_snapshot!(&self.store, s => s.to_vec().into_iter().map(|x| x.to_value(code)).collect())
    }

    /// Whether this snapshot shares its storage (rather than holding a copy): a statistic.
    pub fn is_shared(&self) -> bool {
        with_snapshot!(&self.store, s => s.is_shared())
    }
}

impl fmt::Debug for DynSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynSnapshot")
            .field("typecode", &self.code)
            .field("len", &self.len())
            .finish()
    }
}

impl DynArray {
    /// An immutable view of the array at one instant (see [`FtArray::snapshot`](crate::FtArray::snapshot)).
    ///
    /// # Errors
    ///
    /// [`Error::AllocFailed`] if a copy is needed and cannot be allocated.
    pub fn snapshot(&self) -> Result<DynSnapshot, Error> {
        let code = self.typecode();
        let store =
            with_store!(&self.store, a => IntoSnapshotStore::wrap_snapshot(a.try_snapshot()?));
        Ok(DynSnapshot { code, store })
    }
}
