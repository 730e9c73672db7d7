#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Make a QEMU build directory find Debian's firmware.  We configure with
# --firmwarepath=/usr/share/seabios:/usr/share/qemu, but a binary run from
# its build directory relocates those paths into <build>/qemu-bundle/, so
# provide them there: seabios as a link, and a qemu/ directory of links to
# Debian's qemu-system-data files plus the iPXE NIC option ROMs (ipxe-qemu
# ships them in /usr/lib/ipxe/qemu; Debian's own QEMU links them the same
# way).  Idempotent and cheap; run by every `make`.
#
# usage: link-firmware.sh QEMU_BUILD_DIR
set -euo pipefail
bld=${1:?qemu build dir}
share=$bld/qemu-bundle/usr/share
mkdir -p "$share"

if [ "$(readlink "$share/seabios" 2>/dev/null)" != /usr/share/seabios ]; then
    rm -rf "$share/seabios"
    ln -s /usr/share/seabios "$share/seabios"
fi

[ -L "$share/qemu" ] && rm -f "$share/qemu"
mkdir -p "$share/qemu"
for f in /usr/share/qemu/* /usr/lib/ipxe/qemu/*; do
    [ -e "$f" ] || continue
    dst=$share/qemu/$(basename "$f")
    [ "$(readlink "$dst" 2>/dev/null)" = "$f" ] || ln -sfn "$f" "$dst"
done
