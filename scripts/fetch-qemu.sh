#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetch the newest QEMU 10.0.x source package from Debian (deb-src, trixie)
# into the cache directory and unpack it with Debian's patch series applied.
# Re-runs are free: a cached download and unpacked tree are reused.
#
# usage: fetch-qemu.sh CACHE_DIR [VERSION_GLOB]
# prints: the Debian version on line 1, the unpacked tree on line 2, the
#         upstream version on line 3; exits non-zero (saying why) on failure
set -euo pipefail

cache=${1:?cache dir}
glob=${2:-'1:10.0.*'}
src=$cache/src
mkdir -p "$src"

log() { printf 'fetch-qemu: %s\n' "$*" >&2; }

# Newest version of source package "qemu" matching $glob.
pick_version() {
    apt-cache showsrc qemu 2>/dev/null | awk '/^Version:/ {print $2}' |
        while read -r v; do
            # shellcheck disable=SC2053
            if [[ $v == $glob ]]; then echo "$v"; fi
        done | sort -V | tail -n 1
}

# Newest version matching $glob among the source packages already in the
# cache (their .dsc files).
pick_cached() {
    local d v
    for d in "$src"/qemu_*.dsc; do
        [ -f "$d" ] || continue
        v=$(awk '/^Version:/ {print $2; exit}' "$d")
        # shellcheck disable=SC2053
        if [[ $v == $glob ]]; then echo "$v"; fi
    done | sort -V | tail -n 1
}

ver=$(pick_version)
if [ -z "$ver" ]; then
    # No apt metadata (offline, lists dropped, or no deb-src entry): fall
    # back to a cached source package of the requested version.
    ver=$(pick_cached)
    if [ -z "$ver" ]; then
        log "no qemu source package matching '$glob': apt offers none" \
            "(apt-cache showsrc qemu) and none is cached in $src"
        log "the deb-src entry for trixie is added by 'make deps' (as root);" \
            "then run apt-get update"
        exit 1
    fi
    log "apt has no qemu '$glob' source; using cached $ver"
fi
nover=${ver#*:}                      # strip epoch: 10.0.13+ds-0+deb13u1
upver=${nover%%+*}; upver=${upver%%-*} # 10.0.13
dsc=$src/qemu_${nover}.dsc
tree=$src/qemu-$nover

if [ ! -f "$dsc" ]; then
    log "downloading qemu $ver source package"
    (cd "$src" && apt-get source --download-only -qq "qemu=$ver" 2>&1 |
        grep -v 'unsandboxed' >&2 || true)
    [ -f "$dsc" ] || { log "download of qemu $ver failed"; exit 1; }
fi
if [ ! -f "$tree/.nvqemu-unpacked" ]; then
    log "unpacking $dsc (with Debian's patches)"
    rm -rf "$tree"
    (cd "$src" && dpkg-source --no-check -x "$dsc" "$tree" >/dev/null)
    # The Debian version identifies exactly which source we built.
    echo "$ver" > "$tree/.nvqemu-unpacked"
fi
echo "$ver"
echo "$tree"
echo "$upver"
