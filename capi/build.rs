//! Gives the shared library its soname, derived from the package version (the one place it is
//! decided; `capi/install.sh` reads it back from the built library with `readelf`):
//! `libftarray.so.0.MINOR` while the major version is 0, where a minor version may break the
//! ABI, and `libftarray.so.MAJOR` from 1.0 on. Programs linked with `-lftarray` record that
//! name and find the installed file at run time.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").expect("cargo sets the version");
    let soname = if major == "0" {
        format!("libftarray.so.0.{minor}")
    } else {
        format!("libftarray.so.{major}")
    };
    if os == "linux" || os == "android" || os.ends_with("bsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
