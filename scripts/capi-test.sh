#!/usr/bin/env bash
# The C ABI's tests: builds libftarray, installs it into a scratch prefix with capi/install.sh,
# and builds and runs the C programs in capi/tests/*.c against it, linked the way a C user
# links (pkg-config), in up to four modes:
#
#   plain     gcc -O2; also the header as C11 and C++11/17 with -Wall -Wextra -Werror -pedantic,
#             the pkg-config flags, a static link, and the example of docs/embedding.md (its
#             output compared with the one printed there)
#   asan      gcc -fsanitize=address,undefined against the library built with
#             -Zsanitizer=address (nightly); leak checking on
#   tsan      gcc -fsanitize=thread against the library built with -Zsanitizer=thread and
#             -Zbuild-std (nightly), so that the Rust side's atomics are instrumented too and
#             TSan sees both sides; plus a negative control that must be reported as a race
#   valgrind  memcheck on the plain build: no errors, no definite leaks
#
# Usage: bash scripts/capi-test.sh [MODE...]      (default: plain asan tsan valgrind)
#
# The sanitizer modes need a nightly toolchain with rust-src; without one they say SKIPPED and
# the script goes on. Missing C tools (gcc, g++, pkg-config, valgrind) are installed with
# apt-get when running as root.
#
# Environment: CAPI_TEST_DIR (default target/capi-test) for builds; CAPI_TEST_SCALE (default 1)
# multiplies the iteration counts of the threaded tests.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
work="${CAPI_TEST_DIR:-$root/target/capi-test}"
scale="${CAPI_TEST_SCALE:-1}"
modes=("$@")
[[ ${#modes[@]} -gt 0 ]] || modes=(plain asan tsan valgrind)
for m in "${modes[@]}"; do
    case "$m" in plain|asan|tsan|valgrind) ;; *) echo "unknown mode '$m' (plain asan tsan valgrind)" >&2; exit 2 ;; esac
done

step() { printf '\n==> %s\n' "$*"; }
start=$(date +%s)
passed=0
failed=0
skipped=()
failures=()
figures=()

# --- tools -----------------------------------------------------------------------------------
need=()
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
for m in "${modes[@]}"; do
    if [[ $m == valgrind ]] && ! command -v valgrind >/dev/null 2>&1; then need+=(valgrind); fi
done
if [[ ${#need[@]} -gt 0 ]]; then
    step "installing ${need[*]}"
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "missing ${need[*]}: install them (apt-get install ${need[*]})" >&2
        exit 1
    fi
fi

host="$(rustc -vV | sed -n 's/^host: //p')"
source scripts/nightly.sh
if have_nightly rust-src; then have_nightly=1; else have_nightly=0; fi

# --- sources ---------------------------------------------------------------------------------
mkdir -p "$work/src"
# The complete example of docs/embedding.md: the ```c block after the marker, and the
# ```text block after it (its expected output).
awk '/<!-- embedding-example/{f=1; next} f && /^```c$/{p=1; next} p && /^```$/{exit} p{print}' \
    docs/embedding.md >"$work/src/embedding.c"
awk '/<!-- embedding-example/{f=1; next} f && /^```text$/{p=1; next} p && /^```$/{exit} p{print}' \
    docs/embedding.md >"$work/src/embedding.expected"
[[ -s "$work/src/embedding.c" && -s "$work/src/embedding.expected" ]] || {
    echo "docs/embedding.md: no example (\`\`\`c block) or no output (\`\`\`text block) after the marker" >&2
    exit 1
}

# The README's C example: the ```c block after its marker.
awk '/<!-- readme-example/{f=1; next} f && /^```c$/{p=1; next} p && /^```$/{exit} p{print}' \
    README.md >"$work/src/readme.c"
[[ -s "$work/src/readme.c" ]] || {
    echo "README.md: no \`\`\`c block after the readme-example marker" >&2
    exit 1
}

programs=(api errors persist reproducer exports sessions init_race fork misuse bulk arrow embedding readme)
source_of() {
    case $1 in
        embedding | readme) echo "$work/src/$1.c" ;;
        *) echo "capi/tests/$1.c" ;;
    esac
}
# Arguments per mode: iterations sized so the whole suite stays a few minutes on 2 cores.
args_for() {
    local mode="$1" prog="$2" n
    case "$mode:$prog" in
        plain:reproducer) n=1000000 ;;
        plain:exports) n=1000000 ;;
        plain:sessions) n=30 ;;
        plain:init_race) n=50 ;;
        plain:fork) n=40 ;;
        plain:arrow) n=20000 ;;
        plain:bulk) n=20000 ;;
        plain:misuse) n=50 ;;
        asan:reproducer) n=500000 ;;
        asan:exports) n=500000 ;;
        asan:sessions) n=20 ;;
        asan:init_race) n=20 ;;
        asan:fork) n=20 ;;
        asan:arrow) n=5000 ;;
        asan:bulk) n=5000 ;;
        asan:misuse) n=20 ;;
        tsan:reproducer) n=200000 ;;
        tsan:exports) n=200000 ;;
        tsan:sessions) n=20 ;;
        tsan:init_race) n=10 ;;
        tsan:fork) n=10 ;;
        tsan:arrow) n=2000 ;;
        tsan:bulk) n=2000 ;;
        tsan:misuse) n=10 ;;
        valgrind:reproducer) n=100000 ;;
        valgrind:exports) n=100000 ;;
        valgrind:sessions) n=20 ;;
        valgrind:init_race) n=5 ;;
        valgrind:fork) n=6 ;;
        valgrind:arrow) n=500 ;;
        valgrind:bulk) n=500 ;;
        valgrind:misuse) n=5 ;;
        *) return 0 ;;
    esac
    if [[ $prog == reproducer || $prog == exports ]]; then
        n=$(awk -v n="$n" -v s="$scale" 'BEGIN { printf "%d", n * s }')
    fi
    echo "$n"
}

