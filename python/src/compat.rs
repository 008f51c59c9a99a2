//! What differs between the interpreter versions the module supports: the type codes the
//! standard module knows, and the wording of a few of its messages.
//!
//! The module matches the standard `array` module *of the interpreter it runs on*: on 3.11 the
//! code `w` does not exist and the messages name only `u`; from 3.13 on `w` exists and creating a
//! `u` array warns that the code is deprecated. The version is read once, at import.

use ftarray::TypeCode;
use pyo3::prelude::*;
use std::sync::OnceLock;

static MINOR: OnceLock<u8> = OnceLock::new();

/// Records the running interpreter's minor version (called by the module initialiser).
pub(crate) fn init(py: Python<'_>) {
    let _ = MINOR.get_or_init(|| py.version_info().minor);
}

fn minor() -> u8 {
    // The initialiser runs before any code of this module can; 11 is the oldest we support.
    MINOR.get().copied().unwrap_or(11)
}

/// Whether this interpreter's standard module has the `w` type code (3.13 and later).
pub(crate) fn has_w() -> bool {
    minor() >= 13
}

/// Whether creating a `u` array warns (3.13 and later).
pub(crate) fn u_is_deprecated() -> bool {
    minor() >= 13
}

/// `array.typecodes` as this interpreter's standard module spells it.
pub(crate) fn typecodes() -> &'static str {
    if has_w() {
        "bBuwhHiIlLqQfd"
    } else {
        "bBuhHiIlLqQfd"
    }
}

/// The type code named by `c`, if this interpreter's standard module knows it.
pub(crate) fn typecode(c: char) -> Option<TypeCode> {
    match TypeCode::from_char(c) {
        Ok(TypeCode::Ucs4) if !has_w() => None,
        Ok(code) => Some(code),
        Err(_) => None,
    }
}

/// The `ValueError` message for an unknown type code.
pub(crate) fn bad_typecode_message() -> &'static str {
    if has_w() {
        "bad typecode (must be b, B, u, w, h, H, i, I, l, L, q, Q, f or d)"
    } else {
        "bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d)"
    }
}

/// The `ValueError` message of `fromunicode`/`tounicode` (`name`) on a numeric array.
pub(crate) fn not_unicode_message(name: &str) -> String {
    if has_w() {
        format!("{name}() may only be called on unicode type arrays ('u' or 'w')")
    } else {
        format!("{name}() may only be called on unicode type arrays")
    }
}

/// Whether `code` holds characters (`u`, `w`).
pub(crate) fn is_unicode(code: TypeCode) -> bool {
    matches!(code, TypeCode::WChar | TypeCode::Ucs4)
}
