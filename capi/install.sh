#!/usr/bin/env bash
# Builds libftarray and installs it, with its header and pkg-config file, under PREFIX.
#
# Usage: bash capi/install.sh PREFIX          (e.g. /usr/local, or "$HOME/.local")
#
# Installs (stripped of debug information):
#   PREFIX/lib/libftarray.so.VERSION, and the links SONAME and libftarray.so, where SONAME is the
#     name the library records (capi/build.rs decides it: libftarray.so.0.MINOR while the major
#     version is 0, libftarray.so.MAJOR after; read back here with readelf)
#   PREFIX/lib/libftarray.a
#   PREFIX/include/ftarray.h
#   PREFIX/lib/pkgconfig/ftarray.pc (relocatable: prefix=${pcfiledir}/../..)
# so that   cc app.c $(pkg-config --cflags --libs ftarray)   works once PKG_CONFIG_PATH includes
# PREFIX/lib/pkgconfig (if PREFIX is not a standard one) and the loader can find the library
# (ldconfig, LD_LIBRARY_PATH, or -Wl,-rpath,PREFIX/lib). Static linking (docs/embedding.md):
#   cc app.c $(pkg-config --cflags ftarray) PREFIX/lib/libftarray.a $(pkg-config --static --libs-only-l ftarray | sed 's/-lftarray//')
#
# Environment:
#   DESTDIR           staging root for packagers: files go to $DESTDIR/PREFIX, and nothing
#                     installed records DESTDIR (the .pc file is relocatable anyway)
#   FTARRAY_STRIP     0 keeps the debug information (default 1: strip)
#   FTARRAY_PROFILE   cargo profile to build (default: release)
#   CARGO_TARGET_DIR  cargo's target directory (default: the workspace's target/)
#   CARGO             the cargo command (default: cargo), e.g. "cargo +nightly"
#   CARGO_BUILD_FLAGS extra flags for cargo build (e.g. "-Zbuild-std --target x86_64-unknown-linux-gnu")
#   FTARRAY_TARGET    the --target triple given in CARGO_BUILD_FLAGS, if any (its artifacts live in
#                     target/TRIPLE/PROFILE)
set -euo pipefail
if [[ $# -ne 1 || -z "$1" ]]; then
    echo "usage: bash capi/install.sh PREFIX" >&2
    exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
case "$1" in
    /*) prefix="$1" ;;
    *) mkdir -p "$1"; prefix="$(cd "$1" && pwd)" ;;
esac
dest="${DESTDIR:-}$prefix"
profile="${FTARRAY_PROFILE:-release}"
read -r -a cargo <<<"${CARGO:-cargo}"
read -r -a extra <<<"${CARGO_BUILD_FLAGS:-}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
if [[ -n "${FTARRAY_TARGET:-}" ]]; then
    out_dir="$target_dir/$FTARRAY_TARGET"
else
    out_dir="$target_dir"
fi
case "$profile" in
    dev|debug) profile=dev; out_dir="$out_dir/debug" ;;
    *) out_dir="$out_dir/$profile" ;;
esac

version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/capi/Cargo.toml" | head -n 1)"

echo "==> building libftarray $version (profile $profile)"
# The native libraries a static link needs are printed by rustc when it builds the staticlib;
# cargo replays that note when the build is already fresh.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! (cd "$root" && "${cargo[@]}" rustc -p ftarray-capi --lib --profile "$profile" "${extra[@]}" \
    -- --print native-static-libs) >"$log" 2>&1; then
    cat "$log" >&2
    echo "build failed" >&2
    exit 1
fi
grep -v 'native-static-libs' "$log" | tail -n 3 >&2 || true
libs_private="$(sed -n 's/.*native-static-libs: //p' "$log" | tail -n 1)"
if [[ -z "$libs_private" ]]; then
    # Linux's list, as rustc prints it for std.
    libs_private="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"
fi
# -lftarray itself is not private; -lc is implied.
libs_private="$(printf '%s\n' "$libs_private" | sed 's/ -lc$//; s/^-lc$//')"

# The soname is the one build.rs gave the library: read it back rather than derive it again.
soname="$(readelf -d "$out_dir/libftarray_capi.so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')"
if [[ -z "$soname" ]]; then
    echo "$out_dir/libftarray_capi.so records no soname (readelf -d)" >&2
    exit 1
fi

echo "==> installing under $dest (soname $soname)"
install -d "$dest/lib" "$dest/include" "$dest/lib/pkgconfig"
install -m 0755 "$out_dir/libftarray_capi.so" "$dest/lib/libftarray.so.$version"
install -m 0644 "$out_dir/libftarray_capi.a" "$dest/lib/libftarray.a"
if [[ "${FTARRAY_STRIP:-1}" != 0 ]]; then
    # Debug information only: the shared library keeps its dynamic symbols, the archive its
    # symbol table (an 11 MB .so and a 38 MB .a with it, in a release build).
    strip --strip-debug "$dest/lib/libftarray.so.$version" "$dest/lib/libftarray.a"
fi
if [[ "$soname" != "libftarray.so.$version" ]]; then
    ln -sf "libftarray.so.$version" "$dest/lib/$soname"
fi
ln -sf "$soname" "$dest/lib/libftarray.so"
install -m 0644 "$root/capi/include/ftarray.h" "$dest/include/ftarray.h"
sed -e "s|@VERSION@|$version|" -e "s|@LIBS_PRIVATE@|$libs_private|" \
    "$root/capi/ftarray.pc.in" >"$dest/lib/pkgconfig/ftarray.pc"
echo "installed: $dest/lib/libftarray.so.$version (+ $soname, libftarray.so), libftarray.a,"
echo "           $dest/include/ftarray.h, $dest/lib/pkgconfig/ftarray.pc"
