//! [`no_unwind`]: the guard every callback that C code calls (a capsule destructor, a DLPack
//! deleter) runs its body in, so that no panic unwinds into C.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `f` for C code that must not be unwound into (a destructor, a deleter): a panic is
/// caught and what `f` was freeing is leaked instead.
pub(crate) fn no_unwind(f: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(f));
}
