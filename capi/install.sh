#!/usr/bin/env bash
# Builds libftarray and installs it, with its header and pkg-config file, under PREFIX.
#
# Usage: bash capi/install.sh PREFIX          (e.g. /usr/local, or "$HOME/.local")
#
# Installs:
#   PREFIX/lib/libftarray.so.VERSION, and the links libftarray.so.0 (its soname) and libftarray.so
#   PREFIX/lib/libftarray.a
#   PREFIX/include/ftarray.h
#   PREFIX/lib/pkgconfig/ftarray.pc
# so that   cc app.c $(pkg-config --cflags --libs ftarray)   works once PKG_CONFIG_PATH includes
# PREFIX/lib/pkgconfig (if PREFIX is not a standard one) and the loader can find the library
# (ldconfig, LD_LIBRARY_PATH, or -Wl,-rpath,PREFIX/lib). Static linking:
#   cc app.c $(pkg-config --cflags ftarray) PREFIX/lib/libftarray.a $(pkg-config --static --libs-only-l ftarray | sed 's/-lftarray//')
# or simply   cc app.c -static-pie ... ; see docs/embedding.md.
#
# Environment:
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
mkdir -p "$1"
prefix="$(cd "$1" && pwd)"
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
major="${version%%.*}"

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

echo "==> installing under $prefix"
install -d "$prefix/lib" "$prefix/include" "$prefix/lib/pkgconfig"
install -m 0755 "$out_dir/libftarray_capi.so" "$prefix/lib/libftarray.so.$version"
ln -sf "libftarray.so.$version" "$prefix/lib/libftarray.so.$major"
ln -sf "libftarray.so.$major" "$prefix/lib/libftarray.so"
install -m 0644 "$out_dir/libftarray_capi.a" "$prefix/lib/libftarray.a"
install -m 0644 "$root/capi/include/ftarray.h" "$prefix/include/ftarray.h"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" -e "s|@LIBS_PRIVATE@|$libs_private|" \
    "$root/capi/ftarray.pc.in" >"$prefix/lib/pkgconfig/ftarray.pc"
echo "installed: $prefix/lib/libftarray.so.$version (+ .so.$major, .so), libftarray.a,"
echo "           $prefix/include/ftarray.h, $prefix/lib/pkgconfig/ftarray.pc"