cflags_strict=(-std=c11 -Wall -Wextra -Werror -pedantic -g)

# Installs the library built by cargo with the given environment into PREFIX.
install_lib() {
    local prefix="$1"
    shift
    env "$@" bash capi/install.sh "$prefix"
}

# build MODE PREFIX NAME [extra cc flags...]
build() {
    local mode="$1" prefix="$2" name="$3"
    shift 3
    local pc="$prefix/lib/pkgconfig"
    local extra_src=()
    if [[ $mode == tsan ]]; then extra_src=(capi/tests/tsan_shim.c); fi
    # shellcheck disable=SC2046 # pkg-config output is a list of flags
    gcc "${cflags_strict[@]}" "$@" -Icapi/tests $(PKG_CONFIG_PATH="$pc" pkg-config --cflags ftarray) \
        "$(source_of "$name")" "${extra_src[@]}" \
        $(PKG_CONFIG_PATH="$pc" pkg-config --libs ftarray) -Wl,-rpath,"$prefix/lib" -lpthread -lm \
        -o "$work/$mode/$name"
}

# run MODE NAME COMMAND... : runs a test program, records pass/fail and its figures line.
run() {
    local mode="$1" name="$2"
    shift 2
    local log="$work/$mode/$name.log" t0 t1 rc
    t0=$(date +%s.%N)
    set +e
    "$@" >"$log" 2>&1
    rc=$?
    set -e
    t1=$(date +%s.%N)
    local secs
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    # A test program prints its closing "checks passed" line; the examples copied from the docs
    # (embedding, readme) pass by exiting 0 (embedding's output is compared separately).
    if [[ $rc -eq 0 ]] && { [[ $name == embedding* || $name == readme* ]] \
        || grep -q "^[a-z_]*: all [0-9]* checks passed$" "$log"; }; then
        passed=$((passed + 1))
        printf '  %-9s %-11s ok    %6ss  %s\n' "$mode" "$name" "$secs" "$(grep -m1 "checks passed" "$log" | sed 's/^[a-z_]*: //')"
        local fig
        fig="$(grep -m1 "^$name: [0-9]" "$log" || true)"
        if [[ -n "$fig" ]]; then figures+=("[$mode] $fig"); fi
    else
        failed=$((failed + 1))
        failures+=("$mode/$name")
        printf '  %-9s %-11s FAIL  %6ss  (exit %s)\n' "$mode" "$name" "$secs" "$rc"
        tail -n 40 "$log" | sed 's/^/      /'
    fi
}

