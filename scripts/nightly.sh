#!/usr/bin/env bash
# The one nightly-toolchain check the scripts share (sourced, not run): have_nightly.
#
#     source "$(dirname "$0")/nightly.sh"
#     if have_nightly miri rust-src; then ...; else echo "SKIPPED: $nightly_missing"; fi
#
# have_nightly [COMPONENT...] succeeds when rustup lists a nightly toolchain and every named
# component could be added to it; otherwise it fails and sets nightly_missing to a sentence
# saying what is missing, for the caller's SKIPPED message.

have_nightly() {
    nightly_missing=
    if ! command -v rustup >/dev/null 2>&1; then
        nightly_missing="rustup is not installed, so there is no nightly toolchain"
        return 1
    fi
    if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
        nightly_missing="no nightly toolchain is installed"
        return 1
    fi
    if (($# > 0)) && ! rustup component add --toolchain nightly "$@" >/dev/null 2>&1; then
        nightly_missing="could not add the nightly component(s) $* with rustup"
        return 1
    fi
    return 0
}
