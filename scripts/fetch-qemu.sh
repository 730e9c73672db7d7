#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetch the newest QEMU 10.0.x source package from Debian (deb-src, trixie)
# into the cache directory and unpack it with Debian's patch series applied.
# Re-runs are free: a cached download and unpacked tree are reused.
#
# usage: fetch-qemu.sh CACHE_DIR [VERSION_GLOB]
# prints: the Debian version on line 1, the unpacked tree on line 2
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
            [[ $v == $glob ]] && echo "$v"
        done | sort -V | tail -n 1
}

ver=$(pick_version)
if [ -z "$ver" ]; then
    # No apt metadata (offline, or lists dropped): fall back to the cache.
    dsc=$(ls "$src"/qemu_10.0.*.dsc 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$dsc" ] || { log "no qemu source matching $glob in apt, none cached"; exit 1; }
    ver=$(awk '/^Version:/ {print $2; exit}' "$dsc")
    log "apt has no qemu $glob source; using cached $ver"
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