# --- modes -----------------------------------------------------------------------------------
mode_plain() {
    local prefix="$work/plain-prefix"
    step "plain: build and install libftarray (capi/install.sh $prefix)"
    install_lib "$prefix"
    mkdir -p "$work/plain"
    local pc="$prefix/lib/pkgconfig"

    step "plain: pkg-config, header as C11 and C++, static link"
    local flags
    flags="$(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs ftarray)"
    echo "  pkg-config --cflags --libs ftarray: $flags"
    # The .pc file is relocatable (prefix=${pcfiledir}/../..): its directories resolve to ours.
    local incdir libdir
    incdir="$(realpath "$(PKG_CONFIG_PATH="$pc" pkg-config --variable=includedir ftarray)")"
    libdir="$(realpath "$(PKG_CONFIG_PATH="$pc" pkg-config --variable=libdir ftarray)")"
    if [[ "$incdir" == "$(realpath "$prefix/include")" && "$libdir" == "$(realpath "$prefix/lib")" \
        && "$flags" == *"-lftarray"* ]]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); failures+=("plain/pkg-config")
    fi

    step "plain: soname and version"
    # The soname (decided by capi/build.rs) against the header's version: libftarray.so.0.MINOR
    # while the major version is 0, libftarray.so.MAJOR after. A program linked with
    # -lftarray must record it.
    local major minor soname want
    major="$(sed -n 's/^#define FTARRAY_VERSION_MAJOR //p' "$prefix/include/ftarray.h")"
    minor="$(sed -n 's/^#define FTARRAY_VERSION_MINOR //p' "$prefix/include/ftarray.h")"
    if [[ $major == 0 ]]; then want="libftarray.so.0.$minor"; else want="libftarray.so.$major"; fi
    soname="$(readelf -d "$prefix/lib/libftarray.so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')"
    echo "  soname $soname (version $major.$minor: want $want)"
    if [[ "$soname" == "$want" && -e "$prefix/lib/$soname" ]] \
        && ! readelf -S "$prefix/lib/libftarray.so" | grep -q '\.debug_info'; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); failures+=("plain/soname")
    fi
    printf '#include <ftarray.h>\n#include <ftarray.h>\nint f(void);\nint f(void) { ftarray *a = 0; return ftarray_new(%s, &a) == FTARRAY_STATUS_OK ? (int)ftarray_free(a) : 1; }\n' "'i'" \
        >"$work/src/header.c"
    cp "$work/src/header.c" "$work/src/header.cpp"
    local ok=1
    gcc -std=c11 -Wall -Wextra -Werror -pedantic -I"$prefix/include" -c "$work/src/header.c" -o "$work/plain/header-c.o" || ok=0
    g++ -std=c++11 -Wall -Wextra -Werror -pedantic -I"$prefix/include" -c "$work/src/header.cpp" -o "$work/plain/header-cpp11.o" || ok=0
    g++ -std=c++17 -Wall -Wextra -Werror -pedantic -I"$prefix/include" -c "$work/src/header.cpp" -o "$work/plain/header-cpp17.o" || ok=0
    if [[ $ok == 1 ]]; then
        passed=$((passed + 1)); echo "  header: clean as C11, C++11 and C++17"
    else
        failed=$((failed + 1)); failures+=("plain/header")
    fi
    # Static: the archive plus the system libraries of Libs.private.
    # shellcheck disable=SC2046
    gcc "${cflags_strict[@]}" -O2 -Icapi/tests -I"$prefix/include" capi/tests/api.c "$prefix/lib/libftarray.a" \
        $(PKG_CONFIG_PATH="$pc" pkg-config --static --libs-only-l ftarray | sed 's/-lftarray//') -lm \
        -o "$work/plain/api_static"
    run plain api_static "$work/plain/api_static"

    step "plain: C tests"
    for p in "${programs[@]}"; do
        build plain "$prefix" "$p" -O2
    done
    if readelf -d "$work/plain/api" | grep -q "Shared library: \[$soname\]"; then
        passed=$((passed + 1)); echo "  a program linked with -lftarray records $soname"
    else
        failed=$((failed + 1)); failures+=("plain/needed")
    fi
    for p in "${programs[@]}"; do
        # shellcheck disable=SC2046
        run plain "$p" "$work/plain/$p" $(args_for plain "$p")
    done
    if diff -u "$work/src/embedding.expected" "$work/plain/embedding.log" >/dev/null; then
        passed=$((passed + 1)); echo "  embedding example: output matches docs/embedding.md"
    else
        failed=$((failed + 1)); failures+=("plain/embedding-output")
        diff -u "$work/src/embedding.expected" "$work/plain/embedding.log" | sed 's/^/      /' || true
    fi
}

