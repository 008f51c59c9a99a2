#!/usr/bin/env bash
# Builds a free-threaded CPython 3.13 ("3.13t") once, caches it outside the repository, and
# prints the interpreter's path on stdout (all progress goes to stderr).
#
# Usage: bash scripts/python-ft.sh            # build if needed, print the path
#        bash scripts/python-ft.sh --rebuild  # throw the cached build away and build again
#
# Source: Debian's source package `python3.13` from the trixie suite, fetched with
# `apt-get source --download-only` through a PRIVATE apt configuration (its own sources list
# with one deb-src line, its own lists/cache/state directories under the cache); the system's
# apt sources and state are never touched. The mirror is the one the system already uses for
# Debian (read from /etc/apt), or FTARRAY_DEBIAN_MIRROR. Only the upstream tarball in the
# package (`python3.13_*.orig.tar.*`) is built: Debian's own patches re-lay the installation
# for the distribution (dist-packages, multiarch paths) and are not wanted for a private
# prefix. The build is `./configure --disable-gil --prefix=<cache>`, `make -j<cores>`,
# `make install`: about 12 minutes on 2 cores.
#
# Cache: ${FTARRAY_CACHE:-$HOME/.cache/ftarray}/python3.13t (the install prefix), plus
# build-python3.13t/ (the source package, logs, the private apt state; the build tree is
# removed after a successful build). A build counts as finished only
# when the stamp file python3.13t/.ftarray-complete exists, and it is written last, after the
# interpreter passed every check below; anything else is a partial build, which is wiped and
# redone. An flock on python3.13t.lock serialises concurrent runs (the second one waits, then
# finds the finished build).
#
# Checks on the fresh interpreter: sys._is_gil_enabled() is False, Py_GIL_DISABLED == 1, and
# ssl, ctypes, _testcapi, _testinternalcapi, zlib, bz2, lzma, sqlite3, _decimal, readline and
# pip import/run (CPython's test suite and pip need them).
set -euo pipefail

CACHE=${FTARRAY_CACHE:-$HOME/.cache/ftarray}
PREFIX=$CACHE/python3.13t
WORK=$CACHE/build-python3.13t
STAMP=$PREFIX/.ftarray-complete
LOCK=$CACHE/python3.13t.lock
JOBS=${FTARRAY_JOBS:-$(nproc 2>/dev/null || echo 2)}

log() { printf 'python-ft: %s\n' "$*" >&2; }
die() {
    printf 'python-ft: error: %s\n' "$*" >&2
    exit 1
}

[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "FTARRAY_JOBS must be a positive number, not '$JOBS'"

rebuild=0
case "${1:-}" in
    "") ;;
    --rebuild) rebuild=1 ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
        exit 0
        ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

# The interpreter recorded by a finished build, or nothing.
finished_python() {
    [[ -f $STAMP ]] || return 1
    local py
    py=$(head -n1 "$STAMP")
    [[ -x $py ]] || return 1
    "$py" -c 'import sys; sys.exit(0 if sys._is_gil_enabled() is False else 1)' 2>/dev/null || return 1
    printf '%s\n' "$py"
}

mkdir -p "$CACHE"
exec 9>"$LOCK"
if ! flock -n 9; then
    log "another run is building in $PREFIX; waiting for its lock ($LOCK)"
    flock 9
fi

if [[ $rebuild == 0 ]] && py=$(finished_python); then
    printf '%s\n' "$py"
    exit 0
fi
if [[ -e $PREFIX ]]; then
    log "removing the unfinished or stale build in $PREFIX"
fi
rm -rf "$PREFIX"

stage=setup
on_error() {
    local rc=$?
    printf 'python-ft: error: failed during "%s" (exit %s)\n' "$stage" "$rc" >&2
    if [[ -n ${stage_log:-} && -f ${stage_log:-} ]]; then
        printf 'python-ft: last lines of %s:\n' "$stage_log" >&2
        tail -n 40 "$stage_log" >&2
    fi
    printf 'python-ft: nothing was marked finished; the next run starts over.\n' >&2
    exit "$rc"
}
trap on_error ERR

for tool in apt-get dpkg-source tar make cc; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (needed to build CPython)"
done

# --- 1. fetch the source package through a private apt configuration -------------------------
stage="fetching the python3.13 source package"
APT=$WORK/apt
SRC=$WORK/src
mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$APT/parts" "$APT/prefs.d" "$SRC"

mirror=${FTARRAY_DEBIAN_MIRROR:-}
if [[ -z $mirror ]]; then
    # The Debian mirror the system already uses: a "URIs:" line (deb822) or a "deb" line
    # (one-line format) whose path ends in /debian.
    mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
        sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/\{0,1\}[[:space:]]*$/\1/p' | head -n1 || true)
fi
if [[ -z $mirror ]]; then
    mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\{0,1\}\([^[:space:]]*\/debian\)\/\{0,1\}[[:space:]].*/\2/p' |
        head -n1 || true)
