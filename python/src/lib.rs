//! The `ftarray` Python extension module.
//!
//! Built by maturin (`pip install ./python`) into a module importable as `ftarray`, meant to be
//! used as `import ftarray as array`. The module is declared safe to run without the GIL
//! (`gil_used = false`), so on a free-threaded CPython importing it leaves the GIL disabled; a
//! test checks exactly that.
//!
//! maturin packages a pure-Rust module as a package: `ftarray/__init__.py` runs
//! `from .ftarray import *` over this extension (`ftarray/ftarray.<abi>.so`) and copies its
//! `__all__`. So every name the package must re-export, including underscored ones such as
//! `_array_reconstructor`, belongs in the `__all__` this initialiser sets.
//!
//! This first version exports the groundwork only: [`TYPECODES`] as `ftarray.typecodes`. The
//! `array` type itself builds on the runtime-typed core and comes next.

use pyo3::prelude::*;

/// The type codes `ftarray.array` supports, in the standard module's order.
///
/// The numeric codes of CPython's `array` module: signed and unsigned 1-, 2-, 4- and 8-byte
/// integers (`b B h H i I l L q Q`) and 4- and 8-byte floats (`f d`). The character codes
/// `u` and `w` are not (yet) among them.
///
/// ```python
/// import ftarray
/// assert ftarray.typecodes == "bBhHiIlLqQfd"
/// ```
pub const TYPECODES: &str = "bBhHiIlLqQfd";

/// The module's initialiser: what `import ftarray` runs (once per interpreter).
///
/// It only adds immutable attributes, so importing from several threads at once is safe.
#[pymodule(name = "ftarray", gil_used = false)]
fn ftarray_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("typecodes", TYPECODES)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("__all__", ["typecodes", "__version__"])?;
    Ok(())
}
