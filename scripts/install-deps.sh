#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Install everything nvqemu needs to build and test, from Debian's packages
# only.  Idempotent: does nothing (and needs no root) when every package is
# already present.  Installing needs root (apt): as a normal user with
# something missing it lists what and exits 1; run `make deps` as root.
# Called by ./configure and by `make deps`.
#
# Apt sources added (derived from the machine's own Debian entries, so the
# same mirror and keyring are used and no host name is hard-coded here):
#   - deb     <mirror> bookworm-backports main   (meson >= 1.5)
#   - deb-src <mirror> trixie main               (the QEMU 10.0.x source)
set -euo pipefail

BUILD_PKGS=(
    build-essential pkg-config ninja-build python3 python3-venv
    libglib2.0-dev libpixman-1-dev libaio-dev libslirp-dev libfdt-dev libpmem-dev
    zlib1g-dev flex bison dpkg-dev ccache git quilt xz-utils zstd cpio
)
FIRMWARE_PKGS=(seabios qemu-system-data ipxe-qemu)
TEST_PKGS=(
    busybox-static ndctl daxctl nvme-cli fio e2fsprogs kmod
    acpica-tools libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
    valgrind python3-pycotap jq gnuplot-nox
)
# make fuzz and the fuzz smoke: clang with libFuzzer (compiler-rt)
FUZZ_PKGS=(clang-14 libclang-rt-14-dev)
BACKPORT_PKGS=(meson)

log() { printf 'install-deps: %s\n' "$*" >&2; }

# Refuse to go on as a normal user, naming what is missing ($1) and how to
# install it.
need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        log "missing: $1"
        log "installing needs root: run 'make deps' as root (e.g. sudo make deps)," \
            "or install them with apt-get, then run ./configure again"
        exit 1
    fi
}

# First Debian main-archive entry of the machine: "URI KEYRING".
debian_mirror() {
    local f uri key found
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        # deb822 stanzas: pick the one whose Suites include bookworm
        found=$(awk 'BEGIN{RS="";FS="\n"}
             /Suites:[^\n]*bookworm([ \n]|$)/ && /Types:[^\n]*deb/ {
                 u="";k="";
                 for(i=1;i<=NF;i++){
                     if($i ~ /^URIs:/){sub(/^URIs:[ \t]*/,"",$i);split($i,a," ");u=a[1]}
                     if($i ~ /^Signed-By:/){sub(/^Signed-By:[ \t]*/,"",$i);k=$i}
                 }
                 if(u!=""){print u, k; exit}
             }' "$f")
        # a file without a bookworm stanza (third-party sources) says nothing
        [ -n "$found" ] && { echo "$found"; return 0; }
    done
    if [ -f /etc/apt/sources.list ]; then
        # "deb [options] URI SUITE ...": skip a bracketed option field
        uri=$(awk '$1=="deb" { i=2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                               if ($(i+1)=="bookworm") {print $i; exit} }' /etc/apt/sources.list)
        [ -n "$uri" ] && { echo "$uri /usr/share/keyrings/debian-archive-keyring.gpg"; return 0; }
    fi
    return 1
}

ensure_sources() {
    local out=/etc/apt/sources.list.d/nvqemu.sources mirror uri key
    [ -f "$out" ] && return 1
    mirror=$(debian_mirror | head -n1) || true
    if [ -z "${mirror:-}" ]; then
        log "cannot find a Debian bookworm entry in /etc/apt to derive sources from"
        exit 1
    fi
    uri=${mirror%% *}
    key=${mirror#* }
    [ -n "$key" ] && [ "$key" != "$uri" ] || key=/usr/share/keyrings/debian-archive-keyring.gpg
    log "adding bookworm-backports and trixie deb-src from $uri"
    cat > "$out" <<SRC
# Added by nvqemu scripts/install-deps.sh
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: $key

Types: deb-src
URIs: $uri
Suites: trixie
Components: main
Signed-By: $key
SRC
    return 0
}

missing() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
            printf '%s\n' "$p"
    done
}

meson_ok() {
    command -v meson >/dev/null 2>&1 || return 1
    dpkg --compare-versions "$(meson --version)" ge 1.5
}

main() {
    local miss what
    miss=$(missing "${BUILD_PKGS[@]}" "${FIRMWARE_PKGS[@]}" "${TEST_PKGS[@]}" \
                   "${FUZZ_PKGS[@]}")
    what=$(echo $miss)
    meson_ok || what="${what:+$what }meson>=1.5 (bookworm-backports)"
    if [ "$(id -u)" -ne 0 ]; then
        # A normal user: nothing to do when everything is installed.  The
        # apt sources are only needed to install, or to fetch the QEMU
        # source, which scripts/fetch-qemu.sh checks for itself.
        [ -z "$what" ] || need_root "$what"
        return 0
    fi
    # root: the sources file is added (once) even when nothing is missing,
    # so that fetch-qemu.sh finds the trixie deb-src entry.
    if ensure_sources || [ -n "$what" ]; then
        apt-get update -qq
    fi
    [ -n "$what" ] || return 0
    export DEBIAN_FRONTEND=noninteractive
    if [ -n "$miss" ]; then
        log "installing: $(echo $miss)"
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $miss >/dev/null
    fi
    if ! meson_ok; then
        log "installing meson from bookworm-backports"
        apt-get install -y -qq --no-install-recommends \
            -t bookworm-backports "${BACKPORT_PKGS[@]}" >/dev/null
    fi
    meson_ok || { log "meson >= 1.5 is required"; exit 1; }
}

main "$@"
