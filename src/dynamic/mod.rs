//! [`DynArray`]: an array whose element type is chosen at run time by a type code, with the
//! semantics a scripting language's array type needs (Python's `array.array` is the model).
//!
//! Every operation is linearizable, and every index, slice bound and clamp is **resolved
//! against the length at the operation's own linearization point**: inside the validated read
//! attempt for reads, under the writer lock for writes. A caller never normalises `-1` against a
//! length it read earlier (the check-then-act bug of CPython issue #130744, where `a[-1]` read a
//! value that never lived at the end).
//!
//! Values cross the boundary as [`Value`]s and are converted (with range checks) *before* the
//! array's lock is taken, so a conversion error changes nothing and no conversion runs while
//! other writers wait.
//!
//! ```
//! use ftarray::{DynArray, Slice, TypeCode, Value};
//!
//! let a = DynArray::from_values(TypeCode::Int, &[1.into(), 2.into(), 3.into()]).unwrap();
//! assert_eq!(a.get(-1).unwrap(), Value::Int(3));
//! a.insert(-100, Value::Int(0)).unwrap(); // clamped to the front, as Python does
//! assert_eq!(a.to_values(), [0, 1, 2, 3].map(Value::Int));
//! let evens = a.get_slice(Slice::new(None, None, Some(2))).unwrap();
//! assert_eq!(evens.to_values(), [0, 2].map(Value::Int));
//! a.del_slice(Slice::new(Some(-2), None, None)).unwrap();
//! assert_eq!(a.len(), 2);
//! assert!(a.set(0, Value::Int(1 << 40)).is_err()); // out of range for a C int
//! ```

mod array;
mod hold;
mod index;
mod npy;
mod shared;
mod snapshot;
pub(crate) mod store;
mod value;

pub use crate::typecode::{Kind, TypeCode};
pub use array::{CompareOp, DynArray, ForkHold, NewArray, RawExport};
pub use hold::{DynHold, HeldStamp};
pub use index::{Slice, SliceIndices, clamp_index, resolve_index, search_range};
pub use shared::{Source, copy_shared, read_shared};
pub use snapshot::DynSnapshot;
pub use value::{Scalar, Value};