fi
[[ -n $mirror ]] || die "no Debian mirror found in /etc/apt; set FTARRAY_DEBIAN_MIRROR"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -f $keyring ]] || die "$keyring is missing (package debian-archive-keyring)"

cat >"$APT/sources.list" <<EOF
deb-src [signed-by=$keyring] $mirror trixie main
EOF
apt_opts=(
    -o "Dir::Etc::sourcelist=$APT/sources.list"
    -o "Dir::Etc::sourceparts=$APT/parts"
    -o "Dir::Etc::preferencesparts=$APT/prefs.d"
    -o "Dir::State=$APT"
    -o "Dir::State::lists=$APT/lists"
    -o "Dir::State::status=/var/lib/dpkg/status"
    -o "Dir::Cache=$APT"
    -o "Dir::Cache::archives=$APT/archives"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
    -o "APT::Sandbox::User=root"
)
orig_tarball() { compgen -G "$SRC/python3.13_*.orig.tar.[gbx]z*" | grep -v '\.asc$' | sort -V | tail -n1; }
if [[ -z $(orig_tarball || true) ]]; then
    stage_log=$WORK/apt.log
    log "fetching Debian's python3.13 source package (trixie) with a private apt configuration"
    apt-get "${apt_opts[@]}" update >"$stage_log" 2>&1
    (cd "$SRC" && apt-get "${apt_opts[@]}" source --download-only python3.13) >>"$stage_log" 2>&1
fi
orig=$(orig_tarball || true)
[[ -n $orig ]] || die "the source package has no python3.13_*.orig.tar.* (see $WORK/apt.log)"
version=$(basename "$orig" | sed 's/^python3\.13_\(.*\)\.orig\.tar\..*$/\1/')
log "source: $(basename "$orig") (CPython $version)"

# --- 2. unpack a clean tree -----------------------------------------------------------------
stage="unpacking $orig"
stage_log=
TREE=$WORK/tree
rm -rf "$TREE"
mkdir -p "$TREE"
tar -xf "$orig" -C "$TREE" --strip-components=1
[[ -x $TREE/configure ]] || die "$orig did not unpack to a CPython tree with ./configure"

# --- 3. configure, build, install -----------------------------------------------------------
start=$(date +%s)
stage="configure"
stage_log=$WORK/configure.log
log "configure --disable-gil --prefix=$PREFIX (log: $stage_log)"
(cd "$TREE" && ./configure --disable-gil --prefix="$PREFIX" --with-ensurepip=install) >"$stage_log" 2>&1

stage="make -j$JOBS"
stage_log=$WORK/make.log
log "make -j$JOBS (about 12 minutes on 2 cores; log: $stage_log)"
(cd "$TREE" && make -j"$JOBS") >"$stage_log" 2>&1
# setup.py-less 3.13 prints the modules it could not build at the end of the make output.
if grep -q 'Following modules built successfully but were removed\|Failed to build these modules\|could not build the' "$stage_log"; then
    grep -A3 'Following modules built successfully but were removed\|Failed to build these modules\|could not build the' "$stage_log" >&2 || true
fi

stage="make install"
stage_log=$WORK/install.log
log "make install (log: $stage_log)"
(cd "$TREE" && make install) >"$stage_log" 2>&1
build_seconds=$(($(date +%s) - start))

# --- 4. verify ------------------------------------------------------------------------------
stage="checking the installed interpreter"
stage_log=$WORK/check.log
py=$PREFIX/bin/python3.13t
[[ -x $py ]] || die "make install left no $py"
"$py" - >"$stage_log" 2>&1 <<'EOF'
import importlib, sys, sysconfig
assert sysconfig.get_config_var("Py_GIL_DISABLED") == 1, "Py_GIL_DISABLED is not 1"
assert sys._is_gil_enabled() is False, "the GIL is enabled"
missing = []
for name in ["ssl", "ctypes", "_testcapi", "_testinternalcapi", "zlib", "bz2", "lzma",
             "sqlite3", "_decimal", "readline", "_ctypes_test", "array"]:
    try:
        importlib.import_module(name)
    except Exception as exc:  # report every missing module at once
        missing.append(f"{name}: {exc!r}")
assert not missing, "modules that did not build: " + "; ".join(missing)
assert sys._is_gil_enabled() is False, "an import re-enabled the GIL"
print(sys.version)
EOF
"$py" -m pip --version >>"$stage_log" 2>&1

trap - ERR
printf '%s\nCPython %s free-threaded, built in %s s on %s cores\n' "$py" "$version" \
    "$build_seconds" "$JOBS" >"$STAMP"
# The build tree (about 500 MB) is not needed any more; the source tarball and logs stay.
rm -rf "$TREE"
log "built CPython $version (free-threaded) in $build_seconds s: $py"
printf '%s\n' "$py"
