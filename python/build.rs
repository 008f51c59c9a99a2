//! Makes the target interpreter's configuration (`Py_GIL_DISABLED`, `Py_3_12`, ...) visible to
//! this crate's `#[cfg]`s, as PyO3 does for itself.

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
