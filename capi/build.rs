//! Gives the shared library the name it is installed under (`libftarray.so.0`), so programs
//! linked with `-lftarray` record that name and find the installed file at run time.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "android" || os.ends_with("bsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libftarray.so.0");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