mode_asan() {
    if [[ $have_nightly != 1 ]]; then
        echo "SKIPPED asan: the Rust library's AddressSanitizer build needs a nightly toolchain with rust-src: $nightly_missing"
        skipped+=(asan)
        return
    fi
    local prefix="$work/asan-prefix"
    step "asan: library built with -Zsanitizer=address (nightly, -Zbuild-std), tests with gcc -fsanitize=address,undefined"
    # ftarray_no_pool: freed blocks go back to the allocator, where ASan sees a use after free,
    # instead of into the cache of large allocations (src/raw/pool.rs).
    install_lib "$prefix" RUSTFLAGS="-Zsanitizer=address --cfg ftarray_no_pool" CARGO_TARGET_DIR="$root/target/capi-asan" \
        CARGO="cargo +nightly" CARGO_BUILD_FLAGS="-Zbuild-std --target $host" FTARRAY_TARGET="$host"
    mkdir -p "$work/asan"
    for p in "${programs[@]}"; do
        build asan "$prefix" "$p" -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
    done
    for p in "${programs[@]}"; do
        # shellcheck disable=SC2046
        run asan "$p" env ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:halt_on_error=1" \
            UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" "$work/asan/$p" $(args_for asan "$p")
    done
}

mode_tsan() {
    if [[ $have_nightly != 1 ]]; then
        echo "SKIPPED tsan: the Rust library must be built with -Zsanitizer=thread (nightly, with rust-src) so TSan sees its atomics: $nightly_missing"
        skipped+=(tsan)
        return
    fi
    local prefix="$work/tsan-prefix"
    step "tsan: library built with -Zsanitizer=thread (nightly, -Zbuild-std), tests with gcc -fsanitize=thread"
    # ftarray_no_asm: bulk stores through AtomicU64::store, which TSan sees, instead of the
    # 16-byte inline-assembly stores (src/raw/wide.rs), which it cannot. ftarray_no_pool: as
    # for ASan.
    install_lib "$prefix" RUSTFLAGS="-Zsanitizer=thread --cfg ftarray_no_asm --cfg ftarray_no_pool" CARGO_TARGET_DIR="$root/target/capi-tsan" \
        CARGO="cargo +nightly" CARGO_BUILD_FLAGS="-Zbuild-std --target $host" FTARRAY_TARGET="$host"
    mkdir -p "$work/tsan"
    local tsan_opts="halt_on_error=1 second_deadlock_stack=1 allocator_may_return_null=1 die_after_fork=0"
    for p in "${programs[@]}" tsan_control; do
        build tsan "$prefix" "$p" -O1 -fsanitize=thread
    done
    for p in "${programs[@]}"; do
        # shellcheck disable=SC2046
        run tsan "$p" env TSAN_OPTIONS="$tsan_opts" "$work/tsan/$p" $(args_for tsan "$p")
    done
    # The negative control must be reported: otherwise TSan does not see the library.
    set +e
    TSAN_OPTIONS="$tsan_opts" "$work/tsan/tsan_control" >"$work/tsan/tsan_control.log" 2>&1
    local rc=$?
    set -e
    if [[ $rc -ne 0 ]] && grep -q "ThreadSanitizer: data race" "$work/tsan/tsan_control.log" \
        && grep -q "ftarray" "$work/tsan/tsan_control.log"; then
        passed=$((passed + 1))
        echo "  tsan      control     ok    (the planted race against the library's atomic store was reported)"
    else
        failed=$((failed + 1)); failures+=("tsan/control")
        echo "  tsan      control     FAIL  (the planted race was NOT reported: TSan does not see the library)"
    fi
}

mode_valgrind() {
    local prefix="$work/plain-prefix"
    if [[ ! -f "$prefix/lib/libftarray.so" ]]; then
        step "valgrind: build and install libftarray"
        install_lib "$prefix"
    fi
    step "valgrind: memcheck (errors and definite leaks fail)"
    mkdir -p "$work/valgrind"
    for p in "${programs[@]}"; do
        build valgrind "$prefix" "$p" -O1
    done
    for p in "${programs[@]}"; do
        # misuse frees everything and calls ftarray_drain before it exits, as a host's clean
        # exit does: then no leak of any kind but still-reachable statics may be reported.
        local kinds=definite
        [[ $p == misuse ]] && kinds=definite,indirect,possible
        # shellcheck disable=SC2046
        run valgrind "$p" valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds="$kinds" --show-leak-kinds="$kinds" --fair-sched=yes \
            --child-silent-after-fork=yes "$work/valgrind/$p" $(args_for valgrind "$p")
    done
}

for m in "${modes[@]}"; do
    "mode_$m"
done

step "C ABI test summary ($(( $(date +%s) - start )) s)"
for f in "${figures[@]}"; do echo "  $f"; done
[[ ${#skipped[@]} -eq 0 ]] || echo "  skipped modes: ${skipped[*]}"
[[ ${#failures[@]} -eq 0 ]] || echo "  failed: ${failures[*]}"
echo "capi: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
