//! What differs between the interpreter versions the module supports: the type codes the
//! standard module knows, and the wording of a few of its messages.
//!
//! The module matches the standard `array` module *of the interpreter it runs on*, down to the
//! micro version (3.13.0 and 3.13.5 word the unknown-type-code error differently). So at import
//! it asks that module itself: its `typecodes`, and the messages of the three errors whose
//! wording changed between versions. If the standard module cannot be imported, the wording of
//! the minor version is used.

use ftarray::TypeCode;
use pyo3::prelude::*;
use std::sync::OnceLock;

/// What was learned from the standard module at import.
struct Reference {
    minor: u8,
    typecodes: String,
    /// `known[c]`: whether the ASCII character `c` is in `typecodes` (a lookup per
    /// constructor call, instead of a search).
    known: [bool; 128],
    bad_typecode: String,
    fromunicode: String,
    tounicode: String,
}

static REFERENCE: OnceLock<Reference> = OnceLock::new();

/// The message of the exception `code` raises with the standard module as `array`.
fn message_of(
    py: Python<'_>,
    array: &Bound<'_, PyModule>,
    code: &std::ffi::CStr,
) -> Option<String> {
    let locals = pyo3::types::PyDict::new(py);
    locals.set_item("array", array).ok()?;
    match py.run(code, None, Some(&locals)) {
        Ok(()) => None,
        Err(e) => Some(e.value(py).str().ok()?.to_string()),
    }
}

/// Reads the reference behaviour (called once, by the module initialiser).
pub(crate) fn init(py: Python<'_>) {
    let _ = REFERENCE.get_or_init(|| {
        let minor = py.version_info().minor;
        let has_w = minor >= 13;
        let mut r = Reference {
            minor,
            typecodes: if has_w {
                "bBuwhHiIlLqQfd"
            } else {
                "bBuhHiIlLqQfd"
            }
            .to_owned(),
            known: [false; 128],
            bad_typecode: format!(
                "bad typecode (must be b, B, u, {}h, H, i, I, l, L, q, Q, f or d)",
                if has_w { "w, " } else { "" }
            ),
            fromunicode: unicode_only("fromunicode", has_w),
            tounicode: unicode_only("tounicode", has_w),
        };
        if let Ok(array) = py.import("array") {
            if let Ok(codes) = array
                .getattr("typecodes")
                .and_then(|c| c.extract::<String>())
            {
                r.typecodes = codes;
            }
            if let Some(m) = message_of(py, &array, c"array.array('\\x01')") {
                r.bad_typecode = m;
            }
            if let Some(m) = message_of(py, &array, c"array.array('i').fromunicode('a')") {
                r.fromunicode = m;
            }
            if let Some(m) = message_of(py, &array, c"array.array('i').tounicode()") {
                r.tounicode = m;
            }
        }
        for c in r.typecodes.bytes() {
            if let Some(k) = r.known.get_mut(usize::from(c)) {
                *k = true;
            }
        }
        r
    });
}

fn unicode_only(name: &str, has_w: bool) -> String {
    if has_w {
        format!("{name}() may only be called on unicode type arrays ('u' or 'w')")
    } else {
        format!("{name}() may only be called on unicode type arrays")
    }
}

fn reference() -> &'static Reference {
    REFERENCE
        .get()
        .expect("the module initialiser reads the reference first")
}

/// Whether this interpreter's standard module has the `w` type code (3.13 and later).
pub(crate) fn has_w() -> bool {
    reference().typecodes.contains('w')
}

/// Whether creating a `u` array warns (3.13 and later).
pub(crate) fn u_is_deprecated() -> bool {
    reference().minor >= 13
}

/// `array.typecodes` as this interpreter's standard module spells it.
pub(crate) fn typecodes() -> &'static str {
    &reference().typecodes
}

/// The type code named by `c`, if this interpreter's standard module knows it.
pub(crate) fn typecode(c: char) -> Option<TypeCode> {
    let known = reference().known.get(c as usize).copied().unwrap_or(false);
    TypeCode::from_char(c).filter(|_| known)
}

/// The `ValueError` message for an unknown type code.
pub(crate) fn bad_typecode_message() -> &'static str {
    &reference().bad_typecode
}

/// The `ValueError` message of `fromunicode` on a numeric array.
pub(crate) fn fromunicode_message() -> &'static str {
    &reference().fromunicode
}

/// The `ValueError` message of `tounicode` on a numeric array.
pub(crate) fn tounicode_message() -> &'static str {
    &reference().tounicode
}

/// Whether `code` holds characters (`u`, `w`).
pub(crate) fn is_unicode(code: TypeCode) -> bool {
    matches!(code, TypeCode::WChar | TypeCode::Ucs4)
}
